"""credchain.diagnose(): the doctor's report as a dict, through the C ABI."""

from __future__ import annotations

from pathlib import Path

import pytest

from isolation import run_child

CHILD = r'''
import json, credchain
print(json.dumps(credchain.diagnose()))
'''


def test_diagnose_reports_the_winner_and_the_pitfall_without_secrets(home: Path) -> None:
    (home / "child_diagnose.py").write_text(CHILD)
    env = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE12345678", "AWS_SECRET_ACCESS_KEY": "diagnose-secret",
           "AWS_SESSION_TOKEN": "diagnose-token"}
    report = run_child(str(home / "child_diagnose.py"), home, env)
    assert report["schema_version"] == 1
    assert report["winner"] == "env"
    assert [p["code"] for p in report["pitfalls"]] == ["env-temporary-credentials"]
    assert report["credentials"]["access_key_id"] == "***************5678"
    text = repr(report)
    assert "diagnose-secret" not in text and "diagnose-token" not in text and "ASIAEXAMPLE12345678" not in text


def test_diagnose_rejects_a_non_string_profile() -> None:
    import credchain
    with pytest.raises(TypeError, match="profile must be a str or None, not int"):
        credchain.diagnose(3)  # type: ignore[arg-type]
