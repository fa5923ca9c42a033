"""Item 5: a credential_process that never exits.

The process writes its pid to a file and then ``exec sleep 1000``. With
CREDCHAIN_TIMEOUT_MS=1000, a long-lived C host calls get four times (the
first call and three retries) and stays alive. Each call must return
TIMEOUT (6) within about the timeout + 1 s, and 5 s after the last call
none of the recorded pids may be alive, nor left as a zombie of the host:
the library must kill and reap the processes it gave up on. Pre-fix, the
sleepers stay behind as orphans for 1000 s.
"""

from __future__ import annotations

import time

from conftest import TIMEOUT, LiveHost, kill_pids, pids_mentioning, proc_state

PROFILE = "hung"
TIMEOUT_MS = 1000


def test_hung_credential_process_is_killed_and_reaped(scn, programs):
    pidfile = scn.root / "pids.txt"
    script = scn.script("hung-process.sh", f'echo $$ >> "{pidfile}"\nexec sleep 1000\n')
    scn.config(f"[profile {PROFILE}]\ncredential_process = {script}\nregion = us-east-1\n")
    scn.env["CREDCHAIN_TIMEOUT_MS"] = str(TIMEOUT_MS)
    steps = [f"get:{PROFILE}", "sleep:300", f"get:{PROFILE}", "sleep:1200", f"get:{PROFILE}", "sleep:2500",
             f"get:{PROFILE}", "wait"]
    host = LiveHost([programs["host"], *steps], scn.env)
    pids: list[int] = []
    try:
        calls = [host.next_op("get", timeout=TIMEOUT_MS / 1000 + 6) for _ in range(4)]
        host.next_op("waiting", timeout=10)
        time.sleep(5)
        pids = [int(p) for p in pidfile.read_text().split()] if pidfile.exists() else []
        states = {pid: proc_state(pid) for pid in pids}
        scenario_procs = pids_mentioning(str(scn.root))
        host_state = proc_state(host.proc.pid)
    finally:
        host.close()
        kill_pids(pids)
        kill_pids(pids_mentioning(str(scn.root)))
    for c in calls:
        print(f"get: code {c['code']} after {c['ms']:.0f} ms: {c['message']!r}")
    print(f"recorded pids {pids}; 5 s after the last call: {states}; scenario processes: {scenario_procs}")
    assert host_state not in (None, "Z"), "the host itself died"
    for c in calls:
        assert c["code"] == TIMEOUT, c
        assert c["ms"] <= TIMEOUT_MS + 1000, c
    assert pids, "the credential_process never ran"
    left = {pid: st for pid, st in states.items() if st is not None}
    assert not left, f"credential_process pids still present 5 s after the last call (Z = zombie): {left}"
    assert not scenario_procs, scenario_procs
