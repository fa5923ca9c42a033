"""Make the AWS Advanced Python Wrapper take its AWS credentials from credchain.

The wrapper (``aws-advanced-python-wrapper`` 2.0 or newer; tested with 3.1.0)
makes the boto3 sessions of its AWS-aware plugins in one place,
``aws_advanced_python_wrapper.aws_credentials_manager.AwsCredentialsManager.get_session``,
which builds ``boto3.Session(profile_name=..., region_name=...)``.
:func:`install` replaces that static method with one that returns
:func:`credchain.boto3_session` sessions.  In 3.1.0 that makes credchain's
process-wide, background-refreshed credentials sign what the ``iam`` plugin
signs (its tokens, and the region lookup of a global database endpoint) and
what ``aws_secrets_manager`` sends.  ``federated_auth`` and ``okta`` take the
session too, but sign their tokens with the SAML role's credentials;
``custom_endpoint`` makes its own ``boto3.Session()`` and is not reached
(the package README has the details)::

    import credchain.aws_wrapper
    credchain.aws_wrapper.install()      # once, before the first connect

    from aws_advanced_python_wrapper import AwsWrapperConnection
    conn = AwsWrapperConnection.connect(psycopg.Connection.connect,
                                        host=..., user=..., plugins="iam", ...)

The wrapper's ``aws_profile`` connection property still selects the profile.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Tuple

from ._boto import boto3_session

_lock = threading.Lock()
_original: Optional[Any] = None  # the wrapper's own staticmethod object
_sessions: Dict[Tuple[Optional[str], Optional[str]], Any] = {}


def _manager() -> Any:
    try:
        from aws_advanced_python_wrapper.aws_credentials_manager import (
            AwsCredentialsManager,
        )
    except ImportError as exc:  # pragma: no cover - depends on the installed wrapper
        raise RuntimeError(
            "credchain.aws_wrapper needs aws-advanced-python-wrapper >= 2.0 "
            "(aws_advanced_python_wrapper.aws_credentials_manager)"
        ) from exc
    return AwsCredentialsManager


def _profile_of(props: Any) -> Optional[str]:
    from aws_advanced_python_wrapper.utils.properties import WrapperProperties

    prop = getattr(WrapperProperties, "AWS_PROFILE", None)
    profile = prop.get(props) if prop is not None else None
    return profile or None


def session_for(profile: Optional[str], region: Optional[str]) -> Any:
    """The credchain-backed boto3 session for (profile, region), made once."""
    key = (profile, region)
    with _lock:
        session = _sessions.get(key)
    if session is None:
        session = boto3_session(profile, region_name=region)
        with _lock:
            session = _sessions.setdefault(key, session)
    return session


def _get_session(host_info: Any, props: Any, region: Optional[str] = None) -> Any:
    return session_for(_profile_of(props), region)


_get_session.__credchain__ = True  # type: ignore[attr-defined]


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return getattr(_manager().get_session, "__credchain__", False) is True


def install() -> None:
    """Route the wrapper's AWS sessions through credchain (idempotent).

    Sessions and clients the wrapper cached before are released, so nothing
    keeps signing with credentials from the wrapper's own boto3 chain.
    """
    global _original
    manager = _manager()
    with _lock:
        if getattr(manager.get_session, "__credchain__", False):
            return
        _original = manager.__dict__["get_session"]
        manager.get_session = staticmethod(_get_session)
    manager.release_resources()


def uninstall() -> None:
    """Restore the wrapper's own ``get_session``."""
    global _original
    manager = _manager()
    with _lock:
        if _original is None:
            return
        manager.get_session = _original
        _original = None
        _sessions.clear()
    manager.release_resources()


