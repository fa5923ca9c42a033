"""The AWS Advanced Python Wrapper's IAM authentication signs with credchain.

Runs the wrapper's own IamAuthPlugin.connect -> AwsCredentialsManager.get_session
-> IamAuthUtils.generate_authentication_token path (only the database connect
is replaced by a function), after credchain.aws_wrapper.install().
"""

from __future__ import annotations

from pathlib import Path

import pytest

from isolation import run_child

pytest.importorskip("aws_advanced_python_wrapper")


def test_wrapper_iam_token_uses_credchain_credentials(home: Path) -> None:
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
        "aws_session_token = case-token/with+chars=\n"
    )
    result = run_child("child_cases.py", home, {}, ["aws_wrapper_iam"])
    ok = {"prefix_ok": True, "credential_scope_ok": True, "token_ok": True, "signed": True}
    assert result == {
        "installed": True,
        "uninstalled": True,
        "session_method": "shared-credentials-file",
        "access_key_1": "AKIACASEDEFAULT00001",
        "access_key_2": "AKIACASEROTATED00002",
        "token_1": ok,
        "token_2": ok,
    }
