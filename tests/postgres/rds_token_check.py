"""The verifier: checks a password the way RDS checks an IAM authentication token.

An RDS IAM token is a SigV4 presigned ``GET`` URL without its scheme::

    HOST:PORT/?Action=connect&DBUser=USER&X-Amz-Algorithm=AWS4-HMAC-SHA256
        &X-Amz-Credential=AKID/YYYYMMDD/REGION/rds-db/aws4_request
        &X-Amz-Date=YYYYMMDDTHHMMSSZ&X-Amz-Expires=900&X-Amz-SignedHeaders=host
        [&X-Amz-Security-Token=...]&X-Amz-Signature=HEX

``verify_token`` accepts it only when it is a ``connect`` request for service
``rds-db``, for this endpoint's host and port and for the user logging in, in
the expected region, inside its validity window (``X-Amz-Date`` to
``X-Amz-Date + X-Amz-Expires``, with a small clock skew allowed either side),
signed with a key the test's credential source really issued (``KeyRing``),
carrying that key's session token when it has one, while those credentials
have not expired (session credentials stop working at their expiry, whatever
the token's own window says: AWS's ``ExpiredToken``), and when the signature,
recomputed here for the expected host, port and user with botocore's own
SigV4 query signer at the token's signing time, is the one in the token.

Why botocore and not credchain: this is the independent judge of credchain's
tokens, so it must share no code with credchain. botocore's
``SigV4QueryAuth`` is the signer behind ``generate_db_auth_token``; the only
change here is that the signing time is taken from the token instead of the
clock (``_FixedTimeQueryAuth``).

Every refusal is a ``Verdict`` with a stable ``code`` (tests assert it) and a
message naming what was wrong. Secrets never appear in a verdict: a token or
a secret key is named by ``fingerprint`` only.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest, create_request_object, prepare_request_dict
from botocore.credentials import Credentials

SERVICE = "rds-db"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 900  # RDS tokens live 15 minutes at most
DEFAULT_SKEW = 60  # seconds of clock difference allowed either side

# Refusal codes, one per way a token can be wrong.
MALFORMED = "malformed"
WRONG_SERVICE = "wrong_service"
WRONG_ACTION = "wrong_action"
WRONG_HOST = "wrong_host"
WRONG_PORT = "wrong_port"
WRONG_USER = "wrong_user"
WRONG_REGION = "wrong_region"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
UNKNOWN_KEY = "unknown_key"
SESSION_TOKEN_MISMATCH = "session_token_mismatch"
EXPIRED_TOKEN = "expired_token"  # AWS's ExpiredToken: the session credentials that signed it have expired
BAD_SIGNATURE = "bad_signature"
ACCEPTED = "accepted"

_REQUIRED = ("Action", "DBUser", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
             "X-Amz-SignedHeaders", "X-Amz-Signature")
_KNOWN = set(_REQUIRED) | {"X-Amz-Security-Token"}


def fingerprint(secret: str) -> str:
    """A short, stable name for a secret or token that does not reveal it."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Issued:
    """One set of credentials a credential source handed out.

    ``expiration`` is when the source said they expire (Unix seconds; ``None``
    for long-term keys, which do not): from then on a token they signed is
    refused as ``expired_token``, however recent its ``X-Amz-Date``.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expiration: float | None = None

    def __repr__(self) -> str:  # never print the secret
        return (f"Issued({self.access_key_id}, secret {fingerprint(self.secret_access_key)}, "
                f"session token {fingerprint(self.session_token) if self.session_token else None}, "
                f"expiring {amz_stamp(self.expiration) if self.expiration is not None else 'never'})")


class KeyRing:
    """The key/secret pairs the test's credential sources issued: all the verifier trusts.

    Fill it with ``issue(...)`` (static keys, what a ``credential_process``
    script prints), or ``follow(...)`` a live source such as the loopback
    STS's ``KeyMinter`` so that keys minted during a rotation are known the
    moment they exist. Thread-safe: the LDAP server asks from its threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, Issued] = {}
        self._sources: list[Callable[[str], Issued | None]] = []

    def issue(self, access_key_id: str, secret_access_key: str, session_token: str | None = None,
              expiration: float | None = None) -> Issued:
        """Trust these credentials (until ``expiration``, Unix seconds, when they have one)."""
        issued = Issued(access_key_id, secret_access_key, session_token, expiration)
        with self._lock:
            self._keys[access_key_id] = issued
        return issued

    def follow(self, source: Callable[[str], Issued | None]) -> None:
        """Ask ``source(access_key_id)`` for keys not issued here."""
        with self._lock:
            self._sources.append(source)

    def follow_minter(self, minter: object) -> None:
        """Trust every key a tests/servers ``KeyMinter`` (loopback STS, IMDS, ...) has minted, until the
        expiry it was minted with (the ``Expiration`` the server handed out with it)."""

        def lookup(access_key_id: str) -> Issued | None:
            for creds in list(getattr(minter, "issued")):
                if creds["access_key_id"] == access_key_id:
                    return Issued(creds["access_key_id"], creds["secret_access_key"], creds.get("session_token"),
                                  creds.get("expiration"))
            return None

        self.follow(lookup)

    def lookup(self, access_key_id: str) -> Issued | None:
        with self._lock:
            found = self._keys.get(access_key_id)
            sources = list(self._sources)
        if found is not None:
            return found
        for source in sources:
            found = source(access_key_id)
            if found is not None:
                return found
        return None

    def forget(self) -> None:
        with self._lock:
            self._keys.clear()
            self._sources.clear()


