"""A loopback LDAP server that answers simple binds with the RDS token verifier.

Why LDAP: PostgreSQL cannot call out to a verifier of our own, but its
``ldap`` authentication in simple-bind mode sends the client's cleartext
password, unchanged and whole, as the password of an LDAP simple bind
(``ldap_simple_bind_s``) to the LDAP server ``pg_hba.conf`` names. RADIUS,
the other password-forwarding method, cuts passwords at 128 bytes; an IAM
token is 1-2 KB. PostgreSQL builds the bind DN as ``ldapprefix`` + user name
+ ``ldapsuffix``; this server strips both to learn the database user, hands
(user, password) to ``rds_token_check.verify_token`` and answers
``BindResponse`` success (0) or invalidCredentials (49, with the refusal as
the diagnostic message, which PostgreSQL writes to its log).

Only what PostgreSQL's libldap sends is understood: LDAPv3 ``BindRequest``
with simple authentication and ``UnbindRequest`` (RFC 4511, BER as in
X.690). Anything else gets protocolError (2) or closes the connection.

Every bind is recorded in ``attempts`` (user, verdict code and message, and
the token's fingerprint, never the token).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from typing import Callable

from rds_token_check import Verdict, fingerprint

SUCCESS, PROTOCOL_ERROR, INVALID_DN_SYNTAX, INVALID_CREDENTIALS = 0, 2, 34, 49
MAX_MESSAGE = 64 * 1024  # PostgreSQL's longest password packet is 65535 bytes

# BER tags (X.690 identifier octets) of the LDAP messages handled here.
SEQUENCE, INTEGER, OCTET_STRING, ENUMERATED = 0x30, 0x02, 0x04, 0x0A
BIND_REQUEST, BIND_RESPONSE, UNBIND_REQUEST = 0x60, 0x61, 0x42  # [APPLICATION 0/1/2]
SIMPLE_AUTH = 0x80  # [0] IMPLICIT OCTET STRING in AuthenticationChoice


class BerError(ValueError):
    pass


def _length(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a BER definite length at ``pos``: (length, position after it)."""
    if pos >= len(data):
        raise BerError("truncated length")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4 or pos + 1 + count > len(data):
        raise BerError("unsupported or truncated length")
    return int.from_bytes(data[pos + 1:pos + 1 + count], "big"), pos + 1 + count


def read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One BER element at ``pos``: (tag, contents, position after it)."""
    if pos >= len(data):
        raise BerError("truncated element")
    tag = data[pos]
    length, start = _length(data, pos + 1)
    end = start + length
    if end > len(data):
        raise BerError("element longer than its container")
    return tag, data[start:end], end


def encode_tlv(tag: int, contents: bytes) -> bytes:
    n = len(contents)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + contents


def encode_int(tag: int, value: int) -> bytes:
    return encode_tlv(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def bind_response(message_id: int, code: int, diagnostic: str) -> bytes:
    body = encode_int(ENUMERATED, code) + encode_tlv(OCTET_STRING, b"") + \
        encode_tlv(OCTET_STRING, diagnostic.encode("utf-8"))
    return encode_tlv(SEQUENCE, encode_int(INTEGER, message_id) + encode_tlv(BIND_RESPONSE, body))


@dataclass(frozen=True)
class BindRequest:
    message_id: int
    version: int
    dn: str
    password: str


def parse_message(message: bytes) -> tuple[int, int, bytes]:
    """An LDAPMessage's (messageID, protocolOp tag, protocolOp contents)."""
    tag, body, end = read_tlv(message, 0)
    if tag != SEQUENCE or end != len(message):
        raise BerError("not an LDAPMessage SEQUENCE")
    tag, raw_id, pos = read_tlv(body, 0)
    if tag != INTEGER or not raw_id:
        raise BerError("no messageID")
    op_tag, op_body, _ = read_tlv(body, pos)  # controls, if any, are ignored
    return int.from_bytes(raw_id, "big", signed=True), op_tag, op_body


def parse_bind(message_id: int, op_body: bytes) -> BindRequest:
    tag, raw_version, pos = read_tlv(op_body, 0)
    if tag != INTEGER:
        raise BerError("BindRequest without version")
    tag, raw_dn, pos = read_tlv(op_body, pos)
    if tag != OCTET_STRING:
        raise BerError("BindRequest without name")
    tag, raw_password, _ = read_tlv(op_body, pos)
    if tag != SIMPLE_AUTH:
        raise BerError(f"authentication choice 0x{tag:02x} is not simple")
    return BindRequest(message_id, int.from_bytes(raw_version, "big"), raw_dn.decode("utf-8"),
                       raw_password.decode("utf-8", "replace"))


