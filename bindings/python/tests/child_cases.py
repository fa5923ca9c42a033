"""Child-process cases for the non-differential tests.

Run as ``python child_cases.py CASE`` in a clean environment prepared by
isolation.run_child; prints one JSON object.  Never prints a secret: secrets
and tokens appear only as fingerprints or as booleans.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List

import credchain
from credchain import _api
from isolation import fingerprint

HOME = Path(os.environ["HOME"])
CASES: Dict[str, Callable[[], Any]] = {}


def case(fn: Callable[[], Any]) -> Callable[[], Any]:
    CASES[fn.__name__] = fn
    return fn


def write_credentials(key: str, secret: str, profile: str = "default", token: str = "") -> None:
    path = HOME / ".aws" / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    if token:
        text += f"aws_session_token = {token}\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class CallCounter:
    """Counts the calls that really cross into libcredchain."""

    def __init__(self, name: str = "credchain_get_credentials") -> None:
        lib = _api.library()
        self._name = name
        self._real = getattr(lib.cdll, name)
        self.calls = 0
        self._lock = threading.Lock()
        counter = self

        def wrapper(*args: Any) -> Any:
            with counter._lock:
                counter.calls += 1
            return counter._real(*args)

        setattr(lib.cdll, name, wrapper)


def summary(creds: credchain.Credentials) -> Dict[str, Any]:
    return {
        "access_key": creds.access_key,
        "secret_key": fingerprint(creds.secret_key),
        "token": fingerprint(creds.token),
        "source": creds.source,
    }


# ---------------------------------------------------------------- basics


@case
def unknown_profile() -> Any:
    write_credentials("AKIACASEDEFAULT00001", "case-secret")
    try:
        credchain.get_credentials("no-such-profile-xyz")
    except credchain.ProfileNotFoundError as exc:
        return {"type": type(exc).__name__, "code": int(exc.code), "message": exc.message, "str": str(exc)}
    return {"type": None}


@case
def no_credentials() -> Any:
    try:
        credchain.get_credentials()
    except credchain.CredchainError as exc:
        return {"type": type(exc).__name__, "code": int(exc.code), "is_base": isinstance(exc, credchain.CredchainError)}
    return {"type": None}


@case
def snapshot_fields() -> Any:
    creds = credchain.get_credentials()
    text = repr(creds)
    return {
        **summary(creds),
        "account_id": creds.account_id,
        "expiration": None if creds.expiration is None else creds.expiration.isoformat(),
        "expiration_aware": creds.expiration is not None and creds.expiration.utcoffset() is not None,
        "repr_has_secret": creds.secret_key in text,
        "repr_has_token": creds.token is not None and creds.token in text,
        "repr_has_full_access_key": creds.access_key in text,
        "repr_tail": creds.access_key[-4:] in text,
    }


@case
def hot_path() -> Any:
    # The first call after a change may cross twice: a fetch that populates a
    # cold entry itself bumps the generation, and the binding conservatively
    # keys its cache with the generation read before the fetch.
    counter = CallCounter()
    credchain.get_credentials()
    first = credchain.get_credentials()
    warm = counter.calls
    same = all(credchain.get_credentials() is first for _ in range(10000))
    after_many = counter.calls - warm
    gen_before = credchain.generation()
    credchain.invalidate()
    gen_after = credchain.generation()
    credchain.get_credentials()
    second = credchain.get_credentials()
    warm_again = counter.calls
    for _ in range(1000):
        credchain.get_credentials()
    after_invalidate = counter.calls - warm_again
    # One counter serves every profile: the cold "alpha" fetch also makes the
    # default entry look stale once.
    credchain.get_credentials("alpha")
    credchain.get_credentials("alpha")
    credchain.get_credentials()
    alpha_warm = counter.calls
    for _ in range(1000):
        credchain.get_credentials("alpha")
        credchain.get_credentials()
    after_alpha = counter.calls - alpha_warm
    return {
        "same_object": same,
        "warm_up_calls": warm,
        "calls_during_10000": after_many,
        "generation_increased": gen_after > gen_before,
        "invalidate_then_warm_calls": warm_again - warm - after_many,
        "calls_during_1000_after_invalidate": after_invalidate,
        "calls_during_2000_mixed": after_alpha,
        "first": summary(first),
        "second": summary(second),
    }


@case
def rotation_after_invalidate() -> Any:
    first = credchain.get_credentials()
    write_credentials("AKIACASEROTATED00002", "rotated-secret")
    credchain.invalidate()
    second = credchain.get_credentials()
    return {"first": summary(first), "second": summary(second)}


@case
def environment_read_at_load_and_on_request() -> Any:
    first = credchain.get_credentials()
    os.environ["AWS_ACCESS_KEY_ID"] = "AKIACASEENVCHANGED02"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "changed-secret"
    credchain.invalidate()
    unchanged = credchain.get_credentials()
    credchain.reload_environment()
    credchain.invalidate()
    reloaded = credchain.get_credentials()
    return {"first": summary(first), "unchanged": summary(unchanged), "reloaded": summary(reloaded)}


# ---------------------------------------------------------------- threads


@case
def threads_32() -> Any:
    counter = CallCounter()
    expected = credchain.get_credentials()
    expected_alpha = credchain.get_credentials("alpha")
    errors: List[str] = []
    mismatches = [0]
    barrier = threading.Barrier(32)
    iterations = 3000

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for i in range(iterations):
                profile = "alpha" if index % 2 else None
                want = expected_alpha if index % 2 else expected
                got = credchain.get_credentials(profile)
                if got != want:
                    mismatches[0] += 1
                if index % 8 == 0 and i % 500 == 0:
                    credchain.invalidate(profile)
        except BaseException as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "errors": errors,
        "mismatches": mismatches[0],
        "calls": counter.calls,
        "total": 32 * iterations,
        "default": summary(expected),
        "alpha": summary(expected_alpha),
    }


# ---------------------------------------------------------------- fork


def _child_task(queue: Any) -> None:
    try:
        out: Dict[str, Any] = {}
        out["cached"] = credchain.get_credentials().access_key
        out["library"] = _api.fetch(None).access_key  # a real call into C
        write_credentials("AKIACASEFORKCHILD003", "child-secret")
        credchain.invalidate()
        out["after_invalidate"] = credchain.get_credentials().access_key
        out["after_invalidate_source"] = credchain.get_credentials().source
        queue.put(out)
    except BaseException as exc:  # noqa: BLE001
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def _pool_task(_: int) -> str:
    return _api.fetch(None).access_key


@case
def fork_multiprocessing() -> Any:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent_first = credchain.get_credentials().access_key
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_task, args=(queue,))
    proc.start()
    child = queue.get(timeout=60)
    proc.join(60)
    # The child rewrote the shared file; the parent's library still works.
    credchain.invalidate()
    parent_after = credchain.get_credentials().access_key
    write_credentials("AKIACASEFORKPOOL0004", "pool-secret")
    credchain.invalidate()
    credchain.get_credentials()
    with ctx.Pool(2) as pool:
        pooled = sorted(set(pool.map(_pool_task, range(8))))
    return {
        "parent_first": parent_first,
        "child": child,
        "child_exitcode": proc.exitcode,
        "parent_after": parent_after,
        "pool": pooled,
    }


# ---------------------------------------------------------------- botocore / boto3


@case
def botocore_adapter() -> Any:
    from botocore.credentials import RefreshableCredentials

    creds = credchain.botocore_credentials()
    frozen1 = creds.get_frozen_credentials()
    method1 = creds.method
    write_credentials("AKIACASEROTATED00002", "rotated-secret", token="rotated-token")
    credchain.invalidate()
    frozen2 = creds.get_frozen_credentials()
    return {
        "is_refreshable": isinstance(creds, RefreshableCredentials),
        "method1": method1,
        "first": [frozen1.access_key, fingerprint(frozen1.secret_key), fingerprint(frozen1.token)],
        "method2": creds.method,
        "second": [frozen2.access_key, fingerprint(frozen2.secret_key), fingerprint(frozen2.token)],
        "refresh_using": creds._refresh_using()["access_key"],
        "expiry": creds._expiry_time is None,
    }


@case
def boto3_session_adapter() -> Any:
    session = credchain.boto3_session(region_name="us-west-2")
    frozen = session.get_credentials().get_frozen_credentials()
    s3 = session.client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    alpha = credchain.boto3_session("alpha")
    alpha_frozen = alpha.get_credentials().get_frozen_credentials()
    return {
        "region": session.region_name,
        "method": session.get_credentials().method,
        "access_key": frozen.access_key,
        "secret_key": fingerprint(frozen.secret_key),
        "url_has_key": f"AWSAccessKeyId={frozen.access_key}" in url or f"X-Amz-Credential={frozen.access_key}" in url,
        "alpha_region": alpha.region_name,
        "alpha_profile": alpha.profile_name,
        "alpha_access_key": alpha_frozen.access_key,
    }


@case
def boto3_session_no_credentials() -> Any:
    session = credchain.boto3_session(region_name="us-east-1")
    return {"credentials": session.get_credentials() is None}


# ---------------------------------------------------------------- AWS Advanced Python Wrapper


class _DatabaseDialect:
    default_port = 5432


class _DriverDialect:
    def set_password(self, props: Dict[str, Any], password: str) -> None:
        props["password"] = password


class _PluginService:
    """The part of the wrapper's PluginService that IamAuthPlugin uses."""

    def __init__(self) -> None:
        from aws_advanced_python_wrapper.utils.telemetry.null_telemetry import (
            NullTelemetryFactory,
        )

        self.database_dialect = _DatabaseDialect()
        self.driver_dialect = _DriverDialect()
        self._telemetry = NullTelemetryFactory()

    def get_telemetry_factory(self) -> Any:
        return self._telemetry

    def is_network_exception(self, error: Any = None, sql_state: Any = None) -> bool:
        return False

    def is_login_exception(self, error: Any = None, sql_state: Any = None) -> bool:
        return False


