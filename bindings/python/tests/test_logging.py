"""The library's log callback reaches the `credchain` logger."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from credchain import _ffi
from credchain._logging import library_level_for
from isolation import clean_env, run_child


def test_level_mapping() -> None:
    assert library_level_for(5) == _ffi.LOG_TRACE
    assert library_level_for(logging.DEBUG) == _ffi.LOG_DEBUG
    assert library_level_for(logging.INFO) == _ffi.LOG_INFO
    assert library_level_for(logging.WARNING) == _ffi.LOG_WARN
    assert library_level_for(logging.ERROR) == _ffi.LOG_OFF  # the library's ERROR records are DEBUG here
    assert library_level_for(logging.CRITICAL) == _ffi.LOG_OFF


def test_callback_routes_records_into_logging(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
    )
    result = run_child("child_cases.py", home, {}, ["log_callback"])
    assert result == {
        "library_level": _ffi.LOG_DEBUG,
        "records": [
            ["credchain", "WARNING", "refresh \u2713 done"],
            ["credchain", "DEBUG", ""],
        ],
        "invalidate_logged": True,
        "logged_from_another_thread": True,
        "secret_logged": False,
    }


def test_interpreter_exits_cleanly_while_the_library_logs(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
    )
    for _ in range(10):  # run_child fails on a non-zero exit status (an abort is 134)
        assert run_child("child_exit.py", home, {}) == {"started": True}


def test_python_leaving_does_not_silence_another_host(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
    )
    result = run_child("child_cases.py", home, {}, ["log_subscriptions_are_independent"])
    assert result == {"subscribed": 0, "both": [1, 1], "after_python_left": [1, 2], "other_ended": 0}


# A caller that handles the error itself, in a program that configured no logging (Python's
# last-resort handler would print WARNING and above on stderr), then in one that did
# (logging.basicConfig(): WARNING and above on stderr).
CATCHING_CALLER = """
import logging, sys
if sys.argv[1] == "basicConfig":
    logging.basicConfig()
import credchain
credchain.get_credentials()
credchain.invalidate()
credchain.get_credentials()
try:
    credchain.get_credentials("no-such-profile")
except credchain.ProfileNotFoundError as error:
    print("caught", error.code.name)
"""


def run_catching_caller(home: Path, logging_setup: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-c", CATCHING_CALLER, logging_setup],
        env=clean_env(home, {"AWS_ACCESS_KEY_ID": "AKIACASEENV000000001", "AWS_SECRET_ACCESS_KEY": "case-secret"}),
        cwd=str(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
    )


def test_a_caught_failure_prints_nothing_without_logging_configuration(home: Path) -> None:
    result = run_catching_caller(home, "none")
    assert (result.returncode, result.stdout, result.stderr) == (0, "caught PROFILE_NOT_FOUND\n", "")


def test_a_caught_failure_prints_nothing_with_basic_config(home: Path) -> None:
    result = run_catching_caller(home, "basicConfig")
    assert (result.returncode, result.stdout, result.stderr) == (0, "caught PROFILE_NOT_FOUND\n", "")


def test_library_levels_become_python_levels(home: Path) -> None:
    result = run_child("child_cases.py", home, {}, ["log_levels"])
    assert result == {
        "handlers": ["NullHandler"],
        "records": [
            ["credchain", "DEBUG", "error line"],
            ["credchain", "WARNING", "warn line"],
            ["credchain", "INFO", "info line"],
            ["credchain", "DEBUG", "debug line"],
            ["credchain", "TRACE", "trace line"],
        ],
    }
