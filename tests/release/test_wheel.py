"""The Python wheel and sdist of `scripts/build-release` (written by
scripts/build-wheel, which build-release runs): a wheel that installs
where database clients run, and an sdist that builds from source.

* auditwheel tags the wheel manylinux_2_17 (manylinux2014) x86_64;
* neither the bundled library nor the bundled credchain program needs a
  glibc symbol version above 2.17 (objdump -T);
* in a fresh virtual environment whose PATH has no cargo, the wheel
  installs with pip --no-index, and the `credchain` console script,
  `python -m credchain` and `import credchain` all work;
* the sdist carries the Rust crate, and `pip wheel` of it compiles the crate
  (into the repository's target/ so that only the credchain crate itself
  compiles; CREDCHAIN_SKIP_PIP_INSTALL_TEST=1 skips that part)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from release_build import ROOT, VERSION, WHEEL, Release, assert_glibc_floor, say, static_home

AUDITWHEEL = ROOT / "target" / "wheel-tools" / "venv" / "bin" / "auditwheel"
KEY_ID = "AKIDWHEELSTATIC"
LIBRARY = "credchain/libcredchain.abi3.so"
PROGRAM = "credchain/_bin/credchain"

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64", reason="the wheel is built for x86_64 Linux")


@pytest.fixture(scope="module")
def unpacked(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(release.wheel) as wheel:
        wheel.extractall(where)
    return where


def fresh_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(where)
    return where


def clean_env(env_dir: Path, home: Path) -> dict[str, str]:
    """PATH with the venv and the system's directories only (no cargo, no
    rustup), a HOME of the test's, no AWS_* or CREDCHAIN_* variable."""
    return {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "AWS_EC2_METADATA_DISABLED": "true"}


def test_wheel_name_and_auditwheel_show(release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    assert release.wheel.name == WHEEL
    show = subprocess.run([str(AUDITWHEEL), "show", str(release.wheel)], capture_output=True, text=True, check=True)
    text = " ".join(show.stdout.split())
    assert 'is consistent with the following platform tag: "manylinux_2_17_x86_64"' in text, show.stdout
    say(capsys, f"wheel {release.wheel.stat().st_size / 1e6:.1f} MB ({release.wheel.name}), "
                f"sdist {release.sdist.stat().st_size / 1e3:.0f} kB")
    say(capsys, "auditwheel show: " + text.split(" This constrains")[0])


@pytest.mark.parametrize("inside", [LIBRARY, PROGRAM])
def test_no_glibc_symbol_above_2_17(unpacked: Path, inside: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert_glibc_floor(unpacked / inside, capsys, f"wheel: {inside}")


def test_program_is_executable_in_the_wheel(release: Release) -> None:
    with zipfile.ZipFile(release.wheel) as wheel:
        mode = wheel.getinfo(PROGRAM).external_attr >> 16
    assert mode & 0o111, oct(mode)


@pytest.fixture(scope="module")
def installed(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = fresh_venv(tmp_path_factory.mktemp("venv"))
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-index", str(release.wheel)], check=True, capture_output=True, timeout=300)
    return env_dir


@pytest.fixture()
def run_env(installed: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = clean_env(installed, static_home(tmp_path / "home", KEY_ID, "wheel-secret"))
    assert shutil.which("cargo", path=env["PATH"]) is None, "cargo must not be on the PATH of the installed package"
    assert shutil.which("rustc", path=env["PATH"]) is None
    yield env


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_console_script_version(run_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["credchain", "--version"], run_env, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"credchain {VERSION}\n", "")


def test_python_m_credchain_version(run_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["python", "-m", "credchain", "--version"], run_env, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"credchain {VERSION}\n", "")


def test_console_script_passes_arguments_and_exit_status(run_env: dict[str, str], tmp_path: Path) -> None:
    got = run(["credchain", "get", "--format", "env"], run_env, tmp_path)
    assert got.returncode == 0, got.stderr
    assert f"AWS_ACCESS_KEY_ID='{KEY_ID}'" in got.stdout
    usage = run(["credchain", "no-such-command"], run_env, tmp_path)
    assert usage.returncode == 2 and "unknown command: no-such-command" in usage.stderr, usage


def test_import_resolves_static_keys_with_the_bundled_library(
        installed: Path, run_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["python", "-c", "import credchain; print(credchain.get_credentials().access_key); "
                                  "print(credchain.library_path())"], run_env, tmp_path)
    assert result.returncode == 0, result.stderr
    key, library = result.stdout.split()
    assert key == KEY_ID
    assert Path(library).resolve().is_relative_to(installed.resolve()), library


def test_missing_program_is_named(run_env: dict[str, str], tmp_path: Path) -> None:
    result = run(["python", "-c", "import credchain._cli as cli, pathlib\n"
                                  "cli.program_path = lambda: pathlib.Path('/nonexistent/credchain')\n"
                                  "cli.main()"], run_env, tmp_path)
    assert result.returncode == 127
    assert "/nonexistent/credchain is missing or not executable" in result.stderr


def test_sdist_carries_the_crate(release: Release) -> None:
    top = release.sdist.name[:-len(".tar.gz")]
    with tarfile.open(release.sdist) as sdist:
        names = {name[len(top) + 1:] for name in sdist.getnames()}
    for needed in ["pyproject.toml", "setup.py", "PKG-INFO", "src/credchain/__init__.py", "src/credchain/_cli.py",
                   "rust/Cargo.toml", "rust/Cargo.lock", "rust/build.rs", "rust/cbindgen.toml",
                   "rust/src/lib.rs", "rust/core/Cargo.toml", "rust/core/src/lib.rs",
                   "rust/command/Cargo.toml", "rust/command/src/main.rs"]:
        assert needed in names, needed
    crate_sources = {p.relative_to(ROOT).as_posix() for crate in ("src", "core", "command")
                     for p in (ROOT / crate).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert {"rust/" + s for s in crate_sources} <= names, "every file of the workspace's three crates"
    assert not [n for n in names if n.endswith((".so", ".whl")) or "/target/" in n or n.startswith("rust/target")]


@pytest.mark.skipif(os.environ.get("CREDCHAIN_SKIP_PIP_INSTALL_TEST") == "1", reason="asked to skip")
def test_sdist_builds_from_source(release: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pip builds a wheel from the sdist with cargo (setuptools-rust). The
    repository's target/ serves as CARGO_TARGET_DIR, so only the credchain
    crate compiles (the dependencies are those of `cargo build --release`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDCHAIN_")}
    env["CARGO_TARGET_DIR"] = str(ROOT / "target")
    started = time.monotonic()
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                            "-w", str(tmp_path / "wheels"), str(release.sdist)],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    assert build.returncode == 0, (build.stdout + build.stderr)[-6000:]
    wheel = next((tmp_path / "wheels").glob("credchain-*.whl"))
    say(capsys, f"pip wheel of the sdist (from source, target/ reused): {seconds:.0f} s, {wheel.name}")
    with zipfile.ZipFile(wheel) as contents:
        assert {LIBRARY, PROGRAM} <= set(contents.namelist())
    env_dir = fresh_venv(tmp_path / "venv")
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    run_env = clean_env(env_dir, static_home(tmp_path / "home", KEY_ID, "wheel-secret"))
    version = run(["credchain", "--version"], run_env, tmp_path)
    assert (version.returncode, version.stdout) == (0, f"credchain {VERSION}\n"), version.stderr
    key = run(["python", "-c", "import credchain; print(credchain.get_credentials().access_key)"], run_env, tmp_path)
    assert (key.returncode, key.stdout.strip()) == (0, KEY_ID), key.stderr
