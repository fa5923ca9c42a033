"""Role chains and SSO profiles: credchain (through its C ABI) against botocore.

botocore's AssumeRoleProvider: a profile with role_arn (and no
web_identity_token_file) assumes the role with credentials from exactly one
of source_profile / credential_source. A source profile with static keys
gives those keys (any role_arn of its own is not followed; a profile may name
itself as source when it has keys); a source profile without keys but with
role_arn is the next hop; any other source profile is resolved by the
profile chain (web identity, SSO, credentials file, credential_process,
config file keys), so web identity, SSO and processes can start a chain. A
profile seen twice is InfiniteLoopConfigError.

Both clients talk to a loopback STS and SSO portal started for the scenario
(AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SSO); the servers are reset between
the two runs, and each client's request log is checked hop by hop (Action,
RoleArn, the key that signed, ...).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from cases import (INVALID_CONFIG, PARTIAL_CREDENTIALS, SOURCE_FAILED, Case, minted, process_command, role_case,
                   run_case)
from harness import Scenario

ACCOUNT = "111122223333"
BASE = "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-web-identity-token.sig"
SSO_TOKEN = "fake-sso-access-token"
START_URL = "https://credchain-sso.invalid/start"
LEGACY_URL = "https://credchain-sso-legacy.invalid/start"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def role(profile: str, name: str, source: str | None = None, extra: str = "") -> str:
    header = "[default]" if profile == "default" else f"[profile {profile}]"
    return f"{header}\nrole_arn = {arn(name)}\n" + (f"source_profile = {source}\n" if source else "") + extra


def hop(role_name: str, signed_with: str, action: str = "AssumeRole", **more) -> dict:
    return {"Action": action, "RoleArn": arn(role_name), "signed_with": signed_with, **more}


def files(config: str = "", credentials: str | None = None, **environ: str):
    def apply(scn: Scenario, sts, sso) -> None:
        scn.config(config)
        if credentials is not None:
            scn.credentials(credentials)
        scn.env.update(environ)
    return apply


def fail(name: str, setup, profile: str, code: int, words: list, boto_error: str) -> Case:
    return Case(name, setup, profile, error_code=code, message_has=words, boto_error=boto_error, needs_servers=True,
                sts_calls=[])


# ---- sources with keys -------------------------------------------------------
STATIC = [
    role_case("source profile with keys in the credentials file", files(role("t", "t", "base"), BASE), "t",
              sts_calls=[hop("t", "AKIDBASE")]),
    role_case("source profile with keys in the config file",
              files("[profile base]\naws_access_key_id = AKIDCFG\naws_secret_access_key = c\n" + role("t", "t", "base")),
              "t", sts_calls=[hop("t", "AKIDCFG")]),
    role_case("source profile keys in both files: the credentials file's",
              files("[profile base]\naws_access_key_id = AKIDCFG\naws_secret_access_key = c\n" + role("t", "t", "base"),
                    BASE), "t", sts_calls=[hop("t", "AKIDBASE")]),
    role_case("source profile with keys and its own role_arn: the keys, one hop",
              files(role("base", "base", "other") + "[profile other]\naws_access_key_id = AKIDOTHER\n"
                    "aws_secret_access_key = o\n" + role("t", "t", "base"), BASE), "t",
              sts_calls=[hop("t", "AKIDBASE")]),
    role_case("role profile in the credentials file", files("", BASE + f"[t]\nrole_arn = {arn('t')}\nsource_profile = base\n"),
              "t", sts_calls=[hop("t", "AKIDBASE")]),
    role_case("role profile's own keys do not stop the role",
              files(role("t", "t", "base"), BASE + "[t]\naws_access_key_id = AKIDOWN\naws_secret_access_key = own\n"),
              "t", sts_calls=[hop("t", "AKIDBASE")]),
    role_case("default profile with a role", files(role("default", "d", "base"), BASE), None,
              sts_calls=[hop("d", "AKIDBASE")]),
    role_case("explicit role profile wins over env keys",
              files(role("t", "t", "base"), BASE, AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY="env-secret"),
              "t", sts_calls=[hop("t", "AKIDBASE")]),
    Case("env keys win over AWS_PROFILE naming a role",
         files(role("t", "t", "base"), BASE, AWS_PROFILE="t", AWS_ACCESS_KEY_ID="AKIDENV",
               AWS_SECRET_ACCESS_KEY="env-secret"),
         source="env", access_key="AKIDENV", secret="env-secret", token=None, needs_servers=True, sts_calls=[]),
    role_case("aws_security_token of the source profile signs the call",
              files(role("t", "t", "base"), BASE + "aws_security_token = legacy-token\n"), "t",
              sts_calls=[hop("t", "AKIDBASE", security_token="legacy-token")]),
    role_case("aws_security_token before aws_session_token in the source profile",
              files(role("t", "t", "base"), BASE + "aws_session_token = session-token\naws_security_token = legacy-token\n"),
              "t", sts_calls=[hop("t", "AKIDBASE", security_token="legacy-token")]),
    role_case("aws_session_token of the source profile signs the call",
              files(role("t", "t", "base"), BASE + "aws_session_token = session-token\n"), "t",
              sts_calls=[hop("t", "AKIDBASE", security_token="session-token")]),
    # botocore's grammar where aws-config's parser would read otherwise: the role's settings
    # reach STS from credchain's own reading of the file.
    role_case("role written with colons and an indented comment",
              files(f"[profile t]\nrole_arn: {arn('t')}\n  # the role to assume\nsource_profile: base\n"
                    "role_session_name:colon-session\n", BASE), "t",
              sts_calls=[hop("t", "AKIDBASE", RoleSessionName="colon-session")]),
    role_case("role chain through profile names with spaces",
              files(f'[profile "my app"]\nrole_arn = {arn("app")}\nsource_profile = my base\n'
                    "[profile 'my base']\naws_access_key_id = AKIDSPACE\naws_secret_access_key = sp\n"),
              "my app", sts_calls=[hop("app", "AKIDSPACE")]),
    role_case("role with keys indented under their section and [DEFAULT] settings",
              files(f"[DEFAULT]\nexternal_id = from-default\n[profile t]\n  role_arn = {arn('t')}\n"
                    "  source_profile = base\n", BASE), "t",
              sts_calls=[hop("t", "AKIDBASE", ExternalId="from-default")]),
    Case("mfa_serial on the role", files(role("t", "t", "base", "mfa_serial = arn:aws:iam::1:mfa/me\n"), BASE), "t",
         error_code=INVALID_CONFIG, boto_error="EOFError", needs_servers=True, sts_calls=[],
         credchain=Case("credchain", None, error_code=INVALID_CONFIG, sts_calls=[],
                        message_has=["profile t sets mfa_serial", "credential_process = aws-vault exec t --json"])),
    role_case("role_session_name, external_id and duration_seconds reach STS",
              files(role("t", "t", "base", "role_session_name = my-session\nexternal_id = ext-4711\n"
                                         "duration_seconds = 1800\n"), BASE), "t",
              sts_calls=[hop("t", "AKIDBASE", RoleSessionName="my-session", ExternalId="ext-4711",
                             DurationSeconds="1800")]),
    role_case("duration_seconds that is not a number is left out",
              files(role("t", "t", "base", "duration_seconds = soon\n"), BASE), "t",
              sts_calls=[hop("t", "AKIDBASE", DurationSeconds=None)],
              credchain=Case("credchain", None, error_code=8, sts_calls=[],
                             message_has=["profile t: duration_seconds soon is not a number of seconds"])),
]

# ---- chains and loops ------------------------------------------------------------
CHAINS = [
    role_case("three-hop chain", files(role("a", "a", "base") + role("b", "b", "a") + role("c", "c", "b"), BASE), "c",
              hops=3, sts_calls=[hop("a", "AKIDBASE"), hop("b", minted(1)["access_key"]),
                                 hop("c", minted(2)["access_key"])]),
    role_case("self-referencing source_profile with keys in the profile",
              files(role("me", "me", "me", "aws_access_key_id = AKIDME\naws_secret_access_key = me\n")), "me",
              sts_calls=[hop("me", "AKIDME")]),
    role_case("self-referencing source_profile with keys in the credentials file",
              files(role("me", "me", "me"), "[me]\naws_access_key_id = AKIDME\naws_secret_access_key = me\n"), "me",
              sts_calls=[hop("me", "AKIDME")]),
    role_case("chain ending in a self-referencing profile with keys: its keys, one hop",
              files(role("a", "a", "b") + role("b", "b", "b", "aws_access_key_id = AKIDB\naws_secret_access_key = b\n")),
              "a", sts_calls=[hop("a", "AKIDB")]),
    fail("self-referencing source_profile without keys", files(role("me", "me", "me")), "me", INVALID_CONFIG,
         ["loop", "me"], "InfiniteLoopConfigError"),
    fail("two-profile loop", files(role("a", "a", "b") + role("b", "b", "a")), "a", INVALID_CONFIG, ["loop"],
         "InfiniteLoopConfigError"),
    fail("three-profile loop", files(role("a", "a", "b") + role("b", "b", "c") + role("c", "c", "a")), "a",
         INVALID_CONFIG, ["loop"], "InfiniteLoopConfigError"),
    fail("chain ending in a self-reference without keys", files(role("a", "a", "b") + role("b", "b", "b")), "a",
         INVALID_CONFIG, ["loop", "b"], "InfiniteLoopConfigError"),
    # botocore 1.43.54 made an empty CA bundle an error (before, it turned verification off).
    fail("empty AWS_CA_BUNDLE for a role", files(role("t", "t", "base"), BASE, AWS_CA_BUNDLE=""), "t", INVALID_CONFIG,
         ["assume-role", "AWS_CA_BUNDLE is empty"], "Invalid CA bundle"),
    fail("blank ca_bundle in the profile for a role", files(role("t", "t", "base", "ca_bundle =  \n"), BASE), "t",
         INVALID_CONFIG, ["assume-role", "ca_bundle in profile t is empty"], "Invalid CA bundle"),
    fail("missing source profile", files(role("a", "a", "ghost")), "a", INVALID_CONFIG, ["ghost"],
         'source_profile "ghost" referenced in the profile "a" does not exist'),
    fail("both source_profile and credential_source",
         files(role("a", "a", "base", "credential_source = Environment\n"), BASE), "a", INVALID_CONFIG,
         ["source_profile", "credential_source"], "contains both source_profile and credential_source"),
    fail("neither source_profile nor credential_source", files(role("a", "a")), "a", PARTIAL_CREDENTIALS,
         ["source_profile", "credential_source"], "missing: source_profile or credential_source"),
    fail("half a key pair in the source profile",
         files(role("t", "t", "base"), "[base]\naws_access_key_id = AKIDBASE\n"), "t", PARTIAL_CREDENTIALS,
         ["aws_secret_access_key"], "missing: aws_secret_access_key"),
    fail("only a secret in the source profile", files(role("t", "t", "base"), "[base]\naws_secret_access_key = s\n"),
         "t", INVALID_CONFIG, ["base", "credentials"], 'source profile "base" must have credentials'),
    fail("source profile without credentials", files("[profile base]\nregion = us-west-2\n" + role("t", "t", "base")),
         "t", INVALID_CONFIG, ["base", "credentials"], 'source profile "base" must have credentials'),
]

# ---- credential_source -------------------------------------------------------------
CREDENTIAL_SOURCE = [
    role_case("credential_source Environment",
              files(role("a", "a", extra="credential_source = Environment\n"), AWS_ACCESS_KEY_ID="AKIDENV",
                    AWS_SECRET_ACCESS_KEY="env-secret"), "a", sts_calls=[hop("a", "AKIDENV", security_token=None)]),
    role_case("credential_source Environment with a session token",
              files(role("a", "a", extra="credential_source = Environment\n"), AWS_ACCESS_KEY_ID="AKIDENV",
                    AWS_SECRET_ACCESS_KEY="env-secret", AWS_SESSION_TOKEN="env-token"), "a",
              sts_calls=[hop("a", "AKIDENV", security_token="env-token")]),
    fail("credential_source Environment without env keys", files(role("a", "a", extra="credential_source = Environment\n")),
         "a", SOURCE_FAILED, ["Environment"], "No credentials found in credential_source"),
    fail("unknown credential_source", files(role("a", "a", extra="credential_source = Magic\n")), "a", INVALID_CONFIG,
         ["Magic"], 'credential source "Magic" referenced in profile "a" is not valid'),
    fail("credential_source is case-sensitive", files(role("a", "a", extra="credential_source = environment\n"),
                                                     AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY="e"),
         "a", INVALID_CONFIG, ["environment"], "is not valid"),
]


# ---- web identity, SSO and processes as the first hop ---------------------------------
def web_identity_source(extra_roles: str = ""):
    def apply(scn: Scenario, sts, sso) -> None:
        token = scn.write("eks/token", WEB_TOKEN)
        sts.configure(expected_web_identity_token=WEB_TOKEN)
        scn.config(f"[profile irsa]\nrole_arn = {arn('irsa')}\nweb_identity_token_file = {token}\n"
                   "role_session_name = irsa-session\n" + role("t", "t", "irsa", "role_session_name = t-session\n")
                   + extra_roles)
    return apply


def web_identity_missing_file(scn: Scenario, sts, sso) -> None:
    scn.config(f"[profile irsa]\nrole_arn = {arn('irsa')}\nweb_identity_token_file = {scn.home}/eks/no-token\n"
               + role("t", "t", "irsa"))


def sso_source(legacy: bool = False):
    def apply(scn: Scenario, sts, sso) -> None:
        sso.configure(access_token=SSO_TOKEN, account_id=ACCOUNT, role_name="ReadOnly")
        if legacy:
            scn.config(f"[profile s]\nsso_start_url = {LEGACY_URL}\nsso_region = us-east-1\n"
                       f"sso_account_id = {ACCOUNT}\nsso_role_name = ReadOnly\n" + role("t", "t", "s"))
            scn.sso_token(LEGACY_URL, SSO_TOKEN, LEGACY_URL)
        else:
            scn.config(f"[profile s]\nsso_session = my-sso\nsso_account_id = {ACCOUNT}\nsso_role_name = ReadOnly\n"
                       f"[sso-session my-sso]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
                       + role("t", "t", "s"))
            scn.sso_token("my-sso", SSO_TOKEN, START_URL)
    return apply


def process_source(config_keys: bool = False, creds_keys: bool = False):
    def apply(scn: Scenario, sts, sso) -> None:
        keys = "aws_access_key_id = AKIDCFGKEYS\naws_secret_access_key = cfg\n" if config_keys else ""
        scn.config(f"[profile p]\ncredential_process = {process_command(scn)}\n{keys}" + role("t", "t", "p"))
        if creds_keys:
            scn.credentials("[p]\naws_access_key_id = AKIDCREDKEYS\naws_secret_access_key = cred\n")
    return apply


SSO_HOP = [{"role_name": "ReadOnly", "account_id": ACCOUNT, "token": SSO_TOKEN}]
FIRST_HOPS = [
    role_case("role chain on top of web identity (EKS IRSA)", web_identity_source(), "t", hops=2,
              sts_calls=[hop("irsa", None, "AssumeRoleWithWebIdentity", RoleSessionName="irsa-session",
                             WebIdentityToken=WEB_TOKEN),
                         hop("t", minted(1)["access_key"], RoleSessionName="t-session",
                             security_token=minted(1)["token"])]),
    role_case("two roles on top of web identity", web_identity_source(role("c", "c", "t")), "c", hops=3,
              sts_calls=[hop("irsa", None, "AssumeRoleWithWebIdentity"), hop("t", minted(1)["access_key"]),
                         hop("c", minted(2)["access_key"])]),
    Case("web identity source profile with a missing token file", web_identity_missing_file, "t",
         error_code=SOURCE_FAILED, boto_error="FileNotFoundError", needs_servers=True, sts_calls=[],
         credchain=Case("credchain", None, error_code=SOURCE_FAILED, sts_calls=[],
                        message_has=["the web identity token file", "no-token cannot be read"])),
    role_case("role chain on top of SSO (sso-session)", sso_source(), "t", sso_calls=SSO_HOP,
              sts_calls=[hop("t", minted(1, "SSOP")["access_key"], security_token=minted(1, "SSOP")["token"])]),
    role_case("role chain on top of legacy SSO", sso_source(legacy=True), "t", sso_calls=SSO_HOP,
              sts_calls=[hop("t", minted(1, "SSOP")["access_key"])]),
    role_case("role chain on top of credential_process", process_source(), "t",
              sts_calls=[hop("t", "AKIDPROCESS", security_token="process-token")]),
    role_case("credential_process beats config-file keys in the source profile", process_source(config_keys=True), "t",
              sts_calls=[hop("t", "AKIDPROCESS")]),
    role_case("credentials-file keys beat credential_process in the source profile", process_source(creds_keys=True),
              "t", sts_calls=[hop("t", "AKIDCREDKEYS")]),
]


# ---- SSO profile configuration -------------------------------------------------------
def sso_profile(profile_extra: str = "", token_extra: dict | None = None, legacy_cache: str | None = None,
                role_in_session: bool = False):
    def apply(scn: Scenario, sts, sso) -> None:
        sso.configure(access_token=SSO_TOKEN, account_id=ACCOUNT, role_name="ReadOnly")
        if legacy_cache is not None:
            scn.config(f"[profile s]\nsso_start_url = {LEGACY_URL}\nsso_region = us-east-1\n"
                       f"sso_account_id = {ACCOUNT}\nsso_role_name = ReadOnly\n")
            name = hashlib.sha1(LEGACY_URL.encode()).hexdigest()
            scn.write(f".aws/sso/cache/{name}.json", json.dumps({
                "startUrl": LEGACY_URL, "region": "us-east-1", "accessToken": SSO_TOKEN, "expiresAt": legacy_cache}))
            return
        role = "" if role_in_session else "sso_role_name = ReadOnly\n"
        session_role = "sso_role_name = ReadOnly\n" if role_in_session else ""
        scn.config(f"[profile s]\nsso_session = my-sso\nsso_account_id = {ACCOUNT}\n{role}" + profile_extra
                   + f"[sso-session my-sso]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n{session_role}")
        scn.sso_token("my-sso", SSO_TOKEN, START_URL, **(token_extra or {}))
    return apply


def sso_case(name: str, setup) -> Case:
    m = minted(1, "SSOP")
    return Case(name, setup, "s", source="sso", access_key=m["access_key"], secret=m["secret"], token=m["token"],
                needs_servers=True, sso_calls=SSO_HOP)


SSO = [
    sso_case("sso_session with consistent sso_start_url and sso_region in the profile",
             sso_profile(f"sso_start_url = {START_URL}\nsso_region = us-east-1\n")),
    sso_case("sso_session with a consistent sso_region alone in the profile", sso_profile("sso_region = us-east-1\n")),
    fail("sso_session with an inconsistent sso_start_url", sso_profile("sso_start_url = https://other.invalid/start\n"),
         "s", INVALID_CONFIG, ["sso_start_url", "https://other.invalid/start"], "sso_start_url is inconsistent"),
    sso_case("sso_role_name in the sso-session section", sso_profile(role_in_session=True)),
    fail("sso_role_name in the profile and another in its sso-session",
         sso_profile("sso_role_name = Admin\n", role_in_session=True), "s", INVALID_CONFIG,
         ["sso_role_name is Admin in the profile but ReadOnly"], "sso_role_name is inconsistent"),
    fail("sso_session with an inconsistent sso_region", sso_profile("sso_region = eu-west-1\n"), "s", INVALID_CONFIG,
         ["sso_region", "eu-west-1"], "sso_region is inconsistent"),
    sso_case("legacy SSO token cache with expiresAt ending in UTC", sso_profile(legacy_cache="2030-01-01T00:00:00UTC")),
    sso_case("sso-session token cache with expiresAt ending in UTC",
             sso_profile(token_extra={"expiresAt": "2030-01-01T00:00:00UTC"})),
    Case("expired legacy SSO token with expiresAt ending in UTC", sso_profile(legacy_cache="2020-01-01T00:00:00UTC"),
         "s", error_code=SOURCE_FAILED, message_has=["expired"], boto_error="UnauthorizedSSOTokenError",
         needs_servers=True, sso_calls=[]),
]

CASES = STATIC + CHAINS + CREDENTIAL_SOURCE + FIRST_HOPS + SSO


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_role_chains_agree_with_botocore(scn: Scenario, sts, sso, case: Case, request: pytest.FixtureRequest) -> None:
    if case.deviation:
        request.node.user_properties.append(("deviation", case.name))
    run_case(scn, case, sts, sso)
