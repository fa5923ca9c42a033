"""AWS IAM Identity Center (SSO) portal on loopback: GetRoleCredentials.

``GET /federation/credentials?role_name=R&account_id=A`` with header
``x-amz-sso_bearer_token`` answers
``{"roleCredentials": {accessKeyId, secretAccessKey, sessionToken, expiration}}``
(expiration in epoch milliseconds), as the portal does. A token other than
``access_token`` is 401 UnauthorizedException (error type in the
``x-amzn-ErrorType`` header and the body, restJson1 style); an account/role
pair other than the configured one (when set) is 403 ForbiddenException.
Every call's role_name, account_id and token land in ``server.calls``.

Credentials live ``lifetime`` seconds; key ids count up: ASIASSOP000001, ...
"""

from __future__ import annotations

import json
from typing import Any

from .base import KeyMinter, LoopbackServer, Request, Response

PATH = "/federation/credentials"
TOKEN_HEADER = "x-amz-sso_bearer_token"

ERROR_TYPES = {
    400: "InvalidRequestException",
    401: "UnauthorizedException",
    403: "ForbiddenException",
    404: "ResourceNotFoundException",
    429: "TooManyRequestsException",
}


class SsoServer(LoopbackServer):
    name = "sso"
    settings = ("access_token", "lifetime", "account_id", "role_name")

    def __init__(self, **kw: Any) -> None:
        self.access_token = "fake-sso-access-token"
        self.lifetime: float = 3600
        self.account_id: str | None = None
        self.role_name: str | None = None
        self.minter = KeyMinter("SSOP")
        self.calls: list[dict[str, Any]] = []
        super().__init__(**kw)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.calls.clear()

    def handle(self, req: Request) -> Response:
        call = {"role_name": req.query.get("role_name"), "account_id": req.query.get("account_id"),
                "token": req.headers.get(TOKEN_HEADER), "time": req.time}
        with self._lock:
            self.calls.append(call)
        if req.method != "GET" or req.path != PATH:
            return self.error_response(req, 404, "ResourceNotFoundException", f"no such path {req.path}")
        if not call["role_name"] or not call["account_id"]:
            return self.error_response(req, 400, "InvalidRequestException", "role_name and account_id are required")
        if call["token"] != self.access_token:
            return self.error_response(req, 401, "UnauthorizedException", "Session token not found or invalid")
        if (self.account_id and call["account_id"] != self.account_id) or \
                (self.role_name and call["role_name"] != self.role_name):
            return self.error_response(req, 403, "ForbiddenException", "No access")
        creds = self.minter.mint(self.lifetime)
        call["access_key_id"] = creds["access_key_id"]
        return Response(200, json.dumps({"roleCredentials": {
            "accessKeyId": creds["access_key_id"],
            "secretAccessKey": creds["secret_access_key"],
            "sessionToken": creds["session_token"],
            "expiration": creds["expiration"] * 1000,
        }}))

    def error_response(self, req: Request, status: int, code: str | None, message: str | None) -> Response:
        code = code or ERROR_TYPES.get(status, "InternalServerException" if status >= 500 else f"Http{status}")
        return Response(status, json.dumps({"message": message or f"injected {code}", "__type": code}),
                        headers={"x-amzn-ErrorType": code})

    def malformed_response(self, req: Request) -> Response:
        return Response(200, '{"roleCredentials": {"accessKeyId": "ASIAMALFORMED", "secretAcc')

    def missing_fields_response(self, req: Request) -> Response:
        return Response(200, json.dumps({"roleCredentials": {"accessKeyId": "ASIAMISSING"}}))
