"""`credchain doctor --verify`: STS GetCallerIdentity with the resolved
credentials, against a loopback STS (AWS_ENDPOINT_URL_STS). Accepted, the
report names the account, the ARN and the identity (the loopback STS
answers with the key id that signed the call); refused, it says so in
STS's words and the doctor exits 1."""

from __future__ import annotations

import json
import subprocess

from harness import LIB_DIR

CREDCHAIN = LIB_DIR / "credchain"
KEY = "AKIDVERIFYSTATIC0001"


def doctor(scn, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CREDCHAIN), "doctor", *args], env=scn.env, capture_output=True, text=True,
                          timeout=60)


def static_keys(scn, sts) -> None:
    scn.credentials(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = verify-secret\n")
    scn.use_sts(sts.url)


def test_accepted_credentials_show_their_account_and_arn(scn, sts):
    static_keys(scn, sts)
    run = doctor(scn, "--verify", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is True
    assert report["verification"] == {
        "ok": True, "endpoint": sts.url, "account": "123456789012", "arn": "arn:aws:iam::123456789012:user/test",
        "user_id": KEY, "error": None}
    assert len(sts.calls_for("GetCallerIdentity")) == 1
    table = doctor(scn, "--verify").stdout
    assert (f"verify: STS GetCallerIdentity at {sts.url}\n  accepted: account 123456789012\n"
            "  arn       arn:aws:iam::123456789012:user/test\n") in table, table


def test_without_verify_sts_is_not_asked(scn, sts):
    static_keys(scn, sts)
    run = doctor(scn, "--json")
    assert run.returncode == 0 and "verification" not in json.loads(run.stdout)
    assert sts.calls_for("GetCallerIdentity") == []


def test_refused_credentials_say_so_and_exit_1(scn, sts):
    static_keys(scn, sts)
    sts.inject("status", status=403, path="/", code="InvalidClientTokenId",
               message="The security token included in the request is invalid.")
    run = doctor(scn, "--verify", "--json")
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] is False
    assert report["winner"] == "shared-credentials-file"
    assert report["verification"] == {
        "ok": False, "endpoint": sts.url, "account": None, "arn": None, "user_id": None,
        "error": "InvalidClientTokenId: The security token included in the request is invalid."}
    table = doctor(scn, "--verify")
    assert table.returncode == 1
    assert "  REFUSED: InvalidClientTokenId: The security token included in the request is invalid.\n" in \
        table.stdout, table.stdout
