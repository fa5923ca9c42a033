"""The verifier's own tests, and the RDS-like PostgreSQL that uses it.

A token botocore makes is accepted, by ``verify_token`` directly and by a
real login to the loopback PostgreSQL (pg8000, through ``pg_hba.conf``'s
``ldap`` method and the LDAP verifier), where ``SELECT current_user`` is the
IAM user. Every corrupted variant (wrong signature, wrong secret, wrong user,
host, port or region, expired, not yet valid, unknown key, another service,
a session token missing, not a token at all) is refused, each its own test,
with the exact refusal the verifier records; so is a fresh token signed with
session credentials that have expired (``expired_token``). credchain's own tokens (the
``credchain`` command, static keys or a ``credential_process``) log in too:
an independent verifier accepts them.

Everything listens on and connects to 127.0.0.1; credchain and botocore run
with AWS_EC2_METADATA_DISABLED=true and an environment without AWS_*.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import botocore.auth
import botocore.session
import pg8000.native
import pytest
from pg8000.exceptions import DatabaseError

import rds_token_check as rtc
from rds_like import HOST, IAM_USER, OTHER_IAM_USER, REGION, SUPERUSER, RdsLikePostgres
from rds_token_check import KeyRing, Verdict, amz_stamp, botocore_token, fingerprint, verify_token
from servers.base import KeyMinter

ROOT = Path(__file__).resolve().parents[2]
CREDCHAIN = Path(os.environ.get("CREDCHAIN_BIN",
                                Path(os.environ.get("CREDCHAIN_LIB_DIR", ROOT / "target" / "release")) / "credchain"))
AKID = "AKIDRDSLIKETEST00001"
OTHER_HOST = "other-db.internal"
DIRECT_PORT = 5432
LDAP_REFUSAL = "LDAP authentication failed for user \"{user}\""


def new_secret() -> str:
    return secrets.token_urlsafe(30)


def login(pg: RdsLikePostgres, user: str, password: str) -> tuple[str, str]:
    """Log in over TCP to 127.0.0.1 as ``user``; (current_user, session_user)."""
    conn = pg8000.native.Connection(user, password=password, host=HOST, port=pg.port, database="postgres",
                                    timeout=20)
    try:
        ((current, session),) = conn.run("SELECT current_user, session_user")
        return current, session
    finally:
        conn.close()


def refusal(pg: RdsLikePostgres, user: str, password: str) -> dict[str, str]:
    """Log in, expecting the server to refuse; its ErrorResponse fields (C: SQLSTATE, M: message)."""
    with pytest.raises(DatabaseError) as info:
        login(pg, user, password)
    fields = info.value.args[0]
    assert isinstance(fields, dict), info.value
    return fields


# ---- the corrupted variants ----------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """A token, the user who presents it, and what the verifier must answer."""

    token: str
    user: str
    code: str
    message: str


def good(at_port: int, secret: str, now: float, **change: object) -> str:
    """A valid token for IAM_USER at 127.0.0.1:``at_port``, signed at ``now``, with ``change`` applied."""
    args: dict[str, object] = dict(host=HOST, port=at_port, user=IAM_USER, region=REGION, access_key_id=AKID,
                                   secret_access_key=secret, signing_time=now)
    args.update(change)
    return botocore_token(**args)  # type: ignore[arg-type]


def tampered_signature(port: int, secret: str, now: float) -> Case:
    token = good(port, secret, now)
    token = token[:-1] + ("0" if token[-1] != "0" else "1")
    return Case(token, IAM_USER, rtc.BAD_SIGNATURE, f"signature does not match (token {fingerprint(token)})")


def wrong_secret(port: int, secret: str, now: float) -> Case:
    token = good(port, new_secret(), now)  # the issued key id, another secret
    return Case(token, IAM_USER, rtc.BAD_SIGNATURE, f"signature does not match (token {fingerprint(token)})")


def wrong_user(port: int, secret: str, now: float) -> Case:
    return Case(good(port, secret, now), OTHER_IAM_USER, rtc.WRONG_USER,
                f"signed for user {IAM_USER}, logging in as {OTHER_IAM_USER}")


def wrong_host(port: int, secret: str, now: float) -> Case:
    return Case(good(port, secret, now, host=OTHER_HOST), IAM_USER, rtc.WRONG_HOST,
                f"signed for host {OTHER_HOST}, expected {HOST}")


def wrong_port(port: int, secret: str, now: float) -> Case:
    return Case(good(port, secret, now, port=port + 1), IAM_USER, rtc.WRONG_PORT,
                f"signed for port {port + 1}, expected {port}")


def wrong_region(port: int, secret: str, now: float) -> Case:
    return Case(good(port, secret, now, region="eu-west-1"), IAM_USER, rtc.WRONG_REGION,
                f"signed for region eu-west-1, expected {REGION}")


def expired(port: int, secret: str, now: float) -> Case:
    signed = int(now) - 3600
    return Case(good(port, secret, now, signing_time=signed), IAM_USER, rtc.EXPIRED,
                f"signed at {amz_stamp(signed)}, valid 900 s: expired at {amz_stamp(signed + 900)}")


def not_yet_valid(port: int, secret: str, now: float) -> Case:
    signed = int(now) + 600
    return Case(good(port, secret, now, signing_time=signed), IAM_USER, rtc.NOT_YET_VALID,
                f"signed at {amz_stamp(signed)}, more than 60 s in the future")


def unknown_key(port: int, secret: str, now: float) -> Case:
    return Case(good(port, new_secret(), now, access_key_id="AKIDNEVERISSUED00001"), IAM_USER, rtc.UNKNOWN_KEY,
                "access key AKIDNEVERISSUED00001 was never issued")


def other_service(port: int, secret: str, now: float) -> Case:
    # Signed correctly, for the RDS API ("rds") instead of database logins ("rds-db").
    return Case(good(port, secret, now, service="rds"), IAM_USER, rtc.WRONG_SERVICE,
                "signed for service rds, expected rds-db")


def other_action(port: int, secret: str, now: float) -> Case:
    return Case(good(port, secret, now, action="DescribeDBInstances"), IAM_USER, rtc.WRONG_ACTION,
                "action DescribeDBInstances, expected connect")


def not_a_token(port: int, secret: str, now: float) -> Case:
    return Case("correct horse battery staple", IAM_USER, rtc.MALFORMED, "not HOST:PORT/?QUERY")


VARIANTS: list[Callable[[int, str, float], Case]] = [
    tampered_signature, wrong_secret, wrong_user, wrong_host, wrong_port, wrong_region, expired, not_yet_valid,
    unknown_key, other_service, other_action, not_a_token,
]


# ---- the verifier, called directly ---------------------------------------------------------------
def direct(token: str, keys: KeyRing, user: str = IAM_USER, now: float | None = None) -> Verdict:
    return verify_token(token, user=user, host=HOST, port=DIRECT_PORT, keys=keys, region=REGION, now=now)


def test_the_fixed_time_signer_is_botocores_generate_db_auth_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corrupted tokens and the recomputed signatures come from a signer that agrees with
    ``generate_db_auth_token`` (which, with awscrt installed, is botocore's CRT signer: a second,
    independent SigV4 implementation), parameter for parameter, signature included."""
    fixed = dt.datetime(2024, 3, 1, 12, 34, 56, tzinfo=dt.timezone.utc)

    def frozen(remove_tzinfo: bool = True) -> dt.datetime:
        return fixed.replace(tzinfo=None) if remove_tzinfo else fixed

    monkeypatch.setattr(botocore.auth, "get_current_datetime", frozen)
    if hasattr(botocore, "crt") and hasattr(botocore.crt, "auth"):
        monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", frozen)
    secret = new_secret()
    by_botocore = rds_client(AKID, secret).generate_db_auth_token(  # type: ignore[attr-defined]
        DBHostname=HOST, Port=DIRECT_PORT, DBUsername=IAM_USER)
    ours = botocore_token(host=HOST, port=DIRECT_PORT, user=IAM_USER, region=REGION, access_key_id=AKID,
                          secret_access_key=secret, signing_time=fixed.timestamp())

    def split(token: str) -> tuple[str, dict[str, str]]:
        netloc, _, query = token.partition("/?")
        return netloc, dict(urllib.parse.parse_qsl(query, strict_parsing=True))

    assert split(by_botocore)[1]["X-Amz-Date"] == "20240301T123456Z"
    assert split(ours) == split(by_botocore)


