"""The real drivers log in to the RDS-like PostgreSQL with credchain's tokens while the credentials rotate.

Seven paths, all started at once (one process each) and each opening a new
connection every half second for ``SECONDS`` (58 s):

==========================  ==========================================================================
path                        how the token reaches the server
==========================  ==========================================================================
``libpq``                   C, ``credchain_rds_auth_token`` → ``PQconnectdbParams`` password (and one
                            ``PQconnectdb`` conninfo string, the value in single quotes)
``odbc``                    C, unixODBC + psqlODBC: ``SQLDriverConnect`` with a DSN-less string,
                            ``PWD={token}`` (braces, ``}`` doubled), the driver named by its .so path
``psycopg``                 ``credchain.rds_auth_token`` → ``psycopg.connect(password=...)``
``pg8000``                  ``credchain.rds_auth_token`` → ``pg8000.native.Connection(password=...)``
``python-wrapper``          AWS Advanced Python Wrapper over psycopg, ``plugins="iam"``, after
                            ``credchain.aws_wrapper.install()``
``pgjdbc``                  ``CredChain.rdsAuthToken`` → ``DriverManager.getConnection`` password
``jdbc-wrapper+hikari``     HikariCP over the AWS Advanced JDBC Wrapper, ``wrapperPlugins=iam``, after
                            ``CredChainJdbc.install()``; each borrow soft-evicts, so the next logs in
==========================  ==========================================================================

Each path has its own loopback STS (``tests/servers/sts.py``) minting
credentials that live ``LIFETIME`` (26) seconds, with key ids of its own
(``ASIA<TAG>000001``...), and its own HOME whose default profile assumes a
role there from static base keys: credchain refreshes them at about 75-80 %
of their life, so each process sees a new key about every 20 s. The
verifier trusts every key the STSs mint (``KeyRing.follow_minter``) and
records which key signed each accepted token, so the server, not the
client, says how many logins each path made and with how many keys.

Per path: the program's exit status 0 and its own count of logins, all with
``SELECT current_user`` = ``iam_user``, 0 failures; the verifier accepted at
least as many logins signed with that path's keys, with at least 3 distinct
keys (2 rotations). And credchain, not something beside it, supplied every
key (``test_credchain_fetched_every_key_the_server_accepted``): each path's
STS records, for each AssumeRole it answers, the key it minted and the
caller's User-Agent, credchain's being the AWS SDK for Rust's
(``aws-sdk-rust/...``: credchain's STS client is aws-config's). Every
AssumeRole call came from credchain, every key the server accepted is one
credchain fetched and one the process's credchain handed out (the client's
own record), and the source ran at most once per key: the server saw
credchain's keys in the order fetched, all of them but at most the last
(fetched as the run ended). A wrapper whose credchain hook is lost logs in
all the same with keys its SDK fetched (botocore, the Java SDK), and fails
there. Across the run: no login refused (a token signed with session
credentials past their expiry included), and nothing but the DB and the
STSs reached: every child's AWS endpoint URL and HTTP(S) proxy point at a
loopback trap that must see no connection (so a region lookup or any other
AWS call by a wrapper would show).

Builds are reused: the C programs are compiled once per session into a
temporary directory; the Java project (``tests/postgres/java``) is packaged
with Maven into ``target/postgres-java``, offline when it can be (the
binding comes from the local Maven repository; when it is not there yet it
is installed from ``bindings/java`` with ``-Dcredchain.skipCargo=true``).
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

import summary
from rds_like import HOST, IAM_USER, REGION, RdsLikePostgres
from servers.base import KeyMinter
from servers.sts import StsServer

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DRIVERS = HERE / "drivers"
LIB_DIR = Path(os.environ.get("CREDCHAIN_LIB_DIR", ROOT / "target" / "release"))
LIBRARY = Path(os.environ.get("CREDCHAIN_LIBRARY", LIB_DIR / "libcredchain.so"))
JAVA_BUILD = ROOT / "target" / "postgres-java"

SECONDS = float(os.environ.get("CREDCHAIN_PG_DRIVER_SECONDS", "58"))
LIFETIME = int(os.environ.get("CREDCHAIN_PG_DRIVER_LIFETIME", "26"))
INTERVAL_MS = 500
MIN_KEYS = 3  # the first key and 2 rotations

BASE_AKID = "AKIDPGDRIVERSBASE001"
BASE_SECRET = "fake-pg-drivers-base-secret"
ROLE_ARN = "arn:aws:iam::111122223333:role/rds-login"

PATHS = {  # path -> key id tag of its STS
    "libpq": "LIBPQ",
    "odbc": "ODBC",
    "psycopg": "PSYCO",
    "pg8000": "PGEIGHT",
    "python-wrapper": "PYWRAP",
    "pgjdbc": "PGJDBC",
    "jdbc-wrapper+hikari": "JWRAP",
}
# The Python wrapper signs only for RDS/Aurora endpoint names (see drivers/py_login.py): its path logs in
# to a second server that takes this name for its own (never resolved: the driver connects to 127.0.0.1).
RDS_ENDPOINT = "credchain-drivers.cluster-c0ffee000000.us-east-1.rds." + "amazonaws.com"
ACCEPTED_KEY = re.compile(r" with key (\S+), signed at ")
# The User-Agent credchain's STS calls carry: credchain assumes roles with aws-config, the AWS SDK for Rust's,
# and nothing else in a driver process is written in Rust (botocore sends Botocore/..., the Java SDK
# aws-sdk-java/...).
CREDCHAIN_AGENT = "aws-sdk-rust/"


class LongTokenMinter(KeyMinter):
    """The STS's minter with session tokens as long as real ones (1.2 KB of base64: + / = included),
    so that every token is about 1.7 KB and its query carries %2B, %2F and %3D."""

    def mint(self, lifetime: float, now: float | None = None) -> dict:
        creds = super().mint(lifetime, now)
        creds["session_token"] = "IQoJb3JpZ2luX2VjE" + base64.b64encode(os.urandom(900)).decode()
        return creds


# ---- a trap for anything that is not the database or an STS ---------------------------------------
class Trap:
    """A loopback listener every child's AWS endpoint URL and HTTP(S) proxy point at; records each connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._serve, name="network-trap", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    first = conn.recv(200).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "(nothing read)"
                self.seen.append(first)

    def close(self) -> None:
        self.sock.close()


