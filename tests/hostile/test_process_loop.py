"""Item 4: a credential_process that runs credchain for the same profile.

The profile's credential_process is a wrapper that appends a line to a
counter file and execs ``credchain get --format process --profile SAME``:
credchain runs itself, which runs the wrapper, which runs credchain... Each
level waits for the next, so without loop detection the chain grows until
the outermost call times out, and the inner levels go on as orphans.

The wrapper refuses to go on after 30 levels (a safety net of this test, so
a broken build cannot fill the machine); every process of the scenario is
found by the scenario's unique directory in its command line and killed at
the end.

The wrapper may clear the environment first (``env -i``, as ``sudo`` and ``systemd-run`` do): round 3
item 1, where the chain ran 308 levels deep.

Must show: the outermost call fails within CREDCHAIN_TIMEOUT_MS + 2 s with
an error naming the profile and saying "loop"; the wrapper ran at most
twice; 5 s later no wrapper or credchain process of the scenario is alive.
"""

from __future__ import annotations

import time

import pytest

from conftest import OK, kill_pids, pids_mentioning, run_bounded

PROFILE = "selfref"
TIMEOUT_MS = 3000
SAFETY_LEVELS = 30


def _setup(scn, cli, clear_environment=False):
    counter = scn.root / "counter.txt"
    counter.write_text("")
    wrapper = scn.script("loop-wrapper.sh", f"""
n=$(wc -l < "{counter}")
if [ "$n" -ge {SAFETY_LEVELS} ]; then echo "loop-wrapper: safety stop at $n levels" >&2; exit 97; fi
echo "$$ $(date +%s.%N)" >> "{counter}"
exec {"env -i HOME=$HOME PATH=/usr/bin:/bin " if clear_environment else ""}"{cli}" get --format process --profile {PROFILE}
""")
    scn.config(f"[profile {PROFILE}]\ncredential_process = {wrapper}\nregion = us-east-1\n")
    scn.env["CREDCHAIN_TIMEOUT_MS"] = str(TIMEOUT_MS)
    return counter


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


def _check_aftermath(scn, counter, run, message):
    try:
        levels = _lines(counter)
        time.sleep(5)
        alive = pids_mentioning(str(scn.root))
        levels_later = _lines(counter)
    finally:
        kill_pids(pids_mentioning(str(scn.root)))
    print(f"rc/code={run}, {len(levels)} wrapper runs at return, {len(levels_later)} 5 s later, "
          f"alive after 5 s: {alive}\nmessage: {message[:500]!r}")
    assert len(levels_later) <= 2, f"the wrapper ran {len(levels_later)} times (a runaway self-invocation chain)"
    assert not alive, f"processes of the scenario still alive 5 s after the call returned: {alive}"
    assert PROFILE in message and "loop" in message.lower(), f"the error does not name the loop: {message[:1000]!r}"


def test_cli_get_self_referencing_credential_process(scn, cli):
    counter = _setup(scn, cli)
    run = run_bounded([cli, "get", "--profile", PROFILE], scn.env, timeout=TIMEOUT_MS / 1000 + 10)
    assert not run.timed_out, run.describe()
    assert run.rc not in (None, 0), f"credchain get succeeded on a self-referencing profile:\n{run.describe()}"
    assert run.elapsed <= TIMEOUT_MS / 1000 + 2, f"took {run.elapsed:.1f}s (timeout {TIMEOUT_MS} ms + 2 s)"
    _check_aftermath(scn, counter, f"rc={run.rc} after {run.elapsed:.1f}s", run.stderr + run.stdout)


@pytest.mark.parametrize("clear_environment", [False, True], ids=["plain", "env-i"])
def test_c_abi_self_referencing_credential_process(scn, cli, programs, clear_environment):
    """With ``env -i`` (as sudo and systemd-run do) between the levels, the guard variable is gone from the
    inner credchain's environment; the loop must still stop at the second level."""
    counter = _setup(scn, cli, clear_environment)
    run = run_bounded([programs["host"], f"get:{PROFILE}"], scn.env, timeout=TIMEOUT_MS / 1000 + 10)
    assert not run.timed_out and run.rc == 0, run.describe()
    rec = [r for r in run.records() if r.get("op") == "get"][0]
    assert rec["code"] != OK, rec
    assert rec["ms"] <= TIMEOUT_MS + 2000, rec
    _check_aftermath(scn, counter, f"code={rec['code']} after {rec['ms']:.0f} ms", rec["message"] or "")
