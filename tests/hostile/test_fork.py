"""Items 2 and 3: fork() while other threads are inside credchain.

Item 2: a host forks while 8 threads call get/invalidate/rds_auth_token.
A lock (or the runtime's internal state) held by another thread at the
moment of fork() stays held forever in the child, which then hangs on its
first call; or the child inherits a half-updated cache. Each child must get
credentials, invalidate and get them again, and exit 0 within 10 s.

Item 3: a Python host with the binding's logging route installed at DEBUG
forks while records flow. The log callback takes the GIL; if the library
holds one of its locks across that callback, or takes a lock in a fork
handler that a callback-in-progress holds, the parent (or child) deadlocks.
"""

from __future__ import annotations

import json
import logging

import pytest

from conftest import assert_fork_storm_clean, python_cmd, run_bounded


def test_c_fork_200_while_8_threads_call(scn, programs):
    scn.static_default()
    run = run_bounded([programs["fork_storm"], "--threads", "8", "--forks", "200", "--child-timeout-ms", "10000",
                       "--rds", "--max-hung", "3", "--deadline-s", "100", "--fork-interval-ms", "20"], scn.env, timeout=130)
    print(run.stdout)
    assert assert_fork_storm_clean(run)["forks"] == 200


def test_python_multiprocessing_fork_200_while_threads_call(scn):
    scn.static_default()
    run = run_bounded(python_cmd("mp_fork.py", 200, 10), scn.env, timeout=150)
    print(run.stdout)
    assert not run.timed_out and run.signal is None, run.describe()
    s = json.loads(run.stdout.strip().splitlines()[-1])
    assert s["hung"] == 0, s
    assert (s["succeeded"], s["failed"]) == (200, 0) and not s["thread_errors"], s
    assert run.rc == 0, run.describe()


@pytest.mark.parametrize("rounds,level,threads", [
    pytest.param(40, logging.DEBUG, 3, id="debug-40-rounds"),
    # More records and more threads: the library's TRACE records, 6 callers, 150 forks.
    pytest.param(150, 5, 6, id="trace-150-rounds"),
])
def test_python_fork_with_logging_handler_no_deadlock(scn, rounds, level, threads):
    scn.static_default()
    run = run_bounded(python_cmd("log_fork.py", rounds, 10, level, threads), scn.env, timeout=90)
    print(run.stdout)
    assert not run.timed_out, "the forking Python host deadlocked:\n" + run.describe()
    assert run.signal is None, run.describe()
    s = json.loads(run.stdout.strip().splitlines()[-1])
    assert s["hung"] == 0, s
    assert (s["succeeded"], s["failed"]) == (rounds, 0) and not s["thread_errors"], s
    assert s["log_records"] > 0, "no credchain records reached logging: the scenario did not exercise the route"
    assert run.rc == 0, run.describe()