def _wrapper_token(plugin: Any, user: str, host: str) -> str:
    from aws_advanced_python_wrapper.hostinfo import HostInfo
    from aws_advanced_python_wrapper.utils.properties import Properties

    props = Properties({"user": user, "plugins": "iam"})
    result = plugin.connect(
        target_driver_func=None,
        driver_dialect=None,
        host_info=HostInfo(host, 5432),
        props=props,
        is_initial_connection=True,
        connect_func=lambda: "connected",
    )
    assert result == "connected"
    return str(props["password"])


@case
def aws_wrapper_iam() -> Any:
    from urllib.parse import quote

    import credchain.aws_wrapper
    from aws_advanced_python_wrapper.aws_credentials_manager import (
        AwsCredentialsManager,
    )
    from aws_advanced_python_wrapper.iam_plugin import IamAuthPlugin

    credchain.aws_wrapper.install()
    installed = credchain.aws_wrapper.installed()
    plugin = IamAuthPlugin(_PluginService())
    host = "database-1.cluster-abcdefghijkl.us-east-2.rds.amazonaws.com"
    creds1 = credchain.get_credentials()
    token1 = _wrapper_token(plugin, "iam_user", host)
    session_method = AwsCredentialsManager.get_session(None, {}, "us-east-2").get_credentials().method

    # Rotate: credchain re-resolves after invalidate; the wrapper's cached
    # session and rds client must sign with the new snapshot.
    write_credentials("AKIACASEROTATED00002", "rotated-secret", token="rotated-token")
    credchain.invalidate()
    creds2 = credchain.get_credentials()
    token2 = _wrapper_token(plugin, "iam_user_2", host)

    def facts(token: str, creds: credchain.Credentials, user: str) -> Dict[str, Any]:
        return {
            "prefix_ok": token.startswith(f"{host}:5432/?") and f"DBUser={user}" in token and "Action=connect" in token,
            "credential_scope_ok": f"X-Amz-Credential={creds.access_key}%2F" in token
            and "%2Fus-east-2%2Frds-db%2Faws4_request" in token,
            "token_ok": creds.token is None or f"X-Amz-Security-Token={quote(creds.token, safe='')}" in token,
            "signed": "X-Amz-Signature=" in token,
        }

    credchain.aws_wrapper.uninstall()
    return {
        "installed": installed,
        "uninstalled": not credchain.aws_wrapper.installed(),
        "session_method": session_method,
        "access_key_1": creds1.access_key,
        "access_key_2": creds2.access_key,
        "token_1": facts(token1, creds1, "iam_user"),
        "token_2": facts(token2, creds2, "iam_user_2"),
    }


