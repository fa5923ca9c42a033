"""The library's log callback reaches the `credchain` logger."""

from __future__ import annotations

import logging
from pathlib import Path

from credchain import _ffi
from credchain._logging import library_level_for
from isolation import run_child


def test_level_mapping() -> None:
    assert library_level_for(5) == _ffi.LOG_TRACE
    assert library_level_for(logging.DEBUG) == _ffi.LOG_DEBUG
    assert library_level_for(logging.INFO) == _ffi.LOG_INFO
    assert library_level_for(logging.WARNING) == _ffi.LOG_WARN
    assert library_level_for(logging.ERROR) == _ffi.LOG_ERROR
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
