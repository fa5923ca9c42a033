"""Item 2, Python host: multiprocessing with the fork start method while threads call credchain.

    python mp_fork.py CHILDREN CHILD_TIMEOUT_S

Eight threads call get_credentials (and one raw credchain_get_credentials
through _api.fetch) / invalidate / rds_auth_token in a loop;
the main thread starts CHILDREN processes one after another (fork start
method). Each child calls get_credentials, invalidate, get_credentials and
exits 0 on success. A child still alive after CHILD_TIMEOUT_S is killed and
counted as hung. Prints one JSON line; exit 0 when every child succeeded.
"""

import json
import multiprocessing
import sys
import threading
import time

import credchain
from credchain import _api

children = int(sys.argv[1])
child_timeout = float(sys.argv[2])
stop = threading.Event()
thread_errors = []
calls = [0]


def worker(n: int) -> None:
    i = 0
    while not stop.is_set():
        try:
            credchain.get_credentials()
            _api.fetch(None)  # one call into C every time (get_credentials may answer from Python)
            if (i + n) % 3 == 0:
                credchain.invalidate()
            if (i + n) % 4 == 0:
                credchain.rds_auth_token("mydb.cluster-abc.us-east-1.rds.amazonaws.com", 5432, "app")
        except Exception as exc:  # noqa: BLE001
            thread_errors.append(repr(exc))
        calls[0] += 1
        i += 1


def child() -> None:
    credchain.get_credentials()
    credchain.invalidate()
    credchain.get_credentials()


def main() -> int:
    credchain.get_credentials()
    ctx = multiprocessing.get_context("fork")
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    ok = failed = hung = 0
    slowest = 0.0
    t_start = time.monotonic()
    for _ in range(children):
        if hung >= 3:
            break
        t0 = time.monotonic()
        p = ctx.Process(target=child)
        p.start()
        p.join(child_timeout)
        if p.is_alive():
            p.kill()
            p.join()
            hung += 1
        elif p.exitcode == 0:
            ok += 1
        else:
            failed += 1
        slowest = max(slowest, time.monotonic() - t0)
    stop.set()
    for t in threads:
        t.join(10)
    print(json.dumps({"children": children, "succeeded": ok, "failed": failed, "hung": hung,
                      "slowest_child_s": round(slowest, 2), "seconds": round(time.monotonic() - t_start, 1),
                      "thread_calls": calls[0], "thread_errors": thread_errors[:3]}))
    return 0 if ok == children and not thread_errors else 1


if __name__ == "__main__":
    sys.exit(main())
