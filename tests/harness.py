"""Scenario harness: one temp HOME, its files and environment, the C probe and botocore.

Each scenario runs the probe (tests/c/probe.c, through the C ABI) as a
subprocess with its own HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE,
an environment stripped of every AWS_* (and BOTO_*, proxy) variable, IMDS
disabled unless a test points it at a loopback server, and AWS_REGION set.
The same scenario runs botocore (boto_probe.py) for the differential check.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BOTO_PROBE = HERE / "boto_probe.py"
LIB_DIR = Path(os.environ.get("CREDCHAIN_LIB_DIR", ROOT / "target" / "release"))
PROBE = Path(os.environ.get("CREDCHAIN_PROBE", ROOT / "target" / "c-tests" / "probe"))

# Codes from credchain.h
OK, INVALID_ARGUMENT, NO_CREDENTIALS, PROFILE_NOT_FOUND, PARTIAL_CREDENTIALS = 0, 1, 2, 3, 4
SOURCE_FAILED, TIMEOUT, INTERNAL, INVALID_CONFIG = 5, 6, 7, 8

REGION = "us-east-1"
STRIP_PREFIXES = ("AWS_", "BOTO_")
STRIP_NAMES = {"HOME", "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
               "no_proxy", "NO_PROXY"}


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(STRIP_PREFIXES) and k not in STRIP_NAMES}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_probe() -> Path:
    """Build target/c-tests/probe from tests/c/probe.c when it is missing or older than its inputs."""
    if "CREDCHAIN_PROBE" in os.environ:  # a probe built elsewhere: use it as it is
        if not PROBE.exists():
            raise FileNotFoundError(f"CREDCHAIN_PROBE={PROBE} does not exist")
        return PROBE
    src = ROOT / "tests" / "c" / "probe.c"
    lib = LIB_DIR / "libcredchain.so"
    if not lib.exists():
        raise FileNotFoundError(f"{lib} is missing: run `cargo build --release` first")
    if not src.exists() and not PROBE.exists():
        raise FileNotFoundError(f"{src} is missing")
    inputs = [p for p in (src, lib) if p.exists()]
    if PROBE.exists() and all(PROBE.stat().st_mtime >= p.stat().st_mtime for p in inputs):
        return PROBE
    if not src.exists():
        return PROBE
    PROBE.parent.mkdir(parents=True, exist_ok=True)
    link_soname(LIB_DIR)
    cmd = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}", str(src),
           f"-L{LIB_DIR}", "-lcredchain", f"-Wl,-rpath,{LIB_DIR}", "-lpthread", "-o", str(PROBE)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return PROBE


def link_soname(lib_dir: Path) -> None:
    """Creates the SONAME link (libcredchain.so.1) that programs linked with
    -lcredchain look for when they start."""
    subprocess.run([str(ROOT / "scripts" / "soname-link"), str(lib_dir)], check=True)


@dataclass
class ProbeRun:
    records: list[dict[str, Any]]
    rc: int | None
    stderr: str
    wall: float  # seconds, whole process

    @property
    def last(self) -> dict[str, Any]:
        assert self.records, f"probe printed nothing (rc={self.rc}); stderr:\n{self.stderr[-2000:]}"
        return self.records[-1]

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("ok")]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if not r.get("ok")]

    def keys(self) -> list[str]:
        """Distinct access key ids, in the order callers first saw them."""
        seen: dict[str, None] = {}
        for r in self.ok:
            seen.setdefault(r["access_key_id"], None)
        return list(seen)


class LiveProbe:
    """A probe running in the background; every line is stamped with its arrival time (``t``).

    The probe runs under ``stdbuf -oL`` so that each JSON line arrives when
    it is printed.
    """

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.started = time.time()
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.records: list[dict[str, Any]] = []
        self.noise: list[str] = []
        self._lock = threading.Lock()
        self._stderr: list[str] = []
        self._out = threading.Thread(target=self._read, daemon=True)
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._out.start()
        self._err.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.time()
            try:
                rec = json.loads(line)
            except ValueError:
                self.noise.append(line)
                continue
            rec["t"] = now
            with self._lock:
                self.records.append(rec)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def snapshot(self, since: float = 0.0) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.records if r["t"] >= since]

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float, since: float = 0.0) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for r in self.snapshot(since):
                if pred(r):
                    return r
            if self.proc.poll() is not None and not self._out.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no probe record matched within {timeout}s; last: {self.snapshot()[-3:]}"
                             f"\nstderr: {''.join(self._stderr)[-2000:]}")

    def finish(self, timeout: float = 120.0) -> ProbeRun:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        self._out.join(5)
        self._err.join(5)
        return ProbeRun(self.snapshot(), self.proc.returncode, "".join(self._stderr), time.time() - self.started)

    def stop(self) -> ProbeRun:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.join(5)
        self._err.join(5)
        return ProbeRun(self.snapshot(), self.proc.returncode, "".join(self._stderr), time.time() - self.started)


class Scenario:
    """One isolated HOME with its AWS files and environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.aws = self.home / ".aws"
        self.aws.mkdir(parents=True, exist_ok=True)
        self.config_file = self.aws / "config"
        self.credentials_file = self.aws / "credentials"
        self.env = clean_environ()
        self.env.update({
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": REGION,
            # Boto2 config: point it at a file that does not exist, so /etc/boto.cfg is not read.
            "BOTO_CONFIG": str(self.home / "no-boto-config"),
            "NO_PROXY": "127.0.0.1,localhost",
        })

    # ---- files ----------------------------------------------------------
    def write(self, rel: str, text: str) -> Path:
        path = self.home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def config(self, text: str) -> None:
        self.config_file.write_text(text)

    def credentials(self, text: str) -> None:
        self.credentials_file.write_text(text)

    def sso_token(self, cache_key: str, access_token: str, start_url: str, expires_in: float = 8 * 3600,
                  **extra: Any) -> Path:
        """~/.aws/sso/cache/<sha1(cache_key)>.json, as `aws sso login` writes it."""
        name = hashlib.sha1(cache_key.encode("utf-8")).hexdigest() + ".json"
        doc = {"startUrl": start_url, "region": REGION, "accessToken": access_token,
               "expiresAt": iso(time.time() + expires_in), **extra}
        return self.write(f".aws/sso/cache/{name}", json.dumps(doc))

    # ---- endpoints ------------------------------------------------------
    def use_imds(self, url: str) -> None:
        self.env.pop("AWS_EC2_METADATA_DISABLED", None)
        self.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = url

    def use_sts(self, url: str) -> None:
        self.env["AWS_ENDPOINT_URL_STS"] = url

    def use_sso(self, url: str) -> None:
        self.env["AWS_ENDPOINT_URL_SSO"] = url

    # ---- runs -----------------------------------------------------------
    def probe_cmd(self, profile: str | None = None, repeat: int | None = None, interval_ms: int | None = None,
                  threads: int | None = None, invalidate_first: bool = False) -> list[str]:
        cmd = [str(PROBE)]
        if profile is not None:
            cmd += ["--profile", profile]
        if repeat is not None:
            cmd += ["--repeat", str(repeat)]
        if interval_ms is not None:
            cmd += ["--interval-ms", str(interval_ms)]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        if invalidate_first:
            cmd.append("--invalidate-first")
        stdbuf = shutil.which("stdbuf")
        return ([stdbuf, "-oL"] if stdbuf else []) + cmd

    def probe(self, profile: str | None = None, timeout: float = 60.0, **kw: Any) -> ProbeRun:
        live = LiveProbe(self.probe_cmd(profile, **kw), self.env)
        return live.finish(timeout)

    def start_probe(self, profile: str | None = None, **kw: Any) -> LiveProbe:
        return LiveProbe(self.probe_cmd(profile, **kw), self.env)

    def botocore(self, profile: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
        # botocore reads AWS_DEFAULT_REGION, not AWS_REGION (which credchain, like the newer SDKs, reads).
        env = {**self.env, "AWS_DEFAULT_REGION": self.env.get("AWS_REGION", REGION)}
        # No terminal: botocore's MFA prompt must fail at once, never wait.
        out = subprocess.run([sys.executable, str(BOTO_PROBE), profile or ""], env=env, capture_output=True,
                             stdin=subprocess.DEVNULL, text=True, timeout=timeout)
        try:
            return json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"ok": False, "error": f"boto_probe rc={out.returncode}: {out.stderr[-1500:]}"}


