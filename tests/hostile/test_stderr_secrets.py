"""Item 6: a failing credential_process whose standard error carries secrets.

Tools behind credential_process print their environment or a shell trace
(``set -x``) on failure. The library may report that the process failed,
with its exit status and some of its words, but must never relay a secret,
and must bound what it relays (10 MB of stderr must not become a 10 MB error
message, log line or doctor report).

Two processes: one writes two secret-bearing lines and exits 1; the other
writes the same lines around 10 MB of other output and exits 1. Collected:
the C ABI's error message (credchain_get_credentials), every log message
(CREDCHAIN_LOG=trace on standard error of the host, and a log callback in a
second host), credchain_diagnose's JSON, and ``credchain doctor``,
``credchain doctor --json`` and ``credchain get`` (their standard output and
error). Must show: neither secret, nor any 16-character piece of one,
appears anywhere; error messages < 2 KiB, log messages < 4 KiB, doctor and
diagnose documents and the output of get < 64 KiB.
"""

from __future__ import annotations

import json

import pytest

from conftest import SOURCE_FAILED, run_bounded

PROFILE = "leaky"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY"
SECRET_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESECRETTOKENVALUE1234567890"
LEAK_LINES = (f"echo '+ export AWS_SECRET_ACCESS_KEY={SECRET_KEY}' >&2\n"
              f"echo 'token={SECRET_TOKEN}' >&2\n")
KIB = 1024


def _pieces(secret: str, n: int = 16) -> list[str]:
    return [secret[i:i + n] for i in range(len(secret) - n + 1)]


PIECES = _pieces(SECRET_KEY) + _pieces(SECRET_TOKEN)


def _leaks(text: str) -> list[str]:
    text = text.replace("\\/", "/")
    return sorted({p for p in PIECES if p in text})


@pytest.fixture(params=["two-lines", "10MB"])
def leaky(request, scn):
    if request.param == "two-lines":
        body = LEAK_LINES + "exit 1\n"
    else:
        body = (LEAK_LINES + "yes 'a line of diagnostic output from a tool that failed badly' | head -c 10485760 >&2\n"
                + LEAK_LINES + "exit 1\n")
    script = scn.script("leaky-process.sh", body)
    scn.config(f"[profile {PROFILE}]\ncredential_process = {script}\nregion = us-east-1\n")
    scn.env["CREDCHAIN_TIMEOUT_MS"] = "10000"
    return scn


def test_failing_process_stderr_never_leaks_secrets(leaky, programs, cli):
    scn = leaky
    outputs: dict[str, str] = {}
    problems: list[str] = []

    # 1. The C ABI with CREDCHAIN_LOG=trace: messages go to the host's standard error.
    env = {**scn.env, "CREDCHAIN_LOG": "trace"}
    run = run_bounded([programs["host"], f"get:{PROFILE}", f"invalidate:{PROFILE}", f"get:{PROFILE}",
                       f"diagnose:{PROFILE}"], env, timeout=60)
    assert not run.timed_out and run.rc == 0, run.describe()
    outputs["host (CREDCHAIN_LOG=trace) stdout"] = run.stdout
    outputs["host (CREDCHAIN_LOG=trace) stderr"] = run.stderr
    for line in run.stderr.splitlines():
        if len(line.encode()) >= 4 * KIB:
            problems.append(f"a log line on stderr of {len(line.encode())} bytes: {line[:200]!r}...")
    gets = [r for r in run.records() if r.get("op") == "get"]
    assert len(gets) == 2, run.describe()
    for rec in gets:
        assert rec["code"] == SOURCE_FAILED, rec
        outputs[f"C ABI error message ({rec['message_len']} bytes)"] = rec["message"] or ""
        if rec["message_len"] >= 2 * KIB:
            problems.append(f"C ABI error message of {rec['message_len']} bytes (limit 2 KiB)")
    diag = [r for r in run.records() if r.get("op") == "diagnose"][0]
    outputs["credchain_diagnose JSON"] = (diag["json"] or "") + (diag["message"] or "")
    if diag["json_len"] >= 64 * KIB:
        problems.append(f"credchain_diagnose JSON of {diag['json_len']} bytes (limit 64 KiB)")

    # 2. The C ABI with a log callback (TRACE).
    run = run_bounded([programs["host"], "logcb:5", f"get:{PROFILE}", f"invalidate:{PROFILE}", f"get:{PROFILE}",
                       f"diagnose:{PROFILE}", "logcb:0"], scn.env, timeout=60)
    assert not run.timed_out and run.rc == 0, run.describe()
    logs = [r for r in run.records() if "log" in r]
    outputs["log callback messages"] = "\n".join(r["msg"] or "" for r in logs)
    outputs["host (log callback) stderr"] = run.stderr
    for r in logs:
        if r["len"] >= 4 * KIB:
            problems.append(f"a log callback message of {r['len']} bytes (limit 4 KiB)")

    # 3. The command.
    for args, limit in ((["doctor", "--profile", PROFILE], 64 * KIB), (["doctor", "--profile", PROFILE, "--json"], 64 * KIB),
                        (["get", "--profile", PROFILE], 64 * KIB)):
        run = run_bounded([cli, *args], env, timeout=60)
        name = "credchain " + " ".join(args)
        assert not run.timed_out and run.signal is None, run.describe()
        outputs[f"{name} stdout"] = run.stdout
        outputs[f"{name} stderr"] = run.stderr
        if args[0] == "get":
            assert run.rc != 0, run.describe()
            size = len(run.stdout.encode()) + len(run.stderr.encode())
        else:
            size = len(run.stdout.encode())
        if size >= limit:
            problems.append(f"{name}: {size} bytes of output (limit {limit})")
        if "--json" in args:
            json.loads(run.stdout)  # still a document

    for name, text in outputs.items():
        found = _leaks(text)
        if found:
            problems.append(f"{name} leaks the secret (pieces {found[:3]}...)")
    for name, text in outputs.items():
        print(f"--- {name}: {len(text)} chars; head: {text[:300]!r}")
    assert not problems, "\n".join(problems)
