"""Fixtures for the doctor tests (helpers in doctor_scenario.py, a module name
no other test folder uses, so every suite can run in one pytest process)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from doctor_scenario import BIN, LIB, Scenario  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def release_artifacts() -> None:
    missing = [p for p in (BIN, LIB) if not p.exists()]
    if missing:
        pytest.fail(f"missing {', '.join(map(str, missing))}: run `cargo build --release` first")


@pytest.fixture
def scn(tmp_path: Path) -> Scenario:
    return Scenario(tmp_path)
