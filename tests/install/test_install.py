"""scripts/install as C projects consume it: one install into a temporary
prefix, then the versioned shared library and its SONAME, a C program built
with pkg-config and one built with CMake's find_package(credchain), each
against the shared and the static library, each run without LD_LIBRARY_PATH
and printing the credentials of a test HOME, and the installed command.

The install reuses target/release when it is up to date (cargo decides)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import Scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INSTALL = ROOT / "scripts" / "install"
CONSUMER = HERE / "consumer.c"
CMAKE_PROJECT = HERE / "cmake"

KEY = "AKIDINSTALLTEST"
EXPECTED = f"shared-credentials-file {KEY}\n"


def versions() -> dict[str, str]:
    """The crate's version (Cargo.toml) and the C ABI's (src/types.rs)."""
    cargo = (ROOT / "Cargo.toml").read_text()
    package = cargo.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    version = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"$', package, re.M)
    types = (ROOT / "src" / "types.rs").read_text()
    abi = {part: re.search(rf"^pub const CREDCHAIN_ABI_{part}: u32 = (\d+);$", types, re.M)[1]
           for part in ("MAJOR", "MINOR")}
    assert version and abi["MAJOR"] and abi["MINOR"]
    return {"version": ".".join(version.groups()), "patch": version[3], "abi_major": abi["MAJOR"],
            "abi_minor": abi["MINOR"]}


V = versions()
SONAME = f"libcredchain.so.{V['abi_major']}"
LIBRARY_FILE = f"{SONAME}.{V['abi_minor']}.{V['patch']}"


def run(cmd: list[str | Path], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    assert result.returncode == 0, f"{shlex.join(map(str, cmd))} failed ({result.returncode}):\n" \
                                   f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def tool_env(prefix: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKG_CONFIG")}
    env["PKG_CONFIG_PATH"] = str(prefix / "lib" / "pkgconfig")
    return env


def pkg_config(prefix: Path, *args: str) -> list[str]:
    return shlex.split(run(["pkg-config", *args, "credchain"], env=tool_env(prefix)).stdout)


def dynamic_section(program: Path) -> str:
    return run(["readelf", "-d", program]).stdout


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The install, once: into a prefix that does not exist yet."""
    for tool in ("cc", "pkg-config", "cmake", "readelf", "nm"):
        assert shutil.which(tool), f"{tool} is required for these tests"
    prefix = tmp_path_factory.mktemp("install") / "prefix"
    result = run([INSTALL, "--prefix", prefix], timeout=3600, cwd=ROOT)
    assert f"install: credchain {V['version']} (C ABI {V['abi_major']}.{V['abi_minor']}) in {prefix}:" \
        in result.stdout, result.stdout
    return prefix


