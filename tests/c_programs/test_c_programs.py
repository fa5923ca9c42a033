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


def test_probe_errors_under_valgrind(tmp_path: Path) -> None:
    """The error path (a missing profile) and the success path, leak-free."""
    env = clean_env(tmp_path, **ABI_ENV)
    for args in (["--profile", "ghost"], ["--repeat", "3"]):
        tool = shutil.which("valgrind")
        assert tool
        result = subprocess.run([tool, "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                                 str(BIN / "probe"), *args], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode in (0, 1), result.stderr[-3000:]
        assert "ERROR SUMMARY: 0 errors" in result.stderr


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
