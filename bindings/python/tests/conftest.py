"""Test setup: import the credchain package and find its library.

The package under test is the installed one when ``credchain`` is importable
(``pip install ./bindings/python``), else the source tree (bindings/python/src).
The library is the one named by CREDCHAIN_LIBRARY when it is set (the test
runner sets it to target/release/libcredchain.so), else the copy bundled in the
package.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

try:
    import credchain  # noqa: F401
except ImportError:
    sys.path.insert(0, str(HERE.parent / "src"))
    import credchain  # noqa: F401

import pytest


def pytest_report_header(config: pytest.Config) -> str:
    try:
        path = credchain.library_path()
    except OSError as exc:
        path = f"NOT FOUND ({exc})"
    return f"credchain package: {Path(credchain.__file__).parent}\ncredchain library: {path}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh, empty HOME for one child process."""
    h = tmp_path / "home"
    h.mkdir()
    return h
