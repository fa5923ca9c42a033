"""Shared machinery for the loopback credential servers.

Every server here is a ``ThreadingHTTPServer`` bound to 127.0.0.1 on a port
the kernel picks (port 0).  It counts every request per (method, path), keeps
a log of requests, and can inject faults chosen at run time:

=================  ==========================================================
kind               what the client sees
=================  ==========================================================
``status``         an error status (500, 403, 401, ...) with the body the real
                   service sends for it (STS XML error, SSO JSON error, ...)
``malformed``      200 with a body that is not JSON / not XML
``missing_fields`` 200 with well-formed JSON / XML lacking required fields
``hang``           the request is read, and never answered (the connection
                   stays open until the fault is cleared or the server stops)
``slow``           the normal answer, after ``delay_ms`` milliseconds
``close``          the socket is closed without a byte of response
=================  ==========================================================

A fault matches requests by optional ``path`` prefix and ``method``, and
applies ``times`` times (``None``: until cleared).  Faults are tried in the
order they were injected; the first match applies.

Control API, in process::

    srv = ImdsServer(lifetime=15).start()
    srv.inject("status", status=500, path="/latest/meta-data/", times=2)
    srv.clear_faults(); srv.count("/latest/api/token"); srv.configure(lifetime=30)
    srv.stop()

and over HTTP, when a server runs as a subprocess (``python3 -m servers imds``
from tests/, see ``__main__.py``): ``GET /__control`` returns the stats, and
``POST /__control`` takes JSON ``{"op": "inject", "fault": {...}}``,
``{"op": "clear"}``, ``{"op": "configure", "settings": {...}}``,
``{"op": "reset"}`` or ``{"op": "stats"}``; ``ControlClient`` wraps that.
Control requests are neither counted nor subject to faults.

Only the Python standard library is used.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

FAULT_KINDS = ("status", "malformed", "missing_fields", "hang", "slow", "close")
CONTROL_PATH = "/__control"


def iso8601(epoch: float) -> str:
    """UTC ISO 8601 with a Z, the way STS, IMDS and the container agents write it."""
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fault:
    kind: str
    status: int = 500
    delay_ms: int = 0
    path: str | None = None
    method: str | None = None
    times: int | None = None
    code: str | None = None
    message: str | None = None
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is not None and not path.startswith(self.path):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Request:
    """What a server received; kept in ``server.requests`` for assertions."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    time: float
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "time": self.time,
            "fault": self.fault,
            "extra": self.extra,
        }


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class KeyMinter:
    """Counter-based fake credentials: ASIA<TAG>000001, ASIA<TAG>000002, ...

    The secret and token are derived from the key id, so a test can check
    that a key, its secret and its token travel together.
    """

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._n = 0
        self._lock = threading.Lock()
        self.issued: list[dict[str, Any]] = []

    def mint(self, lifetime: float, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        with self._lock:
            self._n += 1
            akid = f"ASIA{self.tag}{self._n:06d}"
            creds = {
                "access_key_id": akid,
                "secret_access_key": secret_for(akid),
                "session_token": token_for(akid),
                "expiration": int(now + lifetime),
                "issued_at": now,
            }
            self.issued.append(creds)
            return creds

    @property
    def count(self) -> int:
        return self._n


class RotatingCredentials:
    """For servers that hand out one credential set until their rotation
    rule asks for another: ``rotate == "every"`` mints a set per request;
    otherwise a set is minted when the current one is within
    ``rotate_before`` seconds of its expiry. Mix into a LoopbackServer."""

    def init_rotation(self, tag: str) -> None:
        self.lifetime: float = 3600
        self.rotate = "every"
        self.rotate_before: float = 0
        self.minter = KeyMinter(tag)
        self._current: dict[str, Any] | None = None

    def credentials(self) -> dict[str, Any]:
        """The set to hand out now, minting per the rotation rule."""
        with self._lock:  # type: ignore[attr-defined]  (LoopbackServer's)
            now = time.time()
            cur = self._current
            if self.rotate == "every" or cur is None or now >= cur["expiration"] - self.rotate_before:
                cur = self._current = self.minter.mint(self.lifetime, now)
            return cur


def secret_for(akid: str) -> str:
    return f"fake-secret-{akid}"


def token_for(akid: str) -> str:
    return f"fake-token-{akid}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' pooled clients expect
    server: "_HTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        owner = self.server.owner
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path == CONTROL_PATH:
            self._write(owner._control(self.command, body))
            return
        req = Request(
            method=self.command,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            time=time.time(),
        )
        fault = owner._take_fault(self.command, path)
        req.fault = fault.kind if fault else None
        owner._record(req)
        if fault is not None:
            if fault.kind == "hang":
                owner._hang()
                self._drop()
                return
            if fault.kind == "close":
                self._drop()
                return
            if fault.kind == "slow":
                time.sleep(fault.delay_ms / 1000.0)
                self._write(owner._answer(req))
                return
            if fault.kind == "status":
                self._write(owner.error_response(req, fault.status, fault.code, fault.message))
                return
            if fault.kind == "malformed":
                self._write(owner.malformed_response(req))
                return
            if fault.kind == "missing_fields":
                self._write(owner.missing_fields_response(req))
                return
        self._write(owner._answer(req))

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _dispatch

    def _drop(self) -> None:
        """Close the socket without a response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _write(self, resp: Response) -> None:
        body = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
        self.send_response(resp.status)
        headers = {"Content-Type": resp.content_type, **resp.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], owner: "LoopbackServer") -> None:
        self.owner = owner
        super().__init__(addr, _Handler)


class LoopbackServer:
    """Base class: subclasses implement ``handle`` and the fault bodies."""

    name = "loopback"
    #: settings accepted by ``configure``; subclasses extend this.
    settings: tuple[str, ...] = ()

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False,
                 tls: ssl.SSLContext | None = None, **settings: Any) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        #: a server-side TLS context: the server speaks HTTPS (``url`` says https)
        self.tls = tls
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._release = threading.Event()
        self._stopped = threading.Event()
        self.requests: list[Request] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.configure(**settings)

    # ---- life -----------------------------------------------------------
    def start(self) -> "LoopbackServer":
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        if self.tls is not None:
            # The handshake runs in accept(); one a client refuses (an
            # untrusted certificate) is an OSError the server loop drops.
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "LoopbackServer":
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls is not None else 'http'}://{self.host}:{self.port}"

    # ---- control --------------------------------------------------------
    def configure(self, **settings: Any) -> None:
        for key, value in settings.items():
            if key not in self.settings:
                raise ValueError(f"{self.name}: unknown setting {key!r}; one of {self.settings}")
            setattr(self, key, value)

    def inject(self, kind: str, **kw: Any) -> Fault:
        fault = Fault(kind=kind, **kw)
        with self._lock:
            if kind == "hang":
                self._release.clear()
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every fault; requests hanging on a ``hang`` fault are released (closed)."""
        with self._lock:
            self._faults.clear()
            self._release.set()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def count(self, path: str | None = None, method: str | None = None, faulted: bool | None = None) -> int:
        """Requests received whose path starts with ``path`` (all when None)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (path is None or r.path.startswith(path))
                and (method is None or r.method == method.upper())
                and (faulted is None or (r.fault is not None) == faulted)
            )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._lock:
            for r in self.requests:
                key = f"{r.method} {r.path}"
                out[key] = out.get(key, 0) + 1
        return out

    def stats(self) -> dict[str, Any]:
        with self._lock:
            requests = [r.to_dict() for r in self.requests]
            faults = [f.to_dict() for f in self._faults]
        return {"server": self.name, "url": self.url, "counts": self.counts(), "requests": requests, "faults": faults}

    def _control(self, method: str, body: bytes) -> Response:
        try:
            if method == "GET":
                return Response(200, json.dumps(self.stats()))
            cmd = json.loads(body or b"{}")
            op = cmd.get("op")
            if op == "inject":
                fault = dict(cmd["fault"])
                self.inject(fault.pop("kind"), **fault)
            elif op == "clear":
                self.clear_faults()
            elif op == "configure":
                self.configure(**cmd.get("settings", {}))
            elif op == "reset":
                self.reset()
            elif op != "stats":
                raise ValueError(f"unknown op {op!r}")
            return Response(200, json.dumps(self.stats()))
        except Exception as exc:  # a bad control call must not kill the server
            return Response(400, json.dumps({"error": f"{type(exc).__name__}: {exc}"}))

    # ---- internals ------------------------------------------------------
    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)

    def _hang(self) -> None:
        while not self._release.wait(0.1):
            if self._stopped.is_set():
                return

    def _answer(self, req: Request) -> Response:
        try:
            return self.handle(req)
        except Exception as exc:  # a server bug shows as a 500 naming it
            return Response(500, json.dumps({"message": f"test server bug: {type(exc).__name__}: {exc}"}))

    # ---- to implement ---------------------------------------------------
    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def error_response(self, req: Request, status: int, code: str | None, message: str | None) -> Response:
        return Response(status, json.dumps({"code": code or "Error", "message": message or f"injected {status}"}))

    def malformed_response(self, req: Request) -> Response:
        return Response(200, '{"AccessKeyId": "ASIAMALFORMED", "SecretAcc')

    def missing_fields_response(self, req: Request) -> Response:
        return Response(200, json.dumps({"AccessKeyId": "ASIAMISSING"}))


class ControlClient:
    """The in-process control API, over HTTP, for a server run as a subprocess."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _post(self, cmd: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(cmd).encode()
        req = urllib.request.Request(self.url + CONTROL_PATH, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + CONTROL_PATH, timeout=5) as resp:
            return json.loads(resp.read())

    def inject(self, kind: str, **kw: Any) -> dict[str, Any]:
        return self._post({"op": "inject", "fault": {"kind": kind, **kw}})

    def clear_faults(self) -> dict[str, Any]:
        return self._post({"op": "clear"})

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self._post({"op": "configure", "settings": settings})

    def reset(self) -> dict[str, Any]:
        return self._post({"op": "reset"})

    def counts(self) -> dict[str, int]:
        return self.stats()["counts"]

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return sum(
            n for key, n in self.counts().items()
            if (method is None or key.split(" ", 1)[0] == method.upper())
            and (path is None or key.split(" ", 1)[1].startswith(path))
        )


Handler = Callable[[Request], Response]
