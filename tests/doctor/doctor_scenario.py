"""Scenario helpers for the `credchain doctor` / `credchain_diagnose` / `credchain demo` tests.

Every scenario runs the release binary (or the library, through ctypes) in a
subprocess with its own HOME and an environment stripped of every AWS_* and
BOTO_* variable, with AWS_EC2_METADATA_DISABLED=true unless the test is about
instance metadata: the library reads the real, process-wide environment, and
nothing may leave the machine.

Build first: `cargo build --release` (tests use target/release/credchain and
target/release/libcredchain.so; CREDCHAIN_BIN / CREDCHAIN_LIB_DIR override).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
LIB_DIR = Path(os.environ.get("CREDCHAIN_LIB_DIR", ROOT / "target" / "release"))
BIN = Path(os.environ.get("CREDCHAIN_BIN", LIB_DIR / "credchain"))
LIB = LIB_DIR / "libcredchain.so"

STRIP_PREFIXES = ("AWS_", "BOTO_")
STRIP_NAMES = {"HOME", "CREDCHAIN_LOG", "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
               "ALL_PROXY"}

# The AWS documentation's example key pair: fake, and recognisable.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MASKED_KEY = "****************MPLE"


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(STRIP_PREFIXES) and k not in STRIP_NAMES}


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def report(self) -> dict[str, Any]:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not JSON ({exc}); rc={self.rc}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}")

    @property
    def codes(self) -> list[str]:
        return [p["code"] for p in self.report["pitfalls"]]

    def pitfall(self, code: str) -> dict[str, Any]:
        found = [p for p in self.report["pitfalls"] if p["code"] == code]
        assert len(found) == 1, f"{code} found {len(found)} times in {self.codes}"
        return found[0]

    def source(self, name: str) -> dict[str, Any]:
        return next(s for s in self.report["sources"] if s["name"] == name)


class Scenario:
    """One throw-away HOME with its ~/.aws files and environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.aws = self.home / ".aws"
        self.aws.mkdir(parents=True)
        self.env = clean_environ()
        self.env["HOME"] = str(self.home)
        self.env["AWS_EC2_METADATA_DISABLED"] = "true"
        # No Boto2 file from /etc: every scenario sees only its own files.
        self.env["BOTO_CONFIG"] = str(root / "no-boto.cfg")

    @property
    def config_path(self) -> Path:
        return self.aws / "config"

    @property
    def credentials_path(self) -> Path:
        return self.aws / "credentials"

    def write_config(self, text: str, mode: int = 0o600) -> Path:
        self.config_path.write_text(text)
        self.config_path.chmod(mode)
        return self.config_path

    def write_credentials(self, text: str, mode: int = 0o600) -> Path:
        self.credentials_path.write_text(text)
        self.credentials_path.chmod(mode)
        return self.credentials_path

    def static_profile(self, name: str = "default", extra: str = "", mode: int = 0o600) -> None:
        self.write_credentials(
            f"[{name}]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n{extra}", mode
        )

    def script(self, relative: str, body: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    def run(self, *args: str, timeout: float = 60) -> Run:
        started = time.monotonic()
        done = subprocess.run([str(BIN), *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def doctor(self, *args: str) -> Run:
        return self.run("doctor", "--json", *args)

    def python(self, code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