@dataclass(frozen=True)
class Verdict:
    """What the verifier decided about one password, and why."""

    code: str
    message: str
    access_key_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == ACCEPTED


def _refuse(code: str, message: str, access_key_id: str | None = None) -> Verdict:
    return Verdict(code, message, access_key_id)


class _FixedTimeQueryAuth(SigV4QueryAuth):
    """botocore's SigV4 query (presign) signer, signing as of a given time instead of now."""

    def __init__(self, credentials: Credentials, service_name: str, region_name: str, expires: int,
                 timestamp: str) -> None:
        super().__init__(credentials, service_name, region_name, expires=expires)
        self._fixed_timestamp = timestamp

    def add_auth(self, request: AWSRequest) -> None:
        # SigV4Auth.add_auth, with the timestamp fixed; the canonical request,
        # string to sign, key derivation and signature are botocore's.
        request.context["timestamp"] = self._fixed_timestamp
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


def botocore_token(*, host: str, port: int, user: str, region: str, access_key_id: str,
                   secret_access_key: str, session_token: str | None = None, signing_time: float | None = None,
                   expires: int = MAX_EXPIRES, service: str = SERVICE, action: str = "connect") -> str:
    """An RDS IAM token made the way botocore's ``generate_db_auth_token`` makes it.

    ``signing_time`` (Unix seconds, default now), ``expires``, ``service`` and
    ``action`` can be changed to make the corrupted tokens the tests need.
    """
    when = time.time() if signing_time is None else signing_time
    timestamp = amz_stamp(when)
    request_dict = {"url_path": "/", "query_string": "", "headers": {},
                    "body": {"Action": action, "DBUser": user}, "method": "GET"}
    scheme = "https://"
    prepare_request_dict(request_dict, f"{scheme}{host}:{port}")
    request = create_request_object(request_dict)
    creds = Credentials(access_key_id, secret_access_key, session_token)
    _FixedTimeQueryAuth(creds, service, region, expires, timestamp).add_auth(request)
    prepared = request.prepare()
    assert prepared.url.startswith(scheme)
    return prepared.url[len(scheme):]


