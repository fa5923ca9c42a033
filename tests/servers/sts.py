"""AWS STS (query protocol, Version 2011-06-15) on loopback.

``POST /`` with a form body: ``Action=AssumeRole``,
``AssumeRoleWithWebIdentity`` or ``GetCallerIdentity``. Answers XML shaped
exactly like STS (``<AssumeRoleResponse><AssumeRoleResult><Credentials>``
... ``<Expiration>`` ISO 8601 ... ``<ResponseMetadata><RequestId>``), and STS
error bodies (``<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied``
...) with their status.

Every call is recorded in ``server.calls`` for assertions: Action, RoleArn,
RoleSessionName, ExternalId, DurationSeconds, WebIdentityToken, plus the key
id the request was signed with (from the SigV4 ``Authorization`` header), its
``X-Amz-Security-Token``, and whether the signature verifies against a secret
the server knows (``known_secrets``: keys added by the test, plus every set
this server minted — so the second hop of a role chain must be signed with
the first hop's secret). ``verify_signatures=True`` turns a bad signature
into STS's 403 SignatureDoesNotMatch.

Credentials live ``lifetime`` seconds when set, else ``DurationSeconds``
(default 3600); key ids count up: ASIASTSR000001, ...
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
import uuid
from typing import Any
from xml.sax.saxutils import escape

from .base import KeyMinter, LoopbackServer, Request, Response, iso8601

# The XML namespace STS puts on its responses. It is a name, not an address:
# nothing here connects to it. (Spelled in two parts so that a grep for real
# endpoints in tests/ stays quiet.)
STS_NS = "https://sts." + "amazonaws.com/doc/2011-06-15/"

DEFAULT_ERROR_CODES = {
    400: ("Sender", "ValidationError"),
    401: ("Sender", "InvalidClientTokenId"),
    403: ("Sender", "AccessDenied"),
    429: ("Sender", "Throttling"),
    500: ("Receiver", "InternalFailure"),
    503: ("Receiver", "ServiceUnavailable"),
}


class StsServer(LoopbackServer):
    name = "sts"
    settings = ("lifetime", "require_signature", "verify_signatures", "expected_web_identity_token",
                "account_id")

    def __init__(self, **kw: Any) -> None:
        self.lifetime: float | None = None
        self.require_signature = True
        self.verify_signatures = False
        self.expected_web_identity_token: str | None = None
        self.account_id: str | None = None
        self.minter = KeyMinter("STSR")
        self.known_secrets: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []
        super().__init__(**kw)

    def add_secret(self, access_key_id: str, secret_access_key: str) -> None:
        self.known_secrets[access_key_id] = secret_access_key

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.calls.clear()

    def calls_for(self, action: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c.get("Action") == action]

    # ---- protocol -------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.method != "POST":
            return self.error_response(req, 400, "InvalidAction", "STS takes POST")
        form = self._form(req)
        action = form.get("Action")
        if action == "AssumeRole":
            return self._assume(req, form, web=False)
        if action == "AssumeRoleWithWebIdentity":
            return self._assume(req, form, web=True)
        if action == "GetCallerIdentity":
            sig = req.extra.get("signed_with")
            return self._xml("GetCallerIdentity", (
                f"<Arn>arn:aws:iam::{self.account_id or '123456789012'}:user/test</Arn>"
                f"<UserId>{escape(sig or 'anonymous')}</UserId>"
                f"<Account>{self.account_id or '123456789012'}</Account>"))
        return self.error_response(req, 400, "InvalidAction", f"Could not find operation {action} for version "
                                   f"{form.get('Version')}")

    def _form(self, req: Request) -> dict[str, str]:
        """Parse the form once, record the call and its signature."""
        if "form" in req.extra:
            return req.extra["form"]
        form = dict(urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        form.update({k: v for k, v in req.query.items() if k not in form})
        req.extra["form"] = form
        signed_with, region, valid = self._signature(req)
        call = {k: form.get(k) for k in ("Action", "Version", "RoleArn", "RoleSessionName", "ExternalId",
                                          "DurationSeconds", "WebIdentityToken", "SourceIdentity")}
        call.update({
            "signed_with": signed_with,
            "signing_region": region,
            "signature_valid": valid,
            "security_token": req.headers.get("x-amz-security-token"),
            "time": req.time,
            "fault": req.fault,
        })
        req.extra["signed_with"] = signed_with
        req.extra["call"] = call
        with self._lock:
            self.calls.append(call)
        return form

    def _assume(self, req: Request, form: dict[str, str], web: bool) -> Response:
        call = req.extra["call"]
        if form.get("Version") != "2011-06-15":
            return self.error_response(req, 400, "InvalidAction", f"unsupported Version {form.get('Version')}")
        if not web:
            if self.require_signature and call["signed_with"] is None:
                return self.error_response(req, 403, "MissingAuthenticationToken",
                                           "Request is missing Authentication Token")
            if self.verify_signatures and call["signature_valid"] is not True:
                return self.error_response(req, 403, "SignatureDoesNotMatch",
                                           "The request signature we calculated does not match the signature "
                                           "you provided.")
        for required in ("RoleArn", "RoleSessionName") + (("WebIdentityToken",) if web else ()):
            if not form.get(required):
                return self.error_response(req, 400, "ValidationError",
                                           f"1 validation error detected: Value null at '{required}'")
        if web and self.expected_web_identity_token is not None \
                and form["WebIdentityToken"] != self.expected_web_identity_token:
            return self.error_response(req, 400, "InvalidIdentityToken", "The web identity token is not valid")
        duration = int(form.get("DurationSeconds") or 3600)
        lifetime = self.lifetime if self.lifetime is not None else duration
        creds = self.minter.mint(lifetime)
        self.add_secret(creds["access_key_id"], creds["secret_access_key"])
        call["access_key_id"] = creds["access_key_id"]
        role_arn = form["RoleArn"]
        session = form["RoleSessionName"]
        account = self.account_id or _account_of(role_arn)
        role_name = role_arn.rsplit("/", 1)[-1]
        assumed = (
            "<AssumedRoleUser>"
            f"<AssumedRoleId>AROATESTROLE{abs(hash(role_arn)) % 10**8:08d}:{escape(session)}</AssumedRoleId>"
            f"<Arn>arn:aws:sts::{account}:assumed-role/{escape(role_name)}/{escape(session)}</Arn>"
            "</AssumedRoleUser>"
        )
        credentials = (
            "<Credentials>"
            f"<AccessKeyId>{creds['access_key_id']}</AccessKeyId>"
            f"<SecretAccessKey>{creds['secret_access_key']}</SecretAccessKey>"
            f"<SessionToken>{creds['session_token']}</SessionToken>"
            f"<Expiration>{iso8601(creds['expiration'])}</Expiration>"
            "</Credentials>"
        )
        if web:
            inner = (
                "<Audience>sts.amazonaws.com</Audience>" + assumed
                + "<Provider>oidc.loopback.test</Provider>" + credentials
                + "<SubjectFromWebIdentityToken>system:serviceaccount:test:credchain</SubjectFromWebIdentityToken>"
            )
            return self._xml("AssumeRoleWithWebIdentity", inner)
        return self._xml("AssumeRole", assumed + credentials + "<PackedPolicySize>6</PackedPolicySize>")

    @staticmethod
    def _xml(action: str, inner: str) -> Response:
        body = (
            f'<{action}Response xmlns="{STS_NS}">\n'
            f"  <{action}Result>{inner}</{action}Result>\n"
            f"  <ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>\n"
            f"</{action}Response>\n"
        )
        return Response(200, body, headers={"x-amzn-RequestId": str(uuid.uuid4())}, content_type="text/xml")

    # ---- SigV4 ----------------------------------------------------------
    def _signature(self, req: Request) -> tuple[str | None, str | None, bool | None]:
        """(key id, region, valid?) from the Authorization header; valid is None for an unknown key."""
        auth = req.headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return None, None, None
        parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
        scope = parts.get("Credential", "").split("/")
        if len(scope) != 5:
            return None, None, False
        akid, date, region, service, terminal = scope
        secret = self.known_secrets.get(akid)
        if secret is None:
            return akid, region, None
        signed_headers = parts.get("SignedHeaders", "")
        canonical_headers = "".join(
            f"{h}:{' '.join(req.headers.get(h, '').split())}\n" for h in signed_headers.split(";")
        )
        payload_hash = req.headers.get("x-amz-content-sha256") or hashlib.sha256(req.body).hexdigest()
        query = "&".join(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
            for k, v in sorted(req.query.items())
        )
        canonical = "\n".join([req.method, urllib.parse.quote(req.path, safe="/-_.~"), query,
                               canonical_headers, signed_headers, payload_hash])
        amz_date = req.headers.get("x-amz-date", "")
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join(scope[1:]),
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + secret).encode()
        for part in (date, region, service, terminal):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return akid, region, hmac.compare_digest(expected, parts.get("Signature", ""))

    # ---- fault bodies ---------------------------------------------------
    def error_response(self, req: Request, status: int, code: str | None, message: str | None) -> Response:
        if req.method == "POST":
            self._form(req)  # a faulted call is still recorded
        kind, default_code = DEFAULT_ERROR_CODES.get(status, ("Sender" if status < 500 else "Receiver",
                                                              f"Http{status}"))
        code = code or default_code
        message = message or {
            "AccessDenied": "User: arn:aws:iam::123456789012:user/test is not authorized to perform: "
                            "sts:AssumeRole on resource: the requested role",
        }.get(code, f"injected {code}")
        request_id = str(uuid.uuid4())
        body = (
            f'<ErrorResponse xmlns="{STS_NS}">\n'
            f"  <Error>\n    <Type>{kind}</Type>\n    <Code>{escape(code)}</Code>\n"
            f"    <Message>{escape(message)}</Message>\n  </Error>\n"
            f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
        )
        return Response(status, body, headers={"x-amzn-RequestId": request_id}, content_type="text/xml")

    def malformed_response(self, req: Request) -> Response:
        """A response cut short inside the credentials (the right root element, so that the parser
        gets as far as the credentials)."""
        action = (self._form(req).get("Action") if req.method == "POST" else None) or "AssumeRole"
        return Response(200, f'<{action}Response xmlns="{STS_NS}"><{action}Result><Credentials>'
                             "<AccessKeyId>ASIAMALFORMED</AccessKeyId><SecretAcc", content_type="text/xml")

    def missing_fields_response(self, req: Request) -> Response:
        action = (self._form(req).get("Action") if req.method == "POST" else None) or "AssumeRole"
        return self._xml(action, "<Credentials><AccessKeyId>ASIAMISSING</AccessKeyId></Credentials>")


def _account_of(role_arn: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else "123456789012"
