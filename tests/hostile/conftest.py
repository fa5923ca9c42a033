"""Hostile-host reproducers: shared set-up.

Which build is tested:

* ``CREDCHAIN_LIB_DIR``: the directory holding ``libcredchain.so`` (default
  ``<repo>/target/release``). The C programs under ``c/`` are built against
  it, into ``<repo>/target/hostile-tests/<hash of LIB_DIR>/``, so two builds
  never mix.
* ``CREDCHAIN_CLI``: the ``credchain`` command (default ``LIB_DIR/credchain``
  when that exists, else ``<repo>/target/release/credchain``).
* ``CREDCHAIN_LIBRARY``: the library the Python binding loads in the child
  processes; it is ``LIB_DIR/libcredchain.so`` whenever ``CREDCHAIN_LIB_DIR``
  is set, and otherwise ``CREDCHAIN_LIBRARY`` when set.

Every scenario runs in child processes of its own, in its own session
(process group), with its own HOME and AWS files, every ``AWS_*``,
``BOTO_*`` and ``CREDCHAIN_*`` variable of the calling shell stripped, and
instance metadata disabled unless a test points it at a loopback server it
started. Every child has a hard wall-clock bound: on expiry its whole
process group is SIGKILLed and the test fails (a hang is a failure).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))  # the `servers` package (loopback IMDS)

from harness import link_soname  # noqa: E402

C_DIR = HERE / "c"
PY_DIR = HERE / "py"
PY_BINDING = ROOT / "bindings" / "python" / "src"

LIB_DIR = Path(os.environ.get("CREDCHAIN_LIB_DIR") or ROOT / "target" / "release").resolve()
LIBRARY = LIB_DIR / "libcredchain.so"
if "CREDCHAIN_LIB_DIR" not in os.environ and os.environ.get("CREDCHAIN_LIBRARY"):
    LIBRARY = Path(os.environ["CREDCHAIN_LIBRARY"]).resolve()


def _default_cli() -> Path:
    beside = LIB_DIR / "credchain"
    return beside if beside.exists() else ROOT / "target" / "release" / "credchain"


CLI = Path(os.environ.get("CREDCHAIN_CLI") or _default_cli()).resolve()
OUT_DIR = ROOT / "target" / "hostile-tests" / hashlib.sha1(str(LIB_DIR).encode()).hexdigest()[:12]
PROGRAMS = ("host", "env_race", "fork_storm")

# Codes from include/credchain.h
OK, INVALID_ARGUMENT, NO_CREDENTIALS, PROFILE_NOT_FOUND, PARTIAL_CREDENTIALS = 0, 1, 2, 3, 4
SOURCE_FAILED, TIMEOUT, INTERNAL, INVALID_CONFIG = 5, 6, 7, 8
EXHAUSTED = 10  # ABI 1.2

STATIC_AKID = "AKIDHOSTILESTATIC001"
STATIC_SECRET = "hostile-static-secret-not-real"
STRIP_PREFIXES = ("AWS_", "BOTO_", "CREDCHAIN_")
STRIP_NAMES = {"HOME", "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
               "no_proxy", "NO_PROXY", "PYTHONPATH"}


# ---- building the C programs ---------------------------------------------------------------------------------

def _build(name: str) -> Path:
    src = C_DIR / f"{name}.c"
    out = OUT_DIR / name
    inputs = [src, C_DIR / "common.h", ROOT / "include" / "credchain.h", LIBRARY]
    if out.exists() and all(out.stat().st_mtime >= p.stat().st_mtime for p in inputs if p.exists()):
        return out
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    link_soname(LIB_DIR)
    cmd = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-g", f"-I{ROOT / 'include'}",
           str(src), "-o", str(out), f"-L{LIB_DIR}", f"-Wl,-rpath,{LIB_DIR}", "-lcredchain", "-lpthread"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"building {name} failed:\n{' '.join(cmd)}\n{res.stderr}")
    return out


@pytest.fixture(scope="session")
def programs() -> dict[str, Path]:
    """The C programs of c/, built against LIB_DIR."""
    if not LIBRARY.exists():
        pytest.fail(f"{LIBRARY} is missing: set CREDCHAIN_LIB_DIR (or build the library)")
    try:
        return {name: _build(name) for name in PROGRAMS}
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def cli() -> Path:
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: set CREDCHAIN_CLI")
    return CLI


# ---- running children with a hard bound ----------------------------------------------------------------------

@dataclass
class Run:
    cmd: list[str]
    rc: int | None
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool

    @property
    def signal(self) -> int | None:
        return -self.rc if self.rc is not None and self.rc < 0 else None

    def describe(self) -> str:
        how = "TIMED OUT (process group killed)" if self.timed_out else (
            f"killed by signal {signal.Signals(self.signal).name}" if self.signal else f"exit status {self.rc}")
        return (f"{os.path.basename(self.cmd[0])}: {how} after {self.elapsed:.1f}s\n"
                f"--- stdout (tail) ---\n{self.stdout[-3000:]}\n--- stderr (tail) ---\n{self.stderr[-3000:]}")

    def records(self) -> list[dict[str, Any]]:
        return json_lines(self.stdout)


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_bounded(cmd: list[str], env: dict[str, str], timeout: float, *, input: str | None = None,
                cwd: str | Path | None = None, preexec_fn: Any = None) -> Run:
    """Runs ``cmd`` in a session of its own; after ``timeout`` seconds its process group is SIGKILLed."""
    t0 = time.monotonic()
    proc = subprocess.Popen([str(c) for c in cmd], env=env, cwd=cwd, stdin=subprocess.PIPE if input is not None
                            else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=preexec_fn)
    timed_out = False
    try:
        out, err = proc.communicate(input.encode() if input is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc)
        out, err = proc.communicate()
    elapsed = time.monotonic() - t0
    # Whatever the child left behind in its group (it was ours) goes too.
    kill_group(proc)
    return Run([str(c) for c in cmd], proc.returncode, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"), elapsed, timed_out)


# ---- /proc ---------------------------------------------------------------------------------------------------

def proc_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, Z, ...), None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def pids_mentioning(needle: str) -> dict[int, str]:
    """Processes (not this one) whose command line contains ``needle``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if needle in cmdline:
            found[int(entry.name)] = cmdline.strip()
    return found


