"""The differential scenarios: docs/design.md's static sources and precedence rules.

Each scenario gives the files under a fresh HOME, the environment, the profile
argument, and the exact expected outcome.  The expected outcome is what
botocore does (botocore is the reference); the suite checks that botocore and
credchain both produce it.

Placeholders in paths, contents and variables: {home} (the scenario's HOME),
{python} (this interpreter), {expiration} (an ISO 8601 time two hours ahead).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from isolation import fingerprint

# Two hours ahead, whole seconds, in the ISO 8601 form credential processes use.
_EXPIRY = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).replace(microsecond=0)
EXPIRATION_ISO = _EXPIRY.strftime("%Y-%m-%dT%H:%M:%SZ")
EXPIRATION_EPOCH = int(_EXPIRY.timestamp())


@dataclass(frozen=True)
class Ok:
    source: str
    access_key: str
    secret_key: str
    token: Optional[str] = None
    account_id: Optional[str] = None
    expiration: Optional[int] = None

    def as_result(self) -> Dict[str, object]:
        return {
            "source": self.source,
            "access_key": self.access_key,
            "secret_key": fingerprint(self.secret_key),
            "token": fingerprint(self.token),
            "account_id": self.account_id,
            "expiration": self.expiration,
        }


@dataclass(frozen=True)
class Fails:
    kind: str  # NoCredentials, ProfileNotFound, PartialCredentials, SourceFailed
    message_contains: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    expect: object  # Ok | Fails
    files: Dict[str, str] = field(default_factory=dict)
    env: Dict[str, str] = field(default_factory=dict)
    profile: Optional[str] = None
    # A documented divergence: what credchain does instead of `expect`
    # (docs/design.md: "Half a pair is an error naming the missing
    # variable", where botocore ignores a lone secret).
    credchain_expect: Optional[object] = None


def creds_ini(section: str, key: str, secret: str, *extra: str) -> str:
    lines = [f"[{section}]", f"aws_access_key_id = {key}", f"aws_secret_access_key = {secret}", *extra]
    return "\n".join(lines) + "\n"


ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000000001", "AWS_SECRET_ACCESS_KEY": "env/secret+1"}
ENV_OK = Ok("env", "AKIAENVKEY0000000001", "env/secret+1")

CREDS = ".aws/credentials"
CONFIG = ".aws/config"
PROC_DIR = "proc dir"  # a path with a space: credential_process must quote it

# A credential_process: prints Version 1 JSON; "--fail" exits 1.
PROCESS_SCRIPT = """\
import json, sys
if "--fail" in sys.argv:
    sys.stderr.write("process refused\\n")
    sys.exit(1)
out = {"Version": 1, "AccessKeyId": sys.argv[1], "SecretAccessKey": "process-secret"}
if "--token" in sys.argv:
    out["SessionToken"] = "process-token"
    out["Expiration"] = "{expiration}"
    out["AccountId"] = "210987654321"
