"""Child process for test_tokens.py: signs one token with credchain (from the
credentials in this process's environment) and with botocore or boto3 at the
same fixed time, and prints both as JSON.

Usage: child_tokens.py CASE_JSON
"""

import json
import os
import sys
from pathlib import Path

# botocore decides at import whether to sign through awscrt; the vectors and
# this comparison are against its own signer (see gen_vectors.py).
os.environ["BOTO_DISABLE_CRT"] = "true"

import botocore.session  # noqa: E402

import credchain  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benches" / "token"))
import gen_vectors  # noqa: E402  (botocore's side, with the clock pinned)


def main() -> None:
    case = json.loads(sys.argv[1])
    session = botocore.session.Session()
    creds = (case["access_key"], case["secret"], case["token"])
    if case["kind"] == "rds":
        mine = credchain.rds_auth_token(case["host"], case["port"], case["user"], region=case["region"],
                                        signing_time=case["time"])
        theirs = gen_vectors.rds_token(session, *creds, case["host"], case["port"], case["user"], case["region"],
                                       case["time"])
    else:
        mine = credchain.dsql_auth_token(case["host"], region=case["region"], admin=case["admin"],
                                         signing_time=case["time"])
        theirs = gen_vectors.dsql_token(session, *creds, case["host"], case["region"], case["admin"], case["time"])
    print(json.dumps({"credchain": mine, "botocore": theirs}))


if __name__ == "__main__":
    main()
