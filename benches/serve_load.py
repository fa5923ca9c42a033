#!/usr/bin/env python3
"""`credchain serve` under load: requests/s, latency and memory, against a peer.

    python3 benches/serve_load.py [--seconds 60] [--connections 50] [--lifetime 20] [--peer-seconds 20]
                                  [--cli target/release/credchain] [--no-peer]

(`benches/run serve` runs it.) 50 keep-alive connections hammer GET /credentials for 60 s. The load
client is C (benches/c/serve_load.c, built here into target/benches/serve_load with cc): a Python
client tops out at a few thousand requests/s on one core, well under what the server answers, so it
would measure itself. The server's upstream is a credential_process
(tests/fixtures/rotating_process.py) whose credentials live --lifetime seconds, so the background
refresh rotates them while the load runs.

Prints requests/s, latency p50/p99/max, errors (every answer must be a 200 with an AccessKeyId; the
count is printed, not asserted), the server's resident memory (VmRSS) when the load starts and when it
ends, its CPU time, and the same client against a peer: a minimal Python http.server answering a fixed
JSON body (no token, no Host check, no credentials cache), the floor a few lines of Python give.

Nothing leaves the machine: a throw-away HOME, AWS_EC2_METADATA_DISABLED=true, every AWS_* variable
removed, and the client only connects to 127.0.0.1. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT_SRC = ROOT / "benches" / "c" / "serve_load.c"
CLIENT = ROOT / "target" / "benches" / "serve_load"
PROCESS = ROOT / "tests" / "fixtures" / "rotating_process.py"
PEER_BODY = json.dumps({"AccessKeyId": "ASIAPEER000000000001", "SecretAccessKey": "peer-secret",
                        "Token": "peer-session-token", "Expiration": "2099-01-01T00:00:00Z"}).encode()


def build_client() -> Path:
    if CLIENT.exists() and CLIENT.stat().st_mtime >= CLIENT_SRC.stat().st_mtime:
        return CLIENT
    CLIENT.parent.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", str(CLIENT_SRC), "-o",
                    str(CLIENT)], check=True)
    return CLIENT


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def wait_ready(port: int, path: str, token: str | None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Authorization": token} if token else {})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
            last = f"HTTP {resp.status}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise SystemExit(f"serve_load: 127.0.0.1:{port}{path} never answered 200 ({last})")


def run_client(port: int, path: str, token_file: Path | None, connections: int, seconds: float) -> dict:
    cmd = [str(CLIENT), "--port", str(port), "--path", path, "--connections", str(connections),
           "--seconds", str(seconds)]
    if token_file is not None:
        cmd += ["--token-file", str(token_file)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise SystemExit(f"serve_load: the client failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(name: str, r: dict) -> None:
    rate = r["requests"] / r["seconds"]
    print(f"  {name}: {rate:,.0f} requests/s; latency p50 {r['p50_us'] / 1000:.2f} ms, p99 "
          f"{r['p99_us'] / 1000:.2f} ms, p99.9 {r['p999_us'] / 1000:.2f} ms, max {r['max_us'] / 1000:.1f} ms; "
          f"errors {r['errors']} of {r['requests']:,} requests"
          + (f" (first: {r['first_error']}; reconnects {r['reconnects']})" if r["errors"] else ""))


def credchain_run(args: argparse.Namespace, work: Path) -> dict:
    home, proc_dir, run_dir = work / "home", work / "proc", work / "run"
    for d in (home / ".aws", proc_dir, run_dir):
        d.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    shutil.copy(PROCESS, proc_dir / "creds.py")
    (proc_dir / "lifetime").write_text(str(args.lifetime))
    (proc_dir / "counter").write_text("")
    (home / ".aws" / "config").write_text(
        f"[default]\ncredential_process = {shlex.quote(sys.executable)} {shlex.quote(str(proc_dir / 'creds.py'))}\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true",
           "BOTO_CONFIG": str(work / "none"), "XDG_RUNTIME_DIR": str(run_dir), "AWS_REGION": "us-east-1"}
    stderr = open(work / "serve.stderr", "wb")
    server = subprocess.Popen([str(args.cli), "serve", "--print-env"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=stderr, text=True)
    exports: dict[str, str] = {}
    try:
        assert server.stdout is not None
        for line in server.stdout:
            words = shlex.split(line)
            if words and words[0] == "export":
                name, _, value = words[1].partition("=")
                exports[name] = value
            if words and words[0] == "unset":
                break
        uri = exports.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
        if not uri.startswith("http://127.0.0.1:"):
            raise SystemExit(f"serve_load: `credchain serve --print-env` printed {exports}; stderr:\n"
                             f"{(work / 'serve.stderr').read_text()[-2000:]}")
        port = int(uri.split(":")[2].split("/")[0])
        path = "/" + uri.split("/", 3)[3]
        token_file = Path(exports["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
        wait_ready(port, path, token_file.read_text())
        threading.Event().wait(0.2)
        start_mem, start_cpu = proc_status(server.pid), cpu_seconds(server.pid)
        result = run_client(port, path, token_file, args.connections, args.seconds)
        result["server_cpu_s"] = cpu_seconds(server.pid) - start_cpu
        result["mem_start"], result["mem_end"] = start_mem, proc_status(server.pid)
        result["server_threads"] = threads(server.pid)
        result["upstream_runs"] = (proc_dir / "counter").stat().st_size
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        stderr.close()
    result["server_rc"] = server.returncode
    return result


PEER_SERVER = r"""
import http.server, sys
body = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer.request_queue_size = 128  # the default 5 drops the burst of 50 connects
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""


