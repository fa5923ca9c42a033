"""One credchain per process, however many copies of the library are
loaded: two files of the same build dlopen'ed side by side, a C driver
linked against one copy beside the Python package's bundled copy (in both
orders), a fork, and two copies that cannot share (another ABI major).

The credential source is a credential_process that counts its runs, so
"one chain" is measured as "one run" (and one run per invalidation).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from harness import link_soname

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LIBRARY = Path(os.environ.get("CREDCHAIN_LIB_DIR", ROOT / "target" / "release")) / "libcredchain.so"
VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]

COUNTING_PROCESS = r"""#!/bin/sh
# Counts its runs; each run mints the next access key.
count_file="$(dirname "$0")/runs"
n=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$count_file"
printf '{"Version": 1, "AccessKeyId": "ASIAMINT%04d", "SecretAccessKey": "secret-%d", "SessionToken": "token-%d", "Expiration": "2099-01-01T00:00:00Z"}\n' "$n" "$n" "$n"
"""


def counting_home(tmp_path: Path) -> Path:
    """A HOME whose default profile runs the counting process."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    script = home / "mint.sh"
    script.write_text(COUNTING_PROCESS)
    script.chmod(0o700)
    (home / ".aws" / "config").write_text(f"[default]\ncredential_process = {script}\n")
    (home / ".aws" / "config").chmod(0o600)
    return home


def runs(home: Path) -> int:
    count = home / "runs"
    return int(count.read_text()) if count.exists() else 0


def clean_env(home: Path, **extra: str) -> dict:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}
    env.update(extra)
    return env


def compile_c(source: Path, output: Path, *flags: str) -> Path:
    command = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", f"-I{ROOT / 'include'}",
               str(source), "-o", str(output), *flags]
    subprocess.run(command, check=True)
    return output


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The host program, the driver library, and a second file of the same
    library build (as a second vendor would ship it)."""
    out = tmp_path_factory.mktemp("copies")
    link_soname(LIBRARY.parent)
    host = compile_c(HERE / "two_copies.c", out / "two_copies", "-ldl", "-lpthread")
    driver = compile_c(HERE / "driver.c", out / "libdriver.so", "-shared", "-fPIC",
                       f"-L{LIBRARY.parent}", f"-Wl,-rpath,{LIBRARY.parent}", "-lcredchain")
    second = out / "vendor-b" / "libcredchain.so"
    second.parent.mkdir()
    shutil.copy2(LIBRARY, second)
    return {"host": host, "driver": driver, "a": LIBRARY, "b": second}


def host(build: dict, tmp_path: Path, *args: str, valgrind: bool = False, a=None, b=None, **env):
    home = counting_home(tmp_path)
    command = [str(build["host"]), str(a or build["a"]), str(b or build["b"]), *args]
    if valgrind:
        command = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--trace-children=no", "-q", *command]
    result = subprocess.run(command, env=clean_env(home, **env), capture_output=True, text=True, timeout=600)
    return result, home


def test_eight_threads_racing_first_calls_through_two_copies_fetch_once(build: dict, tmp_path: Path) -> None:
    for repetition in range(100):
        result, home = host(build, tmp_path / str(repetition), "race", "1")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["key", "race", "ASIAMINT0001"]
        assert runs(home) == 1, f"repetition {repetition}: the process ran {runs(home)} times"


def test_a_copy_opened_into_the_global_scope_first_does_not_take_over_the_second(build: dict,
                                                                                  tmp_path: Path) -> None:
    # Without -Bsymbolic, copy B's references to its own identity bound to
    # copy A's exports (in the global scope): B took A's table for its own,
    # served, and the process ran twice.
    result, home = host(build, tmp_path, "race", "3", CREDCHAIN_TEST_FIRST_GLOBAL="1")
    assert result.returncode == 0, result.stderr
    assert re.findall(r"key race (\S+)", result.stdout) == ["ASIAMINT0001", "ASIAMINT0002", "ASIAMINT0003"]
    assert runs(home) == 3


def test_each_invalidation_through_either_copy_is_one_fetch_for_both(build: dict, tmp_path: Path) -> None:
    result, home = host(build, tmp_path, "race", "20")
    assert result.returncode == 0, result.stderr
    keys = re.findall(r"key race (\S+)", result.stdout)
    assert keys == [f"ASIAMINT{n:04d}" for n in range(1, 21)]
    assert runs(home) == 20


def test_two_copies_under_valgrind(build: dict, tmp_path: Path) -> None:
    # 100 rounds of 8 threads through both copies, each after an invalidation.
    result, home = host(build, tmp_path, "race", "100", valgrind=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.findall(r"key race (\S+)", result.stdout) == [f"ASIAMINT{n:04d}" for n in range(1, 101)]
    assert runs(home) == 100


def test_after_fork_the_child_still_has_one_serving_copy(build: dict, tmp_path: Path) -> None:
    result, home = host(build, tmp_path, "fork")
    assert result.returncode == 0, result.stderr
    lines = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())
    assert lines["parent key A"] == lines["parent key B"] == "ASIAMINT0001"
    assert lines["child key A"] == lines["child key B"] == "ASIAMINT0001", "the child carries the parent's"
    assert lines["child-after-invalidate key A"] == lines["child-after-invalidate key B"] == "ASIAMINT0002"
    assert runs(home) == 2


def test_the_diagnosis_lists_both_copies_and_which_one_serves(build: dict, tmp_path: Path) -> None:
    result, _ = host(build, tmp_path, "diagnose")
    assert result.returncode == 0, result.stderr
    copies = json.loads(result.stdout)["library_copies"]
    assert [(c["path"], c["abi"], c["serving"]) for c in copies] == [
        (str(build["a"]), "1.2", True),
        (str(build["b"]), "1.2", False),
    ]


def build_variant(out: Path, **variables: str) -> Path:
    """The library built with test-only build variables (the ABI it claims),
    copied to `out`. Only the C ABI crate reads them, so cargo rebuilds that
    small crate alone, in the normal target directory, and then once more
    without them, leaving target/release as it was."""
    if LIBRARY.parent != ROOT / "target" / "release":
        pytest.skip("variants are built in this repository's target/release")
    command = ["cargo", "build", "--release", "--locked", "--package", "credchain", "--lib"]
    try:
        subprocess.run(command, cwd=ROOT, env=dict(os.environ, **variables), check=True, capture_output=True,
                       timeout=1800)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(LIBRARY, out)
    finally:
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=1800)
    return out


@pytest.fixture(scope="module")
def other_major(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library built with ABI major 2: a copy that must not share."""
    return build_variant(tmp_path_factory.mktemp("abi2") / "libcredchain.so", CREDCHAIN_TEST_ABI_MAJOR="2")


