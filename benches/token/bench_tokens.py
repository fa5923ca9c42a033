#!/usr/bin/env python3
"""Microseconds per IAM database auth token: credchain uncached (a fixed
signing time bypasses the token cache, so every call signs), credchain
cached (signing time "now": reused while its credentials are current), and
botocore's generate_db_auth_token (pure Python signer, as the token tests
compare against). The same RDS endpoint, user and temporary credentials
for all three; credchain's figures include the ctypes call.

Run with static credentials in the environment (benches/run does this).
"""

import os
import statistics
import sys
import time
from pathlib import Path

os.environ["BOTO_DISABLE_CRT"] = "true"  # the pure-Python signer, as in the tests

import botocore.session  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"))
import credchain  # noqa: E402

HOST, PORT, USER, REGION = "mydb.cluster-c1a2b3c4d5e6.us-west-2.rds.amazonaws.com", 5432, "iam_user", "us-west-2"


def per_call_us(fn, rounds=15, batch=200):
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch * 1e6)
    return statistics.median(samples)


def main():
    fixed = int(time.time())
    client = botocore.session.Session().create_client("rds", region_name=REGION)
    rows = [
        ("credchain, uncached (signs every call)",
         per_call_us(lambda: credchain.rds_auth_token(HOST, PORT, USER, region=REGION, signing_time=fixed))),
        ("credchain, cached", per_call_us(lambda: credchain.rds_auth_token(HOST, PORT, USER, region=REGION))),
        ("botocore generate_db_auth_token", per_call_us(lambda: client.generate_db_auth_token(HOST, PORT, USER, Region=REGION))),
    ]
    print("µs per token (median of 15 batches of 200; lower is better)")
    for name, us in rows:
        print(f"  {name:<40} {us:9.2f}")
    botocore_us = rows[2][1]
    print(f"  ratio botocore / credchain uncached     {botocore_us / rows[0][1]:9.1f}x")
    print(f"  ratio botocore / credchain cached       {botocore_us / rows[1][1]:9.1f}x")


if __name__ == "__main__":
    main()
