"""A C program written only against credchain.h, linked with the library,
gets the same source, access key and token as botocore for the same HOME and
environment, and fails wherever botocore fails.

Every scenario runs both in child processes (tests/c/probe.c through the C
ABI; tests/boto_probe.py through botocore) and compares them; the
expected values are also spelled out, so that a change in both at once is
caught too.
"""

from __future__ import annotations

import hashlib
import json
import stat

import pytest

from cases import (CONFIG_DEFAULT, CREDS_DEFAULT, INVALID_CONFIG, SOURCE_FAILED, Case, config_file, creds_file,
                   env, process_command, steps)
from harness import Scenario

def ec2_file(scn: Scenario) -> None:
    path = scn.write("ec2-creds", "AWSAccessKeyId=AKIDEC2\nAWSSecretKey=ec2-secret\n")
    scn.env["AWS_CREDENTIAL_FILE"] = str(path)


def home_boto(scn: Scenario) -> None:
    scn.write(".boto", "[Credentials]\naws_access_key_id = AKIDHOMEBOTO\naws_secret_access_key = boto-secret\n")
    scn.env.pop("BOTO_CONFIG", None)  # the harness points it nowhere; here ~/.boto must count


def var_boto(scn: Scenario) -> None:
    home_boto(scn)
    path = scn.write("boto.cfg", "[Credentials]\naws_access_key_id = AKIDVARBOTO\naws_secret_access_key = v\n")
    scn.env["BOTO_CONFIG"] = str(path)


def process_profile(scn: Scenario) -> None:
    scn.config(f"[default]\ncredential_process = {process_command(scn)}\n")


def process_and_config_keys(scn: Scenario) -> None:
    scn.config(CONFIG_DEFAULT + f"credential_process = {process_command(scn)}\n")


ENV_KEYS = env(AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY="env-secret")
LOGIN_SESSION = "arn:aws:sts::123456789012:assumed-role/dev/me"


def login_cache_missing(*fields: str):
    """A login_session whose cached token (where `aws login` writes it) lacks `fields`."""
    def setup(scn: Scenario) -> None:
        scn.config(f"[default]\nlogin_session = {LOGIN_SESSION}\nregion = us-east-1\n")
        token = {"accessToken": {"accessKeyId": "ASIALOGIN", "secretAccessKey": "login-secret",
                                 "sessionToken": "login-token", "accountId": "123456789012",
                                 "expiresAt": "2099-01-01T00:00:00Z"},
                 "tokenType": "aws_sigv4", "refreshToken": "r", "idToken": "i",
                 "clientId": "arn:aws:signin:::devtools/same-device", "dpopKey": "k"}
        for name in fields:
            token.pop(name)
        digest = hashlib.sha256(LOGIN_SESSION.encode()).hexdigest()
        scn.write(f".aws/login/cache/{digest}.json", json.dumps(token))
    return setup

