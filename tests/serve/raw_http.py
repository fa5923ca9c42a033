"""What test_security.py and test_life.py share: an upstream with fake
credentials, a `credchain serve` child (serving.Serving with a few additions), and an HTTP/1.1 client over raw
sockets (every byte of the request is the test's own: no Host, Accept or
User-Agent header is added behind its back).

The upstream is a throw-away HOME whose ~/.aws/config gives the default
profile (and a profile `serve`) a `credential_process`: a shell script
printing fixed fake credentials that expire in an hour. Instance metadata
is disabled, every AWS_*, BOTO_*, CREDCHAIN_* and proxy variable of the
calling shell is stripped, and every request goes to 127.0.0.1 at the port
the server under test printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Sequence

from serving import CREDCHAIN, Serving

CLI = CREDCHAIN  # target/release/credchain, or $CREDCHAIN_BIN

AKID = "ASIASERVETEST0000001"
SECRET = "serve-test-secret-key-0123456789abcdefgh"
SESSION_TOKEN = "serve-test-session-token-IQoJb3JpZ2luX2VjEXAMPLE"
ACCOUNT_ID = "111122223333"

STRIP_PREFIXES = ("AWS_", "BOTO_", "CREDCHAIN_")
STRIP_NAMES = {"HOME", "XDG_RUNTIME_DIR", "TMPDIR", "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY",
               "HTTPS_PROXY", "ALL_PROXY", "no_proxy", "NO_PROXY", "PYTHONPATH"}
TOKEN_RE = re.compile(r"[0-9a-f]{64}")


# ---- the upstream ------------------------------------------------------------------------------------------

class Upstream:
    """A HOME with a credential_process upstream and the environment to run credchain in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.aws = self.home / ".aws"
        self.aws.mkdir(parents=True, exist_ok=True)
        self.runtime_dir = root / "run"
        self.runtime_dir.mkdir(mode=0o700, exist_ok=True)
        self.runtime_dir.chmod(0o700)
        self.expiration = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0)
        self.expiration_text = self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {"Version": 1, "AccessKeyId": AKID, "SecretAccessKey": SECRET, "SessionToken": SESSION_TOKEN,
               "Expiration": self.expiration_text}
        self.counter = root / "process-runs"
        self.counter.write_text("")
        script = root / "creds.sh"
        self.fail_flag = root / "fail"  # while it exists, the credential_process fails (exit 7)
        script.write_text("#!/bin/sh\n"
                          f"printf x >> {shlex.quote(str(self.counter))}\n"
                          f"if [ -e {shlex.quote(str(self.fail_flag))} ]; then echo 'upstream says no' >&2; exit 7; fi\n"
                          f"printf '%s\\n' {shlex.quote(json.dumps(doc))}\n")
        script.chmod(0o755)
        command = shlex.quote(str(script))
        (self.aws / "config").write_text(f"[default]\ncredential_process = {command}\n\n"
                                         f"[profile serve]\ncredential_process = {command}\n")
        (self.aws / "credentials").write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP_PREFIXES) and k not in STRIP_NAMES}
        env.update({
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": str(self.aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.aws / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
            "BOTO_CONFIG": str(self.home / "no-boto-config"),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "TMPDIR": str(root),
            "NO_PROXY": "*",
        })
        self.env = env

    def runs(self) -> int:
        """How often the credential_process ran."""
        return self.counter.stat().st_size

    def wait_fetched(self, runs_before: int, timeout: float = 5.0) -> bool:
        """Waits until the credential_process has run once more than `runs_before` (the server's start-up
        warm-up), and a moment more for its answer to reach the cache. See Server's `warm`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.runs() > runs_before:
                time.sleep(0.1)
                return True
            time.sleep(0.01)
        return False

    @property
    def secrets(self) -> dict[str, str]:
        """What must never appear in a log line or an error body."""
        return {"access key id": AKID, "secret access key": SECRET, "session token": SESSION_TOKEN}


# ---- the server ----------------------------------------------------------------------------------------------

class Server(Serving):
    """serving.Serving (`credchain serve --print-env ARGS`, started at once), with what these tests need on top:
    its pid and descriptors, a stop by any signal, timed.

    With `warm` it returns only once the server's start-up warm-up has fetched from the upstream. Tests do
    not need it: a first request racing the warm-up joins the same fetch (the race once stalled lookups for
    10 s, when each waiting request held one of the runtime's two blocking threads;
    test_burst_of_requests_on_a_cold_cache_is_served keeps checking it)."""

    def __init__(self, upstream: Upstream, args: Sequence[object] = (), *, ready_timeout: float = 15.0,
                 loopback_uri: bool = True, warm: bool = False) -> None:
        super().__init__([str(a) for a in args], env=upstream.env, start_timeout=ready_timeout)
        self.upstream = upstream
        runs_before = upstream.runs()
        self.start()
        assert self.proc is not None
        self.pid = self.proc.pid
        assert not loopback_uri or re.fullmatch(r"http://127\.0\.0\.1:\d+/credentials(/.*)?", self.uri), \
            f"--print-env printed FULL_URI {self.uri!r}, not http://127.0.0.1:PORT/credentials[/NAME]"
        if warm:
            upstream.wait_fetched(runs_before)

    @property
    def stderr(self) -> str:
        return self.stderr_text()

    @property
    def host_header(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def describe(self) -> str:
        rc = self.returncode
        state = "running" if rc is None else f"exited with {rc}"
        return (f"server `{' '.join(self.command)}` (pid {self.pid}) {state}\n--- stdout ---\n"
                + "\n".join(self.stdout_lines[-20:]) + f"\n--- stderr (tail) ---\n{self.stderr[-3000:]}")

    def fds(self) -> int:
        """How many file descriptors the server holds (/proc/PID/fd)."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop_with(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int | None, float]:
        """Sends `sig`; returns (exit status, seconds until the process was gone); SIGKILL after `timeout`."""
        assert self.proc is not None
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        elapsed = time.monotonic() - t0
        rc = self.proc.poll()
        self.kill()
        return rc, elapsed

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stop()  # joins the reader threads


