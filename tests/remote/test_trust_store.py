"""The trust store and proxy of HTTPS calls: `AWS_CA_BUNDLE`, the profile's
`ca_bundle`, `HTTPS_PROXY` / `NO_PROXY`, and what `credchain doctor` says
about them.

A loopback STS speaks HTTPS with a certificate signed by a throw-away CA
that the test makes with the openssl command; a profile assumes a role
through it (the C probe, through the C ABI). Without the CA the fetch fails
on the certificate; with `AWS_CA_BUNDLE` or `ca_bundle` naming the CA it
succeeds, as botocore does on the same files. A tiny CONNECT proxy on
loopback records the tunnels it opens. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

import scenarios as S
from harness import INVALID_CONFIG, LIB_DIR, SOURCE_FAILED, assert_botocore_agrees, assert_creds
from servers import SsoServer, StsServer

CREDCHAIN = Path(LIB_DIR) / "credchain"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA certificate and its key."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=credchain {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=directory)
    return directory / f"{name}.pem", directory / f"{name}.key"


@pytest.fixture
def scn(scn):
    """The suite's scenario without the machine's trust settings: a
    `REQUESTS_CA_BUNDLE` is a bundle to credchain as to botocore, and
    `SSL_CERT_FILE` / `SSL_CERT_DIR` move the system's roots."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        scn.env.pop(name, None)
    return scn


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A test CA, a server certificate it signed for 127.0.0.1, and an unrelated second CA."""
    d = tmp_path_factory.mktemp("pki")
    ca, ca_key = _make_ca(d, "test-ca")
    other_ca, _ = _make_ca(d, "other-ca")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=d)
    return {"ca": ca, "other_ca": other_ca, "cert": d / "server.pem", "key": d / "server.key"}


def _tls_server(server_class, pki):
    """A loopback server of `server_class` speaking HTTPS with the test CA's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    srv = server_class(tls=context).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def tls_sts(pki):
    yield from _tls_server(StsServer, pki)


@pytest.fixture
def tls_sso(pki):
    yield from _tls_server(SsoServer, pki)


class ConnectProxy:
    """A CONNECT-only HTTP proxy on 127.0.0.1 that records every tunnel
    (`CONNECT host:port`) and refuses any target off loopback."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            self.tunnels.append(f"{method} {target}")
            self.headers.append({k.strip().lower(): v.strip() for k, v in
                                 (line.split(":", 1) for line in lines[1:] if ":" in line)})
            host, _, port = target.rpartition(":")
            if method != "CONNECT" or host not in ("127.0.0.1", "localhost"):
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection(("127.0.0.1", int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                rest = head.split(b"\r\n\r\n", 1)[1]
                if rest:
                    upstream.sendall(rest)
                pump = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
                pump.start()
                self._pump(client, upstream)
                pump.join(5)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def stop(self) -> None:
        self._stop = True
        self._server.close()


@pytest.fixture
def proxy():
    p = ConnectProxy()
    try:
        yield p
    finally:
        p.stop()


def _doctor(scn, profile: str) -> dict:
    out = subprocess.run([str(CREDCHAIN), "doctor", "--json", "--profile", profile], env=scn.env,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


# ---- the trust store ------------------------------------------------------

def test_without_the_bundle_the_certificate_is_refused(scn, tls_sts):
    profile = S.assume_role(scn, tls_sts)
    run = scn.probe(profile)
    assert run.last["ok"] is False, run.last
    assert run.last["code"] == SOURCE_FAILED, run.last
    assert run.last["message"] == (
        "assume-role: profile target (role arn:aws:iam::111122223333:role/target) <- profile base (shared-credentials-file): an error "
        "occurred while loading credentials: dispatch failure: io error: client error (Connect): TLS handshake failed: invalid peer "
        f"certificate: UnknownIssuer (endpoint URL {tls_sts.url}): the trust store, the system's roots, does not "
        "vouch for the endpoint's certificate; behind a proxy that inspects TLS, point AWS_CA_BUNDLE (or "
        "ca_bundle in the profile) at a PEM file holding that proxy's CA"), run.last
    assert tls_sts.calls_for("AssumeRole") == []


def test_aws_ca_bundle_is_trusted(scn, tls_sts, pki):
    profile = S.assume_role(scn, tls_sts)
    scn.env["AWS_CA_BUNDLE"] = str(pki["ca"])
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert_creds(run.last, "assume-role", tls_sts.minter.issued[0])
    assert len(tls_sts.calls_for("AssumeRole")) == 1
    assert_botocore_agrees(scn, "assume-role", profile)


def test_the_profiles_ca_bundle_is_trusted(scn, tls_sts, pki):
    profile = S.assume_role(scn, tls_sts, extra=f"ca_bundle = {pki['ca']}\n")
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert_creds(run.last, "assume-role", tls_sts.minter.issued[0])
    assert_botocore_agrees(scn, "assume-role", profile)


def test_aws_ca_bundle_wins_over_the_profiles_ca_bundle(scn, tls_sts, pki):
    """botocore's order: the variable before the config file."""
    profile = S.assume_role(scn, tls_sts, extra=f"ca_bundle = {pki['ca']}\n")
    scn.env["AWS_CA_BUNDLE"] = str(pki["other_ca"])
    run = scn.probe(profile)
    assert run.last["ok"] is False and run.last["code"] == SOURCE_FAILED, run.last
    assert "invalid peer certificate: UnknownIssuer" in run.last["message"], run.last
    assert scn.botocore(profile)["ok"] is False


