"""Item 1: the host writes its own environment while credchain reads it.

A host may setenv()/unsetenv() at any time (POSIX allows it; a JVM, a Python
program writing os.environ, an ODBC driver manager). glibc then reallocates
`environ` and frees the old array; a library that walks the environment at
the same moment (getenv, std::env::var, std::env::vars) reads freed memory.
Pre-fix, the C host below crashed with SIGSEGV some of the time.

Static credentials in the credentials file (default profile) and
CREDCHAIN_STATIC_RECHECK_MS=50, so the library re-checks its static inputs
(the AWS_* variables among them) 20 times a second while the host's writer
threads churn thousands of distinct non-AWS variables.
"""

from __future__ import annotations

import json

from conftest import python_cmd, run_bounded


def test_c_host_setenv_unsetenv_60s(scn, programs):
    scn.static_default()
    scn.env["CREDCHAIN_STATIC_RECHECK_MS"] = "50"
    run = run_bounded([programs["env_race"], "--seconds", "60", "--writers", "2", "--vars", "2000"], scn.env,
                      timeout=100)
    print(run.stdout)
    assert not run.timed_out and run.signal is None and run.rc == 0, run.describe()
    summary = run.records()[-1]
    assert summary["failed"] == 0 and summary["calls"] > 0 and summary["env_writes"] > 100_000, summary


def test_python_binding_while_os_environ_written_30s(scn):
    scn.static_default()
    scn.env["CREDCHAIN_STATIC_RECHECK_MS"] = "50"
    run = run_bounded(python_cmd("env_race.py", 30), scn.env, timeout=75)
    print(run.stdout)
    assert not run.timed_out and run.signal is None and run.rc == 0, run.describe()
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["failed"] == 0 and summary["calls"] > 0, summary
