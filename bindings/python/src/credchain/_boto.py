"""botocore / boto3 adapters (optional: ``pip install credchain[boto3]``).

botocore and boto3 are imported only when these functions are called.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Dict, Optional, Type

from ._api import get_credentials
from ._credentials import Credentials
from ._errors import NoCredentialsError

if TYPE_CHECKING:  # pragma: no cover
    import boto3
    from botocore.credentials import RefreshableCredentials

_class_lock = threading.Lock()
_refreshable_class: Optional[Type[Any]] = None
_provider_class: Optional[Type[Any]] = None


def _metadata(creds: Credentials) -> Dict[str, Any]:
    return {
        "access_key": creds.access_key,
        "secret_key": creds.secret_key,
        "token": creds.token,
        "expiry_time": None if creds.expiration is None else creds.expiration.isoformat(),
        "account_id": creds.account_id,
    }


def _classes() -> "tuple[Type[Any], Type[Any]]":
    global _refreshable_class, _provider_class
    if _refreshable_class is not None and _provider_class is not None:
        return _refreshable_class, _provider_class
    with _class_lock:
        if _refreshable_class is None or _provider_class is None:
            from botocore.credentials import (
                CredentialProvider,
                ReadOnlyCredentials,
                RefreshableCredentials,
            )

            frozen_fields = len(ReadOnlyCredentials._fields)

            class CredchainRefreshableCredentials(RefreshableCredentials):  # type: ignore[misc]
                """botocore credentials backed by credchain's process-wide cache.

                Every access asks credchain for its current snapshot (no call
                into the library while nothing changed) and adopts it when it
                differs.  botocore's own refresh windows are not used: the
                library refreshes in the background ahead of expiry.
                """

                def __init__(self, profile: Optional[str], creds: Credentials) -> None:
                    self._credchain_profile = profile
                    self._credchain_snapshot = creds
                    super().__init__(
                        access_key=creds.access_key,
                        secret_key=creds.secret_key,
                        token=creds.token,
                        expiry_time=creds.expiration,
                        refresh_using=self._credchain_refresh_using,
                        method=creds.source,
                        account_id=creds.account_id,
                    )

                def _credchain_refresh_using(self) -> Dict[str, Any]:
                    # botocore's refresh_using contract: a metadata dict.
                    return _metadata(get_credentials(self._credchain_profile))

                def _credchain_adopt(self, creds: Credentials) -> None:
                    self._access_key = creds.access_key
                    self._secret_key = creds.secret_key
                    self._token = creds.token
                    self._account_id = creds.account_id
                    self._expiry_time = creds.expiration
                    self.method = creds.source
                    values = (creds.access_key, creds.secret_key, creds.token, creds.account_id)
                    self._frozen_credentials = ReadOnlyCredentials(*values[:frozen_fields])
                    self._credchain_snapshot = creds

                def refresh_needed(self, refresh_in: Optional[int] = None) -> bool:
                    return get_credentials(self._credchain_profile) is not self._credchain_snapshot

                def _refresh(self) -> None:
                    creds = get_credentials(self._credchain_profile)
                    if creds is self._credchain_snapshot:
                        return
                    with self._refresh_lock:
                        if creds is not self._credchain_snapshot:
                            self._credchain_adopt(creds)

            class CredchainProvider(CredentialProvider):  # type: ignore[misc]
                """A botocore credential provider answering from credchain."""

                METHOD = "credchain"
                CANONICAL_NAME = "Credchain"

                def __init__(self, profile: Optional[str] = None) -> None:
                    super().__init__()
                    self._credchain_profile = profile

                def load(self) -> Any:
                    # botocore's convention: None when there are no credentials
                    # (boto3 then raises botocore's NoCredentialsError when it
                    # signs).  Every other credchain error propagates.
                    try:
                        return botocore_credentials(self._credchain_profile)
                    except NoCredentialsError:
                        return None

            _refreshable_class = CredchainRefreshableCredentials
            _provider_class = CredchainProvider
        return _refreshable_class, _provider_class


def botocore_credentials(profile: Optional[str] = None) -> "RefreshableCredentials":
    """botocore ``RefreshableCredentials`` backed by credchain's shared cache.

    ``method`` is the credchain source ("env", "iam-role", ...); refreshing
    pulls the current snapshot from credchain.  Raises the credchain errors of
    :func:`credchain.get_credentials` when no credentials can be had now.
    """
    refreshable, _ = _classes()
    return refreshable(profile, get_credentials(profile))


def credential_provider(profile: Optional[str] = None) -> Any:
    """A botocore ``CredentialProvider`` that answers from credchain."""
    _, provider = _classes()
    return provider(profile)


def boto3_session(profile: Optional[str] = None, region_name: Optional[str] = None) -> "boto3.Session":
    """A ``boto3.Session`` whose credentials come from credchain.

    The botocore session keeps its normal configuration (region, retries,
    endpoints from the profile); only its credential resolver is replaced by one
    provider that answers from credchain, so every client of the session shares
    credchain's process-wide, background-refreshed credentials.
    """
    import boto3
    import botocore.session
    from botocore.credentials import CredentialResolver

    botocore_session = botocore.session.Session(profile=profile)
    botocore_session.register_component(
        "credential_provider", CredentialResolver(providers=[credential_provider(profile)])
    )
    return boto3.Session(botocore_session=botocore_session, region_name=region_name)
