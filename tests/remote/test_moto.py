"""moto's server as a real third-party peer (STS AssumeRole, AssumeRoleWithWebIdentity, IMDS).

Where moto and aws-config disagree on the wire:

* IMDS token TTL header. EC2 answers ``PUT /latest/api/token`` with the
  token and an ``X-aws-ec2-metadata-token-ttl-seconds`` header echoing the
  granted TTL, and 400 when the request lacks the TTL. AWS's own emulator of
  the service, aws/amazon-ec2-metadata-mock (pkg/mock/imdsv2/tokengenerator.go),
  does exactly that; aws-config caches the token for the TTL it reads there
  and refuses a response without it (imds/client/token.rs:
  ``TokenErrorKind::NoTtl``); botocore never reads it. moto 5.x omits the
  header. So moto is the side that departs from the real service; the
  tests run moto's IMDS both raw (documenting the outcome) and through
  moto_runner's ``--imds-ttl-header`` fix, where the library must succeed.
* moto's IMDS credentials lack ``Code``/``LastUpdated``/``Type`` and live a
  fixed 24 h; both aws-config and botocore accept that.
* moto's STS accepts any ``DurationSeconds`` (real STS: 900..43200), and
  does not check signatures.
"""

from __future__ import annotations

import time

import pytest

import scenarios as S
from harness import NO_CREDENTIALS, SOURCE_FAILED, assert_botocore_agrees, assert_creds
from servers import MotoServer


def test_moto_assume_role(scn, moto):
    scn.use_sts(moto.url)
    S.base_credentials(scn)
    scn.config(f"[profile moto]\nrole_arn = {S.role_arn('moto-target')}\nsource_profile = base\n"
               "role_session_name = moto-session\nduration_seconds = 900\n")
    moto.reset()
    t0 = time.time()
    rec = scn.probe("moto").last
    assert_creds(rec, "assume-role")
    assert rec["access_key_id"].startswith("ASIA"), rec
    assert moto.count("/", "POST") == 1
    ref = assert_botocore_agrees(scn, "assume-role", "moto")
    # moto sets Expiration = now + DurationSeconds: both clients must have asked for 900 s.
    assert abs(ref["expiration"] - (t0 + 900)) < 30, ref
    assert abs(rec["expiration"] - (t0 + 900)) < 30, f"DurationSeconds from the profile not sent: {rec}"


def test_moto_web_identity(scn, moto):
    scn.use_sts(moto.url)
    token = scn.write("web-identity-token", S.WEB_TOKEN)
    scn.env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": S.role_arn("moto-irsa"),
                    "AWS_ROLE_SESSION_NAME": "moto-irsa"})
    moto.reset()
    rec = scn.probe().last
    assert_creds(rec, "assume-role-with-web-identity")
    assert moto.count("/", "POST") == 1
    assert_botocore_agrees(scn, "assume-role-with-web-identity")


@pytest.fixture(scope="module")
def moto_imds_fixed():
    with MotoServer(imds_ttl_header=True) as srv:
        yield srv


def test_moto_imds_with_ttl_header(scn, moto_imds_fixed):
    scn.use_imds(moto_imds_fixed.url)
    rec = scn.probe().last
    assert_creds(rec, "iam-role")
    assert rec["access_key_id"] == "test-key" and rec["session_token"] == "test-session-token"
    assert 23 * 3600 < rec["expiration"] - time.time() <= 24 * 3600 + 60
    assert_botocore_agrees(scn, "iam-role")


def test_moto_imds_raw_lacks_ttl_header(scn, moto):
    """moto's IMDS as it ships: botocore succeeds; aws-config (and so credchain) rejects the token
    response without a TTL. EC2 always sends the header, so this is moto's deviation, and the library's
    answer must be an explicit error naming the source and the missing TTL, not a hang or a crash."""
    scn.use_imds(moto.url)
    moto.reset()
    ref = scn.botocore()
    assert ref.get("ok") and ref["method"] == "iam-role", ref
    rec = scn.probe().last
    print(f"credchain on moto's raw IMDS: {rec}")
    if rec["ok"]:
        # A library that tolerates the missing header (as botocore does) is also right.
        assert_creds(rec, "iam-role")
        assert rec["access_key_id"] == "test-key"
    else:
        assert rec["code"] in (SOURCE_FAILED, NO_CREDENTIALS), rec
        assert "iam-role" in rec["message"] and "ttl" in rec["message"].lower(), rec
        assert rec["elapsed_us"] < 5_000_000