def assert_creds(rec: dict[str, Any], source: str, creds: dict[str, Any] | None = None, *,
                 token: bool = True, expiring: bool = True) -> None:
    """A successful probe record from ``source`` carrying exactly ``creds`` (a KeyMinter entry)."""
    assert rec.get("ok") is True, f"expected success from {source}, got {rec}"
    assert rec["source"] == source, rec
    if creds is not None:
        assert rec["access_key_id"] == creds["access_key_id"], rec
        assert rec["secret_access_key"] == creds["secret_access_key"], rec
        assert rec["session_token"] == creds["session_token"], rec
        assert rec["expiration"] == creds["expiration"], (rec, creds)
    if token:
        assert rec["session_token"], rec
    if expiring:
        assert rec["expiration"] > rec.get("t", time.time()), f"past-expiry credentials returned: {rec}"


def assert_failure(rec: dict[str, Any], source: str, codes: Iterable[int], words: Iterable[str] = ()) -> None:
    """A failed probe record: code in ``codes``; message names ``source`` and carries each of ``words``."""
    codes = tuple(codes)
    assert rec.get("ok") is False, f"expected a failure naming {source}, got success {rec}"
    assert rec["code"] in codes, f"code {rec['code']} not in {codes}: {rec}"
    msg = rec.get("message") or ""
    assert source in msg, f"message does not name source {source!r}: {msg!r}"
    for word in words:
        assert word.lower() in msg.lower(), f"message lacks {word!r}: {msg!r}"


def assert_botocore_agrees(scn: Scenario, method: str, profile: str | None = None) -> dict[str, Any]:
    ref = scn.botocore(profile)
    assert ref.get("ok"), f"botocore failed on the same scenario: {ref}"
    assert ref["method"] == method, f"botocore says {ref['method']!r}, credchain {method!r}"
    return ref
