"""Python drivers logging in with credchain's tokens, again and again (tests/postgres/test_drivers.py).

    python py_login.py MODE HOST PORT USER REGION SECONDS INTERVAL_MS [IAM_HOST]

MODE is ``psycopg`` (psycopg 3, ``credchain.rds_auth_token`` as the
password), ``pg8000`` (the same, pg8000's native API) or ``wrapper`` (the AWS
Advanced Python Wrapper over psycopg with its ``iam`` plugin, credchain put
behind it by ``credchain.aws_wrapper.install()``). Every INTERVAL_MS a new
connection is opened, ``SELECT current_user`` must be USER, and it is closed,
for SECONDS seconds; then one JSON line is printed, as the C programs do:
``{"path", "logins", "failures", "token_bytes", "keys", "errors"}``. ``keys``
are the access key ids the tokens were signed with, in order (for the
wrapper, which makes its tokens itself: the keys credchain's current
credentials had just before and just after each login, so that any key
credchain handed the wrapper is among them; test_drivers.py checks that the
server's keys are these). IAM_HOST (wrapper only) is the
endpoint name the wrapper signs for (its ``iam_host``): the wrapper 3.1.0
refuses to make a token for an IP address or a name that is not an RDS or
Aurora endpoint ("Invalid IAM host"), so it connects to HOST and signs for
IAM_HOST, which the server must accept as its own name, as RDS does.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse

import credchain


def key_of(token: str) -> str:
    query = urllib.parse.parse_qs(token.partition("/?")[2])
    return query["X-Amz-Credential"][0].split("/")[0]


def main() -> int:
    mode, host, port_text, user, region, seconds_text, interval_text = sys.argv[1:8]
    port, seconds, interval = int(port_text), float(seconds_text), int(interval_text) / 1000
    iam_host = sys.argv[8] if len(sys.argv) > 8 else host
    result: dict[str, object] = {"path": mode, "logins": 0, "failures": 0, "token_bytes": 0}
    keys: list[str] = []
    errors: list[str] = []

    def token() -> str:
        t = credchain.rds_auth_token(host, port, user, region=region)
        k = key_of(t)
        if k not in keys:
            keys.append(k)
        result["token_bytes"] = max(int(result["token_bytes"]), len(t))  # type: ignore[call-overload]
        return t

    if mode == "psycopg":
        import psycopg

        def login() -> str:
            with psycopg.connect(host=host, port=port, dbname="postgres", user=user, password=token(),
                                 sslmode="disable", connect_timeout=20) as conn:
                return conn.execute("SELECT current_user").fetchone()[0]
    elif mode == "pg8000":
        import pg8000.native

        def login() -> str:
            conn = pg8000.native.Connection(user, password=token(), host=host, port=port, database="postgres",
                                            timeout=20)
            try:
                return conn.run("SELECT current_user")[0][0]
            finally:
                conn.close()
    elif mode == "wrapper":
        import psycopg
        from aws_advanced_python_wrapper import AwsWrapperConnection

        from credchain import aws_wrapper

        aws_wrapper.install()

        def note_credchain_key() -> None:
            """Record the key of credchain's current credentials (what it would hand the wrapper now)."""
            k = credchain.get_credentials().access_key
            if k not in keys:
                keys.append(k)

        def login() -> str:
            note_credchain_key()
            try:
                with AwsWrapperConnection.connect(
                        psycopg.Connection.connect, host=host, port=port, dbname="postgres", user=user,
                        plugins="iam", wrapper_dialect="pg", iam_host=iam_host, iam_region=region,
                        # the wrapper caches each token this long (default 870 s). credchain hands out a key
                        # until a sixth of its life is left (4.3 s of 26 s), and the verifier refuses a token
                        # whose keys have expired: 3 s keeps every token inside its keys' life
                        iam_expiration=3, sslmode="disable", connect_timeout=20) as conn:
                    with conn.cursor() as cur:
                        cur.execute("SELECT current_user")
                        return cur.fetchone()[0]
            finally:
                note_credchain_key()  # a rotation between the first note and the wrapper's signing shows here
    else:
        raise SystemExit(f"unknown mode {mode}")

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            current = login()
            if current == user:
                result["logins"] = int(result["logins"]) + 1  # type: ignore[call-overload]
            else:
                raise RuntimeError(f"current_user is {current!r}")
        except Exception as exc:  # every failure counts, and the first few are shown
            result["failures"] = int(result["failures"]) + 1  # type: ignore[call-overload]
            if len(errors) < 5:
                errors.append(f"{type(exc).__name__}: {exc}"[:500])
        time.sleep(interval)
    result["keys"], result["errors"] = keys, errors
    print(json.dumps(result), flush=True)
    return 0 if result["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
