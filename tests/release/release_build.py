"""What the tests of `scripts/build-release` share: the names of what it
writes, how to read an ELF file's glibc floor, a HOME with static keys.
Measured times and sizes are printed (they show with pytest's output)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
_HEADER = (ROOT / "include" / "credchain.h").read_text()
ABI_MAJOR, ABI_MINOR = (re.search(rf"#define CREDCHAIN_ABI_{part} (\d+)", _HEADER)[1] for part in ("MAJOR", "MINOR"))
#: The installed library's file name: its SONAME's major, the ABI minor and
#: the package's patch (scripts/install).
LIBRARY_FILE = f"libcredchain.so.{ABI_MAJOR}.{ABI_MINOR}.{VERSION.split('.')[2]}"
MAX_GLIBC = (2, 17)
WHEEL = f"credchain-{VERSION}-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
SDIST = f"credchain-{VERSION}.tar.gz"
TARBALL_TOP = f"credchain-{VERSION}-x86_64-linux-gnu"
TARBALL = f"{TARBALL_TOP}.tar.gz"
JARS = [f"credchain-{VERSION}{classifier}.jar" for classifier in ("", "-sources", "-javadoc")]


class Release:
    """OUTDIR of one scripts/build-release run."""

    def __init__(self, out: Path, seconds: float, log: str) -> None:
        self.out = out
        self.seconds = seconds
        self.log = log
        self.wheel = out / WHEEL
        self.sdist = out / SDIST
        self.tarball = out / TARBALL
        self.jar = out / JARS[0]


def say(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n[release] {text}", flush=True)


def glibc_versions(path: Path) -> list[tuple[int, ...]]:
    """Every GLIBC_x.y symbol version PATH's dynamic symbols need, sorted."""
    objdump = shutil.which("objdump")
    assert objdump, "objdump (binutils) is needed"
    table = subprocess.run([objdump, "-T", str(path)], capture_output=True, text=True, check=True).stdout
    return sorted({tuple(int(part) for part in v.split(".")) for v in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", table)})


def assert_glibc_floor(path: Path, capsys: pytest.CaptureFixture[str], label: str) -> None:
    versions = glibc_versions(path)
    assert versions, f"{label}: no GLIBC_ symbol version at all: not a glibc binary?"
    highest = ".".join(map(str, versions[-1]))
    say(capsys, f"{label}: highest GLIBC_ symbol version {highest}")
    assert versions[-1] <= MAX_GLIBC, f"{label} needs GLIBC_{highest}"


def static_home(where: Path, key_id: str, secret: str) -> Path:
    """A HOME holding only static keys for the default profile."""
    (where / ".aws").mkdir(parents=True)
    (where / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    return where
