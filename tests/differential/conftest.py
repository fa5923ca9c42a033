"""The differential suites (credchain's C ABI against botocore; the loopback
STS and SSO portal fixtures are tests/conftest.py's): the count printed at
the end of the run:

    differential vs botocore: 97 scenarios, 95 agree, 2 documented deviations (...)

A scenario counts once, from its test outcome: passed and not in
cases.DEVIATIONS = agrees; passed and in DEVIATIONS = documented
deviation; anything else = differs."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cases.py

HERE = Path(__file__).resolve().parent
_outcomes: dict[str, str] = {}  # nodeid -> "agree" | "deviation" | "differ"


def _in_here(report) -> bool:
    path = Path(str(report.fspath))
    if not path.is_absolute():
        path = Path.cwd() / path
    return path.resolve().parent == HERE


def pytest_runtest_logreport(report) -> None:
    if not _in_here(report):
        return
    deviation = any(k == "deviation" for k, _ in report.user_properties)
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            _outcomes[report.nodeid] = "deviation" if deviation else "agree"
        elif not report.skipped:
            _outcomes[report.nodeid] = "differ"
    elif report.when == "teardown" and report.failed:
        _outcomes[report.nodeid] = "differ"


def pytest_terminal_summary(terminalreporter) -> None:
    if not _outcomes:
        return
    values = list(_outcomes.values())
    agree, deviation, differ = values.count("agree"), values.count("deviation"), values.count("differ")
    line = (f"differential vs botocore: {len(values)} scenarios, {agree} agree, {deviation} documented deviations "
            f"(README \"Deviations from botocore\"; tests/differential/cases.py DEVIATIONS)")
    if differ:
        line += f", {differ} differ"
    terminalreporter.write_line(line)
    from cases import REQUEST_LOGS  # noqa: E402  (on the path above)
    for name, clients in REQUEST_LOGS.items():
        for client, lines in clients.items():
            terminalreporter.write_line(f"  {name}, {client}: " + " -> ".join(lines))
