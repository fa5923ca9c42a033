"""Real SDK clients against one `credchain serve`: the same keys, one upstream call per rotation.

One scenario for the module: a loopback STS (tests/servers/sts.py) minting
credentials that live LIFETIME seconds, an assume-role profile in a HOME of
the server's own (tests/remote/scenarios.py), one `credchain serve
--profile target --print-env --log-level debug`, and five clients started at
once, each in its own process with nothing but the printed environment, a
blank HOME, AWS_REGION, AWS_EC2_METADATA_DISABLED=true and PATH:

* botocore        tests/serve/clients/python/client.py (session.get_credentials(), RefreshableCredentials)
* java            tests/serve/clients/java/Client.java (DefaultCredentialsProvider, SDK for Java v2)
* node            tests/serve/clients/node/client.js (fromNodeProviderChain, SDK for JavaScript v3)
* go              tests/serve/clients/go (config.LoadDefaultConfig, cfg.Credentials.Retrieve)
* rust            examples/serve_client.rs (aws_config::defaults(..).load(), provide_credentials)

Each asks its SDK's provider, made once, every INTERVAL seconds for
CLIENT_SECONDS (2+ rotations) and prints a JSON line per call (sdk_clients.py).
The checks, each with its own failure message:

* every client printed lines, no error, exited 0, and saw 2+ rotations;
* every key a client saw was minted by the upstream, each client saw them in
  the upstream's order, and with the upstream's expiry;
* the same key everywhere: a line from any client at a time t more than
  SETTLE seconds after key i was minted and before key i+1 was, carries key i;
* no client ever held credentials whose expiry was <= the time it used them;
* the upstream was called once per rotation: every call minted the key
  clients then shared, successive calls >= 0.7 L apart, and the count within
  1 + floor(T/L) .. 2 + ceil(T/(0.7 L)) (tests/remote/test_refresh.py's bounds).

The module prints a table of per-client counts and the upstream's count.
Building the clients (go build, npm ci, mvn's classpath, cargo's example) is
timed and printed too; it runs before the server starts.

A second, short scenario asks for long-term keys (no session token), which the
protocol cannot carry to every SDK: the server refuses them, saying why.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import sdk_clients as C
from harness import REGION, Scenario
from servers import StsServer
import scenarios as S  # tests/remote/scenarios.py (conftest.py puts tests/remote on the path)
from serving import Serving

LIFETIME = 24          # seconds each upstream key lives; credchain refreshes at ~75 % (18 s)
CLIENT_SECONDS = 60    # each client's run: 2.5 lifetimes, 3 rotations
INTERVAL = 0.5         # seconds between a client's calls
SETTLE = 3.0           # seconds after a key is minted by which every client must be using it
                       # (the Java SDK keeps a value it was told is stale for 1 s; + interval + slack)
WAIT = CLIENT_SECONDS + 60


def client_base_env(home: Path) -> dict[str, str]:
    """What a client gets besides the printed lines: PATH, a blank HOME, the region, no IMDS."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true"}


def _prepare_all() -> tuple[dict[str, C.Prepared], dict[str, str], float]:
    start = time.time()
    prepared: dict[str, C.Prepared] = {}
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(len(C.NAMES)) as pool:
        futures = {name: pool.submit(C.prepare, name) for name in C.NAMES}
        for name, future in futures.items():
            try:
                prepared[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - reported by the client's own test
                failed[name] = f"{type(exc).__name__}: {exc}"
    return prepared, failed, time.time() - start


@pytest.fixture(scope="module")
def prepared_clients() -> tuple[dict[str, C.Prepared], dict[str, str], float]:
    return _prepare_all()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, credchain_bin, prepared_clients) -> dict[str, Any]:
    prepared, failed, prep_seconds = prepared_clients
    root = tmp_path_factory.mktemp("serve-clients")
    scn = Scenario(root / "server")
    sts = StsServer(lifetime=LIFETIME).start()
    srv = None
    runs: list[C.ClientRun] = []
    try:
        profile = S.assume_role(scn, sts)
        srv = Serving(["--profile", profile, "--log-level", "debug"], env=scn.env).start()
        blank = root / "client-home"
        blank.mkdir()
        env = srv.client_env(client_base_env(blank))
        started = time.time()
        runs = [C.ClientRun(prepared[name], CLIENT_SECONDS, INTERVAL, env) for name in C.NAMES if name in prepared]
        for run in runs:
            run.wait(WAIT - (time.time() - started))
        time.sleep(0.2)
        return {"runs": {r.name: r for r in runs}, "prepared": prepared, "prepare_failed": failed,
                "prepare_seconds": prep_seconds, "minted": list(sts.minter.issued),
                "calls": sts.calls_for("AssumeRole"), "all_calls": list(sts.calls), "server": srv,
                "started": started, "env": env}
    finally:
        for run in runs:
            run.kill()
        if srv is not None:
            srv.stop()
        sts.stop()


