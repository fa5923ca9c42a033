"""Round 3, item 4: an upstream that answers with a huge body.

A loopback server answers every request with a 300 MB body (as a broken proxy or a hostile endpoint
might). The library must stop reading after its body limit (1 MiB), not hold the body (once per
retry) in the host's memory.

Must show: a 300 MB body leaves the host's peak (VmHWM) under 150 MB, for the container endpoint
and for instance metadata, and the call fails with the source named.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import OK, run_bounded

BODY = 300 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


class _Huge(BaseHTTPRequestHandler):
    """Every request: 200 and BODY bytes, written until the client stops reading."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.server.requests += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(BODY))
        self.end_headers()
        try:
            for _ in range(BODY // len(CHUNK)):
                self.wfile.write(CHUNK)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    do_GET = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def huge():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Huge)
    server.requests = 0  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("source", ["container", "imds"])
def test_a_huge_body_is_refused_without_taking_the_host_s_memory(scn, programs, huge, source):
    url = f"http://127.0.0.1:{huge.server_address[1]}"
    if source == "container":
        scn.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"{url}/credentials"
    else:
        scn.use_imds(url)
    scn.env["CREDCHAIN_TIMEOUT_MS"] = "60000"
    run = run_bounded([programs["host"], "rss", "get", "rss"], scn.env, timeout=120)
    assert run.rc == 0, run.describe()
    before, after = [r for r in run.records() if r.get("op") == "rss"]
    get = [r for r in run.records() if r.get("op") == "get"][0]
    peak_mb = after["vmhwm_kb"] / 1024
    print(f"{source}: code {get['code']} after {get['ms']:.0f} ms, {huge.requests} requests; peak "
          f"{peak_mb:.0f} MB (before the call {before['vmhwm_kb'] / 1024:.0f} MB), resident after "
          f"{after['vmrss_kb'] / 1024:.0f} MB; message: {get['message']!r}")
    assert get["code"] != OK, get
    assert peak_mb < 150, f"a {BODY // 2**20} MB body took the host to a peak of {peak_mb:.0f} MB"
