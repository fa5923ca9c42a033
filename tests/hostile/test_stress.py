"""Item 10: everything a hostile host does at once, bounded (< 60 s).

8 threads call get, invalidate and credchain_rds_auth_token; one thread
setenv()s/unsetenv()s non-AWS variables; one installs and removes a log
callback (credchain_set_log_callback) in a loop; the main thread forks 200
times, each child doing get, invalidate, get. Must show: exit status 0, no
signal, 0 hung children, every child succeeded.
"""

from __future__ import annotations

from conftest import assert_fork_storm_clean, run_bounded


def test_hostile_host_stress(scn, programs):
    scn.static_default()
    scn.env["CREDCHAIN_STATIC_RECHECK_MS"] = "50"
    run = run_bounded([programs["fork_storm"], "--threads", "8", "--forks", "200", "--child-timeout-ms", "10000",
                       "--rds", "--env-writer", "--log-toggler", "--max-hung", "3", "--deadline-s", "45",
                       "--fork-interval-ms", "20"], scn.env, timeout=75)
    print(run.stdout)
    s = assert_fork_storm_clean(run)
    assert s["forks"] == 200, s
    assert s["env_writes"] > 0 and s["log_toggles"] > 0, s
