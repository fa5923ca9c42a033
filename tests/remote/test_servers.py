"""The loopback servers themselves, checked against botocore (the reference client).

These need no credchain build: they show that each server speaks its
protocol well enough for botocore, and that the fault and control machinery
works, so that a failing probe test points at the library, not at the peer.
"""

from __future__ import annotations

import json
from pathlib import Path
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import scenarios as S
from servers import ControlClient, secret_for, token_for

TESTS = Path(__file__).resolve().parent.parent  # tests/


def _boto_ok(scn, method, profile=None):
    ref = scn.botocore(profile)
    assert ref.get("ok"), ref
    assert ref["method"] == method, ref
    assert ref["secret_access_key"] == secret_for(ref["access_key_id"])
    assert ref["session_token"] == token_for(ref["access_key_id"])
    return ref


def test_botocore_assume_role(boto_scn, sts):
    profile = S.assume_role(boto_scn, sts)
    ref = _boto_ok(boto_scn, "assume-role", profile)
    (call,) = sts.calls_for("AssumeRole")
    assert call["signed_with"] == S.BASE_AKID and call["signature_valid"] is True, call
    assert call["ExternalId"] == "ext-4711" and call["RoleSessionName"] == "credchain-session"
    assert ref["access_key_id"] == call["access_key_id"]


def test_botocore_role_chain(boto_scn, sts):
    _boto_ok(boto_scn, "assume-role", S.role_chain(boto_scn, sts))
    hop1, hop2 = sts.calls_for("AssumeRole")
    assert hop2["signed_with"] == hop1["access_key_id"] and hop2["signature_valid"] is True
    assert hop2["security_token"] == token_for(hop1["access_key_id"])


def test_botocore_web_identity(boto_scn, sts):
    S.web_identity_env(boto_scn, sts)
    _boto_ok(boto_scn, "assume-role-with-web-identity")
    (call,) = sts.calls_for("AssumeRoleWithWebIdentity")
    assert call["WebIdentityToken"] == S.WEB_TOKEN and call["signed_with"] is None


@pytest.mark.parametrize("setup", [S.sso_session, S.sso_legacy])
def test_botocore_sso(boto_scn, sso, setup):
    _boto_ok(boto_scn, "sso", setup(boto_scn, sso))
    assert sso.calls[-1]["token"] == S.SSO_TOKEN


def test_botocore_container(boto_scn, container):
    S.container_token(boto_scn, container)
    _boto_ok(boto_scn, "container-role")


def test_botocore_imds(boto_scn, imds):
    S.imds(boto_scn, imds)
    ref = _boto_ok(boto_scn, "iam-role")
    assert ref["access_key_id"] == "ASIAIMDS000001"
    assert imds.count("/latest/api/token", "PUT") >= 1


def test_sts_error_body_is_sts_xml(sts):
    sts.inject("status", status=403)
    req = urllib.request.Request(sts.url + "/", data=b"Action=AssumeRole&Version=2011-06-15", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    body = err.value.read().decode()
    assert err.value.code == 403
    assert "<ErrorResponse" in body and "<Type>Sender</Type>" in body and "<Code>AccessDenied</Code>" in body


def test_faults_close_hang_slow(imds):
    url = imds.url + "/latest/meta-data/"
    imds.inject("close", times=1)
    with pytest.raises((urllib.error.URLError, ConnectionError, http_client_errors())):
        urllib.request.urlopen(url, timeout=5)
    imds.inject("hang")
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(url, timeout=0.5)
    assert time.monotonic() - t0 < 2
    imds.clear_faults()
    imds.configure(require_token=False)
    imds.inject("slow", delay_ms=300, times=1)
    t0 = time.monotonic()
    assert urllib.request.urlopen(url + "iam/security-credentials/", timeout=5).read() == b"credchain-test-role"
    assert time.monotonic() - t0 >= 0.3
    assert imds.count("/latest/meta-data/", faulted=True) == 3


def http_client_errors():
    import http.client
    return http.client.RemoteDisconnected


def test_standalone_server_and_http_control(tmp_path):
    """python3 -m servers KIND runs a server whose control API is POST /__control."""
    proc = subprocess.Popen([sys.executable, "-m", "servers", "container", "--set", "lifetime=15",
                             "--set", "auth_token=tok"], cwd=TESTS, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        ctl = ControlClient(info["url"])
        ctl.inject("status", status=500, times=1)
        req = urllib.request.Request(info["url"] + "/v1/credentials", headers={"Authorization": "tok"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 500
        doc = json.loads(urllib.request.urlopen(req, timeout=5).read())
        assert doc["AccessKeyId"] == "ASIACTNR000001"
        assert ctl.count("/v1/credentials") == 2
    finally:
        proc.terminate()
        proc.wait(5)


def test_moto_runner_counts(moto):
    moto.reset()
    urllib.request.urlopen(urllib.request.Request(moto.url + "/latest/api/token", method="PUT"), timeout=5)
    assert moto.count("/latest/api/token", "PUT") == 1


def test_no_real_endpoints_named():
    """Tests reach loopback only: no file here names the metadata address or a real AWS endpoint."""
    import re
    pattern = re.compile(r"169\.254\.169\.254|https?://(sts|portal\.sso|oidc)\.[a-z0-9-]*\.?amazonaws\.com")
    for folder in (TESTS, TESTS / "remote", TESTS / "servers", TESTS / "refresh", TESTS / "differential"):
        for name in os.listdir(folder):
            if name.endswith(".py") or name.endswith(".md"):
                text = (folder / name).read_text()
                assert not pattern.search(text), f"{folder / name} names a real endpoint"
