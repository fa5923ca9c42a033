"""IAM database auth tokens from Python: byte-for-byte equal to botocore's
generate_db_auth_token and boto3's dsql token methods at a fixed time, the
published SDK vector, a token never reused after its credentials rotated,
and the exact errors for bad arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from isolation import run_child

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benches" / "token"))
import gen_vectors  # noqa: E402

import credchain  # noqa: E402

# Integer signing times only: the C ABI takes whole Unix seconds.
RDS = [c for c in gen_vectors.RDS_CASES if float(c[-1]).is_integer()]
DSQL = gen_vectors.DSQL_CASES


def _env(access_key: str, secret: str, token):
    env = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret}
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


@pytest.mark.parametrize("case", RDS, ids=[c[0] for c in RDS])
def test_rds_token_equals_botocore(home: Path, case) -> None:
    name, akid, secret, token, host, port, user, region, unix = case
    spec = {"kind": "rds", "access_key": akid, "secret": secret, "token": token, "host": host, "port": port,
            "user": user, "region": region, "time": int(unix)}
    out = run_child("child_tokens.py", home, _env(akid, secret, token), [json.dumps(spec)])
    assert out["credchain"] == out["botocore"]


@pytest.mark.parametrize("case", DSQL, ids=[c[0] for c in DSQL])
def test_dsql_token_equals_boto3(home: Path, case) -> None:
    name, akid, secret, token, host, region, admin, unix = case
    spec = {"kind": "dsql", "access_key": akid, "secret": secret, "token": token, "host": host, "region": region,
            "admin": admin, "time": int(unix)}
    out = run_child("child_tokens.py", home, _env(akid, secret, token), [json.dumps(spec)])
    assert out["credchain"] == out["botocore"]


def test_rust_vectors_still_agree_with_this_botocore() -> None:
    """core/src/token/tests.rs hard-codes botocore's tokens; they must still be
    what the installed botocore produces. In a fresh interpreter: botocore
    picks its signer (awscrt or its own) once, at import."""
    root = Path(__file__).resolve().parents[3]
    check = subprocess.run([sys.executable, str(root / "benches" / "token" / "gen_vectors.py"), "--check",
                            str(root / "core" / "src" / "token" / "tests.rs")],
                           env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}, capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("vectors agree with botocore")


ROTATING = r'''
import datetime, json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "runs"), "a") as f:
    f.write("x")
n = os.path.getsize(os.path.join(here, "runs"))
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=8)
print(json.dumps({"Version": 1, "AccessKeyId": "ASIAROT%05d" % n, "SecretAccessKey": "s%d" % n,
                  "SessionToken": "t%d" % n, "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}))
'''

CHILD_ROTATION = r'''
import json, time, credchain
host = "db.cluster-abc.us-east-1.rds.amazonaws.com"
first = credchain.rds_auth_token(host, 5432, "app")
again = credchain.rds_auth_token(host, 5432, "app")
key = credchain.get_credentials().access_key
deadline = time.time() + 15
while credchain.get_credentials().access_key == key and time.time() < deadline:
    time.sleep(0.1)
rotated_key = credchain.get_credentials().access_key
after = credchain.rds_auth_token(host, 5432, "app")
credchain.invalidate()
after_invalidate = credchain.rds_auth_token(host, 5432, "app")
print(json.dumps({"first": first, "again": again, "key": key, "rotated_key": rotated_key, "after": after,
                  "after_invalidate": after_invalidate}))
'''


def test_a_token_is_never_reused_after_its_credentials_rotated(home: Path) -> None:
    (home / "rot").mkdir()
    (home / "rot" / "creds.py").write_text(ROTATING)
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text(f'[default]\ncredential_process = "{sys.executable}" "{home}/rot/creds.py"\n')
    (home / "child_rotation.py").write_text(CHILD_ROTATION)
    out = run_child("../" * 0 + str(home / "child_rotation.py"), home, {"AWS_REGION": "us-east-1"})
    assert out["first"] == out["again"], "a token signed now is reused while its credentials are current"
    assert out["rotated_key"] != out["key"]
    assert f"X-Amz-Credential={out['key']}%2F" in out["first"]
    assert f"X-Amz-Credential={out['rotated_key']}%2F" in out["after"], "signed with the rotated credentials"
    assert out["after_invalidate"] != out["after"]
    assert f"X-Amz-Credential={out['key']}%2F" not in out["after_invalidate"]


def test_bad_arguments_raise_the_exact_errors() -> None:
    with pytest.raises(TypeError, match="port must be an int, not str"):
        credchain.rds_auth_token("db.example.com", "5432", "app", region="us-east-1")
    with pytest.raises(credchain.InvalidArgumentError, match="port 0 is not between 1 and 65535"):
        credchain.rds_auth_token("db.example.com", 0, "app", region="us-east-1")
    with pytest.raises(credchain.InvalidArgumentError, match="hostname contains an embedded NUL character"):
        credchain.rds_auth_token("db\x00x", 5432, "app", region="us-east-1")
    with pytest.raises(TypeError, match="signing_time must be an int"):
        credchain.dsql_auth_token("x.dsql.us-east-1.on.aws", signing_time=1.5)


def test_a_token_fingerprint_is_the_start_of_its_sha256() -> None:
    import hashlib

    token = "db.example.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=app&X-Amz-Signature=00"
    assert credchain.token_fingerprint(token) == "tok-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def test_a_fingerprint_of_nothing_is_refused() -> None:
    with pytest.raises(credchain.InvalidArgumentError, match="^token is empty$"):
        credchain.token_fingerprint("")
