"""botocore's view of the same HOME, files and environment: the reference.

Usage: python3 boto_probe.py [PROFILE]. Prints one JSON line:
{"ok": true, "method": ..., "access_key_id": ..., "secret_access_key": ...,
 "session_token": ..., "expiration": unix secs or 0}
or {"ok": false, "error": "..."}. All secrets here are fake test values.
"""

import json
import sys

import botocore.session


def main() -> int:
    profile = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
    try:
        session = botocore.session.Session(profile=profile)
        creds = session.get_credentials()
        if creds is None:
            print(json.dumps({"ok": False, "error": "no credentials"}))
            return 1
        frozen = creds.get_frozen_credentials()
        expiry = getattr(creds, "_expiry_time", None)
        print(json.dumps({
            "ok": True,
            "method": creds.method,
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "session_token": frozen.token,
            "expiration": int(expiry.timestamp()) if expiry is not None else 0,
        }))
        return 0
    except Exception as exc:  # the test reads the error, not a traceback
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
