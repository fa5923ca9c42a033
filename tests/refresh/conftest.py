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

# Prints credential_process JSON for credentials living LIFETIME seconds,
# with a new access key per run; counts runs in COUNTER; fails while FAIL
# exists; sleeps SLEEP seconds first when that file holds a number.
PROCESS = r'''
import json, os, sys, time, datetime
here = os.path.dirname(os.path.abspath(__file__))
lifetime = float(open(os.path.join(here, "lifetime")).read())
delay = os.path.join(here, "sleep")
if os.path.exists(delay):
    time.sleep(float(open(delay).read()))
with open(os.path.join(here, "counter"), "a") as counter:
    counter.write("x")
runs = os.path.getsize(os.path.join(here, "counter"))
if os.path.exists(os.path.join(here, "fail")):
    sys.stderr.write("upstream says no (run %d)\n" % runs)
    sys.exit(7)
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
print(json.dumps({"Version": 1, "AccessKeyId": "ASIAPROC%06d" % runs, "SecretAccessKey": "secret-%d" % runs,
                  "SessionToken": "token-%d" % runs, "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}))
'''


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
