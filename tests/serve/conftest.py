"""Fixtures for the `credchain serve` tests.

tests/conftest.py puts tests/ on sys.path (harness, the `servers` package);
this one adds tests/serve/ (serving.py; sdk_clients.py, which builds and runs
the SDK clients) and tests/remote/ (scenarios.py: the assume-role profile).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for path in (TESTS, TESTS / "remote", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from serving import CREDCHAIN  # noqa: E402

# A suite started as a background job of a non-interactive shell (`cmd &`)
# inherits SIGINT (and, under nohup, SIGHUP) ignored, and an ignored signal
# stays ignored across exec: every server and `--exec` command started here
# would ignore it too. The tests check what a foreground start gives, so the
# children get the defaults back (a handled signal is reset to its default
# on exec).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
    signal.signal(signal.SIGHUP, lambda signum, frame: None)


@pytest.fixture(scope="session")
def credchain_bin() -> Path:
    """target/release/credchain (or $CREDCHAIN_BIN), which must have a `serve` command."""
    if not CREDCHAIN.exists():
        pytest.fail(f"{CREDCHAIN} is missing: run `cargo build --release` first")
    return CREDCHAIN
