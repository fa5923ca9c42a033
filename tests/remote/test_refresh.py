"""Refresh through real HTTP: short-lived credentials, 16 threads, several lifetimes.

The scenarios are slow (tens of seconds each) but idle, so they all run at
once, each in its own thread, HOME and servers, started by the first test of
this module that needs one; each test then waits for and checks its own.

Expected library behaviour (docs/design.md, "Cache and refresh"): refresh in the
background at about 75-83 % of a credential's lifetime (advisory window
min(15 min, L/4), mandatory window min(10 min, L/6)); callers block only in
the mandatory window or past expiry; concurrent callers share one fetch; a
failed refresh in the advisory window keeps serving the old snapshot;
credentials past their expiry are never returned.

Rotation count bounds, for a run whose calls span T seconds with lifetime L
(the servers write whole-second expiries, so a set lives L-1 < l <= L):
 * at least 1 + floor(T / L) fetches: fewer, and some caller would have held
   credentials past their expiry, which the test checks separately;
 * at most 2 + ceil(T / (0.7 L)): one fetch per rotation at >= 75 % of the
   lifetime (0.7 leaves room for the whole-second truncation), plus one
   refresh that may be in flight when the probe stops. A per-call refresh
   (botocore's flaw for short sessions) or a stampede of 16 threads would
   exceed it many times over.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from typing import Any, Callable

import pytest

import scenarios as S
from harness import SOURCE_FAILED, TIMEOUT, ProbeRun, Scenario, assert_failure
from servers import ContainerServer, ImdsServer, SsoServer, StsServer

LIFETIME = 12         # seconds; the brief asks for 10-20
SPAN = 40             # seconds of calls: 3.3 lifetimes
THREADS = 16
INTERVAL_MS = 50
REPEAT = SPAN * 1000 // INTERVAL_MS   # per thread
HOT_P99_MS = 50.0     # a cache hit must not wait on anything

FAIL_LIFETIME = 20    # advisory window 5 s, mandatory 3.33 s
FAIL_TIMEOUT_MS = 2000


def _rotation(kind: str, tmp) -> dict[str, Any]:
    scn = Scenario(tmp)
    scn.env["CREDCHAIN_TIMEOUT_MS"] = "5000"
    if kind == "iam-role":
        srv = ImdsServer(lifetime=LIFETIME).start()
        profile = S.imds(scn, srv)
        creds_path = "/latest/meta-data/iam/security-credentials/credchain-test-role"
    elif kind == "assume-role":
        srv = StsServer(lifetime=LIFETIME).start()
        profile = S.assume_role(scn, srv)
        creds_path = "/"
    elif kind == "assume-role-with-web-identity":
        srv = StsServer(lifetime=LIFETIME).start()
        profile = S.web_identity_env(scn, srv)
        creds_path = "/"
    elif kind == "container-role":
        srv = ContainerServer(lifetime=LIFETIME).start()
        profile = S.container_token(scn, srv)
        creds_path = S.CONTAINER_PATH
    elif kind == "sso":
        srv = SsoServer(lifetime=LIFETIME).start()
        profile = S.sso_session(scn, srv)
        creds_path = "/federation/credentials"
    else:
        raise ValueError(kind)
    try:
        live = scn.start_probe(profile, repeat=REPEAT, interval_ms=INTERVAL_MS, threads=THREADS)
        run = live.finish(timeout=SPAN + 60)
        time.sleep(0.2)
        return {"run": run, "minted": list(srv.minter.issued), "requests": srv.count(creds_path),
                "counts": srv.counts(), "server": srv}
    finally:
        srv.stop()


def _advisory_then_expiry(tmp) -> dict[str, Any]:
    """STS assume-role, L=20 s: fail inside the advisory window, then through expiry, then recover."""
    scn = Scenario(tmp)
    scn.env["CREDCHAIN_TIMEOUT_MS"] = str(FAIL_TIMEOUT_MS)
    srv = StsServer(lifetime=FAIL_LIFETIME).start()
    marks: dict[str, float] = {}
    live = None
    try:
        profile = S.assume_role(scn, srv)
        live = scn.start_probe(profile, repeat=900, interval_ms=100, threads=4)
        first = live.wait_for(lambda r: r.get("ok"), timeout=15)
        key1 = srv.minter.issued[0]
        assert first["access_key_id"] == key1["access_key_id"], first
        # Phase 1: every refresh fails from now until inside the advisory window. Refused at once
        # (403, which the SDK does not retry): a retried 500 keeps a refresh started in the advisory
        # window in flight, through the SDK's back-off, until the fetch timeout, and callers who reach
        # the mandatory window join it and get its timeout although STS is back (seen in CI: the
        # advisory window of these 20 s credentials is shorter than the 1.8 s fetch timeout).
        srv.inject("status", status=403)
        marks["fault1_on"] = time.time()
        advisory_start = key1["expiration"] - FAIL_LIFETIME / 4
        mandatory_start = key1["expiration"] - FAIL_LIFETIME / 6
        deadline = key1["expiration"] + 2
        while srv.count("/", faulted=True) == 0 and time.time() < deadline:
            time.sleep(0.05)
        marks["first_failed_refresh"] = time.time()
        # Let callers run on the old snapshot a little, but clear before the mandatory window.
        time.sleep(max(0.0, min(0.6, mandatory_start - 0.3 - time.time())))
        srv.clear_faults()
        marks["fault1_off"] = time.time()
        second = live.wait_for(lambda r: r.get("ok") and r["access_key_id"] != key1["access_key_id"],
                               timeout=max(1.0, key1["expiration"] + 5 - time.time()))
        marks["key2_seen"] = second["t"]
        key2 = next(m for m in srv.minter.issued if m["access_key_id"] == second["access_key_id"])
        # Phase 2: upstream refuses (403 AccessDenied, not retried by the SDK) through key2's expiry.
        srv.inject("status", status=403)
        marks["fault2_on"] = time.time()
        time.sleep(max(0.0, key2["expiration"] + 3 - time.time()))
        srv.clear_faults()
        marks["fault2_off"] = time.time()
        third = live.wait_for(lambda r: r.get("ok") and r["access_key_id"] not in
                              (key1["access_key_id"], key2["access_key_id"]), timeout=20,
                              since=marks["fault2_off"])
        marks["recovered"] = third["t"]
        # Wait for the callers' own output past the checked window rather than sleeping: on a
        # loaded machine the probe's lines can arrive later than a fixed sleep (seen in CI).
        live.wait_for(lambda r: r["t"] > marks["recovered"] + 1.5, timeout=15)
        run = live.stop()
        return {"run": run, "marks": marks, "key1": key1, "key2": key2, "minted": list(srv.minter.issued),
                "advisory_start": advisory_start, "mandatory_start": mandatory_start,
                "calls": srv.calls_for("AssumeRole")}
    finally:
        if live is not None:
            live.stop()
        srv.stop()


ROTATIONS = ["iam-role", "assume-role", "assume-role-with-web-identity", "container-role", "sso"]


class Background:
    def __init__(self, factory) -> None:
        self.factory = factory
        self.results: dict[str, Any] = {}
        self.threads: dict[str, threading.Thread] = {}

    def start(self, name: str, fn: Callable[..., dict[str, Any]]) -> None:
        tmp = self.factory.mktemp(name)  # here, not in the thread: mktemp is not thread-safe

        def body() -> None:
            try:
                self.results[name] = fn(tmp)
            except BaseException as exc:  # reported by the test that owns the scenario
                self.results[name] = {"error": exc, "traceback": traceback.format_exc()}
        t = threading.Thread(target=body, name=name, daemon=True)
        self.threads[name] = t
        t.start()

    def result(self, name: str, timeout: float = 180) -> dict[str, Any]:
        self.threads[name].join(timeout)
        assert not self.threads[name].is_alive(), f"scenario {name} still running after {timeout}s"
        res = self.results[name]
        if "error" in res:
            pytest.fail(f"scenario {name} failed:\n{res['traceback']}")
        return res


@pytest.fixture(scope="module")
def background(tmp_path_factory, probe):
    bg = Background(tmp_path_factory)
    for kind in ROTATIONS:
        bg.start(kind, lambda tmp, kind=kind: _rotation(kind, tmp))
    bg.start("advisory-then-expiry", _advisory_then_expiry)
    yield bg
    for t in bg.threads.values():
        t.join(120)


def _call_start(r: dict[str, Any]) -> float:
    return r["t"] - r["elapsed_us"] / 1e6


def _assert_never_past_expiry(run: ProbeRun) -> None:
    stale = [r for r in run.ok if r["expiration"] <= _call_start(r)]
    assert not stale, f"{len(stale)} calls got past-expiry credentials, e.g. {stale[:2]}"


@pytest.mark.parametrize("kind", ROTATIONS)
def test_rotation_16_threads(background, kind):
    res = background.result(kind)
    run: ProbeRun = res["run"]
    minted = res["minted"]
    assert run.records, f"no output; stderr: {run.stderr[-2000:]}"
    span = run.records[-1]["t"] - run.records[0]["t"]
    n = len(minted)
    lo, hi = 1 + math.floor(span / LIFETIME), 2 + math.ceil(span / (0.7 * LIFETIME))
    elapsed = sorted(r["elapsed_us"] / 1000 for r in run.records if r["t"] > run.records[0]["t"] + 1)
    p99 = elapsed[int(len(elapsed) * 0.99) - 1] if elapsed else 0.0
    print(f"{kind}: {len(run.records)} calls over {span:.1f}s, {n} upstream fetches (bounds {lo}..{hi}), "
          f"keys seen {len(run.keys())}, hot p99 {p99:.3f} ms, max {elapsed[-1] if elapsed else 0:.1f} ms, "
          f"counts {res['counts']}")
    assert span >= 3 * LIFETIME - 2, f"the probe ran {span:.1f}s, not several lifetimes (check --repeat semantics)"
    assert len(run.records) >= THREADS * REPEAT * 0.9, "probe printed fewer calls than asked"
    assert not run.failed, f"{len(run.failed)} caller errors, first: {run.failed[:3]}"
    assert run.rc == 0
    assert all(r["source"] == kind for r in run.ok)
    _assert_never_past_expiry(run)
    # One upstream request per rotation: every credentials request minted a set, no failures.
    assert res["requests"] == n, f"{res['requests']} requests for {n} rotations: {res['counts']}"
    assert lo <= n <= hi, f"{n} fetches over {span:.1f}s with L={LIFETIME}s, expected {lo}..{hi}"
    keys = run.keys()
    assert keys == [m["access_key_id"] for m in minted][:len(keys)], "callers saw keys out of order"
    assert len(keys) >= n - 1, "a fetched set was never handed out"
    # Each set was in use until shortly before it expired, refreshed at >= 70 % of its life.
    for m, nxt in zip(minted, minted[1:]):
        life = m["expiration"] - m["issued_at"]
        assert nxt["issued_at"] - m["issued_at"] >= 0.7 * life - 0.5, (m, nxt)
        assert nxt["issued_at"] < m["expiration"], f"refresh only after expiry: {m}, {nxt}"
    assert p99 <= HOT_P99_MS, f"hot-path p99 {p99:.2f} ms"
    if kind == "iam-role":
        assert res["server"].count("/latest/api/token") <= n, "IMDS token fetched more than once per rotation"


def test_advisory_failure_keeps_old_then_expiry_errors_then_recovers(background):
    res = background.result("advisory-then-expiry")
    run: ProbeRun = res["run"]
    m = res["marks"]
    key1, key2 = res["key1"], res["key2"]
    print({k: round(v - m["fault1_on"], 2) for k, v in m.items()},
          f"advisory at +{res['advisory_start'] - m['fault1_on']:.2f}, "
          f"mandatory at +{res['mandatory_start'] - m['fault1_on']:.2f}, "
          f"key1 expires +{key1['expiration'] - m['fault1_on']:.2f}, "
          f"key2 expires +{key2['expiration'] - m['fault1_on']:.2f}, "
          f"{len(res['calls'])} STS calls ({sum(1 for c in res['calls'] if c['fault'])} failed)")
    _assert_never_past_expiry(run)

    # Phase 1: a failed refresh inside the advisory window; callers keep key1, no error.
    assert m["first_failed_refresh"] >= res["advisory_start"] - 1.0, \
        "the first refresh came before the advisory window"
    assert m["first_failed_refresh"] < res["mandatory_start"], \
        "no refresh attempt inside the advisory window (background refresh missing or late)"
    phase1 = [r for r in run.records if m["fault1_on"] <= r["t"] < min(m["fault1_off"], res["mandatory_start"])]
    assert phase1 and all(r["ok"] and r["access_key_id"] == key1["access_key_id"] for r in phase1), \
        [r for r in phase1 if not r["ok"]][:3]
    before_key2 = [r for r in run.records if r["t"] < m["key2_seen"]]
    assert not [r for r in before_key2 if not r["ok"]], \
        f"caller errors while the refresh recovered: {[r for r in before_key2 if not r['ok']][:3]}"
    assert m["key2_seen"] < key1["expiration"], "key2 arrived only after key1 expired"

    # Phase 2: failing through expiry gives errors naming the source and STS's words.
    after_exp = [r for r in run.records if _call_start(r) >= key2["expiration"] + 0.2 and r["t"] <= m["fault2_off"]]
    assert after_exp, "no calls after key2 expired"
    assert all(not r["ok"] for r in after_exp), [r for r in after_exp if r["ok"]][:3]
    for r in after_exp[:20]:
        assert_failure(r, "assume-role", (SOURCE_FAILED, TIMEOUT))
    assert any("AccessDenied" in r["message"] for r in after_exp), after_exp[:3]
    assert max(r["elapsed_us"] for r in after_exp) / 1e6 <= FAIL_TIMEOUT_MS / 1000 + 1.0

    # ... then recovers once STS answers again.
    recovery = m["recovered"] - m["fault2_off"]
    print(f"recovered {recovery:.2f}s after STS came back")
    # Callers drive the fetches past expiry, each failure doubling the back-off (equal jitter,
    # capped at 15 s: src/cache/settings.rs), so the first attempt after STS is back can be up to 15 s
    # away: after ~22 s of refusals the back-off in force is between 7.5 and 15 s.
    assert recovery <= 15.0 + 1.0
    after = [r for r in run.records if r["t"] > m["recovered"] + 0.5]
    assert after and all(r["ok"] for r in after), [r for r in after if not r["ok"]][:3]
