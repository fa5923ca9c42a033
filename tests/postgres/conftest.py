"""Fixtures for the RDS-like PostgreSQL: one server per test session, keys forgotten after each test.

``rds_pg`` is the session's ``RdsLikePostgres`` (started once: initdb and
start-up take about a second); ``pg`` is the same server for one test, whose
``keys`` are emptied afterwards so a key one test issued never vouches for
another test's token. The measured start-up time is printed in pytest's
terminal summary, which ``-q`` still shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the `servers` package (loopback STS, its KeyMinter)
sys.path.insert(0, str(HERE))

import summary  # noqa: E402
from rds_like import RdsLikePostgres  # noqa: E402

_started: list[str] = []


@pytest.fixture(scope="session")
def rds_pg() -> Iterator[RdsLikePostgres]:
    try:
        server = RdsLikePostgres().start()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        pytest.fail(f"the RDS-like PostgreSQL did not start: {exc}")
    _started.append(server.describe())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg(rds_pg: RdsLikePostgres) -> Iterator[RdsLikePostgres]:
    yield rds_pg
    rds_pg.keys.forget()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _started + summary.lines:
        terminalreporter.write_line(line)
