"""Run `credchain serve --print-env` as a subprocess and read what it prints.

    from serving import Serving

    with Serving(["--profile", "target"], env=scn.env) as srv:
        srv.uri              # 'http://127.0.0.1:PORT/credentials/target'
        srv.port, srv.token  # the port it listens on, the token (read from srv.token_file)
        env = srv.client_env({"PATH": ..., "HOME": ..., "AWS_REGION": "us-east-1"})
        ...                  # start clients with env, or srv.get("/health")
    # leaving the block sends SIGTERM and waits (srv.returncode, srv.stderr_text())

The server's stdout is read on a thread (the print-env lines, parsed as they
arrive) and so is its stderr (kept whole: `stderr_text()`, `stderr_lines()`),
so neither pipe can fill up and stall the server, even at --log-level debug.

The binary is target/release/credchain, or $CREDCHAIN_BIN when set.
"""

from __future__ import annotations

import http.client
import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
CREDCHAIN = Path(os.environ.get("CREDCHAIN_BIN", ROOT / "target" / "release" / "credchain"))

URI_VAR = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_FILE_VAR = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"


class ServeError(AssertionError):
    """`credchain serve` did not start as the SPEC says (exited, or printed no env in time)."""


def finish(proc: subprocess.Popen, readers: list[threading.Thread], timeout: float) -> int | None:
    """Waits up to ``timeout`` s for ``proc`` (then SIGKILLs it) and for the threads reading its
    output; returns its exit status."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for thread in readers:
        thread.join(5)
    return proc.returncode


class Serving:
    """One `credchain serve --print-env [args]` process.

    Attributes once `start()` returned:

    * ``proc``        the ``subprocess.Popen``
    * ``exports``     every ``export NAME='value'`` line, as a dict
    * ``unset``       the names of the ``unset ...`` line, as a list
    * ``profiles``    ``{name: url}`` from the ``# profile NAME: URL`` comment lines (several profiles)
    * ``uri``         ``AWS_CONTAINER_CREDENTIALS_FULL_URI``
    * ``host``, ``port``, ``path``  its parts
    * ``token_file``  ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (a Path)
    * ``token``       the token, read from ``token_file`` at start (exactly, not stripped)
    * ``stdout_lines`` every stdout line so far (without newlines)
    """

    def __init__(self, args: Sequence[str] = (), env: Mapping[str, str] | None = None, *,
                 binary: Path | str | None = None, start_timeout: float = 15.0) -> None:
        self.args = list(args)
        self.env = dict(os.environ if env is None else env)
        self.binary = Path(binary) if binary is not None else CREDCHAIN
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.exports: dict[str, str] = {}
        self.unset: list[str] = []
        self.profiles: dict[str, str] = {}
        self.stdout_lines: list[str] = []
        self._stderr: list[str] = []
        self._lock = threading.Lock()
        self._unset_seen = threading.Event()
        self._threads: list[threading.Thread] = []
        self.uri = ""
        self.host = ""
        self.port = 0
        self.path = ""
        self.token_file = Path()
        self.token = ""

    # ---- life -----------------------------------------------------------
    @property
    def command(self) -> list[str]:
        return [str(self.binary), "serve", "--print-env", *self.args]

    def start(self) -> "Serving":
        """Start the server and wait until it has printed both variables and the unset line.

        Raises ServeError (with the server's stderr) when it exits first or
        prints nothing usable within ``start_timeout`` seconds."""
        if not self.binary.exists():
            raise ServeError(f"{self.binary} does not exist: build it with `cargo build --release`")
        self.proc = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        for target in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.time() + self.start_timeout
        while not self._ready():
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the readers take the last lines
                if self._ready():
                    break
                raise ServeError(f"`{shlex.join(self.command)}` exited with {self.proc.returncode} before printing "
                                 f"its environment; stdout: {self.stdout_lines!r}; stderr:\n{self.stderr_text()[-3000:]}")
            if time.time() > deadline:
                self.stop()
                raise ServeError(f"`{shlex.join(self.command)}` printed no complete environment within "
                                 f"{self.start_timeout} s; stdout: {self.stdout_lines!r}; "
                                 f"stderr:\n{self.stderr_text()[-3000:]}")
            self._unset_seen.wait(0.05)
        self.uri = self.exports[URI_VAR]
        parts = urlsplit(self.uri)
        self.host = parts.hostname or ""
        self.port = parts.port or 80
        self.path = parts.path
        self.token_file = Path(self.exports[TOKEN_FILE_VAR])
        self.token = self.token_file.read_text()
        return self

    def _ready(self) -> bool:
        with self._lock:
            return URI_VAR in self.exports and TOKEN_FILE_VAR in self.exports and self._unset_seen.is_set()

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s (then SIGKILL); returns the exit status (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return finish(self.proc, self._threads, timeout)

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def __enter__(self) -> "Serving":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- output ---------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            with self._lock:
                self.stdout_lines.append(line)
                self._parse(line)

    def _parse(self, line: str) -> None:
        text = line.strip()
        if text.startswith("export "):
            for word in shlex.split(text)[1:]:
                name, _, value = word.partition("=")
                self.exports[name] = value
        elif text.startswith("unset "):
            self.unset = shlex.split(text)[1:]
            self._unset_seen.set()
        elif text.startswith("# profile ") and ": " in text:
            name, _, url = text[len("# profile "):].rpartition(": ")
            self.profiles[name] = url

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self._stderr.append(line)

    def stderr_lines(self) -> list[str]:
        """Everything the server wrote to stderr so far, line by line."""
        with self._lock:
            return list(self._stderr)

    def stderr_text(self) -> str:
        return "".join(self.stderr_lines())

    # ---- for clients ----------------------------------------------------
    def client_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: empty) as a shell would leave it after evaluating the printed
        lines: the unset names removed, the exported ones set."""
        env = dict(base or {})
        for name in self.unset:
            env.pop(name, None)
        env.update(self.exports)
        return env

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def get(self, path: str | None = None, headers: Mapping[str, str] | None = None, *, token: bool = True,
            method: str = "GET", timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection: (status, headers with lower-case names, body).
        ``path`` defaults to the printed URI's; ``token=True`` sends ``Authorization: <token>``."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if token:
                hdrs.setdefault("Authorization", self.token)
            conn.request(method, path or self.path, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()
