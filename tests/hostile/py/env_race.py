"""Item 1, Python host: the ctypes binding in use while os.environ is written.

    python env_race.py SECONDS

One thread calls credchain into C in a loop (fetch() is one
credchain_get_credentials call; get_credentials() after invalidate() too);
two threads write os.environ (putenv/unsetenv of distinct non-AWS names).
ctypes releases the GIL during the C calls, so C reads the environment
while Python rewrites it. Prints one JSON line; exit 0 when every call
succeeded.
"""

import json
import os
import sys
import threading
import time

import credchain
from credchain import _api

seconds = float(sys.argv[1])
stop = threading.Event()
writes = [0, 0]


def writer(idx: int) -> None:
    r = 0
    while not stop.is_set():
        for i in range(1500):
            os.environ[f"HOSTILE_PY_ENV_{idx}_{i}"] = "x" * ((i * 7 + r) % 100 + 1)
        writes[idx] += 1500
        for i in range(1500):
            del os.environ[f"HOSTILE_PY_ENV_{idx}_{i}"]
        writes[idx] += 1500
        r += 1


first = credchain.get_credentials()
calls = failed = 0
first_error = None
threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(2)]
for t in threads:
    t.start()
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        _api.fetch(None)
        if calls % 50 == 0:
            credchain.invalidate()
            credchain.get_credentials()
    except credchain.CredchainError as exc:
        failed += 1
        first_error = first_error or repr(exc)
    calls += 1
stop.set()
for t in threads:
    t.join()
print(json.dumps({"calls": calls, "failed": failed, "env_writes": sum(writes), "first_error": first_error}))
sys.exit(0 if failed == 0 else 1)
