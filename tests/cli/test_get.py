"""`credchain get --format F` for every format, on long-term keys and on
temporary credentials: the exact output, and for the shell formats what a
real shell makes of it (sh evaluates `env` and reads `env-no-export` with
`set -a`; fish sources `fish`), including a value holding quote, backslash,
dollar and space, and the removal of an older session token. The formats
are documented in docs/formats.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CREDCHAIN_BIN", ROOT / "target" / "release" / "credchain"))

ODD_SECRET = "odd'sec\\ret $HOME x"
TEMPORARY = {"Version": 1, "AccessKeyId": "ASIAGETFORMATS", "SecretAccessKey": "temporary-secret",
             "SessionToken": "IQoJb3/+token==", "Expiration": "2099-01-02T03:04:05Z", "AccountId": "123456789012"}
VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_CREDENTIAL_EXPIRATION"]


def base_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true", "LANG": "C.UTF-8"}


@pytest.fixture
def static_home(tmp_path: Path) -> Path:
    """Long-term keys whose secret needs quoting in every shell."""
    home = tmp_path / "static"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIDGETFORMATS\naws_secret_access_key = {ODD_SECRET}\n")
    return home


@pytest.fixture
def temporary_home(tmp_path: Path) -> Path:
    """A credential_process with a session token, an expiry and an account."""
    home = tmp_path / "temporary"
    (home / ".aws").mkdir(parents=True)
    (home / "out.json").write_text(json.dumps(TEMPORARY))
    (home / ".aws" / "config").write_text(f"[default]\ncredential_process = cat {home / 'out.json'}\n")
    return home


def get(home: Path, fmt: str) -> str:
    result = subprocess.run([str(BIN), "get", "--format", fmt], env=base_env(home), capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout


def environment_after(shell: list[str], script: str, home: Path) -> dict[str, str]:
    """The exported variables a shell has after running script (which may
    run credchain: it is on the PATH as `credchain`)."""
    env = base_env(home)
    env["PATH"] = f"{BIN.parent}:{env['PATH']}"
    env["AWS_SESSION_TOKEN"] = env["AWS_SECURITY_TOKEN"] = "stale-token-from-before"
    result = subprocess.run([*shell, script + "\nenv -0"], env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result
    pairs = (entry.split(b"=", 1) for entry in result.stdout.split(b"\0") if b"=" in entry)
    return {k.decode(): v.decode() for k, v in pairs if k.decode() in VARIABLES}


def test_json_of_long_term_keys_has_null_for_never(static_home: Path) -> None:
    assert json.loads(get(static_home, "json")) == {
        "source": "shared-credentials-file", "access_key_id": "AKIDGETFORMATS", "secret_access_key": ODD_SECRET,
        "session_token": None, "account_id": None, "expiration": None}


def test_json_is_the_default_and_gives_rfc3339(temporary_home: Path) -> None:
    expected = {"source": "custom-process", "access_key_id": "ASIAGETFORMATS", "secret_access_key": "temporary-secret",
                "session_token": "IQoJb3/+token==", "account_id": "123456789012",
                "expiration": "2099-01-02T03:04:05Z"}
    assert json.loads(get(temporary_home, "json")) == expected
    default = subprocess.run([str(BIN), "get"], env=base_env(temporary_home), capture_output=True, text=True,
                             timeout=60)
    assert json.loads(default.stdout) == expected


def test_process(temporary_home: Path, static_home: Path) -> None:
    assert json.loads(get(temporary_home, "process")) == TEMPORARY
    assert json.loads(get(static_home, "process")) == {
        "Version": 1, "AccessKeyId": "AKIDGETFORMATS", "SecretAccessKey": ODD_SECRET}


def test_env_lines(temporary_home: Path) -> None:
    assert get(temporary_home, "env") == (
        "export AWS_ACCESS_KEY_ID='ASIAGETFORMATS'\n"
        "export AWS_SECRET_ACCESS_KEY='temporary-secret'\n"
        "export AWS_SESSION_TOKEN='IQoJb3/+token=='\n"
        "unset AWS_SECURITY_TOKEN\n"
        "export AWS_CREDENTIAL_EXPIRATION='2099-01-02T03:04:05Z'\n")


def test_env_evaluated_by_sh_replaces_an_older_token(static_home: Path) -> None:
    after = environment_after(["sh", "-c"], 'eval "$(credchain get --format env)"', static_home)
    assert after == {"AWS_ACCESS_KEY_ID": "AKIDGETFORMATS", "AWS_SECRET_ACCESS_KEY": ODD_SECRET}


def test_env_no_export_lines_and_set_a(temporary_home: Path, static_home: Path, tmp_path: Path) -> None:
    assert get(temporary_home, "env-no-export") == (
        "AWS_ACCESS_KEY_ID=ASIAGETFORMATS\n"
        "AWS_SECRET_ACCESS_KEY=temporary-secret\n"
        "AWS_SESSION_TOKEN=IQoJb3/+token==\n"
        "AWS_CREDENTIAL_EXPIRATION=2099-01-02T03:04:05Z\n")
    file = tmp_path / "aws.env"
    file.write_text(get(static_home, "env-no-export"))
    assert file.read_text().splitlines()[1] == "AWS_SECRET_ACCESS_KEY='odd'\\''sec\\ret $HOME x'"
    after = environment_after(["sh", "-c"], f"set -a; . '{file}'; set +a", static_home)
    assert after["AWS_SECRET_ACCESS_KEY"] == ODD_SECRET
    assert after["AWS_ACCESS_KEY_ID"] == "AKIDGETFORMATS"


def test_fish_lines(temporary_home: Path, static_home: Path) -> None:
    assert get(temporary_home, "fish") == (
        "set -gx AWS_ACCESS_KEY_ID 'ASIAGETFORMATS';\n"
        "set -gx AWS_SECRET_ACCESS_KEY 'temporary-secret';\n"
        "set -gx AWS_SESSION_TOKEN 'IQoJb3/+token==';\n"
        "set -e AWS_SECURITY_TOKEN;\n"
        "set -gx AWS_CREDENTIAL_EXPIRATION '2099-01-02T03:04:05Z';\n")
    assert get(static_home, "fish").splitlines()[1] == "set -gx AWS_SECRET_ACCESS_KEY 'odd\\'sec\\\\ret $HOME x';"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (.ci/run installs it)")
def test_fish_sourced_by_fish_replaces_an_older_token(static_home: Path) -> None:
    after = environment_after(["fish", "--no-config", "-c"], "credchain get --format fish | source", static_home)
    assert after == {"AWS_ACCESS_KEY_ID": "AKIDGETFORMATS", "AWS_SECRET_ACCESS_KEY": ODD_SECRET}


def test_powershell_lines(temporary_home: Path, static_home: Path) -> None:
    assert get(temporary_home, "powershell") == (
        "$Env:AWS_ACCESS_KEY_ID = 'ASIAGETFORMATS'\n"
        "$Env:AWS_SECRET_ACCESS_KEY = 'temporary-secret'\n"
        "$Env:AWS_SESSION_TOKEN = 'IQoJb3/+token=='\n"
        "Remove-Item Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue\n"
        "$Env:AWS_CREDENTIAL_EXPIRATION = '2099-01-02T03:04:05Z'\n")
    assert get(static_home, "powershell") == (
        "$Env:AWS_ACCESS_KEY_ID = 'AKIDGETFORMATS'\n"
        "$Env:AWS_SECRET_ACCESS_KEY = 'odd''sec\\ret $HOME x'\n"
        "Remove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue\n"
        "Remove-Item Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue\n"
        "Remove-Item Env:AWS_CREDENTIAL_EXPIRATION -ErrorAction SilentlyContinue\n")


def test_an_error_in_json_and_in_a_shell_format(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env["AWS_PROFILE"] = "absent"
    as_json = subprocess.run([str(BIN), "get"], env=env, capture_output=True, text=True, timeout=60)
    assert (as_json.returncode, as_json.stderr) == (1, "")
    assert json.loads(as_json.stdout) == {"error": {
        "code": "profile-not-found", "number": 3, "message": "the config profile (absent) could not be found",
        "source": None}}
    as_env = subprocess.run([str(BIN), "get", "--format", "env"], env=env, capture_output=True, text=True, timeout=60)
    assert (as_env.returncode, as_env.stdout, as_env.stderr) == (
        1, "", "credchain: the config profile (absent) could not be found (profile-not-found)\n")