# ---- helpers -------------------------------------------------------------
def _ok(run: C.ClientRun) -> list[dict[str, Any]]:
    return [r for r in run.records if "access_key_id" in r and "error" not in r]


def _errors(run: C.ClientRun) -> list[dict[str, Any]]:
    return [r for r in run.records if "error" in r or "access_key_id" not in r]


def _index(minted: list[dict[str, Any]]) -> dict[str, int]:
    return {m["access_key_id"]: i for i, m in enumerate(minted)}


def _rel(t: float, base: float) -> str:
    return f"+{t - base:.1f} s"


def _server_requests(srv: Serving) -> dict[str, int]:
    """Status counts of the server's request lines at debug (`GET /credentials/... -> 200 in N us`)."""
    counts: dict[str, int] = {}
    for line in srv.stderr_lines():
        m = re.search(r"\b(GET|HEAD) (/\S*) -> (\d{3})\b", line)
        if m:
            counts[m.group(3)] = counts.get(m.group(3), 0) + 1
    return counts


def _table(res: dict[str, Any]) -> str:
    minted = res["minted"]
    index = _index(minted)
    base = res["started"]
    rows = [f"{'client':9} {'prepared by':>26} {'lines':>5} {'errors':>6} {'keys':>4} {'key changes':>11} "
            f"{'min life left':>13} {'max lag':>7}  keys seen (upstream order)"]
    for name in C.NAMES:
        prep = res["prepared"].get(name)
        prep_text = f"{prep.did} {prep.seconds:.1f}s" if prep else "FAILED"
        run = res["runs"].get(name)
        if run is None:
            rows.append(f"{name:9} {prep_text:>26}  (not run: {res['prepare_failed'].get(name, '?')[:80]})")
            continue
        ok = _ok(run)
        keys = [r["access_key_id"] for r in ok]
        changes = sum(1 for a, b in zip(keys, keys[1:]) if a != b)
        lefts = [r["expiration"] - r["t"] for r in ok if r.get("expiration") is not None]
        lags = []
        for r in ok:
            i = index.get(r["access_key_id"])
            if i is not None and i + 1 < len(minted) and r["t"] > minted[i + 1]["issued_at"]:
                lags.append(r["t"] - minted[i + 1]["issued_at"])
        seen = sorted({index.get(k, -1) for k in keys})
        rows.append(f"{name:9} {prep_text:>26} {len(run.records):5d} {len(_errors(run)):6d} {len(set(keys)):4d} "
                    f"{changes:11d} {min(lefts) if lefts else float('nan'):12.1f}s {max(lags, default=0.0):6.1f}s"
                    f"  {seen}")
    calls = res["calls"]
    rows.append(f"upstream (loopback STS AssumeRole, keys live {LIFETIME} s): {len(calls)} calls, "
                f"{len(minted)} keys minted at "
                + ", ".join(_rel(m["issued_at"], base) for m in minted)
                + f"; server answered {_server_requests(res['server'])} (status: count) for "
                f"{sum(len(r.records) for r in res['runs'].values())} client calls; "
                f"clients prepared in {res['prepare_seconds']:.1f} s")
    return "\n".join(rows)


@pytest.fixture(scope="module")
def res(scenario, request) -> dict[str, Any]:
    capman = request.config.pluginmanager.getplugin("capturemanager")
    table = _table(scenario)
    if capman is not None:
        with capman.global_and_fixture_disabled():
            print("\n" + table)
    else:
        print(table)
    return scenario


