"""Build and run the SDK clients of tests/serve/clients/ (and examples/serve_client.rs).

Each client is a program `CLIENT SECONDS INTERVAL` that loops for SECONDS,
asking its SDK's credentials provider (made once) every INTERVAL seconds,
and prints one JSON line per iteration: {"t", "access_key_id", "expiration"}
(unix seconds; expiration may be null) or {"t", "error"}.

`prepare(name)` builds one (cached where it can be) and returns a Prepared
with the command prefix, what it did and how long it took;
`ClientRun` runs one in the background and collects its lines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serving import finish

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "clients"
ROOT = HERE.parents[1]
BUILD = ROOT / "target" / "serve-clients"
POM = ROOT / "bindings" / "java" / "pom.xml"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.11.0"

NAMES = ["botocore", "java", "node", "go", "rust"]


@dataclass
class Prepared:
    name: str
    cmd: list[str]            # prefix; SECONDS and INTERVAL are appended
    did: str                  # what preparing it did ("go build", "cached", ...)
    seconds: float            # how long preparing it took
    env: dict[str, str] = field(default_factory=dict)  # extra variables the tool itself needs


class PrepareError(AssertionError):
    pass


def _run(cmd: list[str], cwd: Path, what: str, timeout: float, env: dict[str, str] | None = None) -> None:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, **(env or {})})
    except FileNotFoundError as exc:
        raise PrepareError(f"{what}: {cmd[0]} is not installed ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise PrepareError(f"{what}: `{' '.join(cmd)}` took over {timeout} s") from exc
    if out.returncode != 0:
        raise PrepareError(f"{what}: `{' '.join(cmd)}` exited {out.returncode}\nstdout:\n{out.stdout[-3000:]}"
                           f"\nstderr:\n{out.stderr[-3000:]}")


def _newer(target: Path, *sources: Path) -> bool:
    """target exists and is at least as new as every source."""
    return target.exists() and all(target.stat().st_mtime >= s.stat().st_mtime for s in sources if s.exists())


def _tool(name: str) -> str:
    """The tool on PATH, or where this kind of machine installs it (/usr/local/go/bin)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/local/go/bin")
    if path is None:
        raise PrepareError(f"`{name}` is not installed (not on PATH)")
    return path


def prepare_botocore() -> Prepared:
    start = time.time()
    _run([sys.executable, "-c", "import botocore"], HERE, "botocore", 60)
    return Prepared("botocore", [sys.executable, str(CLIENTS / "python" / "client.py")], "import check",
                    time.time() - start)


def prepare_java() -> Prepared:
    """The SDK's jars from bindings/java/pom.xml's dependencies (the `auth` module, provided
    scope), as a classpath file written by maven-dependency-plugin (fetched once if missing)."""
    start = time.time()
    BUILD.mkdir(parents=True, exist_ok=True)
    cp_file = BUILD / "java.classpath"
    did = "cached classpath"
    if not _newer(cp_file, POM):
        _run([_tool("mvn"), "-q", "-B", "-f", str(POM), f"{DEPENDENCY_PLUGIN}:build-classpath",
              f"-Dmdep.outputFile={cp_file}"], ROOT, "java classpath", 300)
        did = "mvn dependency:build-classpath"
    classpath = cp_file.read_text().strip()
    missing = [p for p in classpath.split(os.pathsep) if p and not Path(p).exists()]
    if missing:
        cp_file.unlink()
        raise PrepareError(f"java classpath names jars that are missing: {missing[:3]}")
    java = _tool("java")
    # Java 11+ runs a single source file: it is compiled in memory at each start (~2 s).
    return Prepared("java", [java, "-cp", classpath, str(CLIENTS / "java" / "Client.java")], did,
                    time.time() - start)


def prepare_node() -> Prepared:
    """`npm ci` into tests/serve/clients/node/node_modules unless it is already there for
    this package-lock.json (npm writes node_modules/.package-lock.json last)."""
    start = time.time()
    node_dir = CLIENTS / "node"
    lock = node_dir / "package-lock.json"
    marker = node_dir / "node_modules" / ".package-lock.json"
    did = "cached node_modules"
    if not _newer(marker, lock, node_dir / "package.json"):
        _run([_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"], node_dir, "npm ci", 300)
        marker.touch()
        did = "npm ci"
    return Prepared("node", [_tool("node"), str(node_dir / "client.js")], did, time.time() - start)


def prepare_go() -> Prepared:
    """`go build` of tests/serve/clients/go into target/serve-clients/go-client (go's own build
    cache makes a rebuild quick)."""
    start = time.time()
    go_dir = CLIENTS / "go"
    BUILD.mkdir(parents=True, exist_ok=True)
    binary = BUILD / "go-client"
    _run([_tool("go"), "build", "-mod=readonly", "-buildvcs=false", "-o", str(binary), "."], go_dir, "go build", 400)
    return Prepared("go", [str(binary)], "go build", time.time() - start)


def prepare_rust() -> Prepared:
    """`cargo build --release --locked --example serve_client` (a no-op when up to date)."""
    start = time.time()
    _run([_tool("cargo"), "build", "--release", "--locked", "--example", "serve_client"], ROOT,
         "cargo build --example serve_client", 600)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return Prepared("rust", [str(target / "release" / "examples" / "serve_client")], "cargo build",
                    time.time() - start)


PREPARE = {"botocore": prepare_botocore, "java": prepare_java, "node": prepare_node, "go": prepare_go,
           "rust": prepare_rust}


def prepare(name: str) -> Prepared:
    return PREPARE[name]()


class ClientRun:
    """One client process in the background; its JSON lines in ``records``, other stdout in
    ``noise``, stderr kept whole."""

    def __init__(self, prepared: Prepared, seconds: float, interval: float, env: dict[str, str]) -> None:
        self.name = prepared.name
        self.cmd = [*prepared.cmd, str(seconds), str(interval)]
        self.started = time.time()
        self.proc = subprocess.Popen(self.cmd, env={**env, **prepared.env}, cwd=str(BUILD if BUILD.exists() else ROOT),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.records: list[dict[str, Any]] = []
        self.noise: list[str] = []
        self._stderr: list[str] = []
        self._threads = [threading.Thread(target=self._out, daemon=True),
                         threading.Thread(target=self._err, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                rec = json.loads(line)
            except ValueError:
                self.noise.append(line)
                continue
            if isinstance(rec, dict):
                self.records.append(rec)
            else:
                self.noise.append(line)

    def _err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def wait(self, timeout: float) -> int | None:
        return finish(self.proc, self._threads, timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
