#!/usr/bin/env python3
"""Generate the botocore/boto3 reference vectors for credchain's token module.

The expected tokens hard-coded in core/src/token/tests.rs are NOT outputs of
credchain: they are what botocore's own `generate_db_auth_token` (RDS, Aurora)
and the dsql client's `generate_db_connect_auth_token` /
`generate_db_connect_admin_auth_token` return for the inputs below, with the
signing clock pinned by patching `botocore.auth.get_current_datetime`.

Usage (no network: creating a client and presigning never send a packet):

    AWS_EC2_METADATA_DISABLED=true python3 benches/token/gen_vectors.py > /tmp/vectors.rs

then paste the two arrays between the `BEGIN GENERATED` / `END GENERATED`
markers in core/src/token/tests.rs, or diff them to check that a newer botocore
still agrees (`--check core/src/token/tests.rs` does the diff for you and exits 1
on any difference).

Last run with botocore 1.43.11 (boto3 1.43.11), Python 3.
"""
import datetime
import os
import sys
from unittest import mock

# With awscrt installed botocore presigns through the CRT signer, which takes
# its own clock (the patch below cannot pin it) and writes X-Amz-SignedHeaders
# before X-Amz-Expires: the same signature, a different string. The vectors
# are pure botocore's.
os.environ["BOTO_DISABLE_CRT"] = "true"

import botocore
import botocore.session

# Keys shaped like real ones: the secret carries '/' and '+', the session
# token '/', '+' and '=' so that their percent-encoding is exercised.
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ASIA = "ASIAEXAMPLE123456789"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def+ghi=="

T0 = 1724709600  # 2024-08-26T22:00:00Z, the AWS SDKs' published vector time

# (name, access key, secret, session token or None, host, port, user, region, unix time)
RDS_CASES = [
    ("published_sdk_vector", "akid", "secret", None,
     "prod-instance.us-east-1.rds.amazonaws.com", 3306, "peccy", "us-east-1", T0),
    ("session_token_cluster_pg", ASIA, SECRET, TOKEN,
     "mydb.cluster-c1a2b3c4d5e6.us-west-2.rds.amazonaws.com", 5432, "iam_user", "us-west-2", T0),
    ("user_with_at_reader", AKID, SECRET, None,
     "mydb.cluster-ro-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com", 3306, "user@x", "eu-west-1", T0),
    ("user_with_space_custom", AKID, SECRET, TOKEN,
     "analytics.cluster-custom-c1a2b3c4d5e6.ap-southeast-2.rds.amazonaws.com", 5432, "a b", "ap-southeast-2", T0),
    ("user_non_ascii_proxy", ASIA, SECRET, TOKEN,
     "myproxy.proxy-c1a2b3c4d5e6.us-east-2.rds.amazonaws.com", 5432, "\u00fc", "us-east-2", T0),
    ("china_old_form", AKID, SECRET, TOKEN,
     "mydb.c1a2b3c4d5e6.cn-north-1.rds.amazonaws.com.cn", 3306, "admin", "cn-north-1", T0),
    ("china_new_form", AKID, SECRET, None,
     "mydb.c1a2b3c4d5e6.rds.cn-northwest-1.amazonaws.com.cn", 3306, "app", "cn-northwest-1", T0),
    ("govcloud_oracle_port", AKID, SECRET, None,
     "ora.c1a2b3c4d5e6.us-gov-west-1.rds.amazonaws.com", 1521, "scott", "us-gov-west-1", T0),
    ("port_443_drops_from_host_header", AKID, SECRET, None,
     "mydb.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", 443, "peccy", "us-east-1", T0),
    ("port_max_reserved_chars_user", AKID, SECRET, TOKEN,
     "mydb.c1a2b3c4d5e6.eu-central-1.rds.amazonaws.com", 65535,
     "!*'();:@&=+$,/?#[]% ~-._", "eu-central-1", T0),
    ("uppercase_hostname", AKID, SECRET, None,
     "MyDB.C1A2B3C4D5E6.US-EAST-1.rds.amazonaws.com", 3306, "peccy", "us-east-1", T0),
    ("other_time_unicode_user", ASIA, SECRET, TOKEN,
     "shard.shardgrp-c1a2b3c4d5e6.sa-east-1.rds.amazonaws.com", 5432,
     "Jos\u00e9_\u65e5\u672c", "sa-east-1", 1893456000),  # 2030-01-01T00:00:00Z
    ("fractional_second_truncates", AKID, SECRET, None,
     "prod-instance.us-east-1.rds.amazonaws.com", 3306, "peccy", "us-east-1", T0 + 0.75),
    ("ip_address_explicit_region", AKID, SECRET, TOKEN,
     "10.0.0.5", 5432, "tunnel_user", "il-central-1", T0),
]

