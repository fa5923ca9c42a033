"""Item 9: instance metadata that fails after its credentials expired.

The loopback IMDS (tests/servers/imds.py) first serves credentials that
expire about 5 s later, then fails every request (HTTP 500; or the server
is gone: pooled connections closed without an answer, new ones refused). Once the credentials have expired, a call
has nothing to serve and instance metadata failing is, as for botocore's
last source, NO_CREDENTIALS (2) with a message about instance metadata;
pre-fix it was SOURCE_FAILED with "expired N s ago".

AWS_EC2_METADATA_SERVICE_ENDPOINT points at the loopback server only.
"""

from __future__ import annotations

import time

import pytest

from conftest import NO_CREDENTIALS, OK, LiveHost
from servers import ImdsServer

LIFETIME = 5


@pytest.mark.parametrize("failure", ["http-500", "refused"])
def test_imds_failing_after_expiry_is_no_credentials(scn, programs, failure):
    srv = ImdsServer(lifetime=LIFETIME).start()
    try:
        scn.use_imds(srv.url)
        scn.env["CREDCHAIN_TIMEOUT_MS"] = "3000"
        host = LiveHost([programs["host"], "get", "wait", f"sleep:{(LIFETIME + 2) * 1000}", "get", "sleep:1500", "get"],
                        scn.env)
        try:
            first = host.next_op("get", timeout=10)
            assert first["code"] == OK and first["source"] == "iam-role", first
            if failure == "http-500":
                srv.inject("status", status=500)
            else:
                # Keep-alive connections outlive the listening socket: they get their socket closed
                # without an answer; new connections are refused.
                srv.inject("close")
                srv.stop()
            host.resume()
            later = [host.next_op("get", timeout=LIFETIME + 10), host.next_op("get", timeout=10)]
        finally:
            rc = host.close()
    finally:
        srv.stop()
    print(f"first: expires in {first['expiration'] - time.time():.1f}s (at {first['expiration']})")
    for rec in later:
        print(f"after expiry: code {rec['code']} after {rec['ms']:.0f} ms from {rec['source']}: {rec['message']!r}"
              + (f" (key {rec['akid']}, expiration {rec['expiration']}, now {int(time.time())})" if rec["code"] == OK
                 else ""))
    assert rc == 0, host.stderr[-2000:]
    for rec in later:
        assert rec["code"] == NO_CREDENTIALS, rec
        msg = (rec["message"] or "").lower()
        assert "instance metadata" in msg or "imds" in msg, rec