CASES = [
    Case("env", ENV_KEYS, source="env", access_key="AKIDENV"),
    Case("env session token", steps(ENV_KEYS, env(AWS_SESSION_TOKEN="session")), source="env", access_key="AKIDENV", token="session"),
    Case("env security token before session token", steps(ENV_KEYS, env(AWS_SECURITY_TOKEN="legacy", AWS_SESSION_TOKEN="session")),
         source="env", access_key="AKIDENV", token="legacy"),
    Case("shared credentials file", creds_file(CREDS_DEFAULT), source="shared-credentials-file", access_key="AKIDCREDS"),
    Case("credentials file token keys", creds_file(CREDS_DEFAULT + "aws_session_token = s\naws_security_token = l\n"),
         source="shared-credentials-file", access_key="AKIDCREDS", token="l"),
    Case("config file", config_file(CONFIG_DEFAULT), source="config-file", access_key="AKIDCONFIG"),
    Case("both files present", steps(creds_file(CREDS_DEFAULT), config_file(CONFIG_DEFAULT)),
         source="shared-credentials-file", access_key="AKIDCREDS"),
    Case("custom process", process_profile, source="custom-process", access_key="AKIDPROCESS", token="process-token"),
    Case("credentials file beats credential_process", steps(process_profile, creds_file(CREDS_DEFAULT)),
         source="shared-credentials-file", access_key="AKIDCREDS"),
    Case("credential_process beats config file keys", process_and_config_keys,
         source="custom-process", access_key="AKIDPROCESS", token="process-token"),
    Case("ec2 credentials file", ec2_file, source="ec2-credentials-file", access_key="AKIDEC2"),
    Case("boto config in HOME", home_boto, source="boto-config", access_key="AKIDHOMEBOTO"),
    Case("BOTO_CONFIG replaces ~/.boto", var_boto, source="boto-config", access_key="AKIDVARBOTO"),
    Case("env beats files", steps(ENV_KEYS, creds_file(CREDS_DEFAULT)), source="env", access_key="AKIDENV"),
    Case("AWS_DEFAULT_PROFILE over AWS_PROFILE",
         steps(creds_file("[one]\naws_access_key_id = AKIDONE\naws_secret_access_key = 1\n"
                          "[two]\naws_access_key_id = AKIDTWO\naws_secret_access_key = 2\n"),
               env(AWS_DEFAULT_PROFILE="one", AWS_PROFILE="two")),
         source="shared-credentials-file", access_key="AKIDONE"),
    Case("explicit profile skips env",
         steps(ENV_KEYS, creds_file("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = d\n")),
         profile="dev", source="shared-credentials-file", access_key="AKIDDEV"),
    Case("AWS_PROFILE does not skip env",
         steps(ENV_KEYS, creds_file("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = d\n"), env(AWS_PROFILE="dev")),
         source="env", access_key="AKIDENV"),
    Case("nothing configured", lambda scn: None, error_code=2),
    Case("partial env key pair", env(AWS_ACCESS_KEY_ID="AKIDENV"), error_code=4, message_has=["AWS_SECRET_ACCESS_KEY"]),
    Case("partial credentials file", creds_file("[default]\naws_access_key_id = AKIDCREDS\n"), error_code=4,
         message_has=["aws_secret_access_key"]),
    Case("missing profile", creds_file(CREDS_DEFAULT), profile="ghost", error_code=3, message_has=["ghost"]),
    Case("missing profile from AWS_PROFILE", steps(creds_file(CREDS_DEFAULT), env(AWS_PROFILE="ghost")), error_code=3,
         message_has=["ghost"]),
    # botocore checks the instance metadata settings when it builds its resolver, before any source answers.
    Case("invalid IMDS endpoint mode fails before env keys answer",
         steps(ENV_KEYS, env(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPv5")), error_code=INVALID_CONFIG,
         message_has=["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is \"IPv5\""],
         boto_error="Invalid EC2 Instance Metadata endpoint mode: IPv5"),
    Case("invalid IMDS endpoint mode in the profile",
         steps(ENV_KEYS, config_file("[default]\nec2_metadata_service_endpoint_mode = ipv5\n")),
         error_code=INVALID_CONFIG, message_has=["ec2_metadata_service_endpoint_mode is \"ipv5\""],
         boto_error="Invalid EC2 Instance Metadata endpoint mode: ipv5"),
    Case("IMDS endpoint mode in any case", steps(ENV_KEYS, env(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPV6")),
         source="env", access_key="AKIDENV"),
    Case("IMDS endpoint that is not a URL fails before env keys answer",
         steps(ENV_KEYS, env(AWS_EC2_METADATA_SERVICE_ENDPOINT="localhost:1234")), error_code=INVALID_CONFIG,
         message_has=["which is not a URL"], boto_error="Invalid endpoint EC2 Instance Metadata endpoint"),
    Case("relative container full URI", env(AWS_CONTAINER_CREDENTIALS_FULL_URI="/v2/credentials"),
         error_code=INVALID_CONFIG, message_has=["AWS_CONTAINER_CREDENTIALS_FULL_URI", "which names no host"],
         boto_error="Unsupported host 'None'"),
    Case("container full URI on a host that is not allowed",
         env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://10.0.0.1/creds"), error_code=INVALID_CONFIG,
         message_has=["which names host 10.0.0.1"], boto_error="Unsupported host '10.0.0.1'"),
    Case("login cache file missing a field", login_cache_missing("refreshToken"),
         error_code=SOURCE_FAILED, message_has=["login", "missing field `refreshToken`"],
         boto_error="missing required fields: refreshToken"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_probe_agrees_with_botocore(scn: Scenario, case: Case) -> None:
    case.setup(scn)
    run = scn.probe(case.profile)
    mine = run.last
    reference = scn.botocore(case.profile)
    if case.error_code is not None:
        assert reference["ok"] is False, f"botocore found credentials: {reference.get('method')}"
        assert mine["ok"] is False, f"credchain found credentials from {mine.get('source')}"
        assert mine["code"] == case.error_code, mine
        for word in case.message_has:
            assert word in mine["message"], mine
        if case.boto_error:
            assert case.boto_error in reference["error"], reference
        assert run.rc == 1
        return
    assert reference["ok"] is True, reference
    assert mine["ok"] is True, mine
    assert (mine["source"], mine["access_key_id"], mine["session_token"]) == (case.source, case.access_key, case.token)
    assert (reference["method"], reference["access_key_id"], reference["session_token"]) == (case.source, case.access_key, case.token)
    assert mine["secret_access_key"] == reference["secret_access_key"]
