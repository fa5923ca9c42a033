"""Scenario set-ups shared by the probe tests and the botocore-only server checks.

Each writes the files and environment of one way of getting credentials,
points it at loopback servers, and returns the profile to ask for (None for
the default profile).
"""

from __future__ import annotations

from harness import Scenario

ACCOUNT = "111122223333"
BASE_AKID = "AKIDSTATICBASE000001"
BASE_SECRET = "fake-static-base-secret"
ENV_AKID = "AKIDSTATICENV0000001"
ENV_SECRET = "fake-static-env-secret"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-web-identity-token.sig"
SSO_TOKEN = "fake-sso-access-token"
SSO_START_URL = "https://credchain-sso.invalid/start"
SSO_LEGACY_START_URL = "https://credchain-sso-legacy.invalid/start"
CONTAINER_PATH = "/v1/credentials"


def role_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def base_credentials(scn: Scenario, sts=None) -> None:
    scn.credentials(f"[base]\naws_access_key_id = {BASE_AKID}\naws_secret_access_key = {BASE_SECRET}\n")
    if sts is not None:
        sts.add_secret(BASE_AKID, BASE_SECRET)


def assume_role(scn: Scenario, sts, extra: str = "") -> str:
    scn.use_sts(sts.url)
    base_credentials(scn, sts)
    scn.config(
        "[profile target]\n"
        f"role_arn = {role_arn('target')}\n"
        "source_profile = base\n"
        "role_session_name = credchain-session\n"
        "external_id = ext-4711\n" + extra
    )
    return "target"


def role_chain(scn: Scenario, sts) -> str:
    scn.use_sts(sts.url)
    base_credentials(scn, sts)
    scn.config(
        "[profile hop1]\n"
        f"role_arn = {role_arn('hop1')}\n"
        "source_profile = base\n"
        "role_session_name = hop1-session\n"
        "\n[profile hop2]\n"
        f"role_arn = {role_arn('hop2', '444455556666')}\n"
        "source_profile = hop1\n"
        "role_session_name = hop2-session\n"
    )
    return "hop2"


def credential_source_env(scn: Scenario, sts) -> str:
    scn.use_sts(sts.url)
    sts.add_secret(ENV_AKID, ENV_SECRET)
    scn.env["AWS_ACCESS_KEY_ID"] = ENV_AKID
    scn.env["AWS_SECRET_ACCESS_KEY"] = ENV_SECRET
    scn.config(
        "[profile from-env]\n"
        f"role_arn = {role_arn('from-env')}\n"
        "credential_source = Environment\n"
        "role_session_name = env-session\n"
    )
    return "from-env"


def web_identity_env(scn: Scenario, sts) -> None:
    scn.use_sts(sts.url)
    token = scn.write("web-identity-token", WEB_TOKEN)
    sts.configure(expected_web_identity_token=WEB_TOKEN)
    scn.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(token)
    scn.env["AWS_ROLE_ARN"] = role_arn("irsa-env")
    scn.env["AWS_ROLE_SESSION_NAME"] = "irsa-env-session"
    return None


def web_identity_profile(scn: Scenario, sts) -> str:
    scn.use_sts(sts.url)
    token = scn.write("web-identity-token", WEB_TOKEN)
    sts.configure(expected_web_identity_token=WEB_TOKEN)
    scn.config(
        "[profile irsa]\n"
        f"role_arn = {role_arn('irsa-profile')}\n"
        f"web_identity_token_file = {token}\n"
        "role_session_name = irsa-profile-session\n"
    )
    return "irsa"


def sso_session(scn: Scenario, sso) -> str:
    scn.use_sso(sso.url)
    sso.configure(access_token=SSO_TOKEN, account_id=ACCOUNT, role_name="ReadOnly")
    scn.config(
        "[profile sso]\n"
        "sso_session = my-sso\n"
        f"sso_account_id = {ACCOUNT}\n"
        "sso_role_name = ReadOnly\n"
        "region = us-east-1\n"
        "\n[sso-session my-sso]\n"
        f"sso_start_url = {SSO_START_URL}\n"
        "sso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    scn.sso_token("my-sso", SSO_TOKEN, SSO_START_URL)
    return "sso"


def sso_legacy(scn: Scenario, sso) -> str:
    scn.use_sso(sso.url)
    sso.configure(access_token=SSO_TOKEN, account_id=ACCOUNT, role_name="Legacy")
    scn.config(
        "[profile legacy]\n"
        f"sso_start_url = {SSO_LEGACY_START_URL}\n"
        "sso_region = us-east-1\n"
        f"sso_account_id = {ACCOUNT}\n"
        "sso_role_name = Legacy\n"
        "region = us-east-1\n"
    )
    scn.sso_token(SSO_LEGACY_START_URL, SSO_TOKEN, SSO_LEGACY_START_URL)
    return "legacy"


def container_token(scn: Scenario, container, token: str = "fake-container-token") -> None:
    container.configure(auth_token=token, path=CONTAINER_PATH)
    scn.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url + CONTAINER_PATH
    scn.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
    return None


def container_token_file(scn: Scenario, container, token: str = "fake-pod-identity-token-1") -> None:
    path = scn.write("pod-identity-token", token)
    container.configure(auth_token_file=str(path), path=CONTAINER_PATH, account_id=ACCOUNT)
    scn.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url + CONTAINER_PATH
    scn.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(path)
    return None


def imds(scn: Scenario, imds_server) -> None:
    scn.use_imds(imds_server.url)
    return None
