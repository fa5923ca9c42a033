"""Item 8: many distinct profile names that do not exist.

A host that passes user-supplied profile names (a connection string field)
can ask for any number of names. Each is PROFILE_NOT_FOUND, and nothing per
name may stay behind: a cache entry (with its refresher task and its copy of
the inputs) per unknown name grows the process without bound.

A C host asks for 20,000 distinct missing profiles, then for a real one.
Asserted: every answer is PROFILE_NOT_FOUND (3), VmRSS grows by less than
5 MB between call 10 and call 20,000, and the real profile still works. The
time per call (first ten and last ten) is printed, never asserted.
"""

from __future__ import annotations

from conftest import OK, PROFILE_NOT_FOUND, STATIC_AKID, STATIC_SECRET, run_bounded

N = 20_000


def test_20000_unknown_profiles_leave_nothing_behind(scn, programs):
    scn.credentials(f"[real]\naws_access_key_id = {STATIC_AKID}\naws_secret_access_key = {STATIC_SECRET}\n")
    run = run_bounded([programs["host"], "get:real", "rss", f"unknown:{N}:no-such-profile-", "rss", "get:real"],
                      scn.env, timeout=150)
    assert not run.timed_out and run.rc == 0, run.describe()
    recs = run.records()
    summary = [r for r in recs if r.get("op") == "unknown"][0]
    gets = [r for r in recs if r.get("op") == "get"]
    growth_kb = summary["rss_after_kb"] - summary["rss_after_10_kb"]
    first = sum(summary["first_ms"]) / 10
    last = sum(summary["last_ms"]) / 10
    print(f"{N} unknown profiles in {summary['total_ms'] / 1000:.1f}s; codes {summary['codes']}\n"
          f"VmRSS after call 10: {summary['rss_after_10_kb']} kB, after {N // 2}: {summary['rss_mid_kb']} kB, "
          f"after {N}: {summary['rss_after_kb']} kB (growth {growth_kb} kB)\n"
          f"per call: first ten {summary['first_ms']} ms (mean {first:.3f}), "
          f"last ten {summary['last_ms']} ms (mean {last:.3f})")
    assert summary["codes"][str(PROFILE_NOT_FOUND)] == N, summary["codes"]
    assert growth_kb < 5 * 1024, f"VmRSS grew by {growth_kb} kB over {N} unknown profiles"
    assert gets[-1]["code"] == OK and gets[-1]["akid"] == STATIC_AKID, gets[-1]
