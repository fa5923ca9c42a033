"""Fixtures for the refresh-engine tests: a scenario HOME and a counting,
switchable credential_process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "remote"))

from harness import Scenario, build_probe  # noqa: E402

SOAK = ROOT / "target" / "c-tests" / "soak"

# The upstream: tests/fixtures/rotating_process.py, copied per scenario.
PROCESS = (ROOT / "tests" / "fixtures" / "rotating_process.py").read_text()


class CountingProcess:
    """A credential_process in its own directory of the scenario."""

    def __init__(self, scn: Scenario, lifetime: float) -> None:
        self.dir = scn.home / "proc"
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "lifetime").write_text(str(lifetime))
        (self.dir / "counter").write_text("")
        script = self.dir / "creds.py"
        script.write_text(PROCESS)
        scn.config(f'[default]\ncredential_process = "{sys.executable}" "{script}"\n')

    @property
    def runs(self) -> int:
        return (self.dir / "counter").stat().st_size

    def fail(self, failing: bool) -> None:
        flag = self.dir / "fail"
        if failing:
            flag.write_text("1")
        elif flag.exists():
            flag.unlink()

    def sleep_first(self, seconds: float) -> None:
        (self.dir / "sleep").write_text(str(seconds))


@pytest.fixture(scope="session")
def probe() -> Path:
    return build_probe()


@pytest.fixture
def scn(tmp_path: Path, probe: Path) -> Scenario:
    return Scenario(tmp_path)
