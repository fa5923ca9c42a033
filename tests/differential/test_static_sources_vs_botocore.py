"""A C program written only against credchain.h, linked with the library,
gets the same source, access key and token as botocore for the same HOME and
environment, and fails wherever botocore fails.

Every scenario runs both in child processes (tests/c/probe.c through the C
ABI; tests/boto_probe.py through botocore) and compares them; the
expected values are also spelled out, so that a change in both at once is
caught too.
"""

from __future__ import annotations

import stat

import pytest

from cases import (CONFIG_DEFAULT, CREDS_DEFAULT, Case, config_file, creds_file, env,
                   process_command, steps)
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
        assert run.rc == 1
        return
    assert reference["ok"] is True, reference
    assert mine["ok"] is True, mine
    assert (mine["source"], mine["access_key_id"], mine["session_token"]) == (case.source, case.access_key, case.token)
    assert (reference["method"], reference["access_key_id"], reference["session_token"]) == (case.source, case.access_key, case.token)
    assert mine["secret_access_key"] == reference["secret_access_key"]