# ---- who fetched the keys -----------------------------------------------------------------------
@dataclass(frozen=True)
class Fetch:
    """One AssumeRole call a path's STS answered: the key it minted (None if it minted none) and the
    caller's User-Agent."""

    key: str | None
    agent: str

    @property
    def by_credchain(self) -> bool:
        return self.agent.startswith(CREDCHAIN_AGENT)


def fetches(sts: StsServer) -> list[Fetch]:
    """Every AssumeRole call ``sts`` answered, in order."""
    out = []
    for req in list(sts.requests):
        call = req.extra.get("call") or {}
        if call.get("Action") == "AssumeRole":
            out.append(Fetch(call.get("access_key_id"), req.headers.get("user-agent", "")))
    return out


def agents(fetched: list[Fetch]) -> str:
    """The callers of ``fetched`` by their User-Agent's first product, with counts: ``Botocore/1.43.11 x12``."""
    counts: dict[str, int] = {}
    for f in fetched:
        product = f.agent.split(" ", 1)[0] or "(no User-Agent)"
        counts[product] = counts.get(product, 0) + 1
    return ", ".join(f"{product} x{n}" for product, n in counts.items())


# ---- builds -------------------------------------------------------------------------------------
def _cc(source: str, out: Path, libs: list[str], includes: list[str]) -> None:
    argv = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", f"-I{ROOT / 'include'}", *includes,
            str(DRIVERS / source), "-o", str(out), f"-L{LIB_DIR}", f"-Wl,-rpath,{LIB_DIR}", "-lcredchain", *libs]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}:\n{done.stderr.strip()[-2000:]}")


def build_c(out: Path) -> dict[str, Path | str]:
    """libpq_login and odbc_login, or why not."""
    built: dict[str, Path | str] = {}
    pg_include = ["-I/usr/include/postgresql"]
    if shutil.which("pg_config"):
        pg_include = [f"-I{subprocess.run(['pg_config', '--includedir'], capture_output=True, text=True).stdout.strip()}"]
    for path, source, libs, includes in (("libpq", "libpq_login.c", ["-lpq"], pg_include),
                                         ("odbc", "odbc_login.c", ["-lodbc"], [])):
        try:
            _cc(source, out / source[:-2], libs, includes)
            built[path] = out / source[:-2]
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            built[path] = f"build failed (apt-get install libpq-dev unixodbc-dev?): {exc}"
    return built