print(json.dumps(out))
"""
PROCESS_FILE = {f"{PROC_DIR}/credproc.py": PROCESS_SCRIPT}


def process_line(*args: str) -> str:
    quoted = " ".join(args)
    return f'credential_process = "{{python}}" "{{home}}/{PROC_DIR}/credproc.py" {quoted}'


SCENARIOS: List[Scenario] = [
    # ---- 1. env ---------------------------------------------------------
    Scenario("env-keys", ENV_OK, env=dict(ENV_KEYS)),
    Scenario(
        "env-session-token",
        Ok("env", ENV_OK.access_key, ENV_OK.secret_key, token="env-session-token"),
        env={**ENV_KEYS, "AWS_SESSION_TOKEN": "env-session-token"},
    ),
    Scenario(
        "env-security-token-before-session-token",
        Ok("env", ENV_OK.access_key, ENV_OK.secret_key, token="env-security-token"),
        env={**ENV_KEYS, "AWS_SECURITY_TOKEN": "env-security-token", "AWS_SESSION_TOKEN": "env-session-token"},
    ),
    Scenario(
        "env-empty-security-token-skipped",
        Ok("env", ENV_OK.access_key, ENV_OK.secret_key, token="env-session-token"),
        env={**ENV_KEYS, "AWS_SECURITY_TOKEN": "", "AWS_SESSION_TOKEN": "env-session-token"},
    ),
    Scenario(
        "env-account-id",
        Ok("env", ENV_OK.access_key, ENV_OK.secret_key, account_id="123456789012"),
        env={**ENV_KEYS, "AWS_ACCOUNT_ID": "123456789012"},
    ),
    Scenario(
        "env-expiring",
        Ok("env", ENV_OK.access_key, ENV_OK.secret_key, token="env-session-token", expiration=EXPIRATION_EPOCH),
        env={**ENV_KEYS, "AWS_SESSION_TOKEN": "env-session-token", "AWS_CREDENTIAL_EXPIRATION": "{expiration}"},
    ),
    Scenario(
        "env-access-key-without-secret",
        Fails("PartialCredentials", ("AWS_SECRET_ACCESS_KEY",)),
        env={"AWS_ACCESS_KEY_ID": "AKIAENVKEY0000000001"},
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
    ),
    Scenario(
        # botocore's EnvProvider looks at AWS_ACCESS_KEY_ID only: a lone secret
        # is ignored and the chain goes on.
        "env-secret-without-access-key-falls-through",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret"),
        env={"AWS_SECRET_ACCESS_KEY": "env/secret+1"},
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
        credchain_expect=Fails("PartialCredentials", ("env: partial credentials found, missing: AWS_ACCESS_KEY_ID",)),
    ),
    Scenario(
        "env-beats-credentials-file",
        ENV_OK,
        env=dict(ENV_KEYS),
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
    ),
    # ---- 5. shared-credentials-file --------------------------------------
    Scenario(
        "credentials-file-default",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret"),
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
    ),
    Scenario(
        "credentials-file-session-token",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret", token="creds-session"),
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret", "aws_session_token = creds-session")},
    ),
    Scenario(
        "credentials-file-security-token-before-session-token",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret", token="creds-security"),
        files={
            CREDS: creds_ini(
                "default",
                "AKIACREDSDEFAULT0001",
                "creds-default-secret",
                "aws_session_token = creds-session",
                "aws_security_token = creds-security",
            )
        },
    ),
    Scenario(
        "credentials-file-account-id",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret", account_id="111122223333"),
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret", "aws_account_id = 111122223333")},
    ),
    Scenario(
        "credentials-file-from-AWS_SHARED_CREDENTIALS_FILE",
        Ok("shared-credentials-file", "AKIACUSTOMCREDS00001", "custom-secret"),
        env={"AWS_SHARED_CREDENTIALS_FILE": "{home}/elsewhere/creds.ini"},
        files={
            "elsewhere/creds.ini": creds_ini("default", "AKIACUSTOMCREDS00001", "custom-secret"),
            CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret"),
        },
    ),
    Scenario(
        "credentials-file-partial-keys",
        Fails("PartialCredentials", ("aws_secret_access_key",)),
        files={CREDS: "[default]\naws_access_key_id = AKIACREDSDEFAULT0001\n"},
    ),
    # ---- 8. config-file ---------------------------------------------------
    Scenario(
        "config-file-default",
        Ok("config-file", "AKIACONFIGDEFAULT001", "config-default-secret"),
        files={CONFIG: creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret")},
    ),
    Scenario(
        "config-file-named-profile-via-AWS_PROFILE",
        Ok("config-file", "AKIACONFIGDEV0000001", "config-dev-secret", token="config-dev-token"),
        env={"AWS_PROFILE": "dev"},
        files={
            CONFIG: creds_ini("profile dev", "AKIACONFIGDEV0000001", "config-dev-secret", "aws_session_token = config-dev-token")
            + creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret")
        },
    ),
    Scenario(
        "config-file-from-AWS_CONFIG_FILE",
        Ok("config-file", "AKIACUSTOMCONFIG0001", "custom-config-secret"),
        env={"AWS_CONFIG_FILE": "{home}/elsewhere/config.ini"},
        files={
            "elsewhere/config.ini": creds_ini("default", "AKIACUSTOMCONFIG0001", "custom-config-secret"),
            CONFIG: creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret"),
        },
    ),
    Scenario(
        "config-file-partial-keys",
        Fails("PartialCredentials", ("aws_secret_access_key",)),
        files={CONFIG: "[default]\naws_access_key_id = AKIACONFIGDEFAULT001\n"},
    ),
    Scenario(
        "both-files-credentials-file-wins",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret"),
        files={
            CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret"),
            CONFIG: creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret"),
        },
    ),
    Scenario(
        "credentials-file-without-keys-then-config-file",
        Ok("config-file", "AKIACONFIGDEFAULT001", "config-default-secret"),
        files={
            CREDS: "[default]\nregion = us-west-2\n",
            CONFIG: creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret"),
        },
    ),
    # ---- 7. custom-process --------------------------------------------------
    Scenario(
        "custom-process-quoted-path",
        Ok("custom-process", "AKIAPROCESS000000001", "process-secret"),
        files={**PROCESS_FILE, CONFIG: "[default]\n" + process_line("AKIAPROCESS000000001") + "\n"},
    ),
    Scenario(
        "custom-process-token-expiration-account",
        Ok(
            "custom-process",
            "AKIAPROCESS000000002",
            "process-secret",
            token="process-token",
            account_id="210987654321",
            expiration=EXPIRATION_EPOCH,
        ),
        files={**PROCESS_FILE, CONFIG: "[default]\n" + process_line("AKIAPROCESS000000002", "--token") + "\n"},
    ),
    Scenario(
        "custom-process-in-AWS_PROFILE",
        Ok("custom-process", "AKIAPROCESS000000003", "process-secret"),
        env={"AWS_PROFILE": "proc"},
        files={
            **PROCESS_FILE,
            CONFIG: "[profile proc]\n" + process_line("AKIAPROCESS000000003") + "\n"
            + creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret"),
        },
    ),
    Scenario(
        "custom-process-failure",
        Fails("SourceFailed"),
        files={**PROCESS_FILE, CONFIG: "[default]\n" + process_line("AKIAPROCESS000000004", "--fail") + "\n"},
    ),
    Scenario(
        "credentials-file-keys-beat-credential-process",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret"),
        files={
            **PROCESS_FILE,
            CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret"),
            CONFIG: "[default]\n" + process_line("AKIAPROCESS000000005") + "\n",
        },
    ),
    Scenario(
        "credential-process-beats-config-file-keys",
        Ok("custom-process", "AKIAPROCESS000000006", "process-secret"),
        files={
            **PROCESS_FILE,
            CONFIG: creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret", process_line("AKIAPROCESS000000006")),
        },
    ),
    # ---- 9. ec2-credentials-file ----------------------------------------------
    Scenario(
        "ec2-credentials-file",
        Ok("ec2-credentials-file", "AKIAEC2FILE000000001", "ec2-file-secret"),
        env={"AWS_CREDENTIAL_FILE": "{home}/ec2/credential-file"},
        files={"ec2/credential-file": "AWSAccessKeyId=AKIAEC2FILE000000001\nAWSSecretKey=ec2-file-secret\n"},
    ),
    Scenario(
        "config-file-beats-ec2-credentials-file",
        Ok("config-file", "AKIACONFIGDEFAULT001", "config-default-secret"),
        env={"AWS_CREDENTIAL_FILE": "{home}/ec2/credential-file"},
        files={
            "ec2/credential-file": "AWSAccessKeyId=AKIAEC2FILE000000001\nAWSSecretKey=ec2-file-secret\n",
            CONFIG: creds_ini("default", "AKIACONFIGDEFAULT001", "config-default-secret"),
        },
    ),
    Scenario(
        "ec2-credentials-file-beats-boto-config",
        Ok("ec2-credentials-file", "AKIAEC2FILE000000001", "ec2-file-secret"),
        env={"AWS_CREDENTIAL_FILE": "{home}/ec2/credential-file", "BOTO_CONFIG": "{home}/boto/boto.cfg"},
        files={
            "ec2/credential-file": "AWSAccessKeyId=AKIAEC2FILE000000001\nAWSSecretKey=ec2-file-secret\n",
            "boto/boto.cfg": "[Credentials]\naws_access_key_id = AKIABOTOCONFIG000001\naws_secret_access_key = boto-secret\n",
        },
    ),
    # ---- 10. boto-config ------------------------------------------------------------
    Scenario(
        "boto-config-from-BOTO_CONFIG",
        Ok("boto-config", "AKIABOTOCONFIG000001", "boto-secret"),
        env={"BOTO_CONFIG": "{home}/boto/boto.cfg"},
        files={
            "boto/boto.cfg": "[Credentials]\naws_access_key_id = AKIABOTOCONFIG000001\naws_secret_access_key = boto-secret\n",
            ".boto": "[Credentials]\naws_access_key_id = AKIABOTOHOME00000001\naws_secret_access_key = boto-home-secret\n",
        },
    ),
    Scenario(
        "boto-config-home-dot-boto",
        Ok("boto-config", "AKIABOTOHOME00000001", "boto-home-secret"),
        files={".boto": "[Credentials]\naws_access_key_id = AKIABOTOHOME00000001\naws_secret_access_key = boto-home-secret\n"},
    ),
    Scenario(
        "boto-config-BOTO_CONFIG-excludes-dot-boto",
        Fails("NoCredentials"),
        env={"BOTO_CONFIG": "{home}/boto/missing.cfg"},
        files={".boto": "[Credentials]\naws_access_key_id = AKIABOTOHOME00000001\naws_secret_access_key = boto-home-secret\n"},
    ),
    # ---- profile selection ---------------------------------------------------
    Scenario(
        "AWS_DEFAULT_PROFILE-over-AWS_PROFILE",
        Ok("shared-credentials-file", "AKIACREDSALPHA000001", "alpha-secret"),
        env={"AWS_DEFAULT_PROFILE": "alpha", "AWS_PROFILE": "beta"},
        files={
            CREDS: creds_ini("alpha", "AKIACREDSALPHA000001", "alpha-secret")
            + creds_ini("beta", "AKIACREDSBETA0000001", "beta-secret")
            + creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")
        },
    ),
    Scenario(
        "AWS_PROFILE-alone",
        Ok("shared-credentials-file", "AKIACREDSBETA0000001", "beta-secret"),
        env={"AWS_PROFILE": "beta"},
        files={
            CREDS: creds_ini("beta", "AKIACREDSBETA0000001", "beta-secret")
            + creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")
        },
    ),
    Scenario(
        "explicit-profile-skips-env",
        Ok("shared-credentials-file", "AKIACREDSALPHA000001", "alpha-secret"),
        env=dict(ENV_KEYS),
        profile="alpha",
        files={CREDS: creds_ini("alpha", "AKIACREDSALPHA000001", "alpha-secret")},
    ),
    Scenario(
        "profile-from-AWS_PROFILE-does-not-skip-env",
        ENV_OK,
        env={**ENV_KEYS, "AWS_PROFILE": "alpha"},
        files={CREDS: creds_ini("alpha", "AKIACREDSALPHA000001", "alpha-secret")},
    ),
    Scenario(
        "explicit-profile-over-AWS_PROFILE",
        Ok("shared-credentials-file", "AKIACREDSALPHA000001", "alpha-secret"),
        env={"AWS_PROFILE": "beta", "AWS_DEFAULT_PROFILE": "beta"},
        profile="alpha",
        files={
            CREDS: creds_ini("alpha", "AKIACREDSALPHA000001", "alpha-secret")
            + creds_ini("beta", "AKIACREDSBETA0000001", "beta-secret")
        },
    ),
    Scenario(
        "profile-only-in-credentials-file",
        Ok("shared-credentials-file", "AKIACREDSBETA0000001", "beta-secret"),
        env={"AWS_PROFILE": "beta"},
        files={
            CREDS: creds_ini("beta", "AKIACREDSBETA0000001", "beta-secret"),
            CONFIG: "[default]\nregion = us-east-1\n",
        },
    ),
    Scenario(
        "profile-not-found-from-AWS_PROFILE",
        Fails("ProfileNotFound", ("nosuchprofile",)),
        env={"AWS_PROFILE": "nosuchprofile"},
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
    ),
    Scenario(
        "profile-not-found-explicit",
        Fails("ProfileNotFound", ("missing-explicit",)),
        profile="missing-explicit",
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
    ),
    Scenario(
        "profile-not-found-even-with-env-keys",
        Fails("ProfileNotFound", ("nosuchprofile",)),
        env={**ENV_KEYS, "AWS_PROFILE": "nosuchprofile"},
    ),
    Scenario(
        "profile-without-credentials",
        Fails("NoCredentials"),
        env={"AWS_PROFILE": "dev"},
        files={CONFIG: "[profile dev]\nregion = eu-west-1\n"},
    ),
    Scenario(
        # botocore: an explicitly named profile must exist, even "default".
        "explicit-default-profile-without-files",
        Fails("ProfileNotFound", ("default",)),
        profile="default",
    ),
    Scenario(
        # botocore: AWS_PROFILE=default is a named profile too; it must exist
        # even though the environment keys would answer.
        "AWS_PROFILE-default-without-files-with-env-keys",
        Fails("ProfileNotFound", ("default",)),
        env={**ENV_KEYS, "AWS_PROFILE": "default"},
    ),
    Scenario(
        "env-empty-access-key-falls-through",
        Ok("shared-credentials-file", "AKIACREDSDEFAULT0001", "creds-default-secret"),
        env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "env/secret+1"},
        files={CREDS: creds_ini("default", "AKIACREDSDEFAULT0001", "creds-default-secret")},
        credchain_expect=Fails("PartialCredentials", ("env: partial credentials found, missing: AWS_ACCESS_KEY_ID",)),
    ),
    Scenario(
        "explicit-profile-without-keys-ignores-env",
        Fails("NoCredentials"),
        env=dict(ENV_KEYS),
        profile="dev",
        files={CONFIG: "[profile dev]\nregion = eu-west-1\n"},
    ),
    Scenario(
        "custom-process-unsupported-version",
        Fails("SourceFailed"),
        files={
            "v2.py": 'print(\'{"Version": 2, "AccessKeyId": "AKIAPROCESS000000007", "SecretAccessKey": "s"}\')\n',
            CONFIG: '[default]\ncredential_process = "{python}" "{home}/v2.py"\n',
        },
    ),
    Scenario("nothing-configured", Fails("NoCredentials")),
]
