"""Exceptions: one class per credchain_result code, all under CredchainError."""

from __future__ import annotations

import enum
from typing import Dict, Optional, Tuple, Type, Union


class ErrorCode(enum.IntEnum):
    """credchain_result numbers (stable; never reused)."""

    OK = 0
    INVALID_ARGUMENT = 1
    NO_CREDENTIALS = 2
    PROFILE_NOT_FOUND = 3
    PARTIAL_CREDENTIALS = 4
    SOURCE_FAILED = 5
    TIMEOUT = 6
    INTERNAL = 7
    INVALID_CONFIG = 8
    UNSUPPORTED = 9
    EXHAUSTED = 10


class CredchainError(Exception):
    """An error reported by libcredchain.

    ``code`` is the library's result code (an :class:`ErrorCode`, or a plain int
    for a code newer than this binding), ``message`` the library's message and
    ``source`` the name of the chain source the error came from, if any.
    ``str(error)`` is the message.  Messages never contain secrets.
    """

    CODE: Optional[ErrorCode] = None

    code: Union[ErrorCode, int]
    message: str
    source: Optional[str]

    def __init__(
        self,
        message: str,
        source: Optional[str] = None,
        code: Union[ErrorCode, int, None] = None,
    ) -> None:
        super().__init__(message)
        if code is None:
            code = self.CODE if self.CODE is not None else ErrorCode.INTERNAL
        try:
            code = ErrorCode(code)
        except ValueError:
            code = int(code)
        self.code = code
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        code = self.code.name if isinstance(self.code, ErrorCode) else str(self.code)
        return f"{type(self).__name__}(code={code}, message={self.message!r}, source={self.source!r})"

    def __reduce__(self) -> Tuple[type, Tuple[str, Optional[str], int]]:
        # Keeps the exception picklable (multiprocessing sends exceptions back).
        return (type(self), (self.message, self.source, int(self.code)))


class InvalidArgumentError(CredchainError):
    """A bad argument: embedded NUL, text that is not UTF-8, absurd length."""

    CODE = ErrorCode.INVALID_ARGUMENT


class NoCredentialsError(CredchainError):
    """No source in the chain had credentials."""

    CODE = ErrorCode.NO_CREDENTIALS


class ProfileNotFoundError(CredchainError):
    """The profile that was asked for exists in neither file; the message names it."""

    CODE = ErrorCode.PROFILE_NOT_FOUND


class PartialCredentialsError(CredchainError):
    """Only part of a key pair was configured; the message names the missing part."""

    CODE = ErrorCode.PARTIAL_CREDENTIALS


class SourceFailedError(CredchainError):
    """A source failed (STS error, process exit status, HTTP status, ...)."""

    CODE = ErrorCode.SOURCE_FAILED


class CredchainTimeoutError(CredchainError):
    """The bounded wait for a credential fetch ran out."""

    CODE = ErrorCode.TIMEOUT


class InternalError(CredchainError):
    """A caught panic or a bug in libcredchain."""

    CODE = ErrorCode.INTERNAL


class InvalidConfigError(CredchainError):
    """A malformed config/credentials file, role_arn without a source, ..."""

    CODE = ErrorCode.INVALID_CONFIG


class UnsupportedError(CredchainError):
    """The copy of libcredchain serving this process predates the function
    called (an older copy loaded first); the message names both copies."""

    CODE = ErrorCode.UNSUPPORTED


class ExhaustedError(CredchainError):
    """The process ran out of something the operating system gives it (file
    descriptors, processes or threads); the message names it, and a call after
    the host released some succeeds."""

    CODE = ErrorCode.EXHAUSTED


_BY_CODE: Dict[int, Type[CredchainError]] = {
    int(cls.CODE): cls
    for cls in (
        InvalidArgumentError,
        NoCredentialsError,
        ProfileNotFoundError,
        PartialCredentialsError,
        SourceFailedError,
        CredchainTimeoutError,
        InternalError,
        InvalidConfigError,
        UnsupportedError,
        ExhaustedError,
    )
}


def error_for(code: int, message: str, source: Optional[str] = None) -> CredchainError:
    """The exception for a library result code (CredchainError for unknown codes)."""
    cls = _BY_CODE.get(int(code), CredchainError)
    return cls(message, source, code)