@pytest.fixture(scope="module")
def older_minor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library playing a 1.0 copy: its copy table ends before the
    functions ABI 1.1 added, as a real 1.0 copy's does."""
    return build_variant(tmp_path_factory.mktemp("abi1.0") / "libcredchain.so", CREDCHAIN_TEST_ABI_MINOR="0")


def test_a_newer_copy_forwarding_to_an_older_one_gets_a_clear_error_for_what_it_lacks(
        build: dict, older_minor: Path, tmp_path: Path) -> None:
    result, home = host(build, tmp_path, "newer", a=older_minor)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Copy A (1.0) serves; its own fingerprint export forwards nowhere.
    assert lines[0] == "fingerprint A ok tok-" + hashlib.sha256(b"a-token").hexdigest()[:16]
    # Copy B (1.2) forwards to A, whose table lacks the slot: CREDCHAIN_UNSUPPORTED (9), both copies named.
    assert lines[1] == (
        f"fingerprint B 9 9 credchain_token_fingerprint is not available: the copy of libcredchain that serves "
        f"this process, {older_minor} (version {VERSION}, ABI 1.0), predates it; this copy, {build['b']} "
        f"(version {VERSION}, ABI 1.2), forwards every call to the serving one so that the process keeps one "
        f"cache. Load the newer copy first, or update the older one")
    # Everything 1.0 has is still shared: one cache, one run.
    assert lines[2:] == ["newer key A ASIAMINT0001", "newer key B ASIAMINT0001"]
    assert runs(home) == 1


def test_an_older_copy_forwarding_to_a_newer_one_shares_everything(build: dict, older_minor: Path,
                                                                   tmp_path: Path) -> None:
    result, home = host(build, tmp_path, "newer", b=older_minor)
    assert result.returncode == 0, result.stderr
    fingerprint = "tok-" + hashlib.sha256(b"a-token").hexdigest()[:16]
    assert result.stdout.splitlines() == [f"fingerprint A ok {fingerprint}", f"fingerprint B ok {fingerprint}",
                                          "newer key A ASIAMINT0001", "newer key B ASIAMINT0001"]
    assert runs(home) == 1