def test_the_bundle_replaces_the_system_roots(scn, tls_sts, pki):
    """`SSL_CERT_FILE` stands for the system's roots (rustls-native-certs reads
    it): the CA alone there is trusted, but a bundle naming another CA
    replaces it, as urllib3's `ca_certs` replaces the default roots."""
    profile = S.assume_role(scn, tls_sts)
    scn.env["SSL_CERT_FILE"] = str(pki["ca"])
    assert scn.probe(profile).last["ok"] is True
    scn.env["AWS_CA_BUNDLE"] = str(pki["other_ca"])
    run = scn.probe(profile)
    assert run.last["ok"] is False and "invalid peer certificate: UnknownIssuer" in run.last["message"], run.last


def test_a_missing_bundle_is_a_configuration_error_naming_the_file_and_the_variable(scn, tls_sts, tmp_path):
    profile = S.assume_role(scn, tls_sts)
    missing = tmp_path / "no-such-ca.pem"
    scn.env["AWS_CA_BUNDLE"] = str(missing)
    run = scn.probe(profile)
    assert run.last["ok"] is False, run.last
    assert run.last["code"] == INVALID_CONFIG, run.last
    assert run.last["message"] == f"assume-role: the CA bundle {missing} (from AWS_CA_BUNDLE) does not exist"
    assert tls_sts.count() == 0