def kill_pids(pids: Iterable[int]) -> None:
    """SIGKILLs the given pids (processes this test started, found by their unique paths)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ---- scenarios -----------------------------------------------------------------------------------------------

def base_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(STRIP_PREFIXES) and k not in STRIP_NAMES}


@dataclass
class Scenario:
    """One isolated HOME with its AWS files and environment."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.aws = self.home / ".aws"
        self.aws.mkdir(parents=True, exist_ok=True)
        self.config_file = self.aws / "config"
        self.credentials_file = self.aws / "credentials"
        self.config_file.write_text("")
        self.credentials_file.write_text("")
        self.env = base_environ()
        self.env.update({
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
            "BOTO_CONFIG": str(self.home / "no-boto-config"),
            "NO_PROXY": "127.0.0.1,localhost",
            "CREDCHAIN_LIBRARY": str(LIBRARY),
            "CREDCHAIN_CLI": str(CLI),
            "PYTHONPATH": str(PY_BINDING),
            "PYTHONUNBUFFERED": "1",
        })

    def config(self, text: str) -> None:
        self.config_file.write_text(text)

    def credentials(self, text: str) -> None:
        self.credentials_file.write_text(text)

    def static_default(self) -> None:
        self.credentials(f"[default]\naws_access_key_id = {STATIC_AKID}\naws_secret_access_key = {STATIC_SECRET}\n")

    def script(self, name: str, body: str) -> Path:
        path = self.root / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
        return path

    def use_imds(self, url: str) -> None:
        assert url.startswith("http://127.0.0.1:"), url  # never the real instance metadata service
        self.env.pop("AWS_EC2_METADATA_DISABLED", None)
        self.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = url


@pytest.fixture
def scn(tmp_path: Path) -> Scenario:
    return Scenario(tmp_path)


def python_cmd(script: str, *args: Any) -> list[str]:
    return [sys.executable, str(PY_DIR / script), *[str(a) for a in args]]


class LiveHost:
    """A child (the C host) that a test talks to while it runs: JSON records as they arrive, a line to its
    standard input to let a ``wait`` step go on. Its process group is SIGKILLed by ``close`` at the latest."""

    def __init__(self, cmd: list[Any], env: dict[str, str]) -> None:
        import queue
        import threading

        self.cmd = [str(c) for c in cmd]
        self.proc = subprocess.Popen(self.cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.records: list[dict[str, Any]] = []
        self._queue: "queue.Queue[dict[str, Any] | None]" = queue.Queue()
        self.stderr_chunks: list[bytes] = []
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            for rec in json_lines(raw.decode("utf-8", "replace")):
                rec["t"] = time.monotonic()
                self.records.append(rec)
                self._queue.put(rec)
        self._queue.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr_chunks.append(raw)

    @property
    def stderr(self) -> str:
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    def next_op(self, op: str, timeout: float) -> dict[str, Any]:
        """The next record with "op" == op (records of other ops are skipped; all are kept in .records)."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {op!r} record within {timeout}s (the host hangs?); "
                                     f"records so far: {self.records[-5:]}\nstderr: {self.stderr[-2000:]}")
            try:
                rec = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if rec is None:
                raise AssertionError(f"the host ended (rc={self.proc.poll()}) before a {op!r} record; "
                                     f"records: {self.records[-5:]}\nstderr: {self.stderr[-2000:]}")
            if rec.get("op") == op:
                return rec

    def resume(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def close(self, timeout: float = 10) -> int | None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        kill_group(self.proc)
        self.proc.wait()
        for t in self._threads:
            t.join(5)
        return self.proc.returncode


def assert_fork_storm_clean(run) -> dict:
    """A fork_storm run that neither crashed nor hung: every child forked and
    succeeded, the threads saw no error and the parent still works. Returns
    the summary record for further checks."""
    assert not run.timed_out and run.signal is None, run.describe()
    s = run.records()[-1]
    assert s["hung"] == 0, f"{s['hung']} of {s['forks']} children hung: {s}"
    assert (s["forks"], s["succeeded"], s["failed"], s["signalled"]) == (s["requested"], s["requested"], 0, 0), s
    assert s["thread_errors"] == 0 and s["parent_after"] == 1, s
    assert run.rc == 0, run.describe()
    return s
