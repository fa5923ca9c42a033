"""`credchain serve`'s life: stopping on a signal, and `--exec -- CMD` (the interface: README, "Serving
processes that do not load the library"; "SPEC" in the messages below means that interface).

Every run has a hard bound; a server or command left behind is SIGKILLed
with its process group. Only 127.0.0.1 is spoken to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from raw_http import (AKID, CLI, SECRET, SESSION_TOKEN, TOKEN_RE, Conn, Server, Upstream, assert_serves,
                      build_request, headers, port_closed, run_bounded)

UNSET = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
         "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"]
REMOVED_NOTE = "credchain serve: removed from the command's environment:"


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path)


def exec_serve(upstream: Upstream, script: str, *args: object, env: dict[str, str] | None = None,
               timeout: float = 15.0):
    """`credchain serve --exec -- sh -c SCRIPT sh ARGS...`, bounded."""
    cmd = [CLI, "serve", "--exec", "--", "sh", "-c", script, "sh", *[str(a) for a in args]]
    return run_bounded(cmd, env or upstream.env, timeout=timeout)


def read_env_dump(path: Path) -> dict[str, str]:
    """`env -0` output as a dict."""
    out = {}
    for item in path.read_bytes().split(b"\0"):
        if item:
            k, _, v = item.decode("utf-8", "replace").partition("=")
            out[k] = v
    return out


# ---- signals ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_server_within_a_second(upstream: Upstream, sig: signal.Signals) -> None:
    """With an idle connection and a kept-alive one open (a graceful stop must not wait for them)."""
    srv = Server(upstream)
    idle = Conn(srv.port)
    busy = Conn(srv.port)
    try:
        assert_serves(srv, "start-up")
        resp = busy.exchange(build_request("GET", srv.path, headers(srv)))
        assert resp.status == 200, resp.show()
        token_dir = srv.token_file.parent
        rc, elapsed = srv.stop_with(sig, timeout=5)
    finally:
        idle.close()
        busy.close()
        srv.kill()
    assert rc == 0, f"{sig.name}: exit status {rc}, want 0\n{srv.describe()}"
    assert elapsed <= 1.0, f"{sig.name}: the server took {elapsed:.2f}s to exit (SPEC: within a second)"
    assert port_closed(srv.port), f"port {srv.port} still accepts connections after {sig.name}"
    assert not token_dir.exists(), f"{token_dir} survived {sig.name} (SPEC: the default token directory is " \
                                   f"removed on exit)"


def test_sighup_is_ignored(upstream: Upstream) -> None:
    """README: SIGHUP is ignored (a server started from a terminal survives its hang-up)."""
    srv = Server(upstream)
    try:
        assert_serves(srv, "start-up")
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert srv.alive(), f"SIGHUP ended the server\n{srv.describe()}"
        assert_serves(srv, "SIGHUP")
        rc, elapsed = srv.stop_with(signal.SIGTERM, timeout=5)
    finally:
        srv.kill()
    assert rc == 0 and elapsed <= 1.0, f"SIGTERM after SIGHUP: exit {rc} after {elapsed:.2f}s"


# ---- --exec: environment ---------------------------------------------------------------------------------------

def test_exec_sets_the_container_variables_and_removes_the_others(upstream: Upstream, tmp_path: Path) -> None:
    env = dict(upstream.env)
    planted = {
        "AWS_ACCESS_KEY_ID": "AKIDPLANTEDENV000001", "AWS_SECRET_ACCESS_KEY": "planted-env-secret",
        "AWS_SESSION_TOKEN": "planted-env-session-token", "AWS_SECURITY_TOKEN": "planted-env-session-token",
        "AWS_PROFILE": "serve", "AWS_DEFAULT_PROFILE": "serve", "AWS_ROLE_SESSION_NAME": "planted-session",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "planted-container-token",
    }
    env.update(planted)
    dump, token_copy = tmp_path / "env.dump", tmp_path / "token.copy"
    run = exec_serve(upstream, 'env -0 > "$1"; cat "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" > "$2"',
                     dump, token_copy, env=env)
    assert not run.timed_out and run.rc == 0, run.describe()
    child = read_env_dump(dump)
    uri = child.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/credentials", uri), \
        f"the command saw AWS_CONTAINER_CREDENTIALS_FULL_URI={uri!r}"
    assert child.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE unset"
    assert TOKEN_RE.fullmatch(token_copy.read_text()), f"the token file held {token_copy.read_bytes()!r}"
    leaked = {k: child[k] for k in UNSET if k in child}
    assert not leaked, f"the command still saw {sorted(leaked)}"
    for keep in ("AWS_REGION", "AWS_CONFIG_FILE", "HOME"):
        assert child.get(keep) == env[keep], f"{keep} was not passed through unchanged: {child.get(keep)!r}"
    notes = [ln for ln in run.stderr.splitlines() if REMOVED_NOTE in ln]
    assert len(notes) == 1, f"want one line {REMOVED_NOTE!r} on stderr, got {len(notes)}:\n{run.stderr}"
    named = {n.strip() for n in notes[0].split(REMOVED_NOTE, 1)[1].split(",") if n.strip()}
    assert named == set(planted), f"the note names {sorted(named)}, the removed variables were {sorted(planted)}"
    for value in planted.values():
        if value != "serve":
            assert value not in run.stderr, f"stderr carries the removed variable's value {value!r}"


def test_exec_without_such_variables_prints_no_note(upstream: Upstream, tmp_path: Path) -> None:
    assert not [k for k in UNSET if k in upstream.env]
    run = exec_serve(upstream, 'test -n "$AWS_CONTAINER_CREDENTIALS_FULL_URI"')
    assert not run.timed_out and run.rc == 0, run.describe()
    assert REMOVED_NOTE not in run.stderr and "removed from" not in run.stderr, \
        f"a removal note although nothing was removed:\n{run.stderr}"


# The command waits until the server's start-up warm-up has run the credential_process (the counter file, its
# last argument, is no longer empty): a first request racing the warm-up can stall (see raw_http.Server's `warm`
# and test_security.py's test_burst_of_requests_on_a_cold_cache_is_served).
WAIT_WARM = 'i=0; while [ ! -s "$4" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done; sleep 0.1; '

FETCH_PY = r"""
import json, os, sys, urllib.request
token = open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read()
req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], headers={"Authorization": token})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(req, timeout=5) as resp:
    json.dump({"status": resp.status, "body": json.loads(resp.read())}, open(sys.argv[1], "w"))
