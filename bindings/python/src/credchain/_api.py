"""get_credentials / invalidate / version, and the call-free hot path."""

from __future__ import annotations

import ctypes
import datetime
import math
import os
import threading
import time
from typing import Dict, Optional, Tuple

from . import _ffi, _logging
from ._credentials import Credentials
from ._errors import ErrorCode, InternalError, InvalidArgumentError, error_for

# profile (None = the default selection) -> (generation read before the fetch,
# credentials, time.time() deadline after which the entry is not reused).
# Single dict reads and writes are atomic, so the hot path takes no lock: an
# entry that a slower thread overwrites with an older generation is merely
# refetched on the next call, because the counter only ever increases.
_cache: Dict[Optional[str], Tuple[int, Credentials, float]] = {}

_now = time.time  # module global: one lookup on the hot path (tests patch it)

_init_lock = threading.Lock()
_lib: Optional[_ffi.Library] = None
_generation: Optional[ctypes.c_uint64] = None


def _reinit_lock_in_child() -> None:
    global _init_lock
    _init_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_lock_in_child)


def _init() -> _ffi.Library:
    global _lib, _generation
    with _init_lock:
        if _lib is None:
            lib = _ffi.load()
            _logging.set_level(lib)
            _generation = lib.generation
            _lib = lib
        return _lib


def library() -> _ffi.Library:
    """The loaded library (loading it on first use)."""
    return _lib or _init()


def _encode_profile(profile: Optional[str]) -> Optional[bytes]:
    if profile is None:
        return None
    if not isinstance(profile, str):
        raise TypeError(f"profile must be a str or None, not {type(profile).__name__}")
    if "\x00" in profile:
        raise InvalidArgumentError("profile name contains an embedded NUL character")
    try:
        return profile.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError("profile name is not encodable as UTF-8") from None


def _raise_error(lib: _ffi.Library, result: int, error: ctypes.c_void_p) -> None:
    """Build the exception for a failed call, freeing the credchain_error."""
    message = f"libcredchain returned {result} without an error message"
    source = None
    code = result
    if error.value:
        try:
            code = lib.cdll.credchain_error_code(error) or result
            message = _ffi.take_string(lib.cdll.credchain_error_message(error)) or message
            source = _ffi.take_string(lib.cdll.credchain_error_source(error))
        finally:
            lib.cdll.credchain_error_free(error)
    raise error_for(code, message, source)


def _expiration(seconds: int) -> Optional[datetime.datetime]:
    if seconds == 0:
        return None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def _decode(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode("utf-8")


def fetch(profile: Optional[str]) -> Credentials:
    """Ask the library (one call into C) for the current snapshot."""
    return fetch_with_reuse(profile)[0]


def fetch_with_reuse(profile: Optional[str]) -> Tuple[Credentials, float]:
    """The current snapshot and until when (time.time()) a copy of it may be
    handed out without asking the library again."""
    encoded = _encode_profile(profile)
    lib = library()
    out = _ffi.CCredentialsPtr()
    error = ctypes.c_void_p()
    result = lib.cdll.credchain_get_credentials(encoded, ctypes.byref(out), ctypes.byref(error))
    if result != ErrorCode.OK:
        _raise_error(lib, result, error)
    if error.value:  # not expected on success; never leak it
        lib.cdll.credchain_error_free(error)
    if not out:
        raise InternalError("libcredchain reported success but returned no credentials")
    try:
        c = out.contents
        access_key = _decode(c.access_key_id)
        secret_key = _decode(c.secret_access_key)
        token = _decode(c.session_token)
        account_id = _decode(c.account_id)
        source = _decode(c.source)
        expiration = int(c.expiration)
        reuse_until = int(c.reuse_until)
    finally:
        lib.cdll.credchain_free_credentials(out)
    if access_key is None or secret_key is None:
        raise InternalError("libcredchain returned credentials without a key pair")
    credentials = Credentials(
        access_key=access_key,
        secret_key=secret_key,
        token=token,
        expiration=_expiration(expiration),
        source=source or "",
        account_id=account_id,
    )
    return credentials, reuse_deadline(reuse_until)


def reuse_deadline(reuse_until: float) -> float:
    """Until when a copy may be reused: the library's ``reuse_until`` (the
    start of its mandatory refresh window, where a C caller would wait for
    new credentials or get the refresh's error, and never closer than a
    second to expiry: the library keeps that margin); for credentials that
    never expire (``reuse_until`` 0), until the generation counter moves."""
    return float(reuse_until) if reuse_until else math.inf


def get_credentials(profile: Optional[str] = None) -> Credentials:
    """The current credentials for ``profile`` (None: the default selection).

    The default selection is ``AWS_DEFAULT_PROFILE``, else ``AWS_PROFILE``, else
    ``default``, with environment credentials first; a named profile skips the
    environment variables (as botocore does with an explicit profile).

    Repeated calls do not call into the library while nothing changed: the
    snapshot is reused as long as the library's generation counter (read from
    memory) is unchanged and the library's ``reuse_until`` for it (the start of
    its mandatory refresh window) has not come.  Thread-safe.

    Raises :class:`TypeError` when ``profile`` is neither a str nor None, and a
    :class:`CredchainError` subclass for every library error.
    """
    generation = _generation
    if generation is not None:
        try:
            entry = _cache.get(profile)
        except TypeError:  # unhashable: reported by the slow path
            entry = None
        if entry is not None and entry[0] == generation.value and entry[2] > _now():
            return entry[1]
    return _get_slow(profile)


def _get_slow(profile: Optional[str]) -> Credentials:
    _encode_profile(profile)  # argument errors before anything else
    library()
    assert _generation is not None
    before = _generation.value  # read before the fetch: conservative
    credentials, deadline = fetch_with_reuse(profile)
    _cache[profile] = (before, credentials, deadline)
    return credentials


def reload_environment() -> None:
    """Make credchain read the process environment again.

    credchain reads the environment once, when the library is loaded, and
    never again on its own: reading it while another thread writes it (any
    ``os.environ[...] = ...``) can crash the process. Call this after
    changing ``AWS_*`` variables or ``HOME``, while no other thread writes
    ``os.environ``, then :func:`invalidate` the profiles that must see the
    change at once.
    """
    library().cdll.credchain_reload_environment()
    _cache.clear()


def invalidate(profile: Optional[str] = None) -> None:
    """Drop the cached snapshot of ``profile`` (None: the default selection).

    For a driver whose login just failed with an expired-token error: the next
    :func:`get_credentials` resolves the chain again.
    """
    encoded = _encode_profile(profile)
    lib = library()
    _cache.pop(profile, None)
    error = ctypes.c_void_p()
    result = lib.cdll.credchain_invalidate(encoded, ctypes.byref(error))
    if result != ErrorCode.OK:
        _raise_error(lib, result, error)
    if error.value:
        lib.cdll.credchain_error_free(error)
    _cache.pop(profile, None)


def version() -> str:
    """libcredchain's version string, e.g. ``"0.1.0"``."""
    raw = library().cdll.credchain_version()
    return raw.decode("utf-8") if raw else ""


def generation() -> int:
    """The library's generation counter (increases whenever a snapshot changes)."""
    library()
    assert _generation is not None
    return int(_generation.value)


def set_log_level(level: Optional[int] = None) -> None:
    """Choose which library records reach the ``credchain`` logger.

    ``level`` is a :mod:`logging` level; None re-reads the ``credchain``
    logger's effective level.  The library is told once, at load time, from
    that effective level: call this after configuring logging to make the
    library send more (or fewer) records.  Records below DEBUG use level 5
    (``TRACE``).
    """
    _logging.set_level(library(), level)
