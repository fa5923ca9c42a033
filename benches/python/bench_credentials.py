#!/usr/bin/env python3
"""Microseconds per credentials lookup: credchain against its Python peers.

    CREDCHAIN_LIBRARY=target/release/libcredchain.so \
        python3 benches/python/bench_credentials.py [--quick]

Prints the median over many timed batches for:

* credchain.get_credentials()            (hot path: no call into C)
* credchain, one call into C per lookup  (credchain._api.fetch: the slow path)
* botocore Credentials.get_frozen_credentials() on static credentials
  (the object a botocore session caches)
* botocore RefreshableCredentials.get_frozen_credentials() (1 h from expiry)
* awscrt's default chain: provider.get_credentials().result()

and each peer's ratio to credchain's hot path.  Not a test.  Nothing leaves
the machine: the process runs with a throw-away HOME, static credentials in
the environment and AWS_EC2_METADATA_DISABLED=true (so neither credchain nor
awscrt nor botocore can reach IMDS).  The credentials are dummies.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Callable, List, Optional, Tuple


def _isolate() -> None:
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "BOTO_CONFIG":
            del os.environ[name]
    os.environ["HOME"] = tempfile.mkdtemp(prefix="credchain-bench-")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AWS_ACCESS_KEY_ID"] = "AKIABENCHMARK0000001"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "bench-dummy-secret"
    os.environ["AWS_SESSION_TOKEN"] = "bench-dummy-token"
    os.environ["AWS_REGION"] = "us-east-1"


_isolate()  # before any library reads the environment

try:
    import credchain
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python" / "src"))
    import credchain
from credchain import _api  # noqa: E402


def per_call_us(fn: Callable[[], object], batch: int, batches: int) -> float:
    """Median over `batches` of the mean time of `batch` calls, in microseconds."""
    for _ in range(min(batch, 1000)):  # warm up
        fn()
    samples: List[float] = []
    clock = time.perf_counter_ns
    for _ in range(batches):
        start = clock()
        for _ in range(batch):
            fn()
        samples.append((clock() - start) / batch / 1000.0)
    return median(samples)


def bench_botocore_static() -> Callable[[], object]:
    import botocore.session

    creds = botocore.session.get_session().get_credentials()
    assert creds is not None and creds.method == "env"
    return creds.get_frozen_credentials


def bench_botocore_refreshable() -> Callable[[], object]:
    import datetime

    from botocore.credentials import RefreshableCredentials

    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)

    def refresh() -> dict:
        raise AssertionError("not reached: 1 h from expiry")

    creds = RefreshableCredentials(
        "AKIABENCHMARK0000001", "bench-dummy-secret", "bench-dummy-token", expiry, refresh, "bench"
    )
    return creds.get_frozen_credentials


def bench_awscrt() -> Optional[Callable[[], object]]:
    try:
        from awscrt.auth import AwsCredentialsProvider
    except ImportError:
        return None
    provider = AwsCredentialsProvider.new_default_chain()
    first = provider.get_credentials().result(timeout=10)
    assert first.access_key_id == "AKIABENCHMARK0000001"

    def lookup() -> object:
        return provider.get_credentials().result()

    return lookup


def main() -> None:
    quick = "--quick" in sys.argv
    scale = 10 if quick else 1
    creds = credchain.get_credentials()
    assert creds.source == "env" and creds.access_key == "AKIABENCHMARK0000001"

    rows: List[Tuple[str, Optional[float]]] = []
    hot = per_call_us(credchain.get_credentials, 2000, 400 // scale)
    rows.append(("credchain.get_credentials() [hot path, no C call]", hot))
    rows.append(("credchain, one C call per lookup [_api.fetch]", per_call_us(lambda: _api.fetch(None), 200, 200 // scale)))
    rows.append(("botocore Credentials.get_frozen_credentials() [static]", per_call_us(bench_botocore_static(), 2000, 400 // scale)))
    rows.append(
        ("botocore RefreshableCredentials.get_frozen_credentials()", per_call_us(bench_botocore_refreshable(), 500, 200 // scale))
    )
    crt = bench_awscrt()
    rows.append(
        ("awscrt default chain get_credentials().result()", None if crt is None else per_call_us(crt, 100, 200 // scale))
    )

    print(f"python {sys.version.split()[0]}, credchain {credchain.version()} ({credchain.library_path()})")
    print(f"{'lookup':58} {'us/call':>10} {'x credchain':>12}")
    for name, value in rows:
        if value is None:
            print(f"{name:58} {'n/a':>10} {'(not installed)':>12}")
        else:
            print(f"{name:58} {value:10.3f} {value / hot:12.1f}")


if __name__ == "__main__":
    main()
