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

from conftest import INVALID_ARGUMENT, OK, PROFILE_NOT_FOUND, STATIC_AKID, STATIC_SECRET, run_bounded

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


def test_past_the_profile_limit_a_new_name_is_refused_and_held_ones_keep_working(scn, programs):
    scn.credentials("".join(f"[p{i}]\naws_access_key_id = {STATIC_AKID}\naws_secret_access_key = {STATIC_SECRET}\n"
                            for i in range(3)))
    scn.env["CREDCHAIN_MAX_PROFILES"] = "2"
    run = run_bounded([programs["host"], "get:p0", "get:p1", "get:p2", "get:nowhere", "get:p0"], scn.env, timeout=30)
    assert not run.timed_out and run.rc == 0, run.describe()
    p0, p1, p2, nowhere, again = [r for r in run.records() if r.get("op") == "get"]
    assert (p0["code"], p1["code"], again["code"]) == (OK, OK, OK)
    assert p2["code"] == INVALID_ARGUMENT
    assert p2["message"] == ("credchain already holds 2 profiles, its limit (CREDCHAIN_MAX_PROFILES); "
                             "profile p2 was not added")
    # Once full, every new name is refused before any file is read.
    assert nowhere["code"] == INVALID_ARGUMENT, nowhere


def test_control_characters_in_a_profile_name_are_escaped_in_messages_and_logs(scn, programs):
    scn.static_default()
    scn.env["CREDCHAIN_LOG"] = "trace"
    run = run_bounded([programs["host"], "get:evil\r\nINFO forged\x1b[31m"], scn.env, timeout=30)
    assert not run.timed_out and run.rc == 0, run.describe()
    answer = [r for r in run.records() if r.get("op") == "get"][0]
    assert answer["code"] == PROFILE_NOT_FOUND
    assert answer["message"] == "the config profile (evil\\r\\nINFO forged\\u{1b}[31m) could not be found"
    assert "\r" not in run.stderr and "\x1b" not in run.stderr, run.stderr
    assert "evil\\r\\nINFO forged" in run.stderr, run.stderr
