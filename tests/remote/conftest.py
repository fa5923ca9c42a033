"""Fixtures for the remote-source tests: loopback servers, a scenario HOME, the C probe."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # this suite's scenarios module

from harness import Scenario  # noqa: E402  (tests/conftest.py puts tests/ on the path)
from servers import ContainerServer, ImdsServer, MotoServer, SsoServer, StsServer  # noqa: E402


@pytest.fixture
def boto_scn(tmp_path: Path) -> Scenario:
    """A scenario for botocore alone (no probe needed)."""
    return Scenario(tmp_path)


def _server(cls, **kw):
    srv = cls(**kw).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def imds():
    yield from _server(ImdsServer)


@pytest.fixture
def sts():
    yield from _server(StsServer)


@pytest.fixture
def sso():
    yield from _server(SsoServer)


@pytest.fixture
def container():
    yield from _server(ContainerServer)


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as srv:
        yield srv
