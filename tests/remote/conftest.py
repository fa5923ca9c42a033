"""Fixtures for the remote-source tests: loopback servers, a scenario HOME, the C probe."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # this suite's scenarios module

from harness import Scenario  # noqa: E402  (tests/conftest.py puts tests/ on the path)
from servers import ContainerServer, ImdsServer, MotoServer, serve  # noqa: E402  (sts, sso: tests/conftest.py)


@pytest.fixture
def boto_scn(tmp_path: Path) -> Scenario:
    """A scenario for botocore alone (no probe needed)."""
    return Scenario(tmp_path)


@pytest.fixture
def imds():
    yield from serve(ImdsServer)


@pytest.fixture
def container():
    yield from serve(ContainerServer)


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as srv:
        yield srv
