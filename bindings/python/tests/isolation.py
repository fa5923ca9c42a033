"""Run a piece of test code in its own process, HOME and environment.

The environment is process-wide and the library reads it (and the files under
HOME) for real, so every scenario runs in a fresh child process: a temporary
HOME, every AWS_* variable removed, AWS_EC2_METADATA_DISABLED=true (no packet
ever leaves the machine), BOTO_CONFIG removed, and only the variables the
scenario sets.  The child imports the same credchain package as the test
process and loads the library named by CREDCHAIN_LIBRARY (if set).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import credchain

HERE = Path(__file__).resolve().parent
PACKAGE_PARENT = str(Path(credchain.__file__).resolve().parent.parent)

# Variables of the test runner's environment that never reach a scenario.
_DROPPED_PREFIXES = ("AWS_",)
_DROPPED = {"BOTO_CONFIG", "HOME", "PYTHONPATH", "USERPROFILE"}


def fingerprint(secret: Optional[str]) -> Optional[str]:
    """A stable, non-reversible stand-in for a secret in test output."""
    if secret is None:
        return None
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def clean_env(home: Path, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED
    }
    env["HOME"] = str(home)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PYTHONPATH"] = os.pathsep.join([PACKAGE_PARENT, str(HERE)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


def write_files(home: Path, files: Mapping[str, str], substitutions: Mapping[str, str]) -> None:
    for relative, content in files.items():
        path = home / substitute(relative, substitutions)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(substitute(content, substitutions))
        if path.suffix == ".py":
            path.chmod(0o755)


def substitute(text: str, substitutions: Mapping[str, str]) -> str:
    for key, value in substitutions.items():
        text = text.replace("{" + key + "}", value)
    return text


def run_child(
    script: str,
    home: Path,
    env: Optional[Mapping[str, str]] = None,
    args: Optional[list] = None,
    timeout: float = 120.0,
) -> Any:
    """Run tests/<script> in a clean child; return the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, str(HERE / script), *(args or [])],
        env=clean_env(home, env),
        cwd=str(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        text=True,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{script} exited with {proc.returncode}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(f"{script} printed nothing\n--- stderr ---\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1])
