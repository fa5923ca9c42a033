"""Child process of the differential suite: resolve the chain with botocore and
with credchain in this (clean) environment and print both results as JSON.

Secrets and tokens are printed as fingerprints only.
argv[1]: JSON {"profile": str|null, "sides": ["botocore", "credchain"]}
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, Optional

from isolation import fingerprint


def _epoch(value: Any) -> Optional[int]:
    if value is None:
        return None
    return int(value.timestamp())


def botocore_side(profile: Optional[str]) -> Dict[str, Any]:
    import botocore.exceptions as bx
    import botocore.session

    try:
        session = botocore.session.Session(profile=profile)
        creds = session.get_credentials()
        if creds is None:
            return {"error": "NoCredentials", "message": ""}
        frozen = creds.get_frozen_credentials()
    except bx.ProfileNotFound as exc:
        return {"error": "ProfileNotFound", "message": str(exc)}
    except bx.PartialCredentialsError as exc:
        return {"error": "PartialCredentials", "message": str(exc)}
    except bx.CredentialRetrievalError as exc:
        return {"error": "SourceFailed", "message": str(exc)}
    except (bx.ConfigParseError, bx.InvalidConfigError) as exc:
        return {"error": "InvalidConfig", "message": str(exc)}
    return {
        "source": creds.method,
        "access_key": frozen.access_key,
        "secret_key": fingerprint(frozen.secret_key),
        "token": fingerprint(frozen.token),
        "account_id": getattr(frozen, "account_id", None),
        "expiration": _epoch(getattr(creds, "_expiry_time", None)),
    }


_KINDS = {
    "NoCredentialsError": "NoCredentials",
    "ProfileNotFoundError": "ProfileNotFound",
    "PartialCredentialsError": "PartialCredentials",
    "SourceFailedError": "SourceFailed",
    "InvalidConfigError": "InvalidConfig",
    "InvalidArgumentError": "InvalidArgument",
    "CredchainTimeoutError": "Timeout",
    "InternalError": "Internal",
}


def credchain_side(profile: Optional[str]) -> Dict[str, Any]:
    import credchain

    try:
        creds = credchain.get_credentials(profile)
    except credchain.CredchainError as exc:
        return {"error": _KINDS.get(type(exc).__name__, type(exc).__name__), "message": exc.message}
    return {
        "source": creds.source,
        "access_key": creds.access_key,
        "secret_key": fingerprint(creds.secret_key),
        "token": fingerprint(creds.token),
        "account_id": creds.account_id,
        "expiration": _epoch(creds.expiration),
    }


def main() -> None:
    request = json.loads(sys.argv[1])
    profile = request.get("profile")
    result = {}
    for side in request["sides"]:
        result[side] = botocore_side(profile) if side == "botocore" else credchain_side(profile)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
