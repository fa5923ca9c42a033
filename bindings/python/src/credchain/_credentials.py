"""The immutable credentials snapshot handed out by credchain."""

from __future__ import annotations

import datetime
from typing import Any, Optional, Tuple

_FIELDS = ("access_key", "secret_key", "token", "expiration", "source", "account_id")


def mask_access_key(access_key: str) -> str:
    """``****************WXYZ``: the way ``aws configure list`` shows a key id."""
    if len(access_key) <= 4:
        return "*" * len(access_key)
    return "*" * (len(access_key) - 4) + access_key[-4:]


class Credentials:
    """One immutable snapshot of AWS credentials.

    Field names follow botocore's: ``access_key``, ``secret_key``, ``token``
    (``None`` when there is no session token).  ``expiration`` is an aware UTC
    :class:`datetime.datetime`, or ``None`` for credentials that never expire.
    ``source`` is the botocore ``method`` name of the source that answered
    (``"env"``, ``"shared-credentials-file"``, ``"iam-role"``, ...) and
    ``account_id`` the account id when known.

    ``repr()`` never shows the secret key or the token, and shows only the last
    four characters of the access key id.
    """

    __slots__ = _FIELDS

    access_key: str
    secret_key: str
    token: Optional[str]
    expiration: Optional[datetime.datetime]
    source: str
    account_id: Optional[str]

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        token: Optional[str],
        expiration: Optional[datetime.datetime],
        source: str,
        account_id: Optional[str] = None,
    ) -> None:
        if expiration is not None and expiration.tzinfo is None:
            raise ValueError("expiration must be an aware datetime")
        setter = object.__setattr__
        setter(self, "access_key", access_key)
        setter(self, "secret_key", secret_key)
        setter(self, "token", token)
        setter(self, "expiration", expiration)
        setter(self, "source", source)
        setter(self, "account_id", account_id)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Credentials are immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Credentials are immutable: cannot delete {name!r}")

    def _astuple(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __reduce__(self) -> Tuple[type, Tuple[Any, ...]]:
        return (Credentials, self._astuple())

    def __repr__(self) -> str:
        token = "None" if self.token is None else "'<hidden>'"
        expiration = "None" if self.expiration is None else repr(self.expiration.isoformat())
        return (
            f"Credentials(access_key={mask_access_key(self.access_key)!r}, "
            f"secret_key='<hidden>', token={token}, expiration={expiration}, "
            f"source={self.source!r}, account_id={self.account_id!r})"
        )

    __str__ = __repr__

    def seconds_remaining(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds until expiry (``None`` for credentials that never expire)."""
        if self.expiration is None:
            return None
        import time

        return self.expiration.timestamp() - (time.time() if now is None else now)
