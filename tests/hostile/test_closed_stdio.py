"""Round 3, item 3: a host that closed its standard descriptors, with ``CREDCHAIN_LOG`` set.

The descriptors 0, 1 and 2 are taken by whatever the host (or the library) opens next. Log lines
must never land in such a file: a host's data file that took descriptor 2 gets no byte, and when
the library's own sockets take the numbers, logging must neither panic nor fail a call.

Must show: with fds 0/1/2 closed no host file gets a byte and no call fails.
"""

from __future__ import annotations

from conftest import OK, run_bounded
from servers import ImdsServer

ROUNDS = 60


def _cycle(run):
    records = [r for r in run.records() if r.get("op") == "cycle"]
    assert records, run.describe()
    return {int(code): count for code, count in records[0]["codes"].items() if count}


def test_a_data_file_on_the_standard_descriptors_gets_no_log_line(scn, programs):
    srv = ImdsServer(lifetime=3600).start()
    try:
        scn.use_imds(srv.url)
        scn.env["CREDCHAIN_LOG"] = "trace"
        data = scn.root / "host-data.bin"
        run = run_bounded([programs["host"], f"closestd:{data}", f"cycle:{ROUNDS}"], scn.env, timeout=120)
    finally:
        srv.stop()
    assert run.rc == 0, run.describe()
    codes = _cycle(run)
    size = data.stat().st_size
    print(f"codes over {ROUNDS} fetches: {codes}; bytes in the host's data file: {size}")
    assert size == 0, f"log lines landed in the host's data file ({size} bytes): {data.read_bytes()[:300]!r}"
    assert codes == {OK: ROUNDS}, codes


def test_the_library_s_own_sockets_on_the_standard_descriptors(scn, programs):
    srv = ImdsServer(lifetime=3600).start()
    try:
        scn.use_imds(srv.url)
        scn.env["CREDCHAIN_LOG"] = "trace"
        run = run_bounded([programs["host"], "closestd:-", f"cycle:{ROUNDS}", f"cycle:{ROUNDS}"], scn.env,
                          timeout=120)
    finally:
        srv.stop()
    assert run.rc == 0, run.describe()
    cycles = [r for r in run.records() if r.get("op") == "cycle"]
    codes = [{int(c): n for c, n in r["codes"].items() if n} for r in cycles]
    print(f"codes over two rounds of {ROUNDS} fetches with 0/1/2 closed: {codes}")
    assert codes == [{OK: ROUNDS}, {OK: ROUNDS}], codes
