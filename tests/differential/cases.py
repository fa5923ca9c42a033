"""Shared by the differential suites (tests/differential/test_*_vs_botocore.py):
scenario set-up helpers, the `Case` a scenario is written as, the run of one
case through credchain (the C probe) and botocore (tests/boto_probe.py), and
the documented deviations from botocore.

Every case spells out the expected result (source, access key, secret and
session token; or, for a failure, credchain's error code, a phrase of its
message and a phrase of botocore's error), and both implementations are held
to it, so that a change in both at once is caught too. botocore is checked
first: a failure that names botocore means the reference moved.

Scenarios that use STS or the SSO portal get loopback servers (conftest.py's
`sts` and `sso` fixtures); `run_case` resets them between the two runs, so
both clients see the same minted keys (ASIASTSR000001, ...) and each leaves
its own request log, which the case's `sts_calls` / `sso_calls` are checked
against, hop by hop.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from harness import Scenario
from servers import KeyMinter, secret_for, token_for

# Codes from credchain.h (harness.py spells the same)
NO_CREDENTIALS, PROFILE_NOT_FOUND, PARTIAL_CREDENTIALS, SOURCE_FAILED, INVALID_CONFIG = 2, 3, 4, 5, 8

CREDS_DEFAULT = "[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = creds-secret\n"
CONFIG_DEFAULT = "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret\n"
PROCESS_JSON = ('{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "process-secret", '
                '"SessionToken": "process-token"}')

# Scenario name -> (what credchain does instead of botocore, why botocore is not copied there).
# The README's "Deviations from botocore" section lists the same.
DEVIATIONS: dict[str, tuple[str, str]] = {
    "empty aws_session_token is no token": (
        "returns no session token (NULL) where botocore returns the empty string",
        "botocore's signer skips an empty token, so both sign identical requests; an empty string token "
        "would only push every C caller to test for two kinds of 'none'",
    ),
    "empty aws_access_key_id": (
        "fails with SOURCE_FAILED naming the missing access key id",
        "botocore returns credentials with an empty access key id that every AWS call then rejects; "
        "failing at resolution says where the problem is",
    ),
    "directory as the credentials file": (
        "fails with INVALID_CONFIG naming the path, which is not a regular file",
        "botocore skips any path that is not a regular file as if it were absent, so a misplaced directory "
        "(or a FIFO, a device) silently changes which credentials are used; credchain says so at once",
    ),
    "symbolic-link loop as the credentials file": (
        "fails with INVALID_CONFIG naming the path, which cannot be opened",
        "botocore takes a path it cannot open for a missing file (os.path.isfile is false), so another "
        "source's keys answer without a word; credchain says so, as it does for a directory",
    ),
    "directory as the config file": (
        "fails with INVALID_CONFIG naming the path, which is not a regular file",
        "as for the credentials file",
    ),
    "directory as the config file, profile in the credentials file": (
        "fails with INVALID_CONFIG naming the path, which is not a regular file",
        "as for the credentials file",
    ),
    "duration_seconds that is not a number is left out": (
        "fails with INVALID_CONFIG naming the profile and the value",
        "botocore silently drops a duration_seconds that is not an integer and asks STS for its default "
        "hour; a typo should not change a session's length unnoticed",
    ),
    "mfa_serial on the role": (
        "fails with INVALID_CONFIG and the remedy (a credential_process that caches the MFA session, or "
        "session keys from get-session-token in the source profile)",
        "botocore prompts for the code on the terminal; a library inside a database driver has none "
        "(without one botocore fails with EOFError)",
    ),
    "web identity source profile with a missing token file": (
        "fails with an error naming the source (SOURCE_FAILED or INVALID_CONFIG) and the token file",
        "botocore lets a bare FileNotFoundError escape from get_credentials() (an uncaught exception, "
        "not a botocore error)",
    ),
}


# The scenarios whose request logs the run prints at its end (tests/differential/conftest.py):
# each hop of a role chain on top of web identity and on top of SSO, as each client made them.
SHOWN_LOGS = ("role chain on top of web identity (EKS IRSA)", "role chain on top of SSO (sso-session)")
REQUEST_LOGS: dict[str, dict[str, list[str]]] = {}


def _log_lines(sts: Any, sso: Any) -> list[str]:
    lines = [f"SSO GetRoleCredentials role_name={c['role_name']} account_id={c['account_id']}" for c in sso.calls]
    lines += [f"STS {c.get('Action')} RoleArn={c.get('RoleArn')}" for c in sts.calls]
    return lines


# ---- set-up helpers ---------------------------------------------------------
Setup = Callable[..., None]


def env(**values: str) -> Callable[[Scenario], None]:
    def apply(scn: Scenario) -> None:
        scn.env.update(values)
    return apply


def steps(*fns: Callable[[Scenario], None]) -> Callable[[Scenario], None]:
    def apply(scn: Scenario) -> None:
        for fn in fns:
            fn(scn)
    return apply


def creds_file(text: str) -> Callable[[Scenario], None]:
    return lambda scn: scn.credentials(text)


def config_file(text: str) -> Callable[[Scenario], None]:
    return lambda scn: scn.config(text)


def creds_bytes(data: bytes) -> Callable[[Scenario], None]:
    return lambda scn: scn.credentials_file.write_bytes(data)


def config_bytes(data: bytes) -> Callable[[Scenario], None]:
    return lambda scn: scn.config_file.write_bytes(data)


def process_command(scn: Scenario, payload: str = PROCESS_JSON) -> str:
    """A credential_process at a path with a space, quoted so that botocore
    (which splits the command itself) and aws-config (sh -c) agree."""
    script = scn.write("bin/my creds.py", f"import sys\nsys.stdout.write({payload!r})\n")
    return f'"{sys.executable}" "{script}"'


def minted(n: int, tag: str = "STSR") -> dict[str, str]:
    """The n-th set a loopback server mints (KeyMinter): key, secret, token."""
    akid = f"ASIA{tag}{n:06d}"
    return {"access_key": akid, "secret": secret_for(akid), "token": token_for(akid)}


# ---- a scenario -------------------------------------------------------------
@dataclass
class Case:
    name: str
    setup: Setup  # setup(scn) or, with needs_servers, setup(scn, sts, sso)
    profile: Optional[str] = None
    # success: (source, access key, secret, token); secret None = only compared between the two
    source: Optional[str] = None
    access_key: Optional[str] = None
    token: Optional[str] = None
    secret: Optional[str] = None
    # failure: credchain's code and phrases of its message; a phrase of botocore's error
    error_code: Optional[int] = None
    message_has: list = field(default_factory=list)
    boto_error: Optional[str] = None
    # loopback servers: the calls each client must make, in order (subsets of the server's call records)
    needs_servers: bool = False
    sts_calls: Optional[list] = None
    sso_calls: Optional[list] = None
    # a documented deviation (DEVIATIONS): what credchain must do instead, as a Case of its own
    credchain: Optional["Case"] = None

    @property
    def deviation(self) -> bool:
        return self.name in DEVIATIONS


def role_case(name: str, setup: Setup, profile: Optional[str], hops: int = 1, **kw: Any) -> Case:
    """A role chain whose last hop returns the loopback STS's `hops`-th minted set."""
    m = minted(hops)
    return Case(name, setup, profile, source="assume-role", access_key=m["access_key"], secret=m["secret"],
                token=m["token"], needs_servers=True, **kw)


