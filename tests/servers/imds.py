"""IMDSv2 on loopback: token, role list, role credentials.

Wire behaviour follows EC2's instance metadata service:

* ``PUT /latest/api/token`` needs ``x-aws-ec2-metadata-token-ttl-seconds``
  (1..21600), else 400; answers the token as text/plain and echoes the TTL in
  the ``x-aws-ec2-metadata-token-ttl-seconds`` response header. EC2 always
  sends that header; aws-config refuses a token response without it, botocore
  does not look. ``ttl_header=False`` drops it, as moto's IMDS does.
* ``GET`` under ``/latest/`` needs a live token in
  ``x-aws-ec2-metadata-token`` (``require_token``), else 401, as EC2 does
  when IMDSv2 is required.
* ``GET /latest/meta-data/iam/security-credentials/`` lists the role;
  ``GET .../security-credentials/<role>`` answers
  ``{Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration}``;
  an unknown role is 404.

Credentials live ``lifetime`` seconds. ``rotate="every"`` mints a new set
(ASIAIMDS000001, ASIAIMDS000002, ...) on every credentials GET;
``rotate="expiry"`` keeps serving the current set until ``rotate_before``
seconds before it expires (EC2 makes new ones available at least 5 minutes
ahead), then mints the next.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from .base import LoopbackServer, Request, Response, RotatingCredentials, iso8601

TOKEN_PATH = "/latest/api/token"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"


class ImdsServer(RotatingCredentials, LoopbackServer):
    name = "imds"
    settings = ("role", "lifetime", "rotate", "rotate_before", "ttl_header", "require_token", "code")

    def __init__(self, **kw: Any) -> None:
        self.role = "credchain-test-role"
        self.ttl_header = True
        self.require_token = True
        self.code = "Success"
        self.init_rotation("IMDS")
        self._tokens: dict[str, float] = {}
        self._token_seq = itertools.count(1)
        super().__init__(**kw)

    # ---- protocol -------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path == TOKEN_PATH:
            if req.method != "PUT":
                return Response(405, "", content_type="text/plain")
            return self._token(req)
        if req.method != "GET" or not req.path.startswith("/latest/"):
            return Response(404, self._not_found(), content_type="text/html")
        if self.require_token and not self._token_ok(req.headers.get(TOKEN_HEADER)):
            return Response(401, "", content_type="text/plain")
        if req.path == CREDS_PATH:
            return Response(200, self.role, content_type="text/plain")
        if req.path.startswith(CREDS_PATH):
            role = req.path[len(CREDS_PATH):]
            if role != self.role:
                return Response(404, self._not_found(), content_type="text/html")
            creds = self.credentials()
            req.extra["access_key_id"] = creds["access_key_id"]
            return Response(200, json.dumps(self.document(creds), indent=2), content_type="text/plain")
        return Response(404, self._not_found(), content_type="text/html")

    def _token(self, req: Request) -> Response:
        raw = req.headers.get(TTL_HEADER)
        try:
            ttl = int(raw) if raw is not None else 0
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return Response(400, "", content_type="text/plain")
        token = f"imds-token-{next(self._token_seq):04d}"
        with self._lock:
            self._tokens[token] = time.time() + ttl
        headers = {TTL_HEADER: str(ttl)} if self.ttl_header else {}
        return Response(200, token, headers=headers, content_type="text/plain")

    def _token_ok(self, token: str | None) -> bool:
        with self._lock:
            expiry = self._tokens.get(token or "")
        return expiry is not None and expiry > time.time()

    def document(self, creds: dict[str, Any]) -> dict[str, Any]:
        return {
            "Code": self.code,
            "LastUpdated": iso8601(creds["issued_at"]),
            "Type": "AWS-HMAC",
            "AccessKeyId": creds["access_key_id"],
            "SecretAccessKey": creds["secret_access_key"],
            "Token": creds["session_token"],
            "Expiration": iso8601(creds["expiration"]),
        }

    @staticmethod
    def _not_found() -> str:
        return "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<html><head><title>404 - Not Found</title></head>" \
               "<body><h1>404 - Not Found</h1></body></html>\n"

    # ---- fault bodies ---------------------------------------------------
    def error_response(self, req: Request, status: int, code: str | None, message: str | None) -> Response:
        # IMDS answers errors with an empty or HTML body; the status is the signal.
        return Response(status, "", content_type="text/plain")

    def malformed_response(self, req: Request) -> Response:
        if req.path.startswith(CREDS_PATH) and req.path != CREDS_PATH:
            return Response(200, '{\n  "Code" : "Success",\n  "AccessKeyId" : "ASIAMALFORMED",\n  "Secr',
                            content_type="text/plain")
        return Response(200, "\x00\x01not-a-token\n", content_type="text/plain",
                        headers={TTL_HEADER: "21600"} if req.path == TOKEN_PATH else {})

    def missing_fields_response(self, req: Request) -> Response:
        return Response(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAMISSING"}),
                        content_type="text/plain")