def test_copies_of_another_abi_major_keep_apart_and_say_so_once(build: dict, other_major: Path,
                                                                  tmp_path: Path) -> None:
    result, home = host(build, tmp_path, "apart", b=other_major, CREDCHAIN_LOG="warn")
    assert result.returncode == 0, result.stderr
    keys = re.findall(r"apart key [AB] (\S+)", result.stdout)
    assert sorted(keys) == ["ASIAMINT0001", "ASIAMINT0002"], "two caches: two runs, two keys"
    assert runs(home) == 3, "one run per cache, and the diagnosis's own (it fetches without the cache)"
    warnings = [line for line in result.stderr.splitlines() if "cannot share one cache" in line]
    assert len(warnings) == 1, result.stderr
    assert str(build["a"]) in warnings[0] and str(other_major) in warnings[0]
    assert "(ABI 1.2" in warnings[0] and "(ABI 2.2" in warnings[0]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert [(c["path"], c["abi"], c["serving"]) for c in report["library_copies"]] == [
        (str(build["a"]), "1.2", True),
        (str(other_major), "2.2", True),
    ]


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install ./bindings/python` in a fresh virtual environment: the
    package with its own bundled copy of the library."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    build_env = {k: v for k, v in os.environ.items() if k != "CREDCHAIN_LIBRARY"}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(ROOT / "bindings" / "python")], env=build_env, check=True, capture_output=True, timeout=1800)
    return python


PYTHON_AND_DRIVER = r"""
import ctypes, sys
order = sys.argv[2]
def load_driver():
    driver = ctypes.CDLL(sys.argv[1])
    driver.driver_access_key.restype = ctypes.c_char_p
    return driver
if order == "python-first":
    import credchain
    python_key = credchain.get_credentials().access_key
    driver = load_driver()
else:
    driver = load_driver()
    driver_first = driver.driver_access_key().decode()
    import credchain
    python_key = credchain.get_credentials().access_key
print("python", python_key)
print("driver", driver.driver_access_key().decode())
assert driver.driver_invalidate() == 0
print("python-after", credchain.get_credentials().access_key)
print("driver-after", driver.driver_access_key().decode())
print("bundled", credchain.library_path())

# Three subscribers in one process: Python's logger (the binding's own
# subscription), the driver's C subscriber, and a second one made here.
import logging
from credchain import _api, _ffi, _logging
python_messages = []
class Capture(logging.Handler):
    def emit(self, record):
        python_messages.append(record.getMessage())
logger = logging.getLogger("credchain")
logger.addHandler(Capture())
logger.setLevel(logging.INFO)
_logging.set_level(_api.library())
assert driver.driver_subscribe() == 0
third_messages = []
third = _ffi.LOG_SUBSCRIBER(lambda level, message, userdata: third_messages.append(ctypes.string_at(message).decode()))
handle = ctypes.c_uint64(0)
assert _api.library().cdll.credchain_log_subscribe(_ffi.LOG_INFO, third, None, ctypes.byref(handle), None) == 0
def refreshes(messages):
    return sum("now come from" in m for m in messages)
def refresh():
    assert driver.driver_invalidate() == 0
    driver.driver_access_key()
refresh()
print("logs-all", refreshes(python_messages), driver.driver_log_count(), refreshes(third_messages))
_logging._detach()  # what the binding's exit handler does
refresh()
print("logs-after-python-left", refreshes(python_messages), driver.driver_log_count(), refreshes(third_messages))
assert driver.driver_unsubscribe() == 0
refresh()
print("logs-after-driver-left", refreshes(python_messages), driver.driver_log_count(), refreshes(third_messages))
"""


@pytest.mark.parametrize("order", ["python-first", "driver-first"])
def test_the_python_package_and_a_c_driver_share_one_chain(build: dict, installed_python: Path, tmp_path: Path,
                                                            order: str) -> None:
    home = counting_home(tmp_path)
    result = subprocess.run([str(installed_python), "-c", PYTHON_AND_DRIVER, str(build["driver"]), order],
                            env=clean_env(home), capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    seen = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert str(installed_python.parent.parent) in seen["bundled"], "the package's own copy, not the tree's"
    assert seen["python"] == seen["driver"] == "ASIAMINT0001"
    assert seen["python-after"] == seen["driver-after"] == "ASIAMINT0002"
    # Each subscriber hears each refresh once; one leaving silences only itself.
    assert seen["logs-all"] == "1 1 1"
    assert seen["logs-after-python-left"] == "1 2 2"
    assert seen["logs-after-driver-left"] == "1 2 3"
    assert runs(home) == 5, "one run, then one per invalidation by the driver"
