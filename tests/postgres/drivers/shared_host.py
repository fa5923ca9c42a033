"""One process hosting four drivers at once (tests/postgres/test_shared_process.py).

    python shared_host.py SHARED_SO ODBC_DRIVER HOST PORT USER REGION SECONDS INTERVAL_MS

* ``libpq`` and ``odbc``: C, in SHARED_SO (``drivers/shared_drivers.c``), loaded
  with ctypes *first*; it is linked against libcredchain, so its copy of the
  library (target/release) is the first in load order and serves;
* ``psycopg`` and ``pg8000``: ``credchain.rds_auth_token`` from the Python
  package, whose library is another file (``CREDCHAIN_LIBRARY``), a second
  copy that must forward to the first.

Each driver runs in its own thread (ctypes releases the GIL, so the C logins
really run beside the Python ones), opening a new connection every
INTERVAL_MS for SECONDS, checking ``SELECT current_user`` is USER. Prints one
JSON line: per driver ``logins``, ``failures``, ``errors`` (the first few) and
``keys`` (the access key ids of its successful logins, consecutive repeats
collapsed, so one chain gives each driver the same sequence); ``copies``, the
libcredchain files mapped into the process (/proc/self/maps), and
``python_library``, the file the Python package loaded.
"""

from __future__ import annotations

import ctypes
import json
import sys
import threading
import time
import urllib.parse


def main() -> int:
    shared_so, odbc_driver, host, port_text, user, region, seconds_text, interval_text = sys.argv[1:9]
    port, seconds, interval = int(port_text), float(seconds_text), int(interval_text) / 1000

    shared = ctypes.CDLL(shared_so)  # before the Python package: its libcredchain is the first copy
    common = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p, ctypes.c_char_p,
              ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    shared.shared_libpq_login.argtypes = common
    shared.shared_odbc_login.argtypes = [ctypes.c_char_p, *common]
    shared.shared_libpq_login.restype = shared.shared_odbc_login.restype = ctypes.c_int

    import pg8000.native
    import psycopg

    import credchain

    def key_of(token: str) -> str:
        query = urllib.parse.parse_qs(token.partition("/?")[2])
        return query["X-Amz-Credential"][0].split("/")[0]

    def c_login(function, *prefix: bytes):  # type: ignore[no-untyped-def]
        def login() -> str:
            key, error = ctypes.create_string_buffer(128), ctypes.create_string_buffer(1024)
            if not function(*prefix, host.encode(), port, user.encode(), region.encode(), key, 128, error, 1024):
                raise RuntimeError(error.value.decode(errors="replace"))
            return key.value.decode()
        return login

    def psycopg_login() -> str:
        token = credchain.rds_auth_token(host, port, user, region=region)
        with psycopg.connect(host=host, port=port, dbname="postgres", user=user, password=token,
                             sslmode="disable", connect_timeout=20) as conn:
            current = conn.execute("SELECT current_user").fetchone()[0]
        if current != user:
            raise RuntimeError(f"current_user is {current!r}")
        return key_of(token)

    def pg8000_login() -> str:
        token = credchain.rds_auth_token(host, port, user, region=region)
        conn = pg8000.native.Connection(user, password=token, host=host, port=port, database="postgres", timeout=20)
        try:
            current = conn.run("SELECT current_user")[0][0]
        finally:
            conn.close()
        if current != user:
            raise RuntimeError(f"current_user is {current!r}")
        return key_of(token)

    drivers = {
        "libpq": c_login(shared.shared_libpq_login),
        "odbc": c_login(shared.shared_odbc_login, odbc_driver.encode()),
        "psycopg": psycopg_login,
        "pg8000": pg8000_login,
    }
    results = {name: {"logins": 0, "failures": 0, "errors": [], "keys": []} for name in drivers}
    start = threading.Barrier(len(drivers))
    end_box: list[float] = []

    def run(name: str) -> None:
        r = results[name]
        start.wait()
        end = end_box[0] if end_box else time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                key = drivers[name]()
                r["logins"] += 1
                if not r["keys"] or r["keys"][-1] != key:
                    r["keys"].append(key)
            except Exception as exc:  # every failure counts; the first few are shown
                r["failures"] += 1
                if len(r["errors"]) < 5:
                    r["errors"].append(f"{type(exc).__name__}: {exc}"[:500])
            time.sleep(interval)

    end_box.append(time.monotonic() + seconds)
    threads = [threading.Thread(target=run, args=(name,), name=name) for name in drivers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    with open("/proc/self/maps") as maps:
        # (a file replaced on disk while mapped, as by a rebuild, reads "PATH (deleted)")
        copies = sorted({line.split(None, 5)[5].strip().removesuffix(" (deleted)") for line in maps
                         if len(line.split(None, 5)) == 6 and "libcredchain" in line})
    print(json.dumps({"drivers": results, "copies": copies, "python_library": credchain.library_path()}), flush=True)
    return 0 if all(r["failures"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
