"""ctypes declarations of libcredchain's C ABI and the library loader.

Only this module knows the C signatures.  The library is located once per
process: ``CREDCHAIN_LIBRARY`` (a path to ``libcredchain.so``) when it is set,
otherwise the copy bundled in this package at install time.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path
from typing import List, Optional

# credchain_result numbers: see _errors.ErrorCode.

#: The ABI this binding was written for (CREDCHAIN_ABI_MAJOR and
#: CREDCHAIN_ABI_MINOR in credchain.h): a library of another major has other
#: signatures and is refused at load.
ABI_MAJOR = 1
ABI_MINOR = 2

# credchain_log_level
LOG_OFF = 0
LOG_ERROR = 1
LOG_WARN = 2
LOG_INFO = 3
LOG_DEBUG = 4
LOG_TRACE = 5

ENV_LIBRARY = "CREDCHAIN_LIBRARY"


class CCredentials(ctypes.Structure):
    """``credchain_credentials``: read only, freed with credchain_free_credentials."""

    _fields_ = [
        ("access_key_id", ctypes.c_char_p),
        ("secret_access_key", ctypes.c_char_p),
        ("session_token", ctypes.c_char_p),
        ("account_id", ctypes.c_char_p),
        ("source", ctypes.c_char_p),
        ("expiration", ctypes.c_int64),
        ("reuse_until", ctypes.c_int64),
    ]


CCredentialsPtr = ctypes.POINTER(CCredentials)
# credchain_error is opaque: handled as a void pointer.
CErrorPtr = ctypes.c_void_p

# void (*credchain_log_callback)(credchain_log_level level, const char *message)
# The message is declared as a void pointer, not c_char_p, so that the callback
# decodes it itself (with errors="replace") instead of ctypes doing it.
LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_void_p)

# void (*credchain_log_subscriber)(credchain_log_level level, const char *message, void *userdata)
LOG_SUBSCRIBER = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p)


def _bundled_candidates() -> List[Path]:
    here = Path(__file__).resolve().parent
    found = []
    for pattern in ("libcredchain*.so", "libcredchain*.dylib", "credchain*.dll", "libcredchain*.pyd"):
        found.extend(sorted(here.glob(pattern)))
    return found


def library_path() -> str:
    """The path of the libcredchain that this process loads (or would load)."""
    override = os.environ.get(ENV_LIBRARY)
    if override:
        return override
    candidates = _bundled_candidates()
    if not candidates:
        raise OSError(
            "credchain: no bundled libcredchain found in "
            f"{Path(__file__).resolve().parent} and {ENV_LIBRARY} is not set; "
            "install the package with pip (which builds the Rust library) or set "
            f"{ENV_LIBRARY} to the path of libcredchain.so"
        )
    return str(candidates[0])


def _declare(lib: ctypes.CDLL) -> None:
    u32 = ctypes.c_uint32
    lib.credchain_get_credentials.argtypes = [
        ctypes.c_char_p,
        ctypes.POINTER(CCredentialsPtr),
        ctypes.POINTER(CErrorPtr),
    ]
    lib.credchain_get_credentials.restype = u32
    lib.credchain_free_credentials.argtypes = [CCredentialsPtr]
    lib.credchain_free_credentials.restype = None
    lib.credchain_invalidate.argtypes = [ctypes.c_char_p, ctypes.POINTER(CErrorPtr)]
    lib.credchain_invalidate.restype = u32
    lib.credchain_reload_environment.argtypes = []
    lib.credchain_reload_environment.restype = None
    lib.credchain_error_code.argtypes = [CErrorPtr]
    lib.credchain_error_code.restype = u32
    # c_void_p, not c_char_p: the pointer must be read before the error is freed.
    lib.credchain_error_message.argtypes = [CErrorPtr]
    lib.credchain_error_message.restype = ctypes.c_void_p
    lib.credchain_error_source.argtypes = [CErrorPtr]
    lib.credchain_error_source.restype = ctypes.c_void_p
    lib.credchain_error_free.argtypes = [CErrorPtr]
    lib.credchain_error_free.restype = None
    lib.credchain_version.argtypes = []
    lib.credchain_version.restype = ctypes.c_char_p
    lib.credchain_generation_counter.argtypes = []
    lib.credchain_generation_counter.restype = ctypes.c_void_p
    lib.credchain_set_log_callback.argtypes = [u32, LOG_CALLBACK]
    lib.credchain_set_log_callback.restype = u32
    lib.credchain_log_subscribe.argtypes = [
        u32, LOG_SUBSCRIBER, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(CErrorPtr),
    ]
    lib.credchain_log_subscribe.restype = u32
    lib.credchain_log_unsubscribe.argtypes = [ctypes.c_uint64, ctypes.POINTER(CErrorPtr)]
    lib.credchain_log_unsubscribe.restype = u32
    lib.credchain_abi_version.argtypes = []
    lib.credchain_abi_version.restype = u32
    lib.credchain_shutdown.argtypes = []
    lib.credchain_shutdown.restype = None
    out_string = ctypes.POINTER(ctypes.c_void_p)
    lib.credchain_rds_auth_token.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint16, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64,
        out_string, ctypes.POINTER(CErrorPtr),
    ]
    lib.credchain_rds_auth_token.restype = u32
    lib.credchain_dsql_auth_token.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool, ctypes.c_int64,
        out_string, ctypes.POINTER(CErrorPtr),
    ]
    lib.credchain_dsql_auth_token.restype = u32
    lib.credchain_token_fingerprint.argtypes = [ctypes.c_char_p, out_string, ctypes.POINTER(CErrorPtr)]
    lib.credchain_token_fingerprint.restype = u32
    lib.credchain_diagnose.argtypes = [ctypes.c_char_p, out_string, ctypes.POINTER(CErrorPtr)]
    lib.credchain_diagnose.restype = u32
    lib.credchain_string_free.argtypes = [ctypes.c_void_p]
    lib.credchain_string_free.restype = None


def abi_mismatch(path: str, version: Optional[int]) -> Optional[str]:
    """Why the library at ``path`` (ABI ``version``, None when it has no
    credchain_abi_version) cannot be used by this binding; None when it can."""
    wanted = f"{ABI_MAJOR}.{ABI_MINOR}"
    if version is None:
        return (f"credchain: {path} is older than this binding (it has no credchain_abi_version; "
                f"the binding needs ABI {wanted}): install matching versions of the package and the library")
    major, minor = version >> 16, version & 0xFFFF
    if major != ABI_MAJOR or minor < ABI_MINOR:
        return (f"credchain: {path} has ABI {major}.{minor}, this binding needs ABI {wanted} "
                f"(same major, minor at least {ABI_MINOR}): install matching versions of the package and the library")
    return None


def check_abi(path: str, cdll: ctypes.CDLL) -> None:
    """Refuses a library whose ABI this binding does not speak, before any
    call through a signature that might be wrong."""
    try:
        function = cdll.credchain_abi_version
    except AttributeError:
        version = None
    else:
        function.argtypes = []
        function.restype = ctypes.c_uint32
        version = int(function())
    problem = abi_mismatch(path, version)
    if problem is not None:
        raise OSError(problem)


class Library:
    """The loaded library, its declared functions and the generation counter."""

    __slots__ = ("cdll", "path", "generation")

    def __init__(self, path: str) -> None:
        self.path = path
        self.cdll = ctypes.CDLL(path)
        check_abi(path, self.cdll)
        _declare(self.cdll)
        address = self.cdll.credchain_generation_counter()
        if not address:
            raise OSError(f"credchain: {path}: credchain_generation_counter() returned NULL")
        # Reading .value reads the memory directly: no call into the library.
        self.generation = ctypes.c_uint64.from_address(address)


_lock = threading.Lock()
_library: Optional[Library] = None


def load() -> Library:
    """Load (once per process) and return the library."""
    global _library
    lib = _library
    if lib is not None:
        return lib
    with _lock:
        if _library is None:
            path = library_path()
            try:
                _library = Library(path)
            except OSError as exc:
                raise OSError(f"credchain: cannot load {path}: {exc}") from exc
            except AttributeError as exc:  # a symbol is missing: not a libcredchain
                raise OSError(f"credchain: {path} is not a usable libcredchain: {exc}") from exc
        return _library


def take_string(address: Optional[int]) -> Optional[str]:
    """Copy a NUL-terminated UTF-8 C string owned by someone else."""
    if not address:
        return None
    return ctypes.string_at(address).decode("utf-8", errors="replace")
