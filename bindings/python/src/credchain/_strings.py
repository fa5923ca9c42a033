"""Calls whose result is a string the library allocates: IAM database auth
tokens and the doctor's diagnosis."""

from __future__ import annotations

import ctypes
import json
from typing import Any, Callable, Dict, Optional

from ._api import _encode_profile, _raise_error, library
from ._errors import ErrorCode, InternalError, InvalidArgumentError


def _encode_text(name: str, value: Optional[str], required: bool) -> Optional[bytes]:
    if value is None:
        if required:
            raise InvalidArgumentError(f"{name} must not be None")
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidArgumentError(f"{name} contains an embedded NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(f"{name} is not encodable as UTF-8") from None


def _signing_time(signing_time: Optional[int]) -> int:
    if signing_time is None:
        return 0
    if isinstance(signing_time, bool) or not isinstance(signing_time, int):
        raise TypeError(f"signing_time must be an int (Unix seconds) or None, not {type(signing_time).__name__}")
    return signing_time


def _call_for_string(call: Callable[[Any, Any], int]) -> str:
    lib = library()
    out = ctypes.c_void_p()
    error = ctypes.c_void_p()
    result = call(ctypes.byref(out), ctypes.byref(error))
    if result != ErrorCode.OK:
        _raise_error(lib, result, error)
    if error.value:
        lib.cdll.credchain_error_free(error)
    if not out.value:
        raise InternalError("libcredchain reported success without a string")
    try:
        return ctypes.string_at(out.value).decode("utf-8")
    finally:
        lib.cdll.credchain_string_free(out)


def rds_auth_token(hostname: str, port: int, username: str, region: Optional[str] = None,
                   profile: Optional[str] = None, signing_time: Optional[int] = None) -> str:
    """An RDS / Aurora / RDS Proxy IAM auth token, as botocore's
    ``generate_db_auth_token`` makes it, signed with the shared credentials.

    ``region`` None: from the hostname, then ``AWS_REGION``,
    ``AWS_DEFAULT_REGION``, the profile. ``signing_time`` (Unix seconds) signs
    at a fixed time and bypasses the token cache; None signs now and reuses a
    cached token while it has ample life and its credentials are current.
    """
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if not 0 < port < 65536:
        raise InvalidArgumentError(f"port {port} is not between 1 and 65535")
    args = (_encode_profile(profile), _encode_text("hostname", hostname, True), port,
            _encode_text("username", username, True), _encode_text("region", region, False),
            _signing_time(signing_time))
    return _call_for_string(lambda out, err: library().cdll.credchain_rds_auth_token(*args, out, err))


def dsql_auth_token(hostname: str, region: Optional[str] = None, admin: bool = False,
                    profile: Optional[str] = None, signing_time: Optional[int] = None) -> str:
    """An Aurora DSQL auth token, as boto3's dsql client
    ``generate_db_connect_admin_auth_token`` (``admin=True``) or
    ``generate_db_connect_auth_token`` makes it. Region and signing time as
    for :func:`rds_auth_token`."""
    args = (_encode_profile(profile), _encode_text("hostname", hostname, True), _encode_text("region", region, False),
            bool(admin), _signing_time(signing_time))
    return _call_for_string(lambda out, err: library().cdll.credchain_dsql_auth_token(*args, out, err))


def token_fingerprint(token: str) -> str:
    """A short name for ``token`` to log in its place: ``"tok-"`` and 16
    hexadecimal digits of its SHA-256, the same in every language of the
    process, and useless for recovering the token."""
    encoded = _encode_text("token", token, True)
    return _call_for_string(lambda out, err: library().cdll.credchain_token_fingerprint(encoded, out, err))


def diagnose(profile: Optional[str] = None) -> Dict[str, Any]:
    """The doctor's report (``credchain doctor --json``) as a dict: every
    source's status, the winner, expiry and refresh, and the pitfalls found.
    Never contains a secret."""
    encoded = _encode_profile(profile)
    text = _call_for_string(lambda out, err: library().cdll.credchain_diagnose(encoded, out, err))
    report: Dict[str, Any] = json.loads(text)
    return report
