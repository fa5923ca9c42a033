"""botocore against `credchain serve`: python client.py SECONDS [INTERVAL].

Configured only by the environment (AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). One session and one credentials
object for the whole run, as an application keeps them, so botocore's own
refresh (RefreshableCredentials, advisory 15 min / mandatory 10 min before
expiry) is what runs. Each iteration prints one JSON line:
{"t", "access_key_id", "expiration", "method"} or {"t", "error"}.
"""
import json
import sys
import time

import botocore.session


def main() -> int:
    seconds = float(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    end = time.time() + seconds
    credentials = None
    while True:
        try:
            if credentials is None:
                credentials = botocore.session.get_session().get_credentials()
                if credentials is None:
                    raise RuntimeError("botocore found no credentials")
            frozen = credentials.get_frozen_credentials()
            expiry = getattr(credentials, "_expiry_time", None)  # RefreshableCredentials keeps it here
            line = {"t": time.time(), "access_key_id": frozen.access_key,
                    "expiration": expiry.timestamp() if expiry is not None else None,
                    "method": getattr(credentials, "method", None)}
        except Exception as exc:  # noqa: BLE001 - every failure is a line for the test to report
            line = {"t": time.time(), "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(line), flush=True)
        if time.time() + interval >= end:
            return 0
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