def odbc_driver() -> str | None:
    if os.environ.get("CREDCHAIN_ODBC_DRIVER"):
        return os.environ["CREDCHAIN_ODBC_DRIVER"]
    found = sorted(glob.glob("/usr/lib/*/odbc/psqlodbcw.so")) + sorted(glob.glob("/usr/lib*/psqlodbcw.so"))
    return found[0] if found else None


def binding_version() -> str:
    pom = (ROOT / "bindings" / "java" / "pom.xml").read_text()
    return re.search(r"<artifactId>credchain</artifactId>\s*<version>([^<]+)</version>", pom).group(1)  # type: ignore[union-attr]


def _mvn(args: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mvn", "-B", "-q", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "MAVEN_OPTS": os.environ.get("MAVEN_OPTS", "-XX:TieredStopAtLevel=1")})


def build_java() -> list[str] | str:
    """The class path of tests/postgres/java's Login, or why there is none."""
    if not shutil.which("mvn") or not shutil.which("java"):
        return "mvn or java is missing (apt-get install maven)"
    version = binding_version()
    jar = Path.home() / ".m2" / "repository" / "dev" / "credchain" / "credchain" / version / f"credchain-{version}.jar"
    if not jar.exists():  # scripts/test-all installs the binding after this suite: do it now
        done = _mvn(["-f", "bindings/java", "install", "-Dcredchain.skipCargo=true", "-DskipTests"])
        if done.returncode != 0:
            return f"mvn install of bindings/java failed:\n{(done.stdout + done.stderr)[-3000:]}"
    package = ["-f", "tests/postgres/java", "package", f"-Dcredchain.version={version}",
               f"-Dpgdrivers.build.dir={JAVA_BUILD}"]
    done = _mvn(["-o", *package])  # offline: everything is in the local repository after the first run
    if done.returncode != 0:
        done = _mvn(package)
    if done.returncode != 0:
        return f"mvn package of tests/postgres/java failed:\n{(done.stdout + done.stderr)[-3000:]}"
    return [str(JAVA_BUILD / "classes"), (JAVA_BUILD / "classpath.txt").read_text().strip()]


# ---- one run of every path ----------------------------------------------------------------------
@dataclass
class PathRun:
    name: str
    tag: str
    argv: list[str] | None = None
    problem: str | None = None  # why it could not run
    returncode: int | None = None
    result: dict | None = None
    stderr: str = ""
    accepted: int = 0
    server_keys: list[str] = field(default_factory=list)  # the keys of the logins the verifier accepted, in order
    sts_calls: int = 0  # AssumeRole calls the path's STS answered, whoever made them
    # the keys minted for credchain's calls, in order (None: a call of credchain's that minted none)
    credchain_keys: list[str | None] = field(default_factory=list)
    foreign: list[Fetch] = field(default_factory=list)  # AssumeRole calls made by anything but credchain
    seconds: float = 0.0


@dataclass
class Run:
    paths: dict[str, PathRun]
    refused: list[str]
    trap: list[str]
    wall: float


def write_home(home: Path, session: str) -> None:
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[base]\naws_access_key_id = {BASE_AKID}\naws_secret_access_key = {BASE_SECRET}\n")
    (home / ".aws" / "config").write_text(
        f"[default]\nrole_arn = {ROLE_ARN}\nsource_profile = base\nrole_session_name = {session}\n"
        f"region = {REGION}\n")
    (home / "odbc").mkdir()
    (home / "odbc" / "odbcinst.ini").write_text("")  # unixODBC reads these, never /etc's
    (home / "odbc" / "odbc.ini").write_text("")


def child_env(home: Path, sts_url: str, trap_url: str) -> dict[str, str]:
    proxies = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BOTO_", "PG", "ODBC", "JAVA_TOOL_OPTIONS")) and k.lower() not in proxies}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(home / ".aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"), AWS_EC2_METADATA_DISABLED="true",
               AWS_ENDPOINT_URL_STS=sts_url,
               # anything else that would leave the machine lands in the trap
               AWS_ENDPOINT_URL=trap_url, HTTP_PROXY=trap_url, HTTPS_PROXY=trap_url, http_proxy=trap_url,
               https_proxy=trap_url, NO_PROXY=f"{HOST},localhost", no_proxy=f"{HOST},localhost",
               CREDCHAIN_LIBRARY=str(LIBRARY), PYTHONPATH=str(ROOT / "bindings" / "python" / "src"),
               ODBCSYSINI=str(home / "odbc"), ODBCINI=str(home / "odbc" / "odbc.ini"))
    return env


