"""What credchain says when it fails, word for word: each message names
what failed and what to do (the profile and its role chain, the endpoint
URL of a connection that failed, the SSO session with its cache file and
the `aws sso login` command, the file and line that does not parse, the
way around `mfa_serial`). Every case runs the C probe (the C ABI) in its
own HOME against loopback servers.

The aws CLI's messages for the same configurations are set beside these in
the closing note of issue 15; the tests assert credchain's."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess

import pytest

import scenarios as S
from harness import INVALID_CONFIG, LIB_DIR, SOURCE_FAILED

CREDCHAIN = LIB_DIR / "credchain"
CHAIN = (f"profile hop2 (role {S.role_arn('hop2', '444455556666')}) <- profile hop1 (role {S.role_arn('hop1')}) "
         "<- profile base (shared-credentials-file)")


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was just released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def failure(scn, profile: str) -> dict:
    last = scn.probe(profile).last
    assert last["ok"] is False, last
    return last


def test_sso_without_a_cached_token_names_the_session_the_file_and_the_login_command(scn, sso):
    profile = S.sso_session(scn, sso)
    cache = next((scn.home / ".aws" / "sso" / "cache").iterdir())
    cache.unlink()
    last = failure(scn, profile)
    assert (last["code"], last["message"]) == (SOURCE_FAILED, (
        f"sso: profile sso: no SSO token for sso-session my-sso is cached ({cache} does not exist): "
        "run `aws sso login --profile sso`"))
    assert sso.count("/federation/credentials") == 0


def test_sso_with_an_expired_token_says_when_it_expired(scn, sso):
    profile = S.sso_session(scn, sso)
    scn.sso_token("my-sso", S.SSO_TOKEN, S.SSO_START_URL, expires_in=-2 * 3600)
    last = failure(scn, profile)
    assert last["code"] == SOURCE_FAILED
    assert re.fullmatch(
        r"sso: profile sso: the SSO token for sso-session my-sso expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
        r"\((1 h 59 min|2 h 0 min) ago\) and could not be renewed \(an error occurred while loading credentials: "
        r"an error occurred while loading an access token: the SSO token has expired and cannot be refreshed\): "
        r"run `aws sso login --profile sso`", last["message"]), last["message"]


def test_a_refused_connection_names_the_role_chain_and_the_endpoint_url(scn, sts):
    profile = S.role_chain(scn, sts)
    url = closed_port_url()
    scn.use_sts(url)
    last = failure(scn, profile)
    assert (last["code"], last["message"]) == (SOURCE_FAILED, (
        f"assume-role: {CHAIN}: an error occurred while loading credentials: dispatch failure: io error: "
        "client error (Connect): tcp connect error: Connection refused (os error 111) "
        f"(endpoint URL {url})"))


def network_namespace_works() -> bool:
    """Whether `unshare -rn` can give a process a network of its own."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not network_namespace_works(), reason="needs unshare -rn (user and network namespaces)")
def test_a_name_that_does_not_resolve_names_the_endpoint_url(scn, sts):
    """Run in a network namespace of its own, with no interface up: the
    lookup fails at once, and no packet can leave the machine."""
    profile = S.role_chain(scn, sts)
    url = "https://sts.credchain-test.invalid"
    scn.use_sts(url)
    run = subprocess.run(["unshare", "-rn", str(CREDCHAIN), "get", "--profile", profile], env=scn.env,
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stderr) == (1, ""), run
    assert json.loads(run.stdout) == {"error": {
        "code": "source-failed", "number": SOURCE_FAILED, "source": "assume-role",
        "message": f"assume-role: {CHAIN}: an error occurred while loading credentials: dispatch failure: io "
                   "error: client error (Connect): dns error: failed to lookup address information: Temporary "
                   f"failure in name resolution (endpoint URL {url})"}}


def test_sts_access_denied_names_the_role_chain_and_says_the_services_words(scn, sts):
    profile = S.role_chain(scn, sts)
    sts.inject("status", status=403, path="/")
    last = failure(scn, profile)
    assert (last["code"], last["message"]) == (SOURCE_FAILED, (
        f"assume-role: {CHAIN}: an error occurred while loading credentials: AccessDenied: User: "
        "arn:aws:iam::123456789012:user/test is not authorized to perform: sts:AssumeRole on resource: the "
        "requested role (HTTP 403)"))


def test_mfa_serial_says_how_to_get_a_session_without_a_prompt(scn, sts):
    S.assume_role(scn, sts, extra="mfa_serial = arn:aws:iam::111122223333:mfa/me\n")
    last = failure(scn, "target")
    assert (last["code"], last["message"]) == (INVALID_CONFIG, (
        "assume-role: profile target sets mfa_serial, and a library inside a driver cannot prompt for an MFA "
        "code: use a profile of its own whose credential_process asks for the code once and caches the session, "
        "for example [profile target-mfa] with `credential_process = aws-vault exec target --json`, or point "
        "source_profile at a profile holding the session keys of `aws sts get-session-token --serial-number ARN "
        "--token-code CODE` and drop mfa_serial here"))
    assert sts.count("/") == 0


def test_a_config_file_that_does_not_parse_names_the_file_and_the_line(scn):
    scn.config("[default]\nregion = us-east-1\n[profile broken\nregion = eu-west-1\n")
    last = failure(scn, None)
    assert (last["code"], last["message"]) == (
        INVALID_CONFIG, f"{scn.config_file}: line 3: a [section] header without its closing ]")


def test_a_token_without_a_region_says_where_one_can_come_from(scn):
    scn.credentials("[default]\naws_access_key_id = AKIDREGIONLESS\naws_secret_access_key = s\n")
    scn.env.pop("AWS_REGION", None)
    scn.env.pop("AWS_DEFAULT_REGION", None)
    run = subprocess.run([str(CREDCHAIN), "token", "rds", "--hostname", "db.example.internal", "--port", "5432",
                          "--username", "iam_user"], env=scn.env, capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        "credchain: no region: hostname 'db.example.internal' names none and neither AWS_REGION, "
        "AWS_DEFAULT_REGION nor the profile sets one; pass a region (invalid-argument)\n")
