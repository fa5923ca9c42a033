"""An RDS-like PostgreSQL on loopback: a real server that accepts IAM tokens as RDS does.

``RdsLikePostgres`` (a context manager) starts, in a throw-away directory:

* the LDAP verifier (``ldap_verifier.LdapVerifier``) on 127.0.0.1, a port the
  kernel picks, answering binds with ``rds_token_check.verify_token`` against
  this server's host name, port and region, and the keys in ``keys``;
* a PostgreSQL cluster made by ``initdb`` and a ``postgres`` server listening
  on 127.0.0.1 only, on a free port, with its unix socket in the temporary
  directory (mode 0700). Its ``pg_hba.conf``:

  - the superuser ``postgres``: trust, over the unix socket only (to create
    the roles; nobody but the server's owner and root can open the socket);
  - members of ``rds_iam`` (as on RDS: ``GRANT rds_iam TO user``) from
    127.0.0.1: ``ldap`` simple bind to the verifier, so the password, which
    must be an IAM token, is checked as RDS checks it;
  - everything else: reject.

  Roles ``iam_user`` and ``iam_user_b`` (LOGIN, members of ``rds_iam``) exist.

PostgreSQL refuses to run as root. When the tests run as root (CI), the
server runs as the ``postgres`` system user that Debian's ``postgresql``
package creates (else a system user ``credchain-pg`` made with ``useradd``),
entered with ``setpriv``, which execs (no extra process between us and the
postmaster) and sets the parent-death signal so that a test process killed
outright does not leave a server behind. Run as another user, the server
runs as that user.

Binaries: ``CREDCHAIN_PG_BIN`` if set, else the newest
``/usr/lib/postgresql/*/bin`` (Debian), else ``pg_config --bindir``.
Nothing here listens anywhere but 127.0.0.1 or talks to anything else.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ldap_verifier import Attempt, LdapVerifier
from rds_token_check import KeyRing, Verdict, verify_token

HOST = "127.0.0.1"
REGION = "us-east-1"
IAM_GROUP = "rds_iam"
IAM_USER = "iam_user"
OTHER_IAM_USER = "iam_user_b"
SUPERUSER = "postgres"
DATABASE = "postgres"
LDAP_PREFIX = "cn="
LDAP_SUFFIX = ",dc=rds-iam,dc=loopback"
DEDICATED_USER = "credchain-pg"


def pg_bin() -> Path:
    """The directory of initdb, postgres, pg_isready and psql."""
    if os.environ.get("CREDCHAIN_PG_BIN"):
        return Path(os.environ["CREDCHAIN_PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        return Path(subprocess.run([pg_config, "--bindir"], check=True, capture_output=True,
                                   text=True).stdout.strip())
    raise FileNotFoundError("no PostgreSQL server binaries: apt-get install postgresql (or set CREDCHAIN_PG_BIN)")


def server_account() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", DEDICATED_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", DEDICATED_USER], check=True, capture_output=True)
    return pwd.getpwnam(DEDICATED_USER)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _clean_env() -> dict[str, str]:
    """Our environment without libpq's PG* variables, so nothing outside steers psql."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class RdsLikePostgres:
    """A loopback PostgreSQL whose IAM users log in with RDS IAM tokens.

    ``hostname`` is the endpoint name tokens must be signed for (clients
    still connect to 127.0.0.1), ``region`` the region they must be signed
    in (None: any), ``keys`` the credentials the test's sources issued.
    """

    def __init__(self, keys: KeyRing | None = None, hostname: str = HOST, region: str | None = REGION,
                 skew: int = 60) -> None:
        self.keys = keys if keys is not None else KeyRing()
        self.hostname = hostname
        self.host = HOST
        self.region = region
        self.skew = skew
        self.port = 0
        self.bin = pg_bin()
        self.account = server_account()
        self.run_as = self.account.pw_name if self.account else pwd.getpwuid(os.geteuid()).pw_name
        self.verifier = LdapVerifier(self.check, prefix=LDAP_PREFIX, suffix=LDAP_SUFFIX)
        self.dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}

    # ---- what the verifier asks --------------------------------------------------
    def check(self, user: str, password: str) -> Verdict:
        return verify_token(password, user=user, host=self.hostname, port=self.port, keys=self.keys,
                            region=self.region, skew=self.skew)

    @property
    def attempts(self) -> list[Attempt]:
        return self.verifier.since(0)

    # ---- paths ---------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.dir is not None
        return self.dir

    @property
    def log_path(self) -> Path:
        assert self.dir is not None
        return self.dir / "postgres.log"

    @property
    def startup_seconds(self) -> float:
        return self.timings.get("total", 0.0)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # ---- life ----------------------------------------------------------------------
    def _as_server(self, argv: list[str]) -> list[str]:
        if self.account is None:
            return argv
        return ["setpriv", f"--reuid={self.account.pw_uid}", f"--regid={self.account.pw_gid}", "--init-groups",
                "--pdeathsig", "SIGINT", "--"] + argv

    def _server_env(self) -> dict[str, str]:
        assert self.dir is not None
        return {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", "HOME": str(self.dir),
                # libldap: read no ldap.conf / .ldaprc, so the machine's LDAP settings do not apply
                "LDAPNOINIT": "1"}

    def _hba(self) -> str:
        ldap = (f'ldap ldapserver={HOST} ldapport={self.verifier.port} ldapscheme=ldap '
                f'ldapprefix="{LDAP_PREFIX}" ldapsuffix="{LDAP_SUFFIX}"')
        return (
            "# Written by tests/postgres/rds_like.py.\n"
            "# TYPE  DATABASE  USER          ADDRESS        METHOD\n"
            f"local   all       {SUPERUSER:<13} {'':<14} trust\n"
            f"host    all       +{IAM_GROUP:<12} {HOST}/32   {ldap}\n"
            "local   all       all                          reject\n"
            "host    all       all           all            reject\n"
        )

    def start(self) -> "RdsLikePostgres":
        t0 = time.monotonic()
        try:
            self._start(t0)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, t0: float) -> None:
        self.verifier.start()
        # A short path (a unix socket path is at most 107 bytes) that the
        # server's user can reach: /tmp when we drop privileges.
        base = "/tmp" if self.account is not None else None
        self.dir = Path(tempfile.mkdtemp(prefix="credchain-rds-like-", dir=base))
        if self.account is not None:
            os.chown(self.dir, self.account.pw_uid, self.account.pw_gid)
        initdb = [str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "-E", "UTF8",
                  "--no-locale", "--no-sync", "--no-instructions", "--auth-local=trust", "--auth-host=reject"]
        done = subprocess.run(self._as_server(initdb), env=self._server_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        self.timings["initdb"] = time.monotonic() - t0
        (self.data_dir / "pg_hba.conf").write_text(self._hba())
        if self.account is not None:
            os.chown(self.data_dir / "pg_hba.conf", self.account.pw_uid, self.account.pw_gid)
        t1 = time.monotonic()
        for _ in range(5):  # another process may take the free port before the server binds it
            self.port = free_port()
            if self._launch():
                break
        else:
            raise RuntimeError(f"the server did not start on 5 free ports:\n{self.log_tail()}")
        self.timings["server"] = time.monotonic() - t1
        t2 = time.monotonic()
        self.psql(f"CREATE ROLE {IAM_GROUP} NOLOGIN;"
                  f"CREATE ROLE {IAM_USER} LOGIN IN ROLE {IAM_GROUP};"
                  f"CREATE ROLE {OTHER_IAM_USER} LOGIN IN ROLE {IAM_GROUP};")
        self.timings["roles"] = time.monotonic() - t2
        self.timings["total"] = time.monotonic() - t0

    def _launch(self) -> bool:
        """Start the postmaster on ``self.port``; True once it accepts connections, False if the port was taken."""
        argv = [str(self.bin / "postgres"), "-D", str(self.data_dir),
                "-c", f"listen_addresses={HOST}", "-c", f"port={self.port}",
                "-c", f"unix_socket_directories={self.socket_dir}", "-c", "unix_socket_permissions=0700",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=40", "-c", "shared_buffers=16MB", "-c", "ssl=off",
                "-c", "dynamic_shared_memory_type=mmap", "-c", "log_destination=stderr",
                "-c", "logging_collector=off", "-c", "log_connections=on"]
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(self._as_server(argv), env=self._server_env(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if "could not bind" in self.log_tail(10) or "Address already in use" in self.log_tail(10):
                    return False
                raise RuntimeError(f"postgres exited at start-up:\n{self.log_tail()}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", str(self.socket_dir),
                                    "-p", str(self.port), "-U", SUPERUSER, "-d", DATABASE], env=_clean_env())
            if ready.returncode == 0:
                return True
            time.sleep(0.05)
        raise RuntimeError(f"postgres did not accept connections within 30 s:\n{self.log_tail()}")

    def psql(self, sql: str) -> str:
        """Run SQL as the superuser over the unix socket; its unaligned, tuples-only output."""
        done = subprocess.run([str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", DATABASE,
                               "-c", sql], env=_clean_env(), capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        """Fast shutdown of the server, then the verifier; the directory is removed."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, stop
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
            self.process = None
        try:
            self.verifier.stop()
        except Exception:
            pass
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "RdsLikePostgres":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def describe(self) -> str:
        t = self.timings
        return (f"RDS-like PostgreSQL on {HOST}:{self.port} as user {self.run_as}, LDAP verifier on "
                f"{HOST}:{self.verifier.port}; started in {t.get('total', 0):.2f} s (initdb "
                f"{t.get('initdb', 0):.2f} s, server {t.get('server', 0):.2f} s, roles {t.get('roles', 0):.2f} s)")
