"""Shared by the pytest suites under tests/: the scenario harness
(tests/harness.py: an isolated HOME and environment, the C probe, botocore
on the same scenario) and its two fixtures, and the loopback STS and SSO
portal each test may start (`servers.serve` starts any other server the same
way). Suites with needs of their own (tests/doctor) define their own
`scn`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # harness, boto_probe and the `servers` package

from harness import Scenario, build_probe  # noqa: E402
from servers import SsoServer, StsServer, serve  # noqa: E402


@pytest.fixture
def sts():
    """A loopback STS for this test alone (point clients at it with `scn.use_sts`)."""
    yield from serve(StsServer)


@pytest.fixture
def sso():
    """A loopback SSO portal for this test alone (`scn.use_sso`)."""
    yield from serve(SsoServer)


@pytest.fixture(scope="session")
def probe() -> Path:
    """tests/c/probe.c, built against the release library."""
    try:
        return build_probe()
    except (FileNotFoundError, OSError) as exc:
        pytest.fail(f"the C probe cannot be built: {exc}")


@pytest.fixture
def scn(tmp_path: Path, probe: Path) -> Scenario:
    """One isolated HOME with its files and environment."""
    return Scenario(tmp_path)