def _outcome(rec: dict[str, Any], who: str, case: Case) -> None:
    if case.error_code is not None:
        if who == "botocore":
            assert rec["ok"] is False, f"botocore found credentials: {rec}"
            if case.boto_error:
                assert case.boto_error.lower() in rec["error"].lower(), f"botocore's error lacks {case.boto_error!r}: {rec}"
            return
        assert rec["ok"] is False, f"credchain found credentials from {rec.get('source')}: {rec}"
        assert rec["code"] == case.error_code, f"credchain's code {rec['code']} is not {case.error_code}: {rec}"
        for word in case.message_has:
            assert word.lower() in (rec.get("message") or "").lower(), f"credchain's message lacks {word!r}: {rec}"
        return
    assert rec["ok"] is True, f"{who} failed: {rec}"
    source = rec["method"] if who == "botocore" else rec["source"]
    got = (source, rec["access_key_id"], rec["session_token"])
    assert got == (case.source, case.access_key, case.token), f"{who}: {got} != expected {(case.source, case.access_key, case.token)}"
    if case.secret is not None:
        assert rec["secret_access_key"] == case.secret, f"{who}'s secret {rec['secret_access_key']!r} != {case.secret!r}"


def _check_calls(expected: Optional[list], server: Any, who: str, what: str) -> None:
    """The server's log holds exactly len(expected) calls, each carrying the fields its expectation names."""
    if expected is None:
        return
    got = [{k: call.get(k) for k in want} for call, want in zip(list(server.calls), expected)]
    assert len(server.calls) == len(expected) and got == expected, (
        f"{who}'s {what} calls: {[{k: c.get(k) for k in sorted(set().union(*expected) or ['Action', 'RoleArn'])} for c in server.calls]}"
        f"\nexpected: {expected}")


def _reset(sts: Any, sso: Any) -> None:
    for srv, tag in ((sts, "STSR"), (sso, "SSOP")):
        if srv is not None:
            srv.reset()
            srv.minter = KeyMinter(tag)


def run_case(scn: Scenario, case: Case, sts: Any = None, sso: Any = None) -> None:
    """Sets the scenario up, runs botocore and credchain on it, and holds both to the case."""
    if case.needs_servers:
        scn.use_sts(sts.url)
        scn.use_sso(sso.url)
        case.setup(scn, sts, sso)
    else:
        case.setup(scn)
    _reset(sts, sso)
    reference = scn.botocore(case.profile)
    if case.name in SHOWN_LOGS:
        REQUEST_LOGS.setdefault(case.name, {})["botocore"] = _log_lines(sts, sso)
    _outcome(reference, "botocore", case)
    if case.needs_servers:
        _check_calls(case.sts_calls, sts, "botocore", "STS")
        _check_calls(case.sso_calls, sso, "botocore", "SSO portal")
    _reset(sts, sso)
    run = scn.probe(case.profile)
    mine = run.last
    if case.name in SHOWN_LOGS:
        REQUEST_LOGS.setdefault(case.name, {})["credchain"] = _log_lines(sts, sso)
    expected = case.credchain if case.deviation else case
    assert expected is not None, f"deviation {case.name!r} has no credchain expectation"
    _outcome(mine, "credchain", expected)
    if case.needs_servers:
        _check_calls(expected.sts_calls, sts, "credchain", "STS")
        _check_calls(expected.sso_calls, sso, "credchain", "SSO portal")
    if expected.error_code is not None:
        assert run.rc == 1, f"probe exit code {run.rc}"
    elif expected.secret is None and not case.deviation:
        assert mine["secret_access_key"] == reference["secret_access_key"]