def rds_client(akid: str, secret: str, session_token: str | None = None) -> object:
    session = botocore.session.get_session()
    session.set_credentials(akid, secret, session_token)
    return session.create_client("rds", region_name=REGION)


def test_a_botocore_token_is_accepted_directly() -> None:
    keys, secret = KeyRing(), new_secret()
    keys.issue(AKID, secret)
    token = rds_client(AKID, secret).generate_db_auth_token(  # type: ignore[attr-defined]
        DBHostname=HOST, Port=DIRECT_PORT, DBUsername=IAM_USER)
    verdict = direct(token, keys)
    assert verdict.ok, verdict
    assert verdict.code == rtc.ACCEPTED and verdict.access_key_id == AKID
    assert verdict.message.startswith(f"{IAM_USER} with key {AKID}, signed at ")


def test_a_botocore_token_with_a_session_token_is_accepted_and_needs_it() -> None:
    keys, secret, session_token = KeyRing(), new_secret(), "FwoG" + secrets.token_urlsafe(600)
    issued = keys.issue("ASIARDSLIKETEST00001", secret, session_token)
    token = rds_client(issued.access_key_id, secret, session_token).generate_db_auth_token(  # type: ignore[attr-defined]
        DBHostname=HOST, Port=DIRECT_PORT, DBUsername=IAM_USER)
    assert len(token) > 1024  # as long as real tokens signed with STS credentials
    assert direct(token, keys).ok
    without = good(DIRECT_PORT, secret, time.time(), access_key_id=issued.access_key_id)
    assert direct(without, keys) == Verdict(rtc.SESSION_TOKEN_MISMATCH,
                                            f"session token absent, issued {fingerprint(session_token)}",
                                            issued.access_key_id)
    other = "FwoG" + secrets.token_urlsafe(600)
    forged = good(DIRECT_PORT, secret, time.time(), access_key_id=issued.access_key_id, session_token=other)
    assert direct(forged, keys) == Verdict(rtc.SESSION_TOKEN_MISMATCH,
                                           f"session token {fingerprint(other)}, issued {fingerprint(session_token)}",
                                           issued.access_key_id)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
