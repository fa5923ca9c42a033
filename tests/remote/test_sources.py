"""Every remote source, over real HTTP on loopback, through the C ABI (the probe).

Each test asserts the source name, the keys, token, expiry and account id
the library hands out, what reached the server, and that botocore, run on the
same HOME, files, environment and loopback endpoints, names the same
``method``.
"""

from __future__ import annotations

import time

import scenarios as S
from harness import assert_botocore_agrees, assert_creds
from servers import token_for


def test_assume_role_source_profile(scn, sts):
    profile = S.assume_role(scn, sts)
    run = scn.probe(profile)
    assert run.rc == 0, run
    (call,) = sts.calls_for("AssumeRole")
    assert_creds(run.last, "assume-role", sts.minter.issued[0])
    assert run.last["account_id"] == S.ACCOUNT
    assert call["RoleArn"] == S.role_arn("target")
    assert call["RoleSessionName"] == "credchain-session"
    assert call["ExternalId"] == "ext-4711"
    assert call["Version"] == "2011-06-15"
    assert call["signed_with"] == S.BASE_AKID and call["signature_valid"] is True, call
    assert call["signing_region"] == "us-east-1"
    assert call["security_token"] is None
    assert_botocore_agrees(scn, "assume-role", profile)


def test_assume_role_duration_seconds(scn, sts):
    """`duration_seconds` in the profile reaches STS (botocore sends it; aws-config's profile provider does not)."""
    profile = S.assume_role(scn, sts, extra="duration_seconds = 1200\n")
    sts.configure(lifetime=None)  # lifetime follows DurationSeconds
    run = scn.probe(profile)
    (call,) = sts.calls_for("AssumeRole")
    assert call["DurationSeconds"] == "1200", call
    assert_creds(run.last, "assume-role", sts.minter.issued[0])
    assert_botocore_agrees(scn, "assume-role", profile)
    assert sts.calls_for("AssumeRole")[-1]["DurationSeconds"] == "1200"


def test_assume_role_two_hop_chain(scn, sts):
    profile = S.role_chain(scn, sts)
    run = scn.probe(profile)
    hop1, hop2 = sts.calls_for("AssumeRole")
    assert hop1["RoleArn"] == S.role_arn("hop1") and hop1["signed_with"] == S.BASE_AKID
    assert hop1["RoleSessionName"] == "hop1-session"
    # The second hop is signed with the first hop's temporary credentials.
    assert hop2["RoleArn"] == S.role_arn("hop2", "444455556666")
    assert hop2["signed_with"] == hop1["access_key_id"] and hop2["signature_valid"] is True, hop2
    assert hop2["security_token"] == token_for(hop1["access_key_id"])
    assert_creds(run.last, "assume-role", sts.minter.issued[1])
    assert run.last["account_id"] == "444455556666"
    assert_botocore_agrees(scn, "assume-role", profile)


def test_assume_role_credential_source_environment(scn, sts):
    profile = S.credential_source_env(scn, sts)
    run = scn.probe(profile)
    (call,) = sts.calls_for("AssumeRole")
    assert call["signed_with"] == S.ENV_AKID and call["signature_valid"] is True, call
    assert call["RoleSessionName"] == "env-session"
    assert_creds(run.last, "assume-role", sts.minter.issued[0])
    assert_botocore_agrees(scn, "assume-role", profile)


def test_web_identity_from_env(scn, sts):
    S.web_identity_env(scn, sts)
    run = scn.probe()
    (call,) = sts.calls_for("AssumeRoleWithWebIdentity")
    assert call["WebIdentityToken"] == S.WEB_TOKEN
    assert call["RoleArn"] == S.role_arn("irsa-env")
    assert call["RoleSessionName"] == "irsa-env-session"
    assert call["signed_with"] is None, "AssumeRoleWithWebIdentity is an unsigned call"
    assert_creds(run.last, "assume-role-with-web-identity", sts.minter.issued[0])
    assert run.last["account_id"] == S.ACCOUNT
    assert_botocore_agrees(scn, "assume-role-with-web-identity")


def test_web_identity_from_profile(scn, sts):
    profile = S.web_identity_profile(scn, sts)
    run = scn.probe(profile)
    (call,) = sts.calls_for("AssumeRoleWithWebIdentity")
    assert call["WebIdentityToken"] == S.WEB_TOKEN
    assert call["RoleArn"] == S.role_arn("irsa-profile")
    assert call["RoleSessionName"] == "irsa-profile-session"
    assert_creds(run.last, "assume-role-with-web-identity", sts.minter.issued[0])
    assert_botocore_agrees(scn, "assume-role-with-web-identity", profile)


def test_sso_session(scn, sso):
    profile = S.sso_session(scn, sso)
    run = scn.probe(profile)
    (call,) = sso.calls
    assert call == {**call, "role_name": "ReadOnly", "account_id": S.ACCOUNT, "token": S.SSO_TOKEN}
    assert_creds(run.last, "sso", sso.minter.issued[0])
    assert run.last["account_id"] == S.ACCOUNT
    assert_botocore_agrees(scn, "sso", profile)