# ---- per client ------------------------------------------------------------
@pytest.mark.parametrize("name", C.NAMES)
def test_client_got_credentials_without_error(res, name):
    if name in res["prepare_failed"]:
        pytest.fail(f"{name} client could not be built or set up: {res['prepare_failed'][name]}")
    run = res["runs"][name]
    assert run.records, (f"{name} client printed no JSON line (exit {run.proc.returncode}); "
                         f"stdout noise: {run.noise[:3]}; stderr:\n{run.stderr[-3000:]}")
    errors = _errors(run)
    assert not errors, (f"{name} client got {len(errors)} errors in {len(run.records)} calls; first: "
                        f"{errors[0]}; stderr:\n{run.stderr[-2000:]}")
    assert run.proc.returncode == 0, f"{name} client exited {run.proc.returncode}; stderr:\n{run.stderr[-3000:]}"
    span = run.records[-1]["t"] - run.records[0]["t"]
    assert span >= CLIENT_SECONDS - 5, f"{name} client's calls span {span:.1f} s, not ~{CLIENT_SECONDS} s"
    keys = {r["access_key_id"] for r in run.records}
    assert len(keys) >= 3, (f"{name} client saw {len(keys)} keys ({sorted(keys)}) in {span:.1f} s; "
                            f"with keys living {LIFETIME} s it should have seen 2+ rotations")


@pytest.mark.parametrize("name", C.NAMES)
def test_client_saw_only_minted_keys_in_upstream_order(res, name):
    run = res["runs"].get(name)
    if run is None:
        pytest.fail(f"{name} client did not run: {res['prepare_failed'].get(name)}")
    minted = res["minted"]
    index = _index(minted)
    ok = _ok(run)
    unknown = sorted({r["access_key_id"] for r in ok} - set(index))
    assert not unknown, (f"{name} client used keys the upstream never minted: {unknown}; "
                         f"minted: {list(index)}")
    last = -1
    for r in ok:
        i = index[r["access_key_id"]]
        assert i >= last, (f"{name} client went back from {minted[last]['access_key_id']} to "
                           f"{r['access_key_id']} at {_rel(r['t'], res['started'])}")
        last = i


@pytest.mark.parametrize("name", C.NAMES)
def test_client_never_held_expired_credentials(res, name):
    run = res["runs"].get(name)
    if run is None:
        pytest.fail(f"{name} client did not run: {res['prepare_failed'].get(name)}")
    minted = {m["access_key_id"]: m for m in res["minted"]}
    ok = _ok(run)
    no_expiry = [r for r in ok if r.get("expiration") is None]
    assert not no_expiry, f"{name} client's SDK reported no expiration for temporary credentials: {no_expiry[:2]}"
    expired = [r for r in ok if r["expiration"] <= r["t"]]
    assert not expired, (f"{name} client used credentials at or past their expiry {len(expired)} times, "
                         f"first: key {expired[0]['access_key_id']} expiring {expired[0]['expiration']:.1f} "
                         f"used at {expired[0]['t']:.1f}")
    wrong = [r for r in ok if r["access_key_id"] in minted
             and abs(r["expiration"] - minted[r["access_key_id"]]["expiration"]) > 1.0]
    assert not wrong, (f"{name} client's SDK read an expiry other than the upstream's: key "
                       f"{wrong[0]['access_key_id']} expiry {wrong[0]['expiration']} vs upstream "
                       f"{minted[wrong[0]['access_key_id']]['expiration']} (Expiration format misread?)")


# ---- across clients ----------------------------------------------------------
def test_every_client_uses_the_current_key_after_each_rotation(res):
    """A line from any client at t in [minted_i + SETTLE, minted_{i+1}) carries key i."""
    minted = res["minted"]
    assert minted, "the upstream minted no key"
    base = res["started"]
    problems = []
    for name, run in res["runs"].items():
        for r in _ok(run):
            current = None
            for i, m in enumerate(minted):
                if m["issued_at"] + SETTLE <= r["t"]:
                    current = i
            if current is None:
                continue
            nxt = minted[current + 1]["issued_at"] if current + 1 < len(minted) else math.inf
            if r["t"] < nxt and r["access_key_id"] != minted[current]["access_key_id"]:
                problems.append(f"{name} used {r['access_key_id']} at {_rel(r['t'], base)} while "
                                f"{minted[current]['access_key_id']} had been served since "
                                f"{_rel(minted[current]['issued_at'], base)}")
    assert not problems, f"{len(problems)} calls saw another key than the current one: {problems[:5]}"