"""


def _check_served(doc: dict, upstream: Upstream, who: str) -> None:
    assert (doc.get("AccessKeyId"), doc.get("SecretAccessKey"), doc.get("Token")) == (AKID, SECRET, SESSION_TOKEN), \
        f"{who} fetched {doc}"
    assert doc.get("Expiration", "").startswith(upstream.expiration_text[:19]), \
        f"{who}: Expiration {doc.get('Expiration')!r}, the upstream said {upstream.expiration_text}"


def test_exec_command_fetches_with_python_urllib(upstream: Upstream, tmp_path: Path) -> None:
    script = tmp_path / "fetch.py"
    script.write_text(FETCH_PY)
    out = tmp_path / "fetched.json"
    run = exec_serve(upstream, WAIT_WARM + '"$1" "$2" "$3"', sys.executable, script, out, upstream.counter)
    assert not run.timed_out and run.rc == 0, run.describe()
    got = json.loads(out.read_text())
    assert got["status"] == 200, got
    _check_served(got["body"], upstream, "python urllib inside --exec")


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
def test_exec_command_fetches_with_curl(upstream: Upstream, tmp_path: Path) -> None:
    out = tmp_path / "fetched.json"
    run = exec_serve(upstream, WAIT_WARM.replace("$4", "$2") + 'curl -sS --fail --noproxy "*" --max-time 5 '
                               '-H "Authorization: $(cat "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")" '
                               '"$AWS_CONTAINER_CREDENTIALS_FULL_URI" > "$1"', out, upstream.counter)
    assert not run.timed_out and run.rc == 0, run.describe()
    _check_served(json.loads(out.read_text()), upstream, "curl inside --exec")


# ---- --exec: exit status and signals ----------------------------------------------------------------------------

@pytest.mark.parametrize("status", [0, 7, 255])
def test_exec_exit_status_propagates(upstream: Upstream, status: int) -> None:
    run = exec_serve(upstream, f"exit {status}")
    assert not run.timed_out and run.rc == status, f"the command exited {status}\n{run.describe()}"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGUSR1],
                         ids=["SIGKILL", "SIGTERM", "SIGINT", "SIGUSR1"])
def test_exec_child_killed_by_signal_is_128_plus_n(upstream: Upstream, sig: signal.Signals) -> None:
    """The child kills itself; a child that inherited a blocked or ignored signal would hang here instead."""
    run = exec_serve(upstream, f'kill -{sig.name[3:]} $$; sleep 5; exit 99', timeout=10)
    assert not run.timed_out and run.rc == 128 + sig, \
        f"the command died of {sig.name}: want exit {128 + sig}\n{run.describe()}"


TRAP = r'''
trap 'echo "got {name}" > "$1"; exit {code}' {short}
: > "$2"
while :; do sleep 0.05; done
'''


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_exec_forwards_signal_to_the_command(upstream: Upstream, tmp_path: Path, sig: signal.Signals) -> None:
    """The signal goes to credchain only; the command traps it, writes a marker, exits 20+N; credchain exits
    with that status."""
    import subprocess

    marker, ready, uri_file = tmp_path / "marker", tmp_path / "ready", tmp_path / "uri"
    code = 20 + int(sig)
    script = 'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > "$3"\n' + \
        TRAP.format(name=sig.name, code=code, short=sig.name[3:])
    cmd = [str(CLI), "serve", "--exec", "--", "sh", "-c", script, "sh", str(marker), str(ready), str(uri_file)]
    proc = subprocess.Popen(cmd, env=upstream.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert ready.exists(), f"the command never started (credchain rc={proc.poll()})"
        port = int(re.search(r":(\d+)/", uri_file.read_text()).group(1))
        t0 = time.monotonic()
        os.kill(proc.pid, sig)
        try:
            rc = proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        elapsed = time.monotonic() - t0
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    assert marker.exists(), f"{sig.name} to credchain never reached the command (no marker); credchain rc={rc}\n{err}"
    assert marker.read_text().strip() == f"got {sig.name}", marker.read_text()
    assert rc == code, f"the command exited {code} on {sig.name}; credchain exited {rc} after {elapsed:.2f}s\n{err}"
    assert elapsed <= 2.0, f"credchain took {elapsed:.2f}s to exit after forwarding {sig.name}"
    assert port_closed(port), f"port {port} still accepts connections after credchain exited"


def test_server_stops_when_the_command_exits(upstream: Upstream, tmp_path: Path) -> None:
    uri_file, status_file = tmp_path / "uri", tmp_path / "status"
    run = exec_serve(upstream, 'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > "$1"; '
                               'curl -s --noproxy "*" -o /dev/null -w "%{http_code}" --max-time 5 '
                               '"$AWS_CONTAINER_CREDENTIALS_FULL_URI" > "$2" || true; exit 3',
                     uri_file, status_file, timeout=10)
    assert not run.timed_out and run.rc == 3, run.describe()
    assert run.elapsed < 5, f"credchain took {run.elapsed:.1f}s for a command that exits at once"
    uri = uri_file.read_text().strip()
    port = int(re.search(r":(\d+)/", uri).group(1))
    if shutil.which("curl"):
        assert status_file.read_text() == "401", \
            f"while the command ran, a token-less GET {uri} got {status_file.read_text()!r}, want 401"
    assert port_closed(port), f"port {port} ({uri}) still accepts connections after the command exited"