def peer_run(args: argparse.Namespace) -> dict:
    peer = subprocess.Popen([sys.executable, "-c", PEER_SERVER, PEER_BODY.decode()], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        assert peer.stdout is not None
        port = int(peer.stdout.readline())
        wait_ready(port, "/credentials", None)
        start_mem, start_cpu = proc_status(peer.pid), cpu_seconds(peer.pid)
        result = run_client(port, "/credentials", None, args.connections, args.peer_seconds)
        result["server_cpu_s"] = cpu_seconds(peer.pid) - start_cpu
        result["mem_start"], result["mem_end"] = start_mem, proc_status(peer.pid)
    finally:
        peer.kill()
        peer.wait()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="load duration against credchain serve")
    ap.add_argument("--connections", type=int, default=50, help="keep-alive client connections")
    ap.add_argument("--lifetime", type=float, default=20.0, help="seconds the upstream's credentials live")
    ap.add_argument("--peer-seconds", type=float, default=20.0, help="load duration against the peer")
    ap.add_argument("--no-peer", action="store_true", help="skip the Python http.server peer")
    ap.add_argument("--cli", type=Path, default=Path(os.environ.get("CREDCHAIN_BIN", ROOT / "target" / "release" /
                                                                     "credchain")))
    args = ap.parse_args()
    if not args.cli.exists():
        raise SystemExit(f"serve_load: {args.cli} is missing (cargo build --release)")
    build_client()
    print(f"== credchain serve under load: {args.connections} keep-alive connections from a C client "
          f"(benches/c/serve_load.c), {args.seconds:g} s; credential_process credentials living {args.lifetime:g} s; "
          f"{os.cpu_count()} cores shared by client and server")
    with tempfile.TemporaryDirectory(prefix="credchain-serve-load-") as tmp:
        r = credchain_run(args, Path(tmp))
    show("credchain serve", r)
    ms, me = r["mem_start"], r["mem_end"]
    print(f"    server: VmRSS {ms['VmRSS'] / 1024:.1f} MiB at start, {me['VmRSS'] / 1024:.1f} MiB at end "
          f"(peak {me['VmHWM'] / 1024:.1f} MiB); CPU {r['server_cpu_s']:.1f} s in {r['seconds']:.1f} s "
          f"({r['server_threads']} threads); the client used {r['client_cpu_s']:.1f} s of CPU")
    print(f"    access keys served: {r['distinct_keys']}; upstream runs of the credential_process: "
          f"{r['upstream_runs']}; server exit status on SIGTERM: {r['server_rc']}")
    if args.no_peer:
        return
    p = peer_run(args)
    show("peer: Python http.server, fixed JSON", p)
    print(f"    peer: VmRSS {p['mem_start']['VmRSS'] / 1024:.1f} MiB at start, {p['mem_end']['VmRSS'] / 1024:.1f} MiB "
          f"at end; CPU {p['server_cpu_s']:.1f} s in {p['seconds']:.1f} s")
    rate, peer_rate = r["requests"] / r["seconds"], p["requests"] / p["seconds"]
    print(f"  ratio: credchain serve answers {rate / peer_rate:.1f}x the peer's requests/s, at "
          f"{r['p99_us'] / max(p['p99_us'], 1):.2f}x its p99 latency")


if __name__ == "__main__":
    main()
