"""Round 3, item 8: a host that ran out of file descriptors.

Out of descriptors (EMFILE), the library cannot start its runtime or a child: that is not a bug, so
it must not say INTERNAL ("credchain bug") or print a Rust panic on the host's standard error. It is
CREDCHAIN_EXHAUSTED (10, ABI 1.2) with a message naming what ran out, and the next call after the
host released descriptors succeeds.
"""

from __future__ import annotations

from conftest import EXHAUSTED, OK, STATIC_AKID, STATIC_SECRET, run_bounded


def test_out_of_descriptors_is_exhausted_then_recovers(scn, programs):
    scn.credentials(f"[default]\naws_access_key_id = {STATIC_AKID}\naws_secret_access_key = {STATIC_SECRET}\n")
    run = run_bounded([programs["host"], "exhaust-fds", "get", "release-fds", "get"], scn.env, timeout=30)
    assert run.rc == 0, run.describe()
    held = [r for r in run.records() if r.get("op") == "exhaust-fds"][0]
    first, second = [r for r in run.records() if r.get("op") == "get"]
    print(f"held {held['held']} descriptors; first: {first['code']} {first['message']!r}; after release: "
          f"{second['code']}; stderr: {run.stderr!r}")
    assert first["code"] == EXHAUSTED, first
    assert first["message"].startswith("the library's runtime (one thread, an epoll and an event descriptor) "
                                       "could not start: Too many open files (os error 24)"), first
    assert second["code"] == OK and second["akid"] == STATIC_AKID, second
    assert run.stderr == "", f"the library wrote on the host's standard error: {run.stderr!r}"


def test_out_of_descriptors_when_reading_the_files_names_the_file(scn, programs):
    script = scn.script("answer.sh", f"printf '{{\"Version\": 1, \"AccessKeyId\": \"{STATIC_AKID}\", "
                                     f"\"SecretAccessKey\": \"{STATIC_SECRET}\"}}'\n")
    scn.config(f"[profile proc]\ncredential_process = {script}\n[profile warm]\naws_access_key_id = {STATIC_AKID}\n"
               f"aws_secret_access_key = {STATIC_SECRET}\n")
    # The runtime is started first (a call for another profile), so reading the files is what fails.
    run = run_bounded([programs["host"], "get:warm", "exhaust-fds", "get:proc", "release-fds", "get:proc"], scn.env,
                      timeout=30)
    assert run.rc == 0, run.describe()
    warm, first, second = [r for r in run.records() if r.get("op") == "get"]
    print(f"first: {first['code']} {first['message']!r}; after release: {second['code']}; stderr: {run.stderr!r}")
    assert warm["code"] == OK, warm
    assert first["code"] == EXHAUSTED, first
    assert first["message"] == f"{scn.config_file} cannot be opened (Too many open files (os error 24))", first
    assert second["code"] == OK, second
    assert run.stderr == "", f"the library wrote on the host's standard error: {run.stderr!r}"