def test_a_corrupted_token_is_refused_directly(variant: Callable[[int, str, float], Case]) -> None:
    keys, secret, now = KeyRing(), new_secret(), time.time()
    keys.issue(AKID, secret)
    assert direct(good(DIRECT_PORT, secret, now), keys, now=now).ok  # the uncorrupted token passes
    case = variant(DIRECT_PORT, secret, now)
    verdict = direct(case.token, keys, user=case.user, now=now)
    assert (verdict.code, verdict.message) == (case.code, case.message)
    assert not verdict.ok


def test_validity_window_edges_allow_60_s_of_clock_skew() -> None:
    keys, secret = KeyRing(), new_secret()
    keys.issue(AKID, secret)
    signed = 1_700_000_000
    token = good(DIRECT_PORT, secret, signed)
    assert direct(token, keys, now=signed + 900 + 60).ok
    assert direct(token, keys, now=signed + 900 + 61).code == rtc.EXPIRED
    assert direct(token, keys, now=signed - 60).ok
    assert direct(token, keys, now=signed - 61).code == rtc.NOT_YET_VALID


def test_keys_of_a_live_source_are_followed() -> None:
    """``follow_minter``: a key the loopback STS mints after the verifier started is trusted at once."""
    keys, minter = KeyRing(), KeyMinter("PGTS")
    keys.follow_minter(minter)
    creds = minter.mint(900)
    token = good(DIRECT_PORT, creds["secret_access_key"], time.time(), access_key_id=creds["access_key_id"],
                 session_token=creds["session_token"])
    assert direct(token, keys).ok
    keys.forget()
    assert direct(token, keys).code == rtc.UNKNOWN_KEY


def expired_session_token(keys: KeyRing, port: int, now: float, expired_for: int = 4) -> tuple[str, dict]:
    """A token for 127.0.0.1:``port`` signed at ``now`` (fresh: its own 900 s window has just begun) with
    session credentials the loopback STS's minter issued for 26 s and that expired ``expired_for`` seconds
    before ``now``. ``keys`` follows the minter, so the verifier knows the key, its secret, its session token
    and its expiry, as it does for the credentials the driver tests' STSs mint."""
    minter = KeyMinter("PGEXPIRED")
    keys.follow_minter(minter)
    creds = minter.mint(26, now=now - 26 - expired_for)
    assert creds["expiration"] <= now - expired_for  # the minter keeps whole seconds
    token = good(port, creds["secret_access_key"], now, access_key_id=creds["access_key_id"],
                 session_token=creds["session_token"])
    return token, creds