@pytest.fixture
def home(tmp_path: Path) -> Scenario:
    """A test HOME with static keys in ~/.aws/credentials; no LD_LIBRARY_PATH, no CREDCHAIN_* settings."""
    scn = Scenario(tmp_path)
    scn.credentials(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = install-secret\n")
    for name in list(scn.env):
        if name in ("LD_LIBRARY_PATH", "LD_PRELOAD") or name.startswith("CREDCHAIN_"):
            del scn.env[name]
    return scn


def assert_prints_credentials(program: Path, home: Scenario) -> None:
    result = subprocess.run([str(program)], env=home.env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, EXPECTED, ""), result


def assert_linked_shared(program: Path, prefix: Path) -> None:
    dynamic = dynamic_section(program)
    assert f"Shared library: [{SONAME}]" in dynamic, dynamic
    assert re.search(rf"\((RUNPATH|RPATH)\).*\[{re.escape(str(prefix / 'lib'))}\]", dynamic), dynamic
    ldd = run(["ldd", program]).stdout
    assert f"{SONAME} => {prefix / 'lib' / SONAME} " in ldd, ldd


def assert_linked_static(program: Path) -> None:
    dynamic = dynamic_section(program)
    assert "libcredchain" not in dynamic, dynamic
    # Its copy of the library is visible to any other copy in the process.
    exported = run(["nm", "-D", "--defined-only", program]).stdout
    assert re.search(r"\bT credchain_copy_identity$", exported, re.M), exported


def test_layout_symlinks_and_soname(prefix: Path) -> None:
    lib = prefix / "lib"
    assert sorted(p.name for p in prefix.iterdir()) == ["bin", "include", "lib"]
    assert sorted(p.name for p in lib.iterdir()) == sorted(
        ["cmake", "pkgconfig", "libcredchain.a", "libcredchain.so", SONAME, LIBRARY_FILE])
    assert os.readlink(lib / "libcredchain.so") == SONAME
    assert os.readlink(lib / SONAME) == LIBRARY_FILE
    assert (lib / LIBRARY_FILE).is_file() and not (lib / LIBRARY_FILE).is_symlink()
    assert "(SONAME)             Library soname: [libcredchain.so.1]" in dynamic_section(lib / LIBRARY_FILE)
    assert SONAME == "libcredchain.so.1"
    assert (lib / "libcredchain.a").read_bytes()[:8] == b"!<arch>\n"
    assert (prefix / "include" / "credchain.h").read_text() == (ROOT / "include" / "credchain.h").read_text()
    assert sorted(p.name for p in (lib / "cmake" / "credchain").iterdir()) == [
        "credchain-config-version.cmake", "credchain-config.cmake"]
    assert [p.name for p in (prefix / "bin").iterdir()] == ["credchain"]
    assert pkg_config(prefix, "--modversion") == [V["version"]]


def test_pkg_config_program_runs_without_ld_library_path(prefix: Path, home: Scenario, tmp_path: Path) -> None:
    program = tmp_path / "consumer"
    flags = pkg_config(prefix, "--cflags", "--libs")
    assert flags == [f"-I{prefix}/include", f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib", "-lcredchain"]
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", CONSUMER, "-o", program, *flags])
    assert_linked_shared(program, prefix)
    assert_prints_credentials(program, home)


def test_pkg_config_static_program(prefix: Path, home: Scenario, tmp_path: Path) -> None:
    program = tmp_path / "consumer_static"
    static = pkg_config(prefix, "--static", "--libs")
    assert static == [f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib", "-lcredchain",
                      "-Wl,--export-dynamic-symbol=credchain_copy_identity", "-Wl,-Bdynamic",
                      *(ROOT / "packaging" / "native-static-libs").read_text().split()]
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", CONSUMER, "-o", program,
         *pkg_config(prefix, "--cflags"), "-Wl,-Bstatic", *static])
    assert_linked_static(program)
    assert_prints_credentials(program, home)


@pytest.fixture(scope="module")
def cmake_build(prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/install/cmake configured with -DCMAKE_PREFIX_PATH=prefix and built (both programs)."""
    build = tmp_path_factory.mktemp("cmake-build")
    env = {k: v for k, v in os.environ.items() if k not in ("CMAKE_PREFIX_PATH", "credchain_DIR")}
    configured = run(["cmake", "-S", CMAKE_PROJECT, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}"], env=env)
    # version-checks.cmake fails the configuration unless the version file answers as SameMajorVersion.
    assert f"-- find_package(credchain {V['version']}): found TRUE" in configured.stdout, configured.stdout
    run(["cmake", "--build", build], env=env)
    return build


def test_cmake_find_package_program(prefix: Path, cmake_build: Path, home: Scenario) -> None:
    program = cmake_build / "consumer"
    assert_linked_shared(program, prefix)
    assert_prints_credentials(program, home)


def test_cmake_static_target_program(cmake_build: Path, home: Scenario) -> None:
    program = cmake_build / "consumer_static"
    assert_linked_static(program)
    assert_prints_credentials(program, home)


def test_installed_command(prefix: Path, home: Scenario) -> None:
    result = subprocess.run([str(prefix / "bin" / "credchain"), "version"], env=home.env, capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"credchain {V['version']}\n", "")


def test_destdir_stages_for_the_final_prefix(prefix: Path, tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    run([INSTALL, "--prefix", "/opt/credchain"], env={**os.environ, "DESTDIR": str(stage)}, timeout=3600, cwd=ROOT)
    assert (stage / "opt" / "credchain" / "lib" / LIBRARY_FILE).is_file()
    pc = (stage / "opt" / "credchain" / "lib" / "pkgconfig" / "credchain.pc").read_text()
    assert "prefix=/opt/credchain\n" in pc, pc


def test_usage_errors() -> None:
    missing = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=30)
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == "install: --prefix DIR is required (see --help)\n"
    usage = run([INSTALL, "--help"])
    assert "scripts/install --prefix DIR" in usage.stdout
