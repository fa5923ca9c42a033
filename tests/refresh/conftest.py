"""The refresh-engine tests' upstream: a counting, switchable
credential_process. (The `scn` and `probe` fixtures are tests/conftest.py's.)"""

from __future__ import annotations

import sys
from pathlib import Path

from harness import Scenario  # tests/conftest.py puts tests/ on the path

ROOT = Path(__file__).resolve().parents[2]

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