# ---------------------------------------------------------------- logging


@case
def log_callback() -> Any:
    import ctypes
    import logging

    from credchain import _logging

    records: List[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("credchain")
    logger.addHandler(Capture())
    logger.setLevel(logging.DEBUG)
    level = _logging.set_level(_api.library())  # from the logger's level
    # The exact pointer the library passes: a C string, from another thread.
    message = ctypes.create_string_buffer("refresh \xe2\x9c\x93 done".encode("latin-1"))
    thread = threading.Thread(target=_logging.CALLBACK, args=(2, ctypes.addressof(message), None))
    thread.start()
    thread.join()
    _logging.CALLBACK(4, None, None)
    _logging.CALLBACK(5, ctypes.addressof(message), None)  # TRACE: below DEBUG, filtered
    synthetic = [[r.name, r.levelname, r.getMessage()] for r in records]
    # Records of the real library: the fetch runs on its runtime thread.
    del records[:]
    credchain.get_credentials()
    credchain.invalidate()
    credchain.get_credentials()
    library = [[r.levelname, r.getMessage(), r.threadName == "MainThread"] for r in records]
    return {
        "library_level": level,
        "records": synthetic,
        "invalidate_logged": any(
            lvl == "INFO" and "invalidated" in msg and "(default)" in msg and main for lvl, msg, main in library
        ),
        "logged_from_another_thread": any(not main for _, _, main in library),
        "secret_logged": any("case-secret" in msg for _, msg, _ in library),
    }


@case
def log_levels() -> Any:
    """The Python level of each library level, through the callback itself, and the handlers
    the package puts on its logger (a NullHandler only: the application chooses where records go)."""
    import ctypes
    import logging

    from credchain import _ffi, _logging

    logger = logging.getLogger("credchain")
    handlers = [type(h).__name__ for h in logger.handlers]
    records: List[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Capture())
    logger.setLevel(_logging.TRACE)
    for level, text in ((_ffi.LOG_ERROR, b"error line"), (_ffi.LOG_WARN, b"warn line"), (_ffi.LOG_INFO, b"info line"),
                        (_ffi.LOG_DEBUG, b"debug line"), (_ffi.LOG_TRACE, b"trace line")):
        message = ctypes.create_string_buffer(text)
        _logging.CALLBACK(level, ctypes.addressof(message), None)
    return {"handlers": handlers, "records": [[r.name, r.levelname, r.getMessage()] for r in records]}


@case
def log_subscriptions_are_independent() -> Any:
    """Python's subscription beside another host's (a C driver's, made here
    through ctypes): both receive a refresh; ending Python's (what the exit
    handler does) leaves the other receiving."""
    import ctypes
    import logging

    from credchain import _ffi, _logging

    python_records: List[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            python_records.append(record.getMessage())

    logger = logging.getLogger("credchain")
    logger.addHandler(Capture())
    logger.setLevel(logging.INFO)
    lib = _api.library()
    _logging.set_level(lib)
    other_records: List[str] = []
    other = _ffi.LOG_SUBSCRIBER(lambda level, message, userdata: other_records.append(ctypes.string_at(message).decode()))
    handle = ctypes.c_uint64(0)
    subscribed = lib.cdll.credchain_log_subscribe(_ffi.LOG_INFO, other, None, ctypes.byref(handle), None)

    def refresh() -> None:
        credchain.invalidate()
        credchain.get_credentials()

    def refreshes(records: List[str]) -> int:
        return sum("now come from" in message for message in records)

    refresh()
    both = (refreshes(python_records), refreshes(other_records))
    _logging._detach()
    refresh()
    after = (refreshes(python_records), refreshes(other_records))
    ended = lib.cdll.credchain_log_unsubscribe(handle.value, None)
    return {"subscribed": subscribed, "both": both, "after_python_left": after, "other_ended": ended}


def main() -> None:
    result = CASES[sys.argv[1]]()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