# ---- HTTP over a raw socket -------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self) -> dict:
        return json.loads(self.body)

    def show(self) -> str:
        return (self.raw_head.decode("latin-1") + self.body[:600].decode("utf-8", "replace")).strip()


class ConnectionClosed(AssertionError):
    pass


def build_request(method: str = "GET", path: str = "/credentials",
                  headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def describe_request(data: bytes, limit: int = 400) -> str:
    text = data.decode("latin-1")
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(data):,} bytes in all)"
    return repr(text)


class Conn:
    """One client connection to 127.0.0.1:port."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.send_error: OSError | None = None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> threading.Thread:
        """Sends in a thread of its own, so a server that answers before reading everything (431, 413) and
        closes is read while the rest is still being sent; a send error is kept, not raised."""
        def run() -> None:
            try:
                self.sock.sendall(data)
            except OSError as exc:
                self.send_error = exc
        t = threading.Thread(target=run, daemon=True)
        t.start()
        if len(data) < 65536:
            t.join(5)
        return t

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_response(self, method: str = "GET") -> Response:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise AssertionError(f"a response head over 1 MiB: {self.buf[:300]!r}")
            if not self._fill():
                raise ConnectionClosed(f"the server closed the connection without a (complete) response head; "
                                       f"received {self.buf[:300]!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
        if not m:
            raise AssertionError(f"not an HTTP/1.x status line: {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        resp = Response(int(m.group(1)), m.group(2), headers, b"", head + b"\r\n\r\n")
        length = resp.header("content-length")
        if method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        if length is None:
            raise AssertionError(f"a {resp.status} response without Content-Length (SPEC: responses carry "
                                 f"Content-Length):\n{resp.show()}")
        n = int(length)
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionClosed(f"the connection closed after {len(self.buf)} of {n} body bytes:\n"
                                       f"{resp.show()}")
        resp.body, self.buf = self.buf[:n], self.buf[n:]
        return resp

    def exchange(self, data: bytes, method: str = "GET") -> Response:
        self.send(data)
        return self.read_response(method)

    def closed_within(self, timeout: float) -> bool:
        """True when the server closes (EOF or reset) within `timeout` seconds, reading away anything else."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                try:
                    chunk = self.sock.recv(65536)
                except socket.timeout:
                    return False
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True


def request(server: Server, method: str = "GET", path: str | None = None, *, token: str | None = "default",
            host: str | None = "default", extra: Iterable[tuple[str, str]] = (), body: bytes = b"") -> Response:
    """One request on a fresh connection. token/host "default" mean the server's token and 127.0.0.1:PORT;
    None leaves the header out."""
    data = build_request(method, path or server.path, headers(server, token=token, host=host, extra=extra), body)
    with Conn(server.port) as conn:
        return conn.exchange(data, method)


def headers(server: Server, *, token: str | None = "default", host: str | None = "default",
            extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    out = []
    if host is not None:
        out.append(("Host", server.host_header if host == "default" else host))
    if token is not None:
        out.append(("Authorization", server.token if token == "default" else token))
    out.extend(extra)
    return out


def assert_serves(server: Server, after: str) -> dict:
    """A legitimate request on a fresh connection gets 200 and the upstream's credentials."""
    assert server.alive(), f"the server died after {after}\n{server.describe()}"
    try:
        resp = request(server)
    except (OSError, AssertionError) as exc:
        raise AssertionError(f"after {after}, a legitimate GET {server.path} failed: {exc!r}\n"
                             f"{server.describe()}") from exc
    assert resp.status == 200, f"after {after}, a legitimate GET {server.path} got:\n{resp.show()}"
    doc = resp.json()
    assert doc.get("AccessKeyId") == AKID, f"after {after}, 200 with AccessKeyId {doc.get('AccessKeyId')!r}, " \
                                           f"want {AKID!r}: {doc}"
    return doc


def assert_no_secret(text: str | bytes, where: str, server: Server | None = None,
                     extra: dict[str, str] | None = None) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    secrets = {"access key id": AKID, "secret access key": SECRET, "session token": SESSION_TOKEN}
    if server is not None:
        secrets["server token"] = server.token
        secrets["server token's first 16 characters"] = server.token[:16]
    secrets.update(extra or {})
    for what, value in secrets.items():
        assert value not in text, f"{where} contains the {what} ({value[:6]}...):\n{text[-2000:]}"


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return True


@dataclass
class Bounded:
    """A child run to completion with a hard bound (its process group is SIGKILLed at the bound)."""

    cmd: list[str]
    rc: int | None
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        how = "TIMED OUT (process group killed)" if self.timed_out else f"exit status {self.rc}"
        return (f"`{' '.join(self.cmd)}`: {how} after {self.elapsed:.2f}s\n--- stdout (tail) ---\n"
                f"{self.stdout[-2000:]}\n--- stderr (tail) ---\n{self.stderr[-3000:]}")


def run_bounded(cmd: Sequence[str], env: dict[str, str], timeout: float = 15.0, cwd: Path | None = None) -> Bounded:
    t0 = time.monotonic()
    proc = subprocess.Popen([str(c) for c in cmd], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        out, err = proc.communicate()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return Bounded([str(c) for c in cmd], proc.returncode, out.decode("utf-8", "replace"),
                   err.decode("utf-8", "replace"), time.monotonic() - t0, timed_out)
