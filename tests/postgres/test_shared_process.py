"""One process hosting four drivers at once, two copies of the library in it, one credential source run per
rotation for all of them together (issue 17, item 3).

The process (``drivers/shared_host.py``) loads, in this order:

* ``shared_drivers.so`` (``drivers/shared_drivers.c``) with ctypes: a C "vendor driver" linked against
  ``target/release/libcredchain.so`` that logs in through libpq (``PQconnectdbParams``) and through
  unixODBC + psqlODBC (``SQLDriverConnect``, ``PWD={token}``);
* the Python package ``credchain`` with ``CREDCHAIN_LIBRARY`` naming *another file* of the library (a copy in
  the test's temporary directory, as a wheel bundles its own), and psycopg and pg8000 logging in with
  ``credchain.rds_auth_token``.

The four drivers run in threads for ``SECONDS`` (50), each opening a new connection every 500 ms, while the
credentials rotate: the default profile's source is a ``credential_process`` that appends one line to a
file each time it runs and issues the next key (``ASIASHARED000001``...) with a session token as long as a
real one, expiring ``LIFETIME`` (26) seconds later, so credchain fetches anew about every 20 s. The verifier
trusts exactly the keys listed in that file, each until its expiry.

Must hold: every login of every driver succeeded with ``SELECT current_user`` = ``iam_user``, the server
refused none; both library files are mapped in the process; the server accepted logins signed with at least
3 keys (2 rotations); every driver logged in with the same sequence of keys, the server's sequence; and the
source ran exactly once per key the server saw: once per rotation for the whole process, not once per driver
or per copy of the library. With sharing broken (two caches: a copy of another ABI major, or the drivers in
two processes) the drivers' sequences differ and the source runs about twice per rotation.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import summary
from rds_like import HOST, IAM_USER, REGION, RdsLikePostgres
from rds_token_check import Issued
from test_drivers import ACCEPTED_KEY, LIB_DIR, LIBRARY, ROOT, Trap, _cc, child_env, odbc_driver

HERE = Path(__file__).resolve().parent
SECONDS = float(os.environ.get("CREDCHAIN_PG_SHARED_SECONDS", "50"))
LIFETIME = int(os.environ.get("CREDCHAIN_PG_SHARED_LIFETIME", "26"))
INTERVAL_MS = 500
DRIVERS = ("libpq", "odbc", "psycopg", "pg8000")
KEY = re.compile(r"ASIASHARED\d{6}$")

# The credential source: one line in `runs` per run (under a lock, should two processes share it).
COUNTING_PROCESS = r"""#!/bin/sh
dir="$(dirname "$0")"
exec 9>>"$dir/runs.lock"
flock 9
n=$(( $(wc -l < "$dir/runs") + 1 ))
key=$(printf 'ASIASHARED%06d' "$n")
secret="shared-secret-$n-$$"
token="IQoJb3JpZ2luX2VjE$(head -c 900 /dev/urandom | base64 -w0)"
expiration=$(date -u -d "@$(( $(date +%s) + LIFETIME ))" +%Y-%m-%dT%H:%M:%SZ)
echo "$n $key $secret $token $expiration" >> "$dir/runs"
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s", "Expiration": "%s"}\n' \
    "$key" "$secret" "$token" "$expiration"
