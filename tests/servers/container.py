"""Container credentials endpoint on loopback (ECS task role, EKS Pod Identity).

``GET <path>`` (default ``/v1/credentials``) answers
``{AccessKeyId, SecretAccessKey, Token, Expiration[, AccountId][, RoleArn]}``.

Authorization: when ``auth_token`` is set, the ``Authorization`` header must
equal it; when ``auth_token_file`` is set, the file is re-read on every
request (the EKS Pod Identity agent rotates that token), so a test can rotate
the token between fetches. A wrong or missing header is 401 with a JSON body.
Any other path is 404.

Credentials live ``lifetime`` seconds; ``rotate="every"`` mints a new set
(ASIACTNR000001, ...) per fetch, ``rotate="expiry"`` keeps the current set
until ``rotate_before`` seconds before its expiry.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .base import LoopbackServer, Request, Response, RotatingCredentials, iso8601


class ContainerServer(RotatingCredentials, LoopbackServer):
    name = "container"
    settings = ("path", "auth_token", "auth_token_file", "lifetime", "rotate", "rotate_before",
                "account_id", "role_arn")

    def __init__(self, **kw: Any) -> None:
        self.path = "/v1/credentials"
        self.auth_token: str | None = None
        self.auth_token_file: str | None = None
        self.account_id: str | None = None
        self.role_arn: str | None = None
        self.init_rotation("CTNR")
        super().__init__(**kw)

    def expected_token(self) -> str | None:
        if self.auth_token_file:
            with open(self.auth_token_file, encoding="utf-8") as f:
                return f.read().strip()
        return self.auth_token

    def handle(self, req: Request) -> Response:
        if req.method != "GET" or req.path != self.path:
            return Response(404, json.dumps({"code": "NotFound", "message": f"no such path {req.path}"}))
        expected = self.expected_token()
        got = req.headers.get("authorization")
        req.extra["authorization"] = got
        if expected is not None and got != expected:
            return Response(401, json.dumps({"code": "InvalidToken",
                                             "message": "Authorization header does not match the expected token"}))
        creds = self.credentials()
        req.extra["access_key_id"] = creds["access_key_id"]
        return Response(200, json.dumps(self.document(creds)))

    def document(self, creds: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.role_arn:
            doc["RoleArn"] = self.role_arn
        doc.update({
            "AccessKeyId": creds["access_key_id"],
            "SecretAccessKey": creds["secret_access_key"],
            "Token": creds["session_token"],
            "Expiration": iso8601(creds["expiration"]),
        })
        if self.account_id:
            doc["AccountId"] = self.account_id
        return doc

    def error_response(self, req: Request, status: int, code: str | None, message: str | None) -> Response:
        return Response(status, json.dumps({"code": code or f"Http{status}",
                                            "message": message or f"injected HTTP {status}"}))

    def missing_fields_response(self, req: Request) -> Response:
        return Response(200, json.dumps({"AccessKeyId": "ASIAMISSING", "Expiration": iso8601(time.time() + 3600)}))