def test_sso_legacy(scn, sso):
    profile = S.sso_legacy(scn, sso)
    run = scn.probe(profile)
    (call,) = sso.calls
    assert call == {**call, "role_name": "Legacy", "account_id": S.ACCOUNT, "token": S.SSO_TOKEN}
    assert_creds(run.last, "sso", sso.minter.issued[0])
    assert run.last["account_id"] == S.ACCOUNT
    assert_botocore_agrees(scn, "sso", profile)


def test_container_authorization_token(scn, container):
    S.container_token(scn, container, token="fake-container-token")
    run = scn.probe()
    (req,) = container.requests
    assert req.headers.get("authorization") == "fake-container-token"
    assert_creds(run.last, "container-role", container.minter.issued[0])
    assert_botocore_agrees(scn, "container-role")


def test_container_token_file_rotated_between_fetches(scn, container):
    """EKS Pod Identity: the token file is re-read on every fetch.

    Credentials live 6 s, so the library fetches again after ~4.5-5 s on its
    own; the token file (and the server's expectation) rotates right after
    the first fetch. A library that cached the first token gets 401 and,
    at expiry, an error.
    """
    S.container_token_file(scn, container, token="fake-pod-identity-token-1")
    container.configure(lifetime=6)
    token_file = scn.home / "pod-identity-token"
    live = scn.start_probe(repeat=90, interval_ms=100)
    try:
        live.wait_for(lambda r: True, timeout=10)
        token_file.write_text("fake-pod-identity-token-2")
        live.wait_for(lambda r: r.get("access_key_id") == "ASIACTNR000002", timeout=12)
    finally:
        run = live.stop()
    assert not run.failed, run.failed[:3]
    seen = [r.extra["authorization"] for r in container.requests]
    assert seen[0] == "fake-pod-identity-token-1" and seen[1:] and \
        all(t == "fake-pod-identity-token-2" for t in seen[1:]), seen
    assert all(r.fault is None for r in container.requests)
    assert_creds(run.ok[0], "container-role", container.minter.issued[0])
    assert run.ok[0]["account_id"] == S.ACCOUNT
    assert_botocore_agrees(scn, "container-role")


def test_imds(scn, imds):
    S.imds(scn, imds)
    t0 = time.time()
    run = scn.probe()
    assert_creds(run.last, "iam-role", imds.minter.issued[0])
    tokens = [r for r in imds.requests if r.path == "/latest/api/token"]
    assert tokens and all(r.method == "PUT" and r.headers.get("x-aws-ec2-metadata-token-ttl-seconds")
                          for r in tokens)
    gets = [r for r in imds.requests if r.method == "GET"]
    assert gets and all(r.headers.get("x-aws-ec2-metadata-token", "").startswith("imds-token-") for r in gets)
    assert imds.count("/latest/meta-data/iam/security-credentials/credchain-test-role") == 1
    assert all(r.time >= t0 for r in imds.requests)
    assert_botocore_agrees(scn, "iam-role")


def test_imds_not_consulted_for_region_of_other_sources(scn, sts, imds):
    """An STS source never spends an IMDS round trip (DESIGN: region comes from profile/env only)."""
    scn.use_imds(imds.url)
    profile = S.assume_role(scn, sts)
    run = scn.probe(profile)
    assert_creds(run.last, "assume-role", sts.minter.issued[0])
    assert imds.count() == 0, imds.counts()


def test_web_identity_token_file_reread_on_refresh(scn, sts):
    """EKS IRSA rotates the projected token file; each refresh must send the file's current token."""
    S.web_identity_env(scn, sts)
    sts.configure(lifetime=6)
    token_file = scn.home / "web-identity-token"
    live = scn.start_probe(repeat=90, interval_ms=100)
    try:
        live.wait_for(lambda r: True, timeout=10)
        token_file.write_text(S.WEB_TOKEN + ".rotated")
        sts.configure(expected_web_identity_token=S.WEB_TOKEN + ".rotated")
        live.wait_for(lambda r: r.get("access_key_id") == "ASIASTSR000002", timeout=12)
    finally:
        run = live.stop()
    assert not run.failed, run.failed[:3]
    sent = [c["WebIdentityToken"] for c in sts.calls_for("AssumeRoleWithWebIdentity")]
    assert sent[0] == S.WEB_TOKEN and sent[1:] and all(t == S.WEB_TOKEN + ".rotated" for t in sent[1:]), sent


def test_sso_token_cache_reread_on_refresh(scn, sso):
    """`aws sso login` after start-up writes a new token to the cache; the next refresh uses it."""
    profile = S.sso_session(scn, sso)
    sso.configure(lifetime=6)
    live = scn.start_probe(profile, repeat=90, interval_ms=100)
    try:
        live.wait_for(lambda r: True, timeout=10)
        scn.sso_token("my-sso", "fake-sso-access-token-2", S.SSO_START_URL)
        sso.configure(access_token="fake-sso-access-token-2")
        live.wait_for(lambda r: r.get("access_key_id") == "ASIASSOP000002", timeout=12)
    finally:
        run = live.stop()
    assert not run.failed, run.failed[:3]
    tokens = [c["token"] for c in sso.calls]
    assert tokens[0] == S.SSO_TOKEN and tokens[1:] and all(t == "fake-sso-access-token-2" for t in tokens[1:]), \
        tokens