def amz_stamp(epoch: float) -> str:
    """Unix seconds as SigV4's X-Amz-Date (UTC, YYYYMMDDTHHMMSSZ)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _parse_amz_date(value: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return None


def verify_token(token: str, *, user: str, host: str, port: int, keys: KeyRing, region: str | None,
                 now: float | None = None, skew: int = DEFAULT_SKEW) -> Verdict:
    """Decide whether ``token`` lets ``user`` log in to the database at ``host``:``port``.

    ``region`` is the region the database is in (``None``: any region, as
    long as the signature matches). ``now`` defaults to the clock.
    """
    now = time.time() if now is None else now
    # --- shape: HOST:PORT/?QUERY --------------------------------------------
    netloc, sep, query = token.partition("/?")
    if not sep or not netloc or not query:
        return _refuse(MALFORMED, "not HOST:PORT/?QUERY")
    token_host, colon, token_port = netloc.rpartition(":")
    if not colon or not token_host or not token_port.isdigit():
        return _refuse(MALFORMED, "no HOST:PORT before /?")
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return _refuse(MALFORMED, "query string does not parse")
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            return _refuse(MALFORMED, f"parameter {name} given twice")
        if name not in _KNOWN:
            return _refuse(MALFORMED, f"unexpected parameter {name}")
        params[name] = value
    missing = [name for name in _REQUIRED if name not in params]
    if missing:
        return _refuse(MALFORMED, f"missing {', '.join(missing)}")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        return _refuse(MALFORMED, f"algorithm {params['X-Amz-Algorithm']}, expected {ALGORITHM}")
    scope = params["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        return _refuse(MALFORMED, "X-Amz-Credential is not AKID/DATE/REGION/SERVICE/aws4_request")
    access_key_id, scope_date, scope_region, scope_service, _ = scope
    # --- what the token is for ------------------------------------------------
    if scope_service != SERVICE:
        return _refuse(WRONG_SERVICE, f"signed for service {scope_service}, expected {SERVICE}", access_key_id)
    if params["Action"] != "connect":
        return _refuse(WRONG_ACTION, f"action {params['Action']}, expected connect", access_key_id)
    if token_host != host:
        return _refuse(WRONG_HOST, f"signed for host {token_host}, expected {host}", access_key_id)
    if int(token_port) != port:
        return _refuse(WRONG_PORT, f"signed for port {token_port}, expected {port}", access_key_id)
    if params["DBUser"] != user:
        return _refuse(WRONG_USER, f"signed for user {params['DBUser']}, logging in as {user}", access_key_id)
    if region is not None and scope_region != region:
        return _refuse(WRONG_REGION, f"signed for region {scope_region}, expected {region}", access_key_id)
    if params["X-Amz-SignedHeaders"] != "host":
        return _refuse(MALFORMED, f"signed headers {params['X-Amz-SignedHeaders']}, expected host", access_key_id)
    # --- when -------------------------------------------------------------------
    amz_date = params["X-Amz-Date"]
    signed_at = _parse_amz_date(amz_date)
    if signed_at is None or amz_date[:8] != scope_date:
        return _refuse(MALFORMED, f"X-Amz-Date {amz_date} does not match the credential scope date {scope_date}",
                       access_key_id)
    expires_text = params["X-Amz-Expires"]
    if not expires_text.isdigit() or not 1 <= int(expires_text) <= MAX_EXPIRES:
        return _refuse(MALFORMED, f"X-Amz-Expires {expires_text} is not 1..{MAX_EXPIRES}", access_key_id)
    expires = int(expires_text)
    if now > signed_at + expires + skew:
        return _refuse(EXPIRED, f"signed at {amz_date}, valid {expires} s: expired at "
                                f"{amz_stamp(signed_at + expires)}", access_key_id)
    if signed_at > now + skew:
        return _refuse(NOT_YET_VALID, f"signed at {amz_date}, more than {skew} s in the future", access_key_id)
    # --- who ---------------------------------------------------------------------
    issued = keys.lookup(access_key_id)
    if issued is None:
        return _refuse(UNKNOWN_KEY, f"access key {access_key_id} was never issued", access_key_id)
    if params.get("X-Amz-Security-Token") != issued.session_token:
        given = params.get("X-Amz-Security-Token")
        return _refuse(SESSION_TOKEN_MISMATCH,
                       f"session token {fingerprint(given) if given else 'absent'}, issued "
                       f"{fingerprint(issued.session_token) if issued.session_token else 'none'}",
                       access_key_id)
    # Session credentials stop working when they expire, even inside the token's own window (AWS answers
    # ExpiredToken). No skew here: the expiry is the issuer's clock, which is this machine's.
    if issued.expiration is not None and now >= issued.expiration:
        return _refuse(EXPIRED_TOKEN, f"the session credentials of {access_key_id} expired at "
                                      f"{amz_stamp(issued.expiration)} (ExpiredToken)", access_key_id)
    # --- the signature, recomputed for this endpoint and user -----------------------
    expected = botocore_token(host=host, port=port, user=user, region=scope_region,
                              access_key_id=access_key_id, secret_access_key=issued.secret_access_key,
                              session_token=issued.session_token, signing_time=signed_at, expires=expires)
    expected_signature = dict(urllib.parse.parse_qsl(expected.partition("/?")[2]))["X-Amz-Signature"]
    if not hmac.compare_digest(expected_signature.encode(), params["X-Amz-Signature"].encode()):
        return _refuse(BAD_SIGNATURE, f"signature does not match (token {fingerprint(token)})", access_key_id)
    return Verdict(ACCEPTED, f"{user} with key {access_key_id}, signed at {amz_date}", access_key_id)
