"""`credchain demo`: short-lived fake credentials rotate under four readers,
one upstream fetch per rotation, no errors, nothing left behind."""

from __future__ import annotations

import re
from pathlib import Path

from doctor_scenario import Scenario

ROTATION = re.compile(r"^\s+\+\s*[\d.]+ s  \d\d:\d\d:\d\d UTC  rotation (\d+): access key \*{10}(\d{4}) ")
FIRST = re.compile(r"^\s+\+\s*[\d.]+ s  \d\d:\d\d:\d\d UTC  first credentials: access key \*{10}0001 ")


def summary_value(stdout: str, label: str) -> int:
    match = re.search(rf"^  {label}\s+(\d+)", stdout, re.MULTILINE)
    assert match, f"no '{label}' in the summary:\n{stdout}"
    return int(match.group(1))


def test_demo_shows_at_least_three_rotations_one_fetch_each(scn: Scenario) -> None:
    run = scn.run("demo", "--seconds", "35", timeout=120)
    out = run.stdout
    assert run.rc == 0, f"{out}\n{run.stderr}"
    assert 35 <= run.seconds < 60
    lines = out.splitlines()
    assert sum(1 for line in lines if FIRST.match(line)) == 1
    rotations = [ROTATION.match(line) for line in lines]
    rotations = [(int(m.group(1)), int(m.group(2))) for m in rotations if m]
    assert len(rotations) >= 3, out
    # Rotation n serves key n+1: every fetch produced a key that was served.
    assert rotations == [(n, n + 1) for n in range(1, len(rotations) + 1)]
    assert summary_value(out, "rotations seen") == len(rotations)
    assert summary_value(out, "upstream fetches") == len(rotations) + 1
    assert summary_value(out, "errors") == 0
    assert summary_value(out, "calls served") > 1000
    # The library's own refresh messages went through the log sink.
    assert "library info: credentials for profile (default) now come from custom-process" in out
    # The doctor's report of the demo configuration, then the demo's own result.
    assert "winner: custom-process" in out
    assert out.rstrip().endswith("result: OK (exit 0)\n\ndemo result: OK (exit 0)")
    # No fake secret or token is ever printed.
    assert "demo-secret" not in out and "demo-session-token" not in out
    # The throw-away HOME is gone.
    config = Path(next(line.strip() for line in lines if line.strip().endswith("/home/.aws/config")))
    assert not config.exists() and not config.parent.parent.parent.exists()


def test_mint_fake_counts_its_fetches(scn: Scenario) -> None:
    counter = scn.root / "fetches"
    first = scn.run("__mint-fake", "--lifetime", "10", "--counter-file", str(counter))
    second = scn.run("__mint-fake", "--lifetime", "10", "--counter-file", str(counter))
    assert first.rc == 0 and second.rc == 0
    assert '"AccessKeyId":"ASIADEMO000001"' in first.stdout
    assert '"AccessKeyId":"ASIADEMO000002"' in second.stdout
    assert '"Version":1' in first.stdout and '"Expiration":"' in first.stdout
    assert counter.read_text() == "2\n"
