"""The C programs of tests/c, run as a host would: natively, under valgrind,
and compiled against the header alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "c-tests"
INCLUDE = ROOT / "include"


def clean_env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_", "CREDCHAIN_"))}
    env.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", BOTO_CONFIG=str(home / "none"), **extra)
    return env


ABI_ENV = dict(AWS_ACCESS_KEY_ID="AKIDABITEST", AWS_SECRET_ACCESS_KEY="abi-secret", AWS_SESSION_TOKEN="abi-token")
FORK_ENV = dict(AWS_ACCESS_KEY_ID="AKIDFORK", AWS_SECRET_ACCESS_KEY="fork-secret")


def run(program: str, env: dict, valgrind: bool = False) -> subprocess.CompletedProcess:
    command = [str(BIN / program)]
    if valgrind:
        tool = shutil.which("valgrind")
        assert tool, "valgrind is required for these tests (apt-get install valgrind)"
        command = [tool, "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--trace-children=yes"] + command
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_abi_contract(tmp_path: Path) -> None:
    result = run("abi_test", clean_env(tmp_path, **ABI_ENV))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"abi_test: \d+ passed, 0 failed", result.stdout), result.stdout


def test_abi_contract_under_valgrind(tmp_path: Path) -> None:
    result = run("abi_test", clean_env(tmp_path, **ABI_ENV), valgrind=True)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr
    assert "definitely lost: 0 bytes" in result.stderr or "no leaks are possible" in result.stderr


def test_fork_child_gets_credentials_and_again_after_invalidate(tmp_path: Path) -> None:
    result = run("fork_test", clean_env(tmp_path, **FORK_ENV))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fork_test: 5 passed, 0 failed" in result.stdout


def probe_under_valgrind(env: dict, *args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("valgrind")
    assert tool, "valgrind is required for these tests (apt-get install valgrind)"
    result = subprocess.run([tool, "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                             str(BIN / "probe"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert "ERROR SUMMARY: 0 errors" in result.stderr, result.stderr[-3000:]
    return result


def test_probe_errors_under_valgrind(tmp_path: Path) -> None:
    """The error paths (a missing profile, nothing configured, half a key
    pair) and the env success path, leak-free."""
    for env, args, code in (
        (clean_env(tmp_path, **ABI_ENV), ["--profile", "ghost"], 3),
        (clean_env(tmp_path), [], 2),
        (clean_env(tmp_path, AWS_ACCESS_KEY_ID="AKIDHALF"), [], 4),
    ):
        result = probe_under_valgrind(env, *args)
        assert result.returncode == 1
        assert f'"code":{code}' in result.stdout, result.stdout
    ok = probe_under_valgrind(clean_env(tmp_path, **ABI_ENV), "--repeat", "3")
    assert ok.returncode == 0 and ok.stdout.count('"source":"env"') == 3


def test_static_sources_under_valgrind(tmp_path: Path) -> None:
    """Each static file source through the C ABI, leak-free."""
    home = tmp_path
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("[files]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = c\n")
    (home / ".aws" / "config").write_text("[profile cfg]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n")
    (home / "ec2").write_text("AWSAccessKeyId=AKIDEC2\nAWSSecretKey=e\n")
    (home / "boto.cfg").write_text("[Credentials]\naws_access_key_id = AKIDBOTO\naws_secret_access_key = b\n")
    cases = (
        (clean_env(home), ["--profile", "files"], "shared-credentials-file"),
        (clean_env(home), ["--profile", "cfg"], "config-file"),
        (clean_env(home, AWS_CREDENTIAL_FILE=str(home / "ec2")), [], "ec2-credentials-file"),
        ({**clean_env(home), "BOTO_CONFIG": str(home / "boto.cfg")}, [], "boto-config"),
    )
    for env, args, source in cases:
        result = probe_under_valgrind(env, *args)
        assert result.returncode == 0, result.stdout
        assert f'"source":"{source}"' in result.stdout


@pytest.mark.parametrize("compiler,flags,suffix", [
    ("gcc", ["-std=c11"], "c"),
    ("g++", ["-std=c++17"], "cpp"),
])
def test_header_compiles_alone(tmp_path: Path, compiler: str, flags: list, suffix: str) -> None:
    source = tmp_path / f"only_header.{suffix}"
    source.write_text('#include "credchain.h"\n')
    result = subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{INCLUDE}",
                             "-fsyntax-only", str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_auth_tokens_through_the_c_abi(tmp_path: Path) -> None:
    """The SDKs' published vector, DSQL actions, reuse of a token signed now,
    and the exact errors for bad arguments (tests/c/token_test.c)."""
    result = run("token_test", clean_env(tmp_path, AWS_ACCESS_KEY_ID="akid", AWS_SECRET_ACCESS_KEY="secret"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"token_test: \d+ passed, 0 failed", result.stdout), result.stdout