def expired_token_refusal(creds: dict) -> Verdict:
    """The verifier's refusal of a token signed with the session credentials ``creds`` after their expiry."""
    return Verdict(rtc.EXPIRED_TOKEN, f"the session credentials of {creds['access_key_id']} expired at "
                                      f"{amz_stamp(creds['expiration'])} (ExpiredToken)", creds["access_key_id"])


def test_a_token_signed_with_expired_session_credentials_is_refused_directly() -> None:
    """Session credentials stop working at their expiry, as on AWS (ExpiredToken): a token signed with them
    seconds later is refused although its own validity window (X-Amz-Date + 900 s) has just begun."""
    keys, now = KeyRing(), time.time()
    token, creds = expired_session_token(keys, DIRECT_PORT, now)
    assert direct(token, keys, now=now) == expired_token_refusal(creds)


def test_session_credentials_sign_until_their_expiry_and_not_at_it() -> None:
    """The expiry is exact, with no clock skew (the STS's clock is the verifier's): a token signed with
    credentials valid for 26 s is accepted up to their expiry and refused from that second on."""
    keys, minter, t0 = KeyRing(), KeyMinter("PGEDGE"), 1_700_000_000
    keys.follow_minter(minter)
    creds = minter.mint(26, now=t0)
    assert creds["expiration"] == t0 + 26
    token = good(DIRECT_PORT, creds["secret_access_key"], t0 + 20, access_key_id=creds["access_key_id"],
                 session_token=creds["session_token"])
    assert direct(token, keys, now=t0 + 20).ok
    assert direct(token, keys, now=t0 + 25.999).ok
    assert direct(token, keys, now=t0 + 26) == expired_token_refusal(creds)


# ---- through the RDS-like PostgreSQL ------------------------------------------------------------
def test_the_server_runs_unprivileged_on_loopback_only(pg: RdsLikePostgres) -> None:
    assert pg.psql("SHOW listen_addresses").strip() == HOST
    assert pg.process is not None
    uid = int(next(line for line in Path(f"/proc/{pg.process.pid}/status").read_text().splitlines()
                   if line.startswith("Uid:")).split()[1])
    assert uid != 0
    assert uid == (pg.account.pw_uid if pg.account else os.geteuid())
    assert pg.verifier._server.server_address[0] == HOST


def test_a_botocore_token_logs_in(pg: RdsLikePostgres) -> None:
    secret = new_secret()
    pg.keys.issue(AKID, secret)
    token = rds_client(AKID, secret).generate_db_auth_token(  # type: ignore[attr-defined]
        DBHostname=HOST, Port=pg.port, DBUsername=IAM_USER)
    mark = pg.verifier.mark()
    assert login(pg, IAM_USER, token) == (IAM_USER, IAM_USER)
    (attempt,) = pg.verifier.since(mark)
    assert (attempt.user, attempt.code) == (IAM_USER, rtc.ACCEPTED)
    # the password reached the verifier whole: same length, same digest
    assert (attempt.token_length, attempt.token_fingerprint) == (len(token), fingerprint(token))


def test_a_long_token_with_a_session_token_logs_in(pg: RdsLikePostgres) -> None:
    secret, session_token = new_secret(), "FwoG" + secrets.token_urlsafe(1200)
    pg.keys.issue("ASIARDSLIKETEST00002", secret, session_token)
    token = good(pg.port, secret, time.time(), access_key_id="ASIARDSLIKETEST00002", session_token=session_token)
    assert len(token) > 1800
    mark = pg.verifier.mark()
    assert login(pg, IAM_USER, token) == (IAM_USER, IAM_USER)
    (attempt,) = pg.verifier.since(mark)
    assert attempt.ok and (attempt.token_length, attempt.token_fingerprint) == (len(token), fingerprint(token))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
def test_a_corrupted_token_is_refused_by_the_server(pg: RdsLikePostgres,
                                                    variant: Callable[[int, str, float], Case]) -> None:
    secret, now = new_secret(), time.time()
    pg.keys.issue(AKID, secret)
    case = variant(pg.port, secret, now)
    mark = pg.verifier.mark()
    fields = refusal(pg, case.user, case.token)
    assert (fields["C"], fields["M"]) == ("28000", LDAP_REFUSAL.format(user=case.user))
    (attempt,) = pg.verifier.since(mark)
    assert (attempt.user, attempt.code, attempt.message) == (case.user, case.code, case.message)
    # and the same key, used properly, still logs in: the refusal was the corruption's
    assert login(pg, case.user, good(pg.port, secret, time.time(), user=case.user)) == (case.user, case.user)


