"""The release tarball of `scripts/build-release`, as a C project downloads
and uses it: unpacked somewhere else than where it was built, found with
pkg-config (its credchain.pc finds the prefix from its own place) and with
CMake's find_package(credchain), against the shared and the static
library, each program run without LD_LIBRARY_PATH printing the keys of a
test HOME. Every ELF file in it needs glibc 2.17 at most."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tarfile
from pathlib import Path

import pytest

from release_build import (ABI_MAJOR, LIBRARY_FILE, ROOT, TARBALL, TARBALL_TOP, VERSION, Release, assert_glibc_floor,
                           say, static_home)

CONSUMER = ROOT / "tests" / "install" / "consumer.c"
CMAKE_PROJECT = ROOT / "tests" / "install" / "cmake"
SONAME = f"libcredchain.so.{ABI_MAJOR}"
KEY_ID = "AKIDTARBALLSTATIC"


def run(cmd: list[str | Path], **kw) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert result.returncode == 0, f"{shlex.join(map(str, cmd))} failed ({result.returncode}):\n" \
                                   f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def prefix(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball unpacked into a directory it has never been in."""
    where = tmp_path_factory.mktemp("downloaded") / "elsewhere"
    where.mkdir()
    with tarfile.open(release.tarball) as tar:
        tar.extractall(where, filter="tar")
    return where / TARBALL_TOP


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CREDCHAIN_")) and k not in ("LD_LIBRARY_PATH", "LD_PRELOAD")}
    env["HOME"] = str(static_home(tmp_path / "home", KEY_ID, "tarball-secret"))
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def tool_env(prefix: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKG_CONFIG") and k != "CMAKE_PREFIX_PATH"}
    env["PKG_CONFIG_PATH"] = str(prefix / "lib" / "pkgconfig")
    return env


def assert_prints_keys(program: Path, env: dict[str, str]) -> None:
    result = subprocess.run([str(program)], env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"shared-credentials-file {KEY_ID}\n", ""), result


def assert_loads_from(program: Path, prefix: Path) -> None:
    ldd = run(["ldd", program]).stdout
    loaded = re.search(rf"^\s*{re.escape(SONAME)} => (\S.*?) \(0x", ldd, re.M)
    assert loaded, ldd
    assert Path(loaded[1]).resolve() == (prefix / "lib" / LIBRARY_FILE).resolve(), ldd


def test_members_are_one_directory_owned_by_root(release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    with tarfile.open(release.tarball) as tar:
        members = tar.getmembers()
    assert {m.name.split("/")[0] for m in members} == {TARBALL_TOP}
    assert {(m.uid, m.gid) for m in members} == {(0, 0)}
    say(capsys, f"{TARBALL}: {release.tarball.stat().st_size / 1e6:.1f} MB, "
                + ", ".join(f"{m.name[len(TARBALL_TOP) + 1:]} {m.size / 1e6:.1f} MB"
                            for m in members if m.isfile() and m.size > 1_000_000))


def test_layout(prefix: Path) -> None:
    lib = prefix / "lib"
    assert sorted(p.name for p in prefix.iterdir()) == ["LICENSE", "bin", "include", "lib"]
    assert sorted(p.name for p in lib.iterdir()) == sorted(
        ["cmake", "pkgconfig", "libcredchain.a", "libcredchain.so", SONAME, LIBRARY_FILE])
    assert os.readlink(lib / "libcredchain.so") == SONAME
    assert os.readlink(lib / SONAME) == LIBRARY_FILE
    assert "Library soname: [libcredchain.so.1]" in run(["readelf", "-d", lib / LIBRARY_FILE]).stdout
    assert (prefix / "include" / "credchain.h").read_text() == (ROOT / "include" / "credchain.h").read_text()
    assert (prefix / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    pc = (lib / "pkgconfig" / "credchain.pc").read_text()
    assert "prefix=${pcfiledir}/../..\n" in pc, pc


@pytest.mark.parametrize("inside", [f"lib/{LIBRARY_FILE}", "bin/credchain"])
def test_no_glibc_symbol_above_2_17(prefix: Path, inside: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert_glibc_floor(prefix / inside, capsys, f"tarball: {inside}")


def test_static_library_has_no_debug_information_or_bitcode(prefix: Path) -> None:
    sections = run(["readelf", "-S", "-W", prefix / "lib" / "libcredchain.a"]).stdout
    assert " .text" in sections
    assert not re.search(r" \.(debug_\w+|llvmbc|llvmcmd) ", sections), "the static library carries debug or bitcode"


def test_pkg_config_program_from_the_moved_prefix(prefix: Path, home: dict[str, str], tmp_path: Path) -> None:
    flags = shlex.split(run(["pkg-config", "--cflags", "--libs", "credchain"], env=tool_env(prefix)).stdout)
    program = tmp_path / "consumer"
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", CONSUMER, "-o", program, *flags])
    assert f"Shared library: [{SONAME}]" in run(["readelf", "-d", program]).stdout
    assert_loads_from(program, prefix)
    assert_prints_keys(program, home)


def test_pkg_config_static_program(prefix: Path, home: dict[str, str], tmp_path: Path) -> None:
    env = tool_env(prefix)
    program = tmp_path / "consumer_static"
    cflags = shlex.split(run(["pkg-config", "--cflags", "credchain"], env=env).stdout)
    libs = shlex.split(run(["pkg-config", "--static", "--libs", "credchain"], env=env).stdout)
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", CONSUMER, "-o", program, *cflags,
         "-Wl,-Bstatic", *libs])
    assert "libcredchain" not in run(["readelf", "-d", program]).stdout
    assert_prints_keys(program, home)


def test_cmake_find_package_programs(prefix: Path, home: dict[str, str], tmp_path: Path) -> None:
    build = tmp_path / "build"
    env = tool_env(prefix)
    configured = run(["cmake", "-S", CMAKE_PROJECT, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}"], env=env)
    assert f"-- find_package(credchain {VERSION}): found TRUE" in configured.stdout, configured.stdout
    run(["cmake", "--build", build], env=env)
    assert_loads_from(build / "consumer", prefix)
    assert_prints_keys(build / "consumer", home)
    assert "libcredchain" not in run(["readelf", "-d", build / "consumer_static"]).stdout
    assert_prints_keys(build / "consumer_static", home)


def test_command_runs(prefix: Path, home: dict[str, str]) -> None:
    result = subprocess.run([str(prefix / "bin" / "credchain"), "--version"], env=home, capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"credchain {VERSION}\n", "")
