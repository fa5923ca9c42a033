"""The C probe against botocore on static sources; shares tests/remote's harness."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "remote"))

from harness import Scenario, build_probe  # noqa: E402


@pytest.fixture(scope="session")
def probe() -> Path:
    return build_probe()


@pytest.fixture
def scn(tmp_path: Path, probe: Path) -> Scenario:
    return Scenario(tmp_path)
