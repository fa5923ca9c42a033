"""`scripts/build-release OUTDIR`, run once for this suite (tests/release)."""

from __future__ import annotations

import subprocess
import time

import pytest

from release_build import ROOT, Release


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    out = tmp_path_factory.mktemp("release")
    started = time.monotonic()
    result = subprocess.run([str(ROOT / "scripts" / "build-release"), str(out)], cwd=tmp_path_factory.getbasetemp(),
                            capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return Release(out, time.monotonic() - started, result.stdout + result.stderr)