# (name, access key, secret, session token or None, host, region, admin, unix time)
DSQL_CASES = [
    ("dsql_connect", AKID, SECRET, None,
     "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", "us-east-1", False, T0),
    ("dsql_admin", AKID, SECRET, None,
     "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws", "us-east-1", True, T0),
    ("dsql_connect_session_token", ASIA, SECRET, TOKEN,
     "zyxwvutsrqponmlkjihgfedcba.dsql.eu-west-2.on.aws", "eu-west-2", False, T0),
    ("dsql_admin_session_token", ASIA, SECRET, TOKEN,
     "zyxwvutsrqponmlkjihgfedcba.dsql.eu-west-2.on.aws", "eu-west-2", True, 1893456000),
]


def pinned(unix):
    # botocore formats the naive UTC datetime that get_current_datetime returns.
    dt = datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).replace(tzinfo=None)
    return mock.patch("botocore.auth.get_current_datetime", return_value=dt)


def rds_token(session, akid, secret, token, host, port, user, region, unix):
    client = session.create_client(
        "rds", region_name=region, aws_access_key_id=akid,
        aws_secret_access_key=secret, aws_session_token=token)
    with pinned(unix):
        return client.generate_db_auth_token(host, port, user, Region=region)


def dsql_token(session, akid, secret, token, host, region, admin, unix):
    client = session.create_client(
        "dsql", region_name=region, aws_access_key_id=akid,
        aws_secret_access_key=secret, aws_session_token=token)
    with pinned(unix):
        # Default ExpiresIn (900 s) on purpose: credchain must match the default.
        if admin:
            return client.generate_db_connect_admin_auth_token(host, Region=region)
        return client.generate_db_connect_auth_token(host, Region=region)


def rust_str(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


def rust_opt(s):
    return "None" if s is None else f"Some({rust_str(s)})"


def secs_nanos(unix):
    secs = int(unix)
    return secs, int(round((unix - secs) * 1e9))


def generate():
    session = botocore.session.Session()
    lines = [f"// BEGIN GENERATED by benches/token/gen_vectors.py with botocore {botocore.__version__}"]
    lines.append("const BOTOCORE_RDS: &[RdsVector] = &[")
    for name, akid, secret, token, host, port, user, region, unix in RDS_CASES:
        got = rds_token(session, akid, secret, token, host, port, user, region, unix)
        s, n = secs_nanos(unix)
        lines.append("    RdsVector {")
        lines.append(f"        name: {rust_str(name)},")
        lines.append(f"        access_key_id: {rust_str(akid)},")
        lines.append(f"        secret_access_key: {rust_str(secret)},")
        lines.append(f"        session_token: {rust_opt(token)},")
        lines.append(f"        host: {rust_str(host)},")
        lines.append(f"        port: {port},")
        lines.append(f"        user: {rust_str(user)},")
        lines.append(f"        region: {rust_str(region)},")
        lines.append(f"        unix_secs: {s},")
        lines.append(f"        unix_nanos: {n},")
        lines.append(f"        expected: {rust_str(got)},")
        lines.append("    },")
    lines.append("];")
    lines.append("const BOTOCORE_DSQL: &[DsqlVector] = &[")
    for name, akid, secret, token, host, region, admin, unix in DSQL_CASES:
        got = dsql_token(session, akid, secret, token, host, region, admin, unix)
        s, n = secs_nanos(unix)
        lines.append("    DsqlVector {")
        lines.append(f"        name: {rust_str(name)},")
        lines.append(f"        access_key_id: {rust_str(akid)},")
        lines.append(f"        secret_access_key: {rust_str(secret)},")
        lines.append(f"        session_token: {rust_opt(token)},")
        lines.append(f"        host: {rust_str(host)},")
        lines.append(f"        region: {rust_str(region)},")
        lines.append(f"        admin: {'true' if admin else 'false'},")
        lines.append(f"        unix_secs: {s},")
        lines.append(f"        unix_nanos: {n},")
        lines.append(f"        expected: {rust_str(got)},")
        lines.append("    },")
    lines.append("];")
    lines.append("// END GENERATED")
    return "\n".join(lines) + "\n"


def main(argv):
    block = generate()
    if len(argv) == 3 and argv[1] == "--check":
        text = open(argv[2], encoding="utf-8").read()
        start = text.index("// BEGIN GENERATED")
        end = text.index("// END GENERATED") + len("// END GENERATED\n")
        # The botocore version in the marker line may differ; compare the rest.
        ours = text[start:end].split("\n", 1)[1]
        theirs = block.split("\n", 1)[1]
        if ours != theirs:
            sys.stderr.write("vectors differ from this botocore's output\n")
            return 1
        print(f"vectors agree with botocore {botocore.__version__}")
        return 0
    sys.stdout.write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
