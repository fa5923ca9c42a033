"""`pip install ./bindings/python` in a fresh virtual environment builds the
Rust library, bundles it, and works without CREDCHAIN_LIBRARY: the
README's promise, run for real (it compiles the crate, so it is slow; set
CREDCHAIN_SKIP_PIP_INSTALL_TEST=1 to skip it while iterating)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(os.environ.get("CREDCHAIN_SKIP_PIP_INSTALL_TEST") == "1", reason="asked to skip")
def test_pip_install_bundles_the_library(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    build_env = {k: v for k, v in os.environ.items() if k != "CREDCHAIN_LIBRARY"}
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              str(ROOT / "bindings" / "python") + "[boto3]"],
                             env=build_env, capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stderr[-4000:]
    home = tmp_path / "home"
    home.mkdir()
    run_env = {"PATH": os.environ["PATH"], "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ACCESS_KEY_ID": "AKIDPIPINSTALL", "AWS_SECRET_ACCESS_KEY": "pip-secret"}
    source = subprocess.run([str(python), "-c", "import credchain; print(credchain.get_credentials().source)"],
                            env=run_env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert source.returncode == 0, source.stderr
    assert source.stdout.strip() == "env"
    same = subprocess.run([str(python), "-c", (
        "import credchain\n"
        "c = credchain.boto3_session(region_name='us-east-1').get_credentials().get_frozen_credentials()\n"
        "print(c.access_key, c.secret_key == 'pip-secret')\n"
        "print(credchain.library_path())\n")],
        env=run_env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert same.returncode == 0, same.stderr
    key, secret_matches, library = same.stdout.split()
    assert (key, secret_matches) == ("AKIDPIPINSTALL", "True")
    assert str(env_dir) in library, "the bundled copy, not a library from the source tree"
