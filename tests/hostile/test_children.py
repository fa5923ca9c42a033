"""Round 3, items 2, 5 and 9: the credential_process children credchain starts, seen from the host.

* Item 2: a host with ``SIGCHLD = SIG_IGN`` keeps that disposition, its own children are reaped by
  the kernel, and fetches succeed; a host whose handler reaps with ``waitpid(-1)`` does not take the
  library's children's statuses (the library's children send no exit signal and are invisible to a
  wait without ``__WALL``).
* Item 5: a host that forks while a credential_process runs (a prefork server) does not stall the
  fetch until its forked child exits (each child inherits the pipes' write ends).
* Item 9: no credential_process outlives its host, background processes included: after ``exit()``
  and after ``SIGKILL`` of the host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from conftest import OK, STATIC_AKID, STATIC_SECRET, kill_pids, pids_mentioning, proc_state, run_bounded

PROFILE = "proc"


def _fast_process(scn):
    """A credential_process that answers at once (after 50 ms, so a fork lands while it runs)."""
    script = scn.script("answer.sh", f"""
sleep 0.05
printf '{{"Version": 1, "AccessKeyId": "{STATIC_AKID}", "SecretAccessKey": "{STATIC_SECRET}"}}'
""")
    scn.config(f"[profile {PROFILE}]\ncredential_process = {script}\n")


def _gets(run):
    return [r for r in run.records() if r.get("op") == "get"]


def test_a_host_ignoring_sigchld_keeps_its_disposition_and_fetches_succeed(scn, programs):
    _fast_process(scn)
    steps = ["sigchld:ign", f"get:{PROFILE}", "children:50", f"invalidate:{PROFILE}", f"get:{PROFILE}",
             "children:50"]
    run = run_bounded([programs["host"], *steps], scn.env, timeout=30)
    assert run.rc == 0, run.describe()
    gets = _gets(run)
    children = [r for r in run.records() if r.get("op") == "children"]
    print(f"gets: {[(g['code'], g['message']) for g in gets]}; children: {children}")
    assert [g["code"] for g in gets] == [OK, OK], gets
    assert [c["ignored"] for c in children] == [True, True], f"the host's SIG_IGN was replaced: {children}"
    assert [c["zombies"] for c in children] == [0, 0], f"the host's children stayed zombies: {children}"


def test_a_host_reaping_with_waitpid_minus_one_does_not_break_fetches(scn, programs):
    _fast_process(scn)
    steps = ["sigchld:reap"]
    for _ in range(10):
        steps += [f"get:{PROFILE}", "children:2", f"invalidate:{PROFILE}"]
    run = run_bounded([programs["host"], *steps], scn.env, timeout=60)
    assert run.rc == 0, run.describe()
    gets = _gets(run)
    children = [r for r in run.records() if r.get("op") == "children"]
    print(f"codes: {[g['code'] for g in gets]}; reaped by the host's handler: {children[-1]['reaped_by_handler']}")
    assert [g["code"] for g in gets] == [OK] * 10, [(g["code"], g["message"]) for g in gets]
    # The host's handler still reaps its own children (20 of them), and nothing else.
    assert children[-1]["reaped_by_handler"] == 20, children[-1]


def test_a_forking_host_does_not_stall_the_fetch(scn, programs):
    _fast_process(scn)
    steps = ["forker:1:3000", "sleep:100"]
    for _ in range(8):
        steps += [f"get:{PROFILE}", f"invalidate:{PROFILE}"]
    run = run_bounded([programs["host"], *steps], scn.env, timeout=120)
    assert run.rc == 0, run.describe()
    gets = _gets(run)
    times = [g["ms"] for g in gets]
    print(f"fetch times with a host forking every 1 ms (children live 3 s): {times}")
    assert [g["code"] for g in gets] == [OK] * 8, [(g["code"], g["message"]) for g in gets]
    assert max(times) < 2000, f"a fetch stalled on a forked child's copy of the pipe: {times} ms"


def _slow_process(scn):
    """A credential_process whose shell starts a background sleeper, then sleeps itself; both write
    their pids to a file and carry the scenario's path in their command lines."""
    pids = scn.root / "pids.txt"
    # `sh -c CMD PATH`: the scenario's path is in each command line (for the clean-up), not in sleep's
    # arguments.
    script = scn.script("slow.sh", f"""
sh -c 'sleep 300' "{scn.root}/bg" &
echo $! >> "{pids}"
echo $$ >> "{pids}"
exec sh -c 'sleep 301' "{scn.root}/fg"
""")
    scn.config(f"[profile {PROFILE}]\ncredential_process = {script}\n")
    return pids


def _clean_up(scn, pids_file):
    """Kills whatever the scenario left: processes naming its directory, and the pids it wrote (the
    processes of their groups included)."""
    kill_pids(pids_mentioning(str(scn.root)))
    for pid in (int(p) for p in pids_file.read_text().split()) if pids_file.exists() else ():
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _alive(pids_file):
    pids = [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []
    return {pid: proc_state(pid) for pid in pids if proc_state(pid) not in (None, "Z")}


def _wait_for_pids(pids_file, count, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pids_file.exists() and len(pids_file.read_text().split()) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the credential_process did not start: {pids_file}")


def test_no_credential_process_outlives_a_host_that_exits(scn, programs):
    pids = _slow_process(scn)
    scn.env["CREDCHAIN_TIMEOUT_MS"] = "60000"
    try:
        run = run_bounded([programs["host"], f"bgget:{PROFILE}", "sleep:1500"], scn.env, timeout=30)
        assert run.rc == 0, run.describe()
        time.sleep(0.5)
        alive = _alive(pids)
        print(f"started: {pids.read_text().split()}; alive 0.5 s after the host exited: {alive}")
        assert len(pids.read_text().split()) == 2
        assert not alive, f"credential_process processes outlived their host: {alive}"
    finally:
        _clean_up(scn, pids)


def test_no_credential_process_outlives_a_killed_host(scn, programs):
    pids = _slow_process(scn)
    scn.env["CREDCHAIN_TIMEOUT_MS"] = "60000"
    host = subprocess.Popen([str(programs["host"]), f"get:{PROFILE}"], env=scn.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_pids(pids, 2)
        os.kill(host.pid, signal.SIGKILL)
        host.wait(timeout=10)
        time.sleep(0.5)
        alive = _alive(pids)
        print(f"started: {pids.read_text().split()}; alive 0.5 s after SIGKILL of the host: {alive}")
        assert not alive, f"credential_process processes outlived a killed host: {alive}"
    finally:
        _clean_up(scn, pids)
        try:
            os.killpg(host.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