def test_a_token_signed_with_expired_session_credentials_is_refused_by_the_server(pg: RdsLikePostgres) -> None:
    """A real login with a fresh token signed by session credentials that expired 4 s earlier fails with
    28000, the verifier having refused it as ``expired_token``; a key the same kind of STS minter issues
    now, still valid, logs in."""
    token, creds = expired_session_token(pg.keys, pg.port, time.time())
    mark = pg.verifier.mark()
    fields = refusal(pg, IAM_USER, token)
    assert (fields["C"], fields["M"]) == ("28000", LDAP_REFUSAL.format(user=IAM_USER))
    (attempt,) = pg.verifier.since(mark)
    refused = expired_token_refusal(creds)
    assert (attempt.user, attempt.code, attempt.message) == (IAM_USER, refused.code, refused.message)
    minter = KeyMinter("PGFRESH")
    pg.keys.follow_minter(minter)
    fresh = minter.mint(26)
    assert login(pg, IAM_USER, good(pg.port, fresh["secret_access_key"], time.time(),
                                    access_key_id=fresh["access_key_id"],
                                    session_token=fresh["session_token"])) == (IAM_USER, IAM_USER)


def test_the_superuser_cannot_log_in_over_tcp(pg: RdsLikePostgres) -> None:
    """Trust is for the unix socket only; over TCP only rds_iam members get as far as the verifier."""
    mark = pg.verifier.mark()
    fields = refusal(pg, SUPERUSER, "anything")
    assert fields["C"] == "28000"
    assert fields["M"] == (f'pg_hba.conf rejects connection for host "{HOST}", user "{SUPERUSER}", '
                           'database "postgres", no encryption')
    assert pg.verifier.since(mark) == []


# ---- credchain's tokens ----------------------------------------------------------------------------
def credchain_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BOTO_")) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(home / ".aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"), AWS_EC2_METADATA_DISABLED="true",
               NO_PROXY="*", no_proxy="*")
    return env


def credchain_token(home: Path, port: int) -> str:
    if not CREDCHAIN.exists():
        pytest.fail(f"{CREDCHAIN} is missing: run `cargo build --release` first")
    done = subprocess.run([str(CREDCHAIN), "token", "rds", "--hostname", HOST, "--port", str(port),
                           "--username", IAM_USER, "--region", REGION], env=credchain_env(home),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.rstrip("\n")


def test_a_credchain_token_from_static_keys_logs_in(pg: RdsLikePostgres, tmp_path: Path) -> None:
    secret = new_secret()
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {secret}\n")
    token = credchain_token(tmp_path, pg.port)
    mark = pg.verifier.mark()
    pg.keys.issue(AKID, secret)
    assert login(pg, IAM_USER, token) == (IAM_USER, IAM_USER)
    (attempt,) = pg.verifier.since(mark)
    assert (attempt.code, attempt.message.split(", signed at")[0]) == (rtc.ACCEPTED, f"{IAM_USER} with key {AKID}")


def test_a_credchain_token_from_a_credential_process_logs_in(pg: RdsLikePostgres, tmp_path: Path) -> None:
    akid, secret, session_token = "ASIARDSLIKEPROC00001", new_secret(), "FwoG" + secrets.token_urlsafe(700)
    expiration = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    issued = {"Version": 1, "AccessKeyId": akid, "SecretAccessKey": secret, "SessionToken": session_token,
              "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}
    (tmp_path / "issued.json").write_text(json.dumps(issued))
    helper = tmp_path / "credential-process"
    helper.write_text(f"#!/bin/sh\nexec cat '{tmp_path / 'issued.json'}'\n")
    helper.chmod(0o755)
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text(f"[default]\ncredential_process = {helper}\n")
    token = credchain_token(tmp_path, pg.port)
    assert f"X-Amz-Credential={akid}%2F" in token and "X-Amz-Security-Token=" in token
    mark = pg.verifier.mark()
    assert refusal(pg, IAM_USER, token)["M"] == LDAP_REFUSAL.format(user=IAM_USER)  # not yet issued to the verifier
    assert pg.verifier.since(mark)[0].code == rtc.UNKNOWN_KEY
    pg.keys.issue(akid, secret, session_token)
    assert login(pg, IAM_USER, token) == (IAM_USER, IAM_USER)
    assert pg.verifier.since(mark)[-1].ok
