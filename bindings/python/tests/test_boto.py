"""botocore RefreshableCredentials and boto3 Session backed by credchain."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolation import fingerprint, run_child

pytest.importorskip("boto3")

CREDS = (
    "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
    "[alpha]\naws_access_key_id = AKIACASEALPHA0000001\naws_secret_access_key = alpha-secret\n"
)
CONFIG = "[profile alpha]\nregion = eu-central-1\n"


def _write(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(CREDS)
    (home / ".aws" / "config").write_text(CONFIG)


def test_botocore_refreshable_credentials_follow_credchain(home: Path) -> None:
    _write(home)
    result = run_child("child_cases.py", home, {}, ["botocore_adapter"])
    assert result == {
        "is_refreshable": True,
        "method1": "shared-credentials-file",
        "first": ["AKIACASEDEFAULT00001", fingerprint("case-secret"), None],
        "method2": "shared-credentials-file",
        "second": ["AKIACASEROTATED00002", fingerprint("rotated-secret"), fingerprint("rotated-token")],
        "refresh_using": "AKIACASEROTATED00002",
        "expiry": True,
    }


def test_boto3_session_signs_with_credchain(home: Path) -> None:
    _write(home)
    result = run_child("child_cases.py", home, {}, ["boto3_session_adapter"])
    assert result == {
        "region": "us-west-2",
        "method": "shared-credentials-file",
        "access_key": "AKIACASEDEFAULT00001",
        "secret_key": fingerprint("case-secret"),
        "url_has_key": True,
        "alpha_region": "eu-central-1",
        "alpha_profile": "alpha",
        "alpha_access_key": "AKIACASEALPHA0000001",
    }


def test_boto3_session_without_credentials(home: Path) -> None:
    result = run_child("child_cases.py", home, {}, ["boto3_session_no_credentials"])
    assert result == {"credentials": True}
