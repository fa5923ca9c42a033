"""Route libcredchain's log messages into the standard ``logging`` module.

Records go to the logger named ``credchain``, whose only handler is a
``NullHandler``: as for any library, the application decides where records go,
and a program that configured no logging prints none of them (Python's
last-resort handler would print WARNING and above on stderr).  The binding
holds its own log subscription (``credchain_log_subscribe``), at the level the
``credchain`` logger lets through: other hosts in the process (a C driver, a JVM) keep
theirs, at their own levels, and ending this one silences only Python.
The library calls the callback from any thread, including its own background
refresher thread; ctypes takes the GIL for the duration of the call.  The
CFUNCTYPE object below is a module global and is never released, so the
library can never call freed memory.  At interpreter exit the subscription
is ended first, so the library does not call into a finalizing interpreter.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import threading
import time
from typing import Optional

from . import _ffi

#: The logger every library record goes to.
LOGGER = logging.getLogger("credchain")
# A library's logger has no handler but this one (the logging HOWTO's "Configuring
# Logging for a Library"): without any, a program that configured no logging would
# print WARNING and above through the last-resort handler on stderr.
if not any(isinstance(handler, logging.NullHandler) for handler in LOGGER.handlers):
    LOGGER.addHandler(logging.NullHandler())

#: Python level used for the library's TRACE records (below DEBUG).
TRACE = 5
if logging.getLevelName(TRACE) == f"Level {TRACE}":
    logging.addLevelName(TRACE, "TRACE")

# The library says ERROR only for a fetch that failed with no credentials to
# serve, whose caller receives that very message as a CredchainError: logged at
# ERROR too, it would be said twice even when the caller handles it (and printed
# by a program's logging.basicConfig()).  (Its only other ERROR, a C caller
# freeing credentials twice, concerns that caller, never this binding.)  WARN is
# what no caller hears in another way: a background refresh that failed while
# the previous credentials are still served.
_TO_PYTHON = {
    _ffi.LOG_ERROR: logging.DEBUG,
    _ffi.LOG_WARN: logging.WARNING,
    _ffi.LOG_INFO: logging.INFO,
    _ffi.LOG_DEBUG: logging.DEBUG,
    _ffi.LOG_TRACE: TRACE,
}


def library_level_for(python_level: int) -> int:
    """The most verbose library level whose records (mapped by _TO_PYTHON) a
    Python level lets through: above WARNING, none (the library's ERROR
    records are DEBUG here)."""
    if python_level <= TRACE:
        return _ffi.LOG_TRACE
    if python_level <= logging.DEBUG:
        return _ffi.LOG_DEBUG
    if python_level <= logging.INFO:
        return _ffi.LOG_INFO
    if python_level <= logging.WARNING:
        return _ffi.LOG_WARN
    return _ffi.LOG_OFF


# Callbacks currently running Python code (changed only with the GIL held).
_in_flight = [0]

# Per-thread marker that the thread keeps its Python thread state.
_kept = threading.local()
_ensure_gil_state = ctypes.pythonapi.PyGILState_Ensure
_ensure_gil_state.restype = ctypes.c_int
_ensure_gil_state.argtypes = []


def _keep_thread_state() -> None:
    """Keep this thread's Python thread state after the callback returns.

    ctypes gives a thread that Python did not start (the library's runtime
    thread) a new thread state for every callback and deletes it afterwards,
    taking the interpreter's thread-list lock each time.  A fork() at that
    moment leaves the lock held in the child, which then hangs in
    PyOS_AfterFork_Child (CPython < 3.12).  One extra PyGILState_Ensure that
    is never released makes the state outlive the callback, so the lock is
    taken once per thread instead of twice per record.
    """
    if not getattr(_kept, "done", False):
        _ensure_gil_state()
        _kept.done = True


def _on_log(level: int, message: Optional[int], _userdata: Optional[int] = None) -> None:
    # Called from C on any thread: must never raise.
    _in_flight[0] += 1
    try:
        _keep_thread_state()
        python_level = _TO_PYTHON.get(level, logging.DEBUG)
        if LOGGER.isEnabledFor(python_level):
            text = ctypes.string_at(message).decode("utf-8", errors="replace") if message else ""
            LOGGER.log(python_level, "%s", text)
    except BaseException:  # noqa: BLE001 - nothing may propagate into C
        pass
    finally:
        _in_flight[0] -= 1


# Kept for the life of the process (the library holds a raw pointer to it).
CALLBACK = _ffi.LOG_SUBSCRIBER(_on_log)

_lock = threading.Lock()
_lib: Optional[_ffi.Library] = None
_atexit_registered = False
# The binding's subscription and its library level; None when not subscribed.
_subscription: Optional[int] = None
_subscribed_level = _ffi.LOG_OFF


def _subscribe(lib: _ffi.Library, max_level: int) -> int:
    handle = ctypes.c_uint64(0)
    rc = lib.cdll.credchain_log_subscribe(max_level, CALLBACK, None, ctypes.byref(handle), None)
    if rc != 0:
        raise OSError(f"credchain_log_subscribe failed with code {rc}")
    return int(handle.value)


def _unsubscribe(lib: _ffi.Library, subscription: int) -> None:
    lib.cdll.credchain_log_unsubscribe(subscription, None)


def set_level(lib: _ffi.Library, python_level: Optional[int] = None) -> int:
    """Tell the library which records to send; returns the library level used.

    ``python_level`` None means the ``credchain`` logger's effective level.
    """
    global _lib, _atexit_registered
    if python_level is None:
        python_level = LOGGER.getEffectiveLevel()
    global _subscription, _subscribed_level
    max_level = library_level_for(python_level)
    with _lock:
        _lib = lib
        changed = max_level != _subscribed_level
        missing = _subscription is None and max_level != _ffi.LOG_OFF
        if changed or missing:
            # The new subscription first, then the old one ends: no message
            # is lost in between (one may arrive twice, at worst).
            previous = _subscription
            _subscription = _subscribe(lib, max_level) if max_level != _ffi.LOG_OFF else None
            _subscribed_level = max_level
            if previous is not None:
                _unsubscribe(lib, previous)
        if not _atexit_registered:
            atexit.register(_detach)
            _atexit_registered = True
    return max_level


def _detach() -> None:
    """At exit: end the binding's subscription, and let callbacks drain.

    Only Python's own subscription ends: a C driver or a JVM in the same
    process keeps receiving messages.  A callback still running (or about to
    take the GIL) when the interpreter finalizes would be ended with
    pthread_exit() by CPython < 3.14, whose forced unwind through the
    library's frames aborts the process.  So the subscription ends first,
    then the GIL is released briefly until no callback has been running for a
    few consecutive checks (at most ~0.2 s).
    """
    global _subscription, _subscribed_level
    lib = _lib
    if lib is None:
        return
    with _lock:
        subscription, _subscription, _subscribed_level = _subscription, None, _ffi.LOG_OFF
    if subscription is None:
        return
    try:
        _unsubscribe(lib, subscription)
    except Exception:  # noqa: BLE001
        return
    quiet = 0
    for _ in range(100):
        time.sleep(0.002)
        quiet = quiet + 1 if _in_flight[0] == 0 else 0
        if quiet >= 3:
            break
