"""Threads and fork: the shared cache from many threads and across fork()."""

from __future__ import annotations

from pathlib import Path

from isolation import fingerprint, run_child

CREDS = (
    "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
    "[alpha]\naws_access_key_id = AKIACASEALPHA0000001\naws_secret_access_key = alpha-secret\n"
)


def _write(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(CREDS)


def test_32_threads_share_one_snapshot_per_profile(home: Path) -> None:
    _write(home)
    result = run_child("child_cases.py", home, {}, ["threads_32"])
    assert result["errors"] == []
    assert result["mismatches"] == 0
    assert result["default"] == {
        "access_key": "AKIACASEDEFAULT00001",
        "secret_key": fingerprint("case-secret"),
        "token": None,
        "source": "shared-credentials-file",
    }
    assert result["alpha"] == {
        "access_key": "AKIACASEALPHA0000001",
        "secret_key": fingerprint("alpha-secret"),
        "token": None,
        "source": "shared-credentials-file",
    }
    # 96,000 calls; only the first ones and those after an invalidate (4
    # invalidating threads x 6 times, each followed by at most 32 refetches)
    # may cross into C.
    assert result["total"] == 96000
    assert 2 <= result["calls"] <= 2 + 4 * 6 * 32


def test_multiprocessing_fork_child_gets_credentials(home: Path) -> None:
    _write(home)
    result = run_child("child_cases.py", home, {}, ["fork_multiprocessing"])
    assert result["parent_first"] == "AKIACASEDEFAULT00001"
    assert result["child"] == {
        "cached": "AKIACASEDEFAULT00001",
        "library": "AKIACASEDEFAULT00001",
        "after_invalidate": "AKIACASEFORKCHILD003",
        "after_invalidate_source": "shared-credentials-file",
    }
    assert result["child_exitcode"] == 0
    assert result["parent_after"] == "AKIACASEFORKCHILD003"
    assert result["pool"] == ["AKIACASEFORKPOOL0004"]
