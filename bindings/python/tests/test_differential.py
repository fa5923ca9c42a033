"""Differential suite: botocore and credchain resolve the same chain.

Every scenario of scenarios.py runs in its own child process (own HOME, no
AWS_* variable from the runner, AWS_EC2_METADATA_DISABLED=true).  Both botocore
and credchain must produce the scenario's exact expected outcome: the source
name (botocore's ``method``), the keys, the token, the account id and the
expiry; or both must fail the same way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from isolation import run_child, substitute, write_files
from scenarios import EXPIRATION_ISO, SCENARIOS, Fails, Ok, Scenario


def _run(scenario: Scenario, home: Path, sides=("botocore", "credchain")) -> dict:
    subs = {"home": str(home), "python": sys.executable, "expiration": EXPIRATION_ISO}
    write_files(home, scenario.files, subs)
    env = {k: substitute(v, subs) for k, v in scenario.env.items()}
    request = json.dumps({"profile": scenario.profile, "sides": list(sides)})
    return run_child("child_chain.py", home, env, [request])


def test_at_least_twenty_scenarios() -> None:
    assert len(SCENARIOS) >= 20
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)
    sources = {s.expect.source for s in SCENARIOS if isinstance(s.expect, Ok)}
    assert sources == {
        "env",
        "shared-credentials-file",
        "config-file",
        "custom-process",
        "ec2-credentials-file",
        "boto-config",
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_botocore_and_credchain_agree(scenario: Scenario, home: Path) -> None:
    result = _run(scenario, home)
    boto, chain = result["botocore"], result["credchain"]
    _check("botocore", boto, scenario.expect)
    _check("credchain", chain, scenario.credchain_expect or scenario.expect)


def _check(side: str, got: dict, expect: object) -> None:
    if isinstance(expect, Ok):
        assert got == expect.as_result(), f"{side} does not do what the scenario expects"
        return
    assert isinstance(expect, Fails)
    assert got.get("error") == expect.kind, f"{side} does not fail as the scenario expects: {got}"
    for word in expect.message_contains:
        assert word in got["message"], got
