"""Item 7: configuration files that are not regular files.

AWS_CONFIG_FILE names a FIFO that nobody writes (open() and read() block for
ever), or a symlink to /dev/zero (read() never reaches the end; a reader
that slurps the file grows without bound). A host that points the variable
somewhere odd must get a clear error naming the file (INVALID_CONFIG),
within CREDCHAIN_TIMEOUT_MS (+1 s), with small memory, and the same process
must keep working afterwards: the host setenv()s AWS_CONFIG_FILE to a good
file on the calling thread, asks credchain to read the environment again
(credchain_reload_environment: the library never re-reads it on its own),
invalidates, and the next call succeeds.
credchain_diagnose and ``credchain doctor`` must finish within the timeout
too. The hosts run with RLIMIT_AS = 2 GiB so a runaway read aborts instead
of taking the machine down.
"""

from __future__ import annotations

import os
import resource

import pytest

from conftest import INVALID_CONFIG, OK, LiveHost, run_bounded

TIMEOUT_MS = 3000
AKID = "AKIDHOSTILEGOODCFG01"


def _limit_as() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.fixture(params=["fifo", "dev-zero"])
def odd(request, scn):
    bad = scn.root / f"config-{request.param}"
    if request.param == "fifo":
        os.mkfifo(bad)
    else:
        bad.symlink_to("/dev/zero")
    good = scn.root / "good-config"
    good.write_text(f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = good-secret-not-real\n")
    scn.env["AWS_CONFIG_FILE"] = str(bad)
    scn.env["CREDCHAIN_TIMEOUT_MS"] = str(TIMEOUT_MS)
    return scn, bad, good


def test_odd_config_file_is_a_clear_error_and_the_process_recovers(odd, programs):
    scn, bad, good = odd
    host = LiveHost([programs["host"], "limit-as:2048", "get", "rss", "diagnose", "rss",
                     f"setenv:AWS_CONFIG_FILE={good}", "reload", "invalidate", "get", "rss"], scn.env)
    try:
        first = host.next_op("get", timeout=TIMEOUT_MS / 1000 + 5)
        rss1 = host.next_op("rss", timeout=5)
        diag = host.next_op("diagnose", timeout=TIMEOUT_MS / 1000 + 5)
        host.next_op("rss", timeout=5)
        after = host.next_op("get", timeout=TIMEOUT_MS / 1000 + 5)
        rss = host.next_op("rss", timeout=5)
        host.next_op("done", timeout=5)
    finally:
        rc = host.close()
    print(f"first get: code {first['code']} after {first['ms']:.0f} ms: {first['message']!r}\n"
          f"rss after it: {rss1}\ndiagnose: code {diag['code']} after {diag['ms']:.0f} ms, {diag['json_len']} bytes\n"
          f"after setenv+invalidate: code {after['code']} ({after['akid']}); {rss}")
    assert rc == 0, f"host rc={rc}\n{host.stderr[-2000:]}"
    assert first["code"] == INVALID_CONFIG, first
    kind = "a FIFO" if bad.name == "config-fifo" else "a character device"
    assert first["message"] == f"{bad} is not a regular file (it is {kind})", first["message"]
    assert first["ms"] <= TIMEOUT_MS + 1000, first
    assert diag["ms"] <= TIMEOUT_MS + 1000, diag
    assert rss["vmhwm_kb"] < 200 * 1024, f"peak RSS {rss['vmhwm_kb']} kB"
    assert after["code"] == OK and after["akid"] == AKID, after


def test_doctor_on_odd_config_file_finishes(odd, cli):
    scn, bad, _ = odd
    run = run_bounded([cli, "doctor"], scn.env, timeout=TIMEOUT_MS / 1000 + 10, preexec_fn=_limit_as)
    print(run.describe())
    assert not run.timed_out and run.signal is None, run.describe()
    assert run.elapsed <= TIMEOUT_MS / 1000 + 2, f"doctor took {run.elapsed:.1f}s"
    assert str(bad) in run.stdout + run.stderr, "doctor does not name the odd file"
