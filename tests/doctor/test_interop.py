"""credchain next to its peers: `credchain get --format process` as botocore's
credential_process, and credchain_diagnose through ctypes against the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from doctor_scenario import ACCESS_KEY, BIN, LIB, SECRET_KEY, Scenario

HEADER = (Path(__file__).resolve().parents[2] / "include" / "credchain.h").read_text()
# The ABI the library was built with, as its header declares it.
ABI = ".".join(re.search(rf"#define CREDCHAIN_ABI_{part} (\d+)", HEADER)[1] for part in ("MAJOR", "MINOR"))

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"

BOTO = """
import json, sys
import botocore.session
creds = botocore.session.Session(profile=sys.argv[1]).get_credentials()
frozen = creds.get_frozen_credentials()
print(json.dumps({"method": creds.method, "access_key": frozen.access_key, "secret_key": frozen.secret_key,
                  "token": frozen.token}))
"""

DIAGNOSE = """
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.credchain_diagnose.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]
lib.credchain_diagnose.restype = ctypes.c_uint32
lib.credchain_string_free.argtypes = [ctypes.c_void_p]
lib.credchain_string_free.restype = None
lib.credchain_error_message.argtypes = [ctypes.c_void_p]
lib.credchain_error_message.restype = ctypes.c_char_p
lib.credchain_error_free.argtypes = [ctypes.c_void_p]
lib.credchain_error_free.restype = None

profile = sys.argv[2].encode() if len(sys.argv) > 2 else None
out, err = ctypes.c_void_p(), ctypes.c_void_p()
rc = lib.credchain_diagnose(profile, ctypes.byref(out), ctypes.byref(err))
assert rc == 0 and out.value and not err.value, rc
text = ctypes.string_at(out.value).decode()
lib.credchain_string_free(out)
lib.credchain_string_free(None)

# A NULL out pointer is an invalid argument, with a message, not a crash.
rc_null = lib.credchain_diagnose(profile, None, ctypes.byref(err))
message = lib.credchain_error_message(err).decode()
lib.credchain_error_free(err)
# An empty profile name is an invalid argument too; *json stays untouched.
untouched = ctypes.c_void_p(1234)
rc_empty = lib.credchain_diagnose(b"", ctypes.byref(untouched), None)
sys.stdout.write(json.dumps({"json": text, "rc_null": rc_null, "null_message": message, "rc_empty": rc_empty,
                             "untouched": untouched.value}))
"""


def test_credchain_get_as_botocores_credential_process(scn: Scenario) -> None:
    scn.write_credentials(
        f"[base]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        f"aws_session_token = {TOKEN}\n")
    scn.write_config(f"[profile via]\ncredential_process = '{BIN}' get --profile base --format process\n")
    done = scn.python(BOTO, "via")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got == {"method": "custom-process", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "token": TOKEN}
    # botocore reading the base profile directly gives the same keys.
    direct = json.loads(scn.python(BOTO, "base").stdout)
    assert (direct["access_key"], direct["secret_key"], direct["token"]) == (ACCESS_KEY, SECRET_KEY, TOKEN)
    # And the doctor, running the same process through the library, agrees.
    run = scn.doctor("--profile", "via")
    assert run.report["winner"] == "custom-process"
    assert run.report["credentials"]["access_key_id"] == "****************MPLE"
    assert run.report["credentials"]["session_token"] is True


def assert_the_clis_report_and_the_copies(report: dict, cli_stdout: str) -> None:
    """The C ABI's report is the command's, plus the one copy of the library
    this process loaded (the command is not a library: it has no such list)."""
    copies = report.pop("library_copies")
    assert copies == [{"path": str(LIB), "version": report["credchain_version"], "abi": ABI, "serving": True}]
    assert report == json.loads(cli_stdout)


def test_diagnose_through_ctypes_returns_the_clis_json(scn: Scenario) -> None:
    scn.write_credentials(
        f"[work]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        f"aws_session_token = {TOKEN}\n", mode=0o644)
    scn.env["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT00001"
    scn.env["AWS_SECRET_ACCESS_KEY"] = "env-secret"
    done = scn.python(DIAGNOSE, str(LIB), "work")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    cli = scn.doctor("--profile", "work")
    report = json.loads(got["json"])
    assert_the_clis_report_and_the_copies(report, cli.stdout)
    assert [p["code"] for p in report["pitfalls"]] == [
        "explicit-profile-ignores-env", "static-temporary-credentials-in-file", "credentials-file-permissions"]
    assert (got["rc_null"], got["null_message"]) == (1, "json must not be NULL")
    assert (got["rc_empty"], got["untouched"]) == (1, 1234)
    for secret in (SECRET_KEY, TOKEN, "env-secret"):
        assert secret not in got["json"]


def test_diagnose_through_ctypes_for_the_default_profile(scn: Scenario) -> None:
    done = scn.python(DIAGNOSE, str(LIB))
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert_the_clis_report_and_the_copies(json.loads(got["json"]), scn.doctor().stdout)
    assert json.loads(got["json"])["pitfalls"][0]["code"] == "no-source-configured"