"""


def issued(home: Path) -> list[Issued]:
    """What the credential_process issued, in order: one per run, each trusted until the expiry it was
    issued with."""
    out = []
    for line in (home / "runs").read_text().splitlines():
        _, key, secret, token, expiration = line.split(" ")
        expires_at = calendar.timegm(time.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ"))
        out.append(Issued(key, secret, token, float(expires_at)))
    return out


def counting_home(home: Path, lifetime: int) -> Path:
    (home / ".aws").mkdir(parents=True)
    script = home / "issue.sh"
    script.write_text(COUNTING_PROCESS.replace("LIFETIME", str(lifetime)))
    script.chmod(0o700)
    (home / "runs").write_text("")
    (home / ".aws" / "config").write_text(f"[default]\ncredential_process = {script}\nregion = {REGION}\n")
    (home / ".aws" / "config").chmod(0o600)
    (home / ".aws" / "credentials").write_text("")
    (home / "odbc").mkdir()
    (home / "odbc" / "odbcinst.ini").write_text("")
    (home / "odbc" / "odbc.ini").write_text("")
    return home


@dataclass
class SharedRun:
    results: list[dict]  # one per host process (one in the test)
    returncodes: list[int]
    stderr: str
    runs: list[Issued]
    server_keys: list[str]
    accepted: int
    refused: list[str]
    trap: list[str]
    wall: float
    python_library: str = ""

    @property
    def logins(self) -> int:
        return sum(d["logins"] for r in self.results for d in r["drivers"].values())

    def describe(self) -> str:
        drivers = sum(len(r["drivers"]) for r in self.results)
        return (f"shared process: {self.logins} logins from {drivers} drivers across "
                f"{max(len(self.server_keys) - 1, 0)} rotations, source ran {len(self.runs)} times "
                f"(server accepted {self.accepted} with {len(self.server_keys)} keys; {self.wall:.1f} s)")


def build_shared(out: Path) -> Path:
    if not (LIB_DIR / "libcredchain.so.1").exists():
        subprocess.run([str(ROOT / "scripts" / "soname-link"), str(LIB_DIR)], check=True)
    pg_include = "/usr/include/postgresql"
    if shutil.which("pg_config"):
        pg_include = subprocess.run(["pg_config", "--includedir"], capture_output=True, text=True).stdout.strip()
    target = out / "shared_drivers.so"
    _cc("shared_drivers.c", target, ["-lpq", "-lodbc"], ["-shared", "-fPIC", f"-I{pg_include}"])
    return target


def run_shared(pg: RdsLikePostgres, shared_so: Path, python_library: Path, work: Path, processes: int = 1,
               seconds: float = SECONDS, lifetime: int = LIFETIME,
               extra_env: dict[str, str] | None = None) -> SharedRun:
    """The host process(es), all with one HOME (one credential source), and what the server saw."""
    driver = odbc_driver()
    assert driver is not None, "no psqlodbcw.so (apt-get install odbc-postgresql)"
    home = counting_home(work / "home", lifetime)
    pg.keys.follow(lambda akid: next((i for i in issued(home) if i.access_key_id == akid), None))
    trap = Trap()
    env = child_env(home, trap.url, trap.url)
    env["CREDCHAIN_LIBRARY"] = str(python_library)
    env.update(extra_env or {})
    argv = [sys.executable, str(HERE / "drivers" / "shared_host.py"), str(shared_so), driver, HOST, str(pg.port),
            IAM_USER, REGION, str(seconds), str(INTERVAL_MS)]
    mark = pg.verifier.mark()
    t0 = time.monotonic()
    procs = [subprocess.Popen(argv, env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    results, codes, stderr = [], [], ""
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=seconds + 90)
            codes.append(proc.returncode)
            stderr += err[-3000:]
            lines = [line for line in out.splitlines() if line.startswith("{")]
            if lines:
                results.append(json.loads(lines[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        trap.close()
    wall = time.monotonic() - t0
    attempts = pg.verifier.since(mark)
    by_key = [m.group(1) for a in attempts if a.ok and (m := ACCEPTED_KEY.search(a.message))]
    mine = [k for k in by_key if KEY.match(k)]
    return SharedRun(results, codes, stderr, issued(home), list(dict.fromkeys(mine)), len(mine),
                     [f"{a.user}: {a.code}: {a.message}" for a in attempts if not a.ok], list(trap.seen), wall)


@pytest.fixture(scope="module")
def shared_run(rds_pg: RdsLikePostgres, tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    if not LIBRARY.exists():
        pytest.fail(f"{LIBRARY} is missing: run `cargo build --release` first")
    work = tmp_path_factory.mktemp("shared")
    shared_so = build_shared(work)
    second_copy = work / "vendor-python" / "libcredchain.so"  # the Python package's own file of the library
    second_copy.parent.mkdir()
    shutil.copy2(LIBRARY, second_copy)
    try:
        run = run_shared(rds_pg, shared_so, second_copy, work)
    finally:
        rds_pg.keys.forget()
    run.python_library = str(second_copy)
    summary.lines.append(run.describe())
    for result in run.results:
        for name, d in result["drivers"].items():
            summary.lines.append(f"  {name}: {d['logins']} logins, {d['failures']} failures, keys {d['keys']}")
    return run


def test_one_process_four_drivers_two_copies_one_source_run_per_rotation(shared_run: SharedRun) -> None:
    run = shared_run
    print(run.describe())
    assert len(run.results) == 1 and run.returncodes == [0], f"{run.returncodes}\n{run.stderr}"
    (result,) = run.results
    drivers = result["drivers"]
    assert sorted(drivers) == sorted(DRIVERS)
    # every login of every driver succeeded (SELECT current_user = iam_user), the server refused none
    for name, d in drivers.items():
        assert (d["failures"], d["errors"]) == (0, []), f"{name}: {d}"
        assert d["logins"] >= SECONDS / (INTERVAL_MS / 1000) / 3, f"{name}: {d}"
    assert run.refused == []
    assert run.trap == []
    assert run.accepted >= run.logins
    # two files of the library in the process: the C driver's (it serves) and the Python package's
    python_library = run.python_library
    assert result["python_library"] == python_library
    assert result["copies"] == sorted({str(LIBRARY.resolve()), python_library}), result["copies"]
    # 2 rotations at least, and the source ran exactly once per key the server saw: once per rotation in all
    assert len(run.server_keys) >= 3, run.describe()
    assert [i.access_key_id for i in run.runs] == run.server_keys, run.describe()
    # one set of credentials at a time: every driver went through the same keys, in the same order
    for name, d in drivers.items():
        assert d["keys"] == run.server_keys, f"{name}: {d['keys']} != {run.server_keys}"
