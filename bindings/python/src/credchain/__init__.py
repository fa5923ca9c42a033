"""credchain: one process-wide, always-fresh AWS credential chain.

A ctypes binding of libcredchain.  Every driver plugin in the process (C, C++,
Java through JNA, Python through this package) shares the library's cache, so
the chain is resolved and refreshed once per process::

    import credchain

    creds = credchain.get_credentials()          # default profile selection
    creds.access_key, creds.secret_key, creds.token, creds.expiration
    creds.source                                  # botocore's method name, e.g. "env"

    session = credchain.boto3_session(region_name="us-east-1")   # needs boto3

The library is the one named by ``CREDCHAIN_LIBRARY`` when that variable is
set, else the copy bundled with this package.
"""

from __future__ import annotations

from ._api import (
    generation,
    get_credentials,
    invalidate,
    reload_environment,
    set_log_level,
    version,
)
from ._boto import boto3_session, botocore_credentials, credential_provider
from ._credentials import Credentials
from ._errors import (
    CredchainError,
    CredchainTimeoutError,
    ErrorCode,
    InternalError,
    InvalidArgumentError,
    InvalidConfigError,
    UnsupportedError,
    ExhaustedError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFoundError,
    SourceFailedError,
)
from ._ffi import library_path
from ._strings import diagnose, dsql_auth_token, rds_auth_token, token_fingerprint

__version__ = "0.1.0"

__all__ = [
    "CredchainError",
    "CredchainTimeoutError",
    "Credentials",
    "ErrorCode",
    "InternalError",
    "InvalidArgumentError",
    "InvalidConfigError",
    "UnsupportedError",
    "ExhaustedError",
    "NoCredentialsError",
    "PartialCredentialsError",
    "ProfileNotFoundError",
    "SourceFailedError",
    "boto3_session",
    "botocore_credentials",
    "credential_provider",
    "diagnose",
    "dsql_auth_token",
    "token_fingerprint",
    "generation",
    "get_credentials",
    "invalidate",
    "reload_environment",
    "library_path",
    "rds_auth_token",
    "set_log_level",
    "version",
]