def test_a_bundle_without_a_certificate_names_the_profile_setting(scn, tls_sts, tmp_path):
    empty = tmp_path / "empty.pem"
    empty.write_text("this is no certificate\n")
    profile = S.assume_role(scn, tls_sts, extra=f"ca_bundle = {empty}\n")
    run = scn.probe(profile)
    assert run.last["ok"] is False and run.last["code"] == INVALID_CONFIG, run.last
    assert run.last["message"] == (f"assume-role: the CA bundle {empty} (from ca_bundle in profile target) "
                                   "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    assert tls_sts.count() == 0


def test_the_sso_portal_is_checked_against_the_profiles_ca_bundle(scn, tls_sso, pki):
    profile = S.sso_session(scn, tls_sso)
    run = scn.probe(profile)
    assert run.last["ok"] is False and "invalid peer certificate: UnknownIssuer" in run.last["message"], run.last
    assert run.last["message"].startswith("sso: "), run.last
    scn.config(scn.config_file.read_text().replace("[profile sso]\n", f"[profile sso]\nca_bundle = {pki['ca']}\n"))
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert_creds(run.last, "sso", tls_sso.minter.issued[0])
    assert_botocore_agrees(scn, "sso", profile)


def test_web_identity_sts_is_checked_against_aws_ca_bundle(scn, tls_sts, pki):
    S.web_identity_env(scn, tls_sts)
    run = scn.probe()
    assert run.last["ok"] is False and "invalid peer certificate: UnknownIssuer" in run.last["message"], run.last
    scn.env["AWS_CA_BUNDLE"] = str(pki["ca"])
    run = scn.probe()
    assert run.rc == 0, run
    assert_creds(run.last, "assume-role-with-web-identity", tls_sts.minter.issued[0])
    assert_botocore_agrees(scn, "assume-role-with-web-identity")


def test_requests_ca_bundle_is_the_last_resort_as_in_botocore(scn, tls_sts, pki):
    profile = S.assume_role(scn, tls_sts)
    scn.env["REQUESTS_CA_BUNDLE"] = str(pki["ca"])
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert_botocore_agrees(scn, "assume-role", profile)
    scn.env["AWS_CA_BUNDLE"] = str(pki["other_ca"])
    run = scn.probe(profile)
    assert run.last["ok"] is False and "invalid peer certificate: UnknownIssuer" in run.last["message"], run.last


def test_a_broken_bundle_does_not_matter_to_a_source_without_https(scn, tmp_path):
    """botocore reads the bundle only when it makes a client: static keys
    still work with a missing one."""
    scn.env.update({"AWS_ACCESS_KEY_ID": S.ENV_AKID, "AWS_SECRET_ACCESS_KEY": S.ENV_SECRET,
                    "AWS_CA_BUNDLE": str(tmp_path / "missing.pem")})
    run = scn.probe()
    assert run.last["ok"] is True and run.last["source"] == "env", run.last


# ---- the proxy ------------------------------------------------------------

def _behind_proxy(scn, proxy, pki) -> None:
    scn.env.pop("NO_PROXY", None)
    scn.env["HTTPS_PROXY"] = proxy.url
    scn.env["AWS_CA_BUNDLE"] = str(pki["ca"])


def test_https_proxy_tunnels_the_sts_call(scn, tls_sts, proxy, pki):
    profile = S.assume_role(scn, tls_sts)
    _behind_proxy(scn, proxy, pki)
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert_creds(run.last, "assume-role", tls_sts.minter.issued[0])
    assert proxy.tunnels == [f"CONNECT 127.0.0.1:{tls_sts.port}"]
    assert_botocore_agrees(scn, "assume-role", profile)
    assert proxy.tunnels[-1] == f"CONNECT 127.0.0.1:{tls_sts.port}"  # botocore went through it too


def test_the_lower_case_proxy_variable_wins(scn, tls_sts, proxy, pki):
    profile = S.assume_role(scn, tls_sts)
    _behind_proxy(scn, proxy, pki)
    scn.env["HTTPS_PROXY"] = "http://127.0.0.1:9"  # discard port: nothing listens
    scn.env["https_proxy"] = proxy.url
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert proxy.tunnels == [f"CONNECT 127.0.0.1:{tls_sts.port}"]


def test_proxy_credentials_reach_the_proxy(scn, tls_sts, proxy, pki):
    profile = S.assume_role(scn, tls_sts)
    _behind_proxy(scn, proxy, pki)
    scn.env["HTTPS_PROXY"] = f"http://alice:s3cret@127.0.0.1:{proxy.port}"
    run = scn.probe(profile)
    assert run.rc == 0, run
    # Basic base64("alice:s3cret")
    assert proxy.headers[0].get("proxy-authorization") == "Basic YWxpY2U6czNjcmV0", proxy.headers


def test_no_proxy_bypasses_the_proxy(scn, tls_sts, proxy, pki):
    profile = S.assume_role(scn, tls_sts)
    _behind_proxy(scn, proxy, pki)
    scn.env["NO_PROXY"] = "localhost,127.0.0.1"
    run = scn.probe(profile)
    assert run.rc == 0, run
    assert proxy.tunnels == []


# ---- the doctor ------------------------------------------------------------

def test_the_doctor_shows_the_bundle_and_the_proxy(scn, tls_sts, proxy, pki):
    profile = S.assume_role(scn, tls_sts)
    _behind_proxy(scn, proxy, pki)
    scn.env["HTTPS_PROXY"] = f"http://alice:s3cret@127.0.0.1:{proxy.port}"
    scn.env["no_proxy"] = "internal.example"
    report = _doctor(scn, profile)
    assert report["network"] == {
        "trust_store": {"kind": "bundle", "path": str(pki["ca"]), "from": "AWS_CA_BUNDLE", "certificates": 1,
                        "problem": None},
        "proxy": {"url": f"http://***@127.0.0.1:{proxy.port}", "from": "HTTPS_PROXY",
                  "no_proxy": "internal.example", "no_proxy_from": "no_proxy"},
    }
    assert report["winner"] == "assume-role", report
    table = subprocess.run([str(CREDCHAIN), "doctor", "--profile", profile], env=scn.env, capture_output=True,
                           text=True, timeout=60).stdout
    assert (f"  trust store       {pki['ca']} (from AWS_CA_BUNDLE; 1 certificate, replacing the system's roots)\n"
            in table), table
    assert (f"  https proxy       http://***@127.0.0.1:{proxy.port} (from HTTPS_PROXY; "
            "not for no_proxy=internal.example)\n" in table), table
    assert "s3cret" not in table and "s3cret" not in json.dumps(report)


def test_the_doctor_shows_the_system_roots_no_proxy_and_an_unusable_profile_bundle(scn, tls_sts, tmp_path):
    profile = S.assume_role(scn, tls_sts)
    report = _doctor(scn, profile)
    assert report["network"] == {
        "trust_store": {"kind": "system", "path": None, "from": None, "certificates": None, "problem": None},
        "proxy": None,
    }
    missing = tmp_path / "gone.pem"
    profile = S.assume_role(scn, tls_sts, extra=f"ca_bundle = {missing}\n")
    report = _doctor(scn, profile)
    problem = f"the CA bundle {missing} (from ca_bundle in profile target) does not exist"
    assert report["network"]["trust_store"] == {"kind": "bundle", "path": str(missing),
                                                "from": "ca_bundle in profile target", "certificates": None,
                                                "problem": problem}
    assert report["error"]["message"] == f"assume-role: {problem}", report["error"]
    table = subprocess.run([str(CREDCHAIN), "doctor", "--profile", profile], env=scn.env, capture_output=True,
                           text=True, timeout=60).stdout
    assert f"  trust store       UNUSABLE: {problem}\n" in table, table
    assert "  https proxy       none\n" in table, table