@dataclass(frozen=True)
class Attempt:
    """One bind this server answered."""

    user: str | None
    code: str
    message: str
    token_fingerprint: str
    token_length: int
    time: float

    @property
    def ok(self) -> bool:
        return self.code == "accepted"


class _Handler(socketserver.BaseRequestHandler):
    server: "LdapVerifier._Server"

    def _read_message(self, buf: bytearray) -> bytes | None:
        sock: socket.socket = self.request
        while True:
            if len(buf) >= 2:
                try:
                    length, start = _length(bytes(buf[:6]), 1)
                except BerError:
                    if len(buf) >= 6:  # a length field no BER encoder of LDAP writes
                        raise
                    length, start = -1, 0
                if length > MAX_MESSAGE:
                    raise BerError("message too long")
                if length >= 0 and len(buf) >= start + length:
                    message = bytes(buf[:start + length])
                    del buf[:start + length]
                    return message
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buf.extend(chunk)

    def handle(self) -> None:
        owner = self.server.owner
        sock: socket.socket = self.request
        sock.settimeout(30)
        buf = bytearray()
        try:
            while True:
                message = self._read_message(buf)
                if message is None:
                    return
                message_id, op_tag, op_body = parse_message(message)
                if op_tag == UNBIND_REQUEST:
                    return
                if op_tag != BIND_REQUEST:
                    owner._note(None, "protocol_error", f"operation 0x{op_tag:02x} is not handled", "")
                    return
                try:
                    bind = parse_bind(message_id, op_body)
                except BerError as exc:
                    owner._note(None, "protocol_error", str(exc), "")
                    sock.sendall(bind_response(message_id, PROTOCOL_ERROR, str(exc)))
                    continue
                code, diagnostic = owner._answer(bind)
                sock.sendall(bind_response(message_id, code, diagnostic))
        except (BerError, OSError, UnicodeDecodeError) as exc:
            owner._note(None, "protocol_error", f"{type(exc).__name__}: {exc}", "")


class LdapVerifier:
    """LDAP on 127.0.0.1 (a port the kernel picks) answering binds with ``check(user, password)``.

    ``prefix`` and ``suffix`` must be the ``ldapprefix`` and ``ldapsuffix``
    of the ``pg_hba.conf`` line that sends logins here.
    """

    class _Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        owner: "LdapVerifier"

    def __init__(self, check: Callable[[str, str], Verdict], prefix: str = "cn=",
                 suffix: str = ",dc=rds-iam,dc=loopback") -> None:
        self.check = check
        self.prefix = prefix
        self.suffix = suffix
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._server = self._Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="ldap-verifier", daemon=True)

    def start(self) -> "LdapVerifier":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits forever on a server that never served
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> "LdapVerifier":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def user_of(self, dn: str) -> str | None:
        if len(dn) > len(self.prefix) + len(self.suffix) and dn.startswith(self.prefix) and dn.endswith(self.suffix):
            return dn[len(self.prefix):len(dn) - len(self.suffix)]
        return None

    def _note(self, user: str | None, code: str, message: str, password: str) -> Attempt:
        attempt = Attempt(user, code, message, fingerprint(password) if password else "", len(password),
                          time.time())
        with self._lock:
            self.attempts.append(attempt)
        return attempt

    def _answer(self, bind: BindRequest) -> tuple[int, str]:
        if bind.version != 3:
            self._note(None, "protocol_error", f"LDAP version {bind.version}", bind.password)
            return PROTOCOL_ERROR, "only LDAPv3"
        user = self.user_of(bind.dn)
        if user is None:
            self._note(None, "bad_dn", f"bind DN {bind.dn!r} is not {self.prefix}USER{self.suffix}", bind.password)
            return INVALID_DN_SYNTAX, "unexpected bind DN"
        try:
            verdict = self.check(user, bind.password)
        except Exception as exc:  # a verifier bug must refuse, and be visible in the attempts
            verdict = Verdict("verifier_error", f"{type(exc).__name__}: {exc}")
        self._note(user, verdict.code, verdict.message, bind.password)
        if verdict.ok:
            return SUCCESS, ""
        return INVALID_CREDENTIALS, f"{verdict.code}: {verdict.message}"

    def mark(self) -> int:
        """A position in ``attempts``; ``since(mark)`` returns the attempts after it."""
        with self._lock:
            return len(self.attempts)

    def since(self, mark: int) -> list[Attempt]:
        with self._lock:
            return list(self.attempts[mark:])