def test_upstream_called_once_per_rotation(res):
    minted, calls = res["minted"], res["calls"]
    failed = [c for c in calls if c.get("fault") or not c.get("access_key_id")]
    assert not failed, f"{len(failed)} upstream calls failed or minted nothing: {failed[:3]}"
    other = [c.get("Action") for c in res["all_calls"] if c.get("Action") != "AssumeRole"]
    assert not other, f"unexpected upstream actions: {other}"
    assert len(calls) == len(minted), f"{len(calls)} AssumeRole calls but {len(minted)} keys minted"
    ends = [r["t"] for run in res["runs"].values() for r in run.records]
    assert ends, "no client printed anything"
    span = max(ends) - minted[0]["issued_at"]
    lo, hi = 1 + math.floor(span / LIFETIME), 2 + math.ceil(span / (0.7 * LIFETIME))
    assert lo <= len(calls) <= hi, (f"{len(calls)} upstream calls over {span:.1f} s with keys living {LIFETIME} s: "
                                    f"expected {lo}..{hi} (fewer: someone held expired keys; more: refetches "
                                    f"per client or a stampede)")
    for m, nxt in zip(minted, minted[1:]):
        gap = nxt["issued_at"] - m["issued_at"]
        life = m["expiration"] - m["issued_at"]
        assert gap >= 0.7 * life - 0.5, (f"{nxt['access_key_id']} was fetched {gap:.1f} s after "
                                         f"{m['access_key_id']} (life {life:.1f} s): more than one upstream "
                                         f"call per rotation")
        assert nxt["issued_at"] < m["expiration"], (f"{m['access_key_id']} expired before {nxt['access_key_id']} "
                                                    f"was fetched: refresh came too late")
    seen = {r["access_key_id"] for run in res["runs"].values() for r in _ok(run)}
    unused = [m["access_key_id"] for m in minted[:-1] if m["access_key_id"] not in seen]
    assert not unused, f"keys minted upstream but handed to no client: {unused}"


# ---- long-term keys ----------------------------------------------------------
# The protocol cannot carry long-term keys to every SDK (each read in the SDK's source, and each
# seen failing against a server that omitted "Token"):
#  * botocore 1.43: ContainerProvider._create_fetcher reads response['Token'] -> KeyError: 'Token'.
#  * JavaScript v3: fromHttp and fromContainerMetadata require typeof Token === "string".
#  * aws-config 1.13 (Rust): InvalidJsonCredentials::MissingField("Token").
#  * Java v2 takes it as AwsBasicCredentials and drops the Expiration; Go v2 takes it.
# An empty "Token" is accepted by all five, but the Java SDK and aws-sigv4 then sign an empty
# X-Amz-Security-Token header. So the server refuses long-term keys, saying why and what to serve.
LONG_TERM_MESSAGE = (
    "the profile resolves to long-term access keys (shared-credentials-file), and the "
    "container-credentials protocol carries temporary credentials only (SDKs need a session token): "
    "serve a profile that assumes a role (role_arn with source_profile), uses SSO or another "
    "temporary source")


def test_long_term_keys_are_refused_with_the_reason(tmp_path, credchain_bin):
    scn = Scenario(tmp_path)
    S.base_credentials(scn)
    with Serving(["--profile", "base"], env=scn.env) as srv:
        status, _, body = srv.get()
        deadline = time.time() + 5
        while time.time() < deadline and not any("cannot be served yet" in line for line in srv.stderr_lines()):
            time.sleep(0.05)
        stderr = [line.rstrip("\n") for line in srv.stderr_lines()]
    assert status == 503, body
    assert json.loads(body) == {"Code": "INVALID_CONFIG", "Message": LONG_TERM_MESSAGE}
    assert S.BASE_AKID not in body.decode(), "the refusal must not carry the key"
    warned = [line for line in stderr if "cannot be served yet" in line]
    assert warned == [f"credchain serve warn: profile base cannot be served yet: {LONG_TERM_MESSAGE}"], stderr