def java_argv(classpath: list[str], trap_port: int, mode: str) -> list[str]:
    return ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            f"-Dhttp.proxyHost={HOST}", f"-Dhttp.proxyPort={trap_port}", f"-Dhttps.proxyHost={HOST}",
            f"-Dhttps.proxyPort={trap_port}", f"-Dhttp.nonProxyHosts={HOST}|localhost",
            "-cp", os.pathsep.join(classpath), "dev.credchain.pgtest.Login", mode]


@pytest.fixture(scope="module")
def c_programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    if not LIBRARY.exists():
        pytest.fail(f"{LIBRARY} is missing: run `cargo build --release` first")
    return build_c(tmp_path_factory.mktemp("c-drivers"))


@pytest.fixture(scope="module")
def driver_run(rds_pg: RdsLikePostgres, c_programs: dict[str, Path | str],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("drivers")
    t0 = time.monotonic()
    java = build_java()
    build_seconds = time.monotonic() - t0
    trap = Trap()
    args = [HOST, str(rds_pg.port), IAM_USER, REGION, str(SECONDS), str(INTERVAL_MS)]
    python = sys.executable
    runs = {name: PathRun(name, tag) for name, tag in PATHS.items()}
    for name, how in (("libpq", c_programs["libpq"]), ("odbc", c_programs["odbc"])):
        if isinstance(how, str):
            runs[name].problem = how
        elif name == "libpq":
            runs[name].argv = [str(how), *args]
        elif odbc_driver() is None:
            runs[name].problem = "no psqlodbcw.so (apt-get install odbc-postgresql)"
        else:
            runs[name].argv = [str(how), str(odbc_driver()), *args]
    for name, mode in (("psycopg", "psycopg"), ("pg8000", "pg8000")):
        runs[name].argv = [python, str(DRIVERS / "py_login.py"), mode, *args]
    named = RdsLikePostgres(keys=rds_pg.keys, hostname=RDS_ENDPOINT).start()
    runs["python-wrapper"].argv = [python, str(DRIVERS / "py_login.py"), "wrapper", HOST, str(named.port), IAM_USER,
                                   REGION, str(SECONDS), str(INTERVAL_MS), RDS_ENDPOINT]
    for name, mode in (("pgjdbc", "pgjdbc"), ("jdbc-wrapper+hikari", "wrapper-hikari")):
        if isinstance(java, str):
            runs[name].problem = java
        else:
            runs[name].argv = java_argv(java, trap.port, mode) + args

    servers: dict[str, StsServer] = {}
    procs: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
    marks = {rds_pg: rds_pg.verifier.mark(), named: named.verifier.mark()}
    t_run = time.monotonic()
    try:
        for name, run in runs.items():
            if run.argv is None:
                continue
            sts = StsServer(lifetime=LIFETIME)
            sts.minter = LongTokenMinter(run.tag)
            sts.add_secret(BASE_AKID, BASE_SECRET)
            sts.start()
            servers[name] = sts
            rds_pg.keys.follow_minter(sts.minter)
            home = work / f"home-{name}"
            write_home(home, f"pg-{name}")
            out = open(work / f"{name}.out", "wb")
            err = open(work / f"{name}.err", "wb")
            procs[name] = (subprocess.Popen(run.argv, env=child_env(home, sts.url, trap.url), cwd=home,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=err), time.monotonic())
            out.close()
            err.close()
        for name, (proc, started) in procs.items():
            run = runs[name]
            try:
                run.returncode = proc.wait(timeout=max(5.0, t_run + SECONDS + 120 - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                run.problem = f"did not finish within {SECONDS + 120:.0f} s"
            run.seconds = time.monotonic() - started
            lines = (work / f"{name}.out").read_text(errors="replace").strip().splitlines()
            run.stderr = (work / f"{name}.err").read_text(errors="replace")[-3000:]
            for line in reversed(lines):
                if line.startswith("{"):
                    try:
                        run.result = json.loads(line)
                    except ValueError:
                        pass
                    break
        wall = time.monotonic() - t_run
        attempts = [a for server, mark in marks.items() for a in server.verifier.since(mark)]
        refused = [f"{a.user}: {a.code}: {a.message}" for a in attempts if not a.ok]
        by_key = [m.group(1) for a in attempts if a.ok and (m := ACCEPTED_KEY.search(a.message))]
        for name, run in runs.items():
            own = re.compile(rf"ASIA{run.tag}\d{{6}}$")
            mine = [k for k in by_key if own.match(k)]
            run.accepted = len(mine)
            run.server_keys = list(dict.fromkeys(mine))
            if name in servers:
                fetched = fetches(servers[name])
                run.sts_calls = len(fetched)
                run.credchain_keys = [f.key for f in fetched if f.by_credchain]
                run.foreign = [f for f in fetched if not f.by_credchain]
        result = Run(runs, refused, list(trap.seen), wall)
        summary.lines.append(f"drivers: Java built in {build_seconds:.1f} s, all paths at once in {wall:.1f} s "
                             f"(credentials live {LIFETIME} s, logins for {SECONDS:.0f} s every {INTERVAL_MS} ms)")
        for run in runs.values():
            summary.lines.append("  " + describe(run))
        yield result
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for sts in servers.values():
            sts.stop()
        trap.close()
        named.stop()
        rds_pg.keys.forget()


def describe(run: PathRun) -> str:
    if run.result is None:
        return f"{run.name}: no result ({run.problem or f'exit {run.returncode}'})"
    r = run.result
    rotations = max(len(run.server_keys) - 1, 0)
    return (f"{run.name}: {r['logins']} successful logins across {rotations} rotations, {r['failures']} failures "
            f"(server accepted {run.accepted} with {len(run.server_keys)} keys; STS AssumeRole {run.sts_calls}, "
            f"{len(run.credchain_keys)} by credchain; token {r.get('token_bytes') or '?'} bytes; {run.seconds:.1f} s)")


@pytest.mark.parametrize("name", list(PATHS))
def test_driver_logs_in_across_rotations(driver_run: Run, name: str) -> None:
    run = driver_run.paths[name]
    assert run.problem is None, f"{name}: {run.problem}"
    assert run.result is not None, f"{name} printed no result (exit {run.returncode}):\n{run.stderr}"
    r = run.result
    assert (r["failures"], r["errors"]) == (0, []), f"{describe(run)}\n{run.stderr}"
    assert run.returncode == 0, run.stderr
    # a new connection every half second for SECONDS: at least a third of them, all as iam_user
    assert r["logins"] >= SECONDS / (INTERVAL_MS / 1000) / 3, describe(run)
    # the server's own count: as many logins, signed with this path's keys, across 2 rotations at least
    assert run.accepted >= r["logins"], describe(run)
    assert len(run.server_keys) >= MIN_KEYS, describe(run)
    if r.get("token_bytes"):  # long session tokens arrived whole (the verifier checks them exactly)
        assert r["token_bytes"] > 1500, describe(run)


WRAPPERS = ("python-wrapper", "jdbc-wrapper+hikari")


@pytest.mark.parametrize("name", list(PATHS))
def test_credchain_fetched_every_key_the_server_accepted(driver_run: Run, name: str) -> None:
    """The logins were signed with credchain's credentials, not with keys something beside it fetched.

    The path's STS says who asked for each key (``Fetch``); the server says which keys signed the logins
    it accepted. A wrapper left to its SDK (``aws_wrapper.install()`` or ``CredChainJdbc.install()`` not
    called) logs in just as well, with botocore's or the Java SDK's keys: it fails here, by name.
    """
    run = driver_run.paths[name]
    assert run.problem is None and run.result is not None, f"{name}: no result ({run.problem or run.returncode})"
    assert len(run.server_keys) >= MIN_KEYS, describe(run)  # something to check: 2 rotations at least
    # every key the server accepted is one credchain fetched, and nothing but credchain ran the source
    strangers = [k for k in run.server_keys if k not in run.credchain_keys]
    assert (strangers, run.foreign) == ([], []), (
        f"{name}: credchain was bypassed: the server accepted logins signed with {len(strangers)} of its "
        f"{len(run.server_keys)} keys that credchain never fetched ({', '.join(strangers)}); {len(run.foreign)} of "
        f"the STS's {run.sts_calls} AssumeRole calls came from another client ({agents(run.foreign)}); "
        f"credchain fetched {', '.join(map(str, run.credchain_keys)) or 'nothing'}")
    # the process's own credchain handed out those keys: for the direct paths exactly the keys of the tokens
    # it made; for the wrappers, which sign themselves, credchain's current key, noted before and after each
    # login (the last one noted may have come as the run ended, after the wrapper's last token)
    client = run.result["keys"]
    if name in WRAPPERS:
        assert run.server_keys in (client, client[:-1]), (
            f"{name}: the server accepted keys {run.server_keys}, credchain in the process held {client}")
    else:
        assert client == run.server_keys, f"{name}: the tokens carried {client}, the server accepted {run.server_keys}"
    # bounded from above: the source ran at most once per key, every call of credchain's minted a key and
    # every key it got served logins (all but perhaps the last, fetched as the run ended), in the order fetched
    assert run.server_keys in (run.credchain_keys, run.credchain_keys[:-1]), (
        f"{name}: credchain ran its source more than once per key used: it fetched {run.credchain_keys} "
        f"({len(run.credchain_keys)} AssumeRole calls), the server accepted logins signed with {run.server_keys}")


def test_no_login_was_refused_and_nothing_left_loopback(driver_run: Run) -> None:
    assert driver_run.refused == []
    assert driver_run.trap == [], "a driver or wrapper tried to reach something other than the DB and its STS"


def test_the_trap_catches_an_aws_call_from_a_child(tmp_path: Path) -> None:
    """The trap works: an RDS API call made by botocore in a driver's environment lands there, not at AWS."""
    trap = Trap()
    try:
        home = tmp_path / "home"
        write_home(home, "pg-trap-check")
        env = child_env(home, f"http://{HOST}:1", trap.url)
        env.update(AWS_ACCESS_KEY_ID="AKIDPGDRIVERSTRAP001", AWS_SECRET_ACCESS_KEY="not-a-secret")
        code = ("import botocore.config, botocore.session\n"
                "c = botocore.session.get_session().create_client('rds', region_name='us-east-1', config="
                "botocore.config.Config(retries={'total_max_attempts': 1}, connect_timeout=5, read_timeout=5))\n"
                "try:\n    c.describe_db_instances()\nexcept Exception as e:\n    print(type(e).__name__)\n")
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 5
        while not trap.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert trap.seen and trap.seen[0].startswith("POST / HTTP/1.1"), (trap.seen, done.stdout)
    finally:
        trap.close()


# Everything a connection-string value can trip on: ; ends an ODBC pair, } ends a braced value (and must be
# doubled inside one), { = & % and a space; ' and \\ end or escape a libpq conninfo value.
AWKWARD_PASSWORD = "a}b;c={d}}e&f%3D g'h\\i"


@pytest.mark.parametrize("name", ["libpq", "odbc"])
def test_the_quoting_delivers_an_awkward_password_whole(pg: RdsLikePostgres, c_programs: dict[str, Path | str],
                                                        tmp_path: Path, name: str) -> None:
    """The C programs' quoting (libpq conninfo: '...' with \\ escapes; ODBC: {...} with }} doubled) gets a
    password full of separators to the server unchanged: the verifier sees its exact length and digest
    (and refuses it, as it is no token)."""
    from rds_token_check import MALFORMED, fingerprint

    program = c_programs[name]
    assert not isinstance(program, str), program
    if name == "odbc":
        driver = odbc_driver()
        assert driver is not None, "no psqlodbcw.so (apt-get install odbc-postgresql)"
        argv = [str(program), "--probe", driver, HOST, str(pg.port), IAM_USER, AWKWARD_PASSWORD]
    else:
        argv = [str(program), "--probe", HOST, str(pg.port), IAM_USER, AWKWARD_PASSWORD]
    home = tmp_path / "home"
    write_home(home, "pg-quoting")
    mark = pg.verifier.mark()
    done = subprocess.run(argv, env=child_env(home, f"http://{HOST}:1", f"http://{HOST}:1"), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "LDAP authentication failed" in done.stdout, done.stdout
    (attempt,) = pg.verifier.since(mark)
    assert (attempt.user, attempt.code) == (IAM_USER, MALFORMED)
    assert (attempt.token_length, attempt.token_fingerprint) == (len(AWKWARD_PASSWORD), fingerprint(AWKWARD_PASSWORD))
