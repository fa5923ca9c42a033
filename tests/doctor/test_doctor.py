"""`credchain doctor --json`: one scenario per pitfall, asserting its exact code,
plus the clean case, masking, the report's shape and the fast "nothing
configured" answer."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

from doctor_scenario import ACCESS_KEY, BIN, MASKED_KEY, SECRET_KEY, Scenario

ORDER = ["env", "assume-role", "assume-role-with-web-identity", "sso", "shared-credentials-file", "login",
         "custom-process", "config-file", "ec2-credentials-file", "boto-config", "container-role", "iam-role"]
TOKEN = "FQoGZXIvYXdzEXAMPLESESSIONTOKENVALUE"
PROCESS_KEY = "AKIAPROCESSEXAMPLE01"
PROCESS_JSON = '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "process-secret-value"}' % PROCESS_KEY


def iso(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def env_keys(scn: Scenario, access_key: str = ACCESS_KEY, token: str | None = None) -> None:
    scn.env["AWS_ACCESS_KEY_ID"] = access_key
    scn.env["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
    if token is not None:
        scn.env["AWS_SESSION_TOKEN"] = token


def assert_no_secret(run) -> None:
    for secret in (SECRET_KEY, TOKEN, ACCESS_KEY, "process-secret-value"):
        assert secret not in run.stdout and secret not in run.stderr, f"{secret} leaked"


# --- the clean case and the report's shape ---------------------------------

def test_clean_static_profile_has_no_pitfall(scn: Scenario) -> None:
    scn.static_profile()
    run = scn.doctor()
    report = run.report
    assert run.rc == 0, run.stdout
    assert report["schema_version"] == 1
    assert report["ok"] is True
    assert report["pitfalls"] == []
    assert report["error"] is None
    assert report["winner"] == "shared-credentials-file"
    assert report["profile"] == {"name": "default", "origin": "default", "in_config_file": False,
                                 "in_credentials_file": True, "region": None, "region_from": None,
                                 "role_chain": None, "sso": None}
    assert report["files"] == {
        "config": {"path": str(scn.config_path), "exists": False},
        "credentials": {"path": str(scn.credentials_path), "exists": True},
    }
    assert [s["name"] for s in report["sources"]] == ORDER
    assert [s["position"] for s in report["sources"]] == list(range(1, 13))
    assert [s["configured"] for s in report["sources"]] == [False] * 4 + [True] + [False] * 7
    assert [s["status"] for s in report["sources"]] == ["skipped"] * 4 + ["used"] + ["skipped"] * 7
    assert run.source("shared-credentials-file")["reason"] is None
    assert run.source("iam-role")["reason"] == "AWS_EC2_METADATA_DISABLED is true"
    assert run.source("env")["reason"] == "AWS_ACCESS_KEY_ID is not set"
    assert [s["refreshes_automatically"] for s in report["sources"]] == [
        False, True, True, True, False, True, True, False, False, False, True, True]
    assert report["credentials"] == {
        "source": "shared-credentials-file",
        "access_key_id": MASKED_KEY,
        "session_token": False,
        "account_id": None,
        "expiration": None,
        "expires_in_seconds": None,
        "refreshes_automatically": False,
    }
    assert_no_secret(run)


def test_the_access_key_is_masked_but_its_last_four_characters(scn: Scenario) -> None:
    scn.static_profile()
    json_run = scn.doctor()
    table_run = scn.run("doctor")
    assert json_run.report["credentials"]["access_key_id"] == "****************MPLE"
    assert "  access key    ****************MPLE\n" in table_run.stdout
    assert_no_secret(json_run)
    assert_no_secret(table_run)


def test_the_human_table_names_every_source_and_the_verdict(scn: Scenario) -> None:
    scn.static_profile()
    run = scn.run("doctor")
    assert run.rc == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "credchain doctor 0.1.0: profile default (no profile named: the default)"
    rows = [line.split() for line in lines if line[:4].strip().isdigit()]
    assert [row[1] for row in rows] == ORDER
    assert rows[4][:5] == ["5", "shared-credentials-file", "yes", "USED", "no"]
    assert "pitfalls: none" in lines
    assert lines[-1] == "result: OK (exit 0)"


def test_nothing_configured_answers_at_once_and_says_so(scn: Scenario) -> None:
    run = scn.doctor()
    assert run.seconds < 2.0, run.seconds
    assert run.rc == 1
    assert run.codes == ["no-source-configured"]
    assert run.pitfall("no-source-configured")["severity"] == "error"
    assert run.report["error"]["code"] == "no-credentials"
    assert run.report["error"]["number"] == 2
    assert run.report["winner"] is None and run.report["credentials"] is None
    assert [s["configured"] for s in run.report["sources"]] == [False] * 12
    table = scn.run("doctor")
    assert table.seconds < 2.0
    assert table.rc == 1
    assert "no source of the chain is configured for profile default" in table.stdout
    assert table.stdout.rstrip().endswith("result: PROBLEM (exit 1)")


# --- pitfalls from the AWS Credentials Requirement page ---------------------

def test_env_temporary_credentials(scn: Scenario) -> None:
    env_keys(scn, token=TOKEN)
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["env-temporary-credentials"]
    pitfall = run.pitfall("env-temporary-credentials")
    assert (pitfall["severity"], pitfall["source"]) == ("warning", "env")
    assert "never refreshed" in pitfall["message"]
    creds = run.report["credentials"]
    assert (creds["source"], creds["session_token"], creds["refreshes_automatically"]) == ("env", True, False)
    assert_no_secret(run)


def test_env_shadows_refreshable_source_and_only_the_winner_is_fetched(scn: Scenario) -> None:
    marker = scn.root / "process-ran"
    helper = scn.script("bin/helper", f"touch {marker}\nprintf '%s\\n' '{PROCESS_JSON}'\n")
    scn.write_config(f"[default]\ncredential_process = {helper}\n")
    env_keys(scn)
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["env-shadows-refreshable-source"]
    assert "credential_process in profile default" in run.pitfall("env-shadows-refreshable-source")["message"]
    process = run.source("custom-process")
    assert (process["configured"], process["status"], process["reason"]) == (
        True, "skipped", "not reached: env answered first")
    assert run.report["winner"] == "env"
    assert not marker.exists(), "the doctor ran a source that did not win"


def test_static_temporary_credentials_in_the_credentials_file(scn: Scenario) -> None:
    scn.static_profile(extra=f"aws_session_token = {TOKEN}\n")
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["static-temporary-credentials-in-file"]
    pitfall = run.pitfall("static-temporary-credentials-in-file")
    assert (pitfall["severity"], pitfall["source"]) == ("warning", "shared-credentials-file")
    assert str(scn.credentials_path) in pitfall["message"]
    assert_no_secret(run)


def test_static_temporary_credentials_in_the_config_file(scn: Scenario) -> None:
    scn.write_config(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
                     f"aws_security_token = {TOKEN}\n")
    run = scn.doctor()
    assert run.rc == 0
    assert run.report["winner"] == "config-file"
    assert run.codes == ["static-temporary-credentials-in-file"]
    pitfall = run.pitfall("static-temporary-credentials-in-file")
    assert pitfall["source"] == "config-file"
    assert "aws_security_token" in pitfall["message"]


def test_missing_session_token_in_the_credentials_file(scn: Scenario) -> None:
    scn.write_credentials(f"[default]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET_KEY}\n")
    run = scn.doctor()
    assert run.rc == 1
    assert run.report["ok"] is False
    assert run.report["winner"] == "shared-credentials-file"
    assert run.codes == ["missing-session-token"]
    pitfall = run.pitfall("missing-session-token")
    assert (pitfall["severity"], pitfall["source"]) == ("error", "shared-credentials-file")


def test_missing_session_token_in_the_environment(scn: Scenario) -> None:
    env_keys(scn, access_key="ASIAIOSFODNN7EXAMPLE")
    run = scn.doctor()
    assert run.rc == 1
    # Errors come first; an ASIA key is temporary whether or not its token is there.
    assert run.codes == ["missing-session-token", "env-temporary-credentials"]
    assert "AWS_SESSION_TOKEN" in run.pitfall("missing-session-token")["message"]


# --- pitfalls from the chain's own rules -------------------------------------

def test_profile_not_found_named_by_the_caller(scn: Scenario) -> None:
    scn.static_profile()
    run = scn.doctor("--profile", "nope")
    assert run.rc == 1
    assert run.codes == ["profile-not-found"]
    assert run.report["error"]["code"] == "profile-not-found"
    assert run.report["profile"] == {"name": "nope", "origin": "caller", "in_config_file": False,
                                     "in_credentials_file": False, "region": None, "region_from": None,
                                     "role_chain": None, "sso": None}
    assert all(s["status"] == "skipped" for s in run.report["sources"])
    assert run.source("iam-role")["reason"] == "AWS_EC2_METADATA_DISABLED is true"


def test_profile_not_found_named_by_aws_profile_never_falls_through(scn: Scenario) -> None:
    scn.static_profile()
    scn.env["AWS_PROFILE"] = "nope"
    env_keys(scn)
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["profile-not-found"]
    assert run.report["profile"]["origin"] == "AWS_PROFILE"
    assert "(named by AWS_PROFILE)" in run.pitfall("profile-not-found")["message"]
    env = run.source("env")
    assert (env["configured"], env["status"], env["reason"]) == (
        True, "skipped", "not reached: the profile nope was not found")


def test_credentials_expiring_within_the_mandatory_window(scn: Scenario) -> None:
    env_keys(scn, token=TOKEN)
    scn.env["AWS_CREDENTIAL_EXPIRATION"] = iso(timedelta(minutes=5))
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["env-temporary-credentials", "credentials-expiring"]
    assert "600 s window" in run.pitfall("credentials-expiring")["message"]
    assert 290 <= run.report["credentials"]["expires_in_seconds"] <= 300


def test_credentials_outside_the_mandatory_window_are_not_expiring(scn: Scenario) -> None:
    env_keys(scn, token=TOKEN)
    scn.env["AWS_CREDENTIAL_EXPIRATION"] = iso(timedelta(minutes=11))
    run = scn.doctor()
    assert run.codes == ["env-temporary-credentials"]
    assert run.report["credentials"]["expiration"] == scn.env["AWS_CREDENTIAL_EXPIRATION"]


def test_credentials_expired(scn: Scenario) -> None:
    env_keys(scn, token=TOKEN)
    scn.env["AWS_CREDENTIAL_EXPIRATION"] = iso(timedelta(minutes=-1))
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["credentials-expired", "env-temporary-credentials"]
    # The chain refuses them: env fails, in its own words.
    assert run.report["credentials"] is None
    assert run.source("env")["status"] == "failed"
    assert run.report["error"]["message"].startswith("env: the credentials expired ")


def test_credentials_file_readable_by_others(scn: Scenario) -> None:
    scn.static_profile(mode=0o644)
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["credentials-file-permissions"]
    message = run.pitfall("credentials-file-permissions")["message"]
    assert f"chmod 600 {scn.credentials_path}" in message
    assert "(mode 644)" in message


def test_credentials_file_readable_by_group(scn: Scenario) -> None:
    scn.static_profile(mode=0o640)
    run = scn.doctor()
    assert run.codes == ["credentials-file-permissions"]
    assert "readable by its group:" in run.pitfall("credentials-file-permissions")["message"]


def test_partial_credentials_in_the_environment(scn: Scenario) -> None:
    scn.static_profile()
    scn.env["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["partial-credentials"]
    assert run.pitfall("partial-credentials")["severity"] == "error"
    assert run.report["error"]["code"] == "partial-credentials"
    env = run.source("env")
    assert (env["status"], env["reason"]) == ("failed", "env: partial credentials found, missing: AWS_SECRET_ACCESS_KEY")
    assert run.source("shared-credentials-file")["reason"] == "not reached: env failed first"
    assert run.report["winner"] is None


def test_partial_credentials_shadowed_by_an_earlier_source_is_a_warning(scn: Scenario) -> None:
    scn.static_profile()
    scn.write_config(f"[default]\naws_access_key_id = {ACCESS_KEY}\n")
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["partial-credentials"]
    pitfall = run.pitfall("partial-credentials")
    assert (pitfall["severity"], pitfall["source"]) == ("warning", "config-file")
    assert run.source("config-file")["reason"].startswith("not reached: shared-credentials-file answered first; ")


def test_explicit_profile_ignores_env(scn: Scenario) -> None:
    scn.static_profile("work")
    env_keys(scn, access_key="AKIAENVIRONMENT00001")
    run = scn.doctor("--profile", "work")
    assert run.rc == 0
    assert run.codes == ["explicit-profile-ignores-env"]
    assert run.report["winner"] == "shared-credentials-file"
    assert run.report["credentials"]["access_key_id"] == MASKED_KEY
    assert run.source("env")["reason"] == "skipped: the caller named a profile"


def test_profile_variables_disagree(scn: Scenario) -> None:
    scn.write_credentials(
        f"[first]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        f"[second]\naws_access_key_id = AKIASECONDEXAMPLE002\naws_secret_access_key = x\n")
    scn.env["AWS_DEFAULT_PROFILE"] = "first"
    scn.env["AWS_PROFILE"] = "second"
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["profile-variables-disagree"]
    assert run.report["profile"]["name"] == "first"
    assert run.report["profile"]["origin"] == "AWS_DEFAULT_PROFILE"
    assert run.report["credentials"]["access_key_id"] == MASKED_KEY


def test_credential_process_with_an_unquoted_space(scn: Scenario) -> None:
    helper = scn.script("my tools/helper", f"printf '%s\\n' '{PROCESS_JSON}'\n")
    scn.write_config(f"[default]\ncredential_process = {helper} --flag\n")
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["credential-process-unquoted-space"]
    pitfall = run.pitfall("credential-process-unquoted-space")
    assert (pitfall["severity"], pitfall["source"]) == ("error", "custom-process")
    assert f"credential_process = '{helper}'" in pitfall["message"]
    assert run.source("custom-process")["status"] == "failed"
    assert run.report["error"]["source"] == "custom-process"


def test_credential_process_with_the_space_quoted_works(scn: Scenario) -> None:
    helper = scn.script("my tools/helper", f"printf '%s\\n' '{PROCESS_JSON}'\n")
    scn.write_config(f"[default]\ncredential_process = '{helper}' --flag\n")
    run = scn.doctor()
    assert run.rc == 0, run.stdout
    assert run.codes == []
    assert run.report["winner"] == "custom-process"
    assert run.report["credentials"]["access_key_id"] == "****************LE01"
    assert run.report["credentials"]["refreshes_automatically"] is True
    assert_no_secret(run)


def test_credential_process_with_shell_syntax(scn: Scenario) -> None:
    helper = scn.script("bin/helper", f"printf '%s\\n' '{PROCESS_JSON}'\n")
    scn.write_config(f"[default]\ncredential_process = {helper} --home $HOME\n")
    run = scn.doctor()
    assert run.rc == 0
    assert run.codes == ["credential-process-shell-syntax"]
    assert "'$'" in run.pitfall("credential-process-shell-syntax")["message"]
    assert run.report["winner"] == "custom-process"
    # The command (which may carry secrets as arguments) is never copied.
    assert "--home" not in run.stdout


def test_credential_process_that_runs_credchain_for_its_own_profile(scn: Scenario) -> None:
    scn.write_config(f"[default]\ncredential_process = {BIN} get --format process\n")
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["credential-process-loop"]
    pitfall = run.pitfall("credential-process-loop")
    assert (pitfall["severity"], pitfall["source"]) == ("error", "custom-process")
    assert pitfall["message"].startswith(
        "the credential_process of profile default runs credchain for profile default itself: a loop")
    # The chain itself refuses the loop at run time: the child credchain
    # sees that it runs inside the process of the same profile.
    assert run.report["error"]["message"] == (
        "custom-process: the credential_process of profile default exited with status 1: credchain: "
        "custom-process: the credential_process of profile default runs credchain for profile default again "
        "(a loop); give credchain a profile whose credentials come from elsewhere (invalid-config)")


def test_credential_process_running_credchain_for_another_profile_is_no_loop(scn: Scenario) -> None:
    scn.static_profile(name="source")
    scn.write_config(f"[default]\ncredential_process = {BIN} get --format process --profile source\n")
    run = scn.doctor()
    assert run.rc == 0, run.stdout
    assert run.codes == []
    assert run.report["winner"] == "custom-process"


def test_credentials_file_writable_by_others(scn: Scenario) -> None:
    scn.static_profile(mode=0o622)
    run = scn.doctor()
    assert run.codes == ["config-file-writable-by-others"]
    assert run.pitfall("config-file-writable-by-others")["message"] == (
        f"the file {scn.credentials_path} (mode 622) can be written by every user, who could then choose the "
        f"credentials or the credential_process this process uses: run chmod go-w {scn.credentials_path}")


def test_aws_folder_writable_by_its_group(scn: Scenario) -> None:
    scn.static_profile()
    scn.aws.chmod(0o770)
    run = scn.doctor()
    assert run.codes == ["config-file-writable-by-others"]
    assert run.pitfall("config-file-writable-by-others")["message"].startswith(
        f"the folder {scn.aws} (mode 770) can be written by its group, ")


def test_imds_fallback_when_nothing_is_configured(scn: Scenario) -> None:
    del scn.env["AWS_EC2_METADATA_DISABLED"]
    with socket.socket() as s:  # a loopback port with nothing listening: refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scn.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = f"http://127.0.0.1:{port}"
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["imds-fallback"]
    pitfall = run.pitfall("imds-fallback")
    assert (pitfall["severity"], pitfall["source"]) == ("warning", "iam-role")
    assert f"http://127.0.0.1:{port}" in pitfall["message"]
    assert run.source("iam-role")["status"] == "failed"
    assert run.report["error"]["source"] == "iam-role"


def test_invalid_config_web_identity_without_a_role(scn: Scenario) -> None:
    token_file = scn.root / "token"
    token_file.write_text("eyJ")
    scn.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(token_file)
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["invalid-config"]
    assert run.report["error"]["code"] == "invalid-config"
    assert run.source("assume-role-with-web-identity")["status"] == "failed"


def test_an_unparsable_config_file(scn: Scenario) -> None:
    scn.write_config("[default\nregion = x\n")
    run = scn.doctor()
    assert run.rc == 1
    assert run.codes == ["invalid-config"]
    assert [s["configured"] for s in run.report["sources"]] == [None] * 12
    assert run.report["profile"]["in_config_file"] is None
    assert run.source("env")["reason"] == "not reached: the shared config files could not be read"


def test_usage_errors_exit_2(scn: Scenario) -> None:
    run = scn.run("doctor", "--bogus")
    assert run.rc == 2
    assert run.stderr == "credchain doctor: unknown option: --bogus\ntry: credchain help doctor\n"


def test_the_region_and_where_it_came_from(scn: Scenario) -> None:
    scn.static_profile()
    scn.env["AWS_DEFAULT_REGION"] = "ap-south-1"
    run = scn.doctor()
    assert (run.report["profile"]["region"], run.report["profile"]["region_from"]) == ("ap-south-1",
                                                                                     "AWS_DEFAULT_REGION")
    scn.env["AWS_REGION"] = "eu-north-1"
    assert scn.doctor().report["profile"]["region_from"] == "AWS_REGION"
    scn.write_config("[default]\nregion = us-west-2\n")
    run = scn.run("doctor")
    assert "  region            us-west-2 (from profile default)\n" in run.stdout, run.stdout


def test_the_role_chain_down_to_its_base(scn: Scenario) -> None:
    scn.write_config("[profile app]\nrole_arn = arn:aws:iam::111122223333:role/App\nsource_profile = mid\n"
                     "[profile mid]\nrole_arn = arn:aws:iam::444455556666:role/Mid\ncredential_source = Environment\n")
    scn.env["AWS_PROFILE"] = "app"
    run = scn.doctor()
    assert run.report["profile"]["role_chain"] == [
        {"profile": "app", "role_arn": "arn:aws:iam::111122223333:role/App", "source": None, "credential_source": None},
        {"profile": "mid", "role_arn": "arn:aws:iam::444455556666:role/Mid", "source": None, "credential_source": None},
        {"profile": None, "role_arn": None, "source": None, "credential_source": "Environment"},
    ]
    table = scn.run("doctor").stdout
    assert ("  role chain        profile app (role arn:aws:iam::111122223333:role/App) <- profile mid "
            "(role arn:aws:iam::444455556666:role/Mid) <- credential_source Environment\n") in table, table


def test_the_role_chain_names_the_source_of_its_base_profile(scn: Scenario) -> None:
    # The base has keys and a role of its own: botocore (and so credchain) stops at its keys.
    scn.write_config("[profile app]\nrole_arn = arn:aws:iam::111122223333:role/App\nsource_profile = base\n"
                     "[profile base]\nrole_arn = arn:aws:iam::444455556666:role/Unused\nsource_profile = other\n")
    scn.write_credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n")
    scn.env["AWS_PROFILE"] = "app"
    run = scn.doctor()
    assert run.report["profile"]["role_chain"] == [
        {"profile": "app", "role_arn": "arn:aws:iam::111122223333:role/App", "source": None, "credential_source": None},
        {"profile": "base", "role_arn": None, "source": "shared-credentials-file", "credential_source": None},
    ]
    table = scn.run("doctor").stdout
    assert ("  role chain        profile app (role arn:aws:iam::111122223333:role/App) <- profile base "
            "(shared-credentials-file)\n") in table, table


def test_an_sso_profile_without_a_cached_token_says_how_to_log_in(scn: Scenario) -> None:
    scn.write_config("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
                     "[sso-session corp]\nsso_start_url = https://corp.example/start\nsso_region = us-east-1\n")
    scn.env["AWS_PROFILE"] = "dev"
    scn.env["AWS_ENDPOINT_URL_SSO"] = "http://127.0.0.1:9"
    cache = scn.aws / "sso" / "cache" / "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"  # sha1("corp")
    run = scn.doctor()
    assert run.report["profile"]["sso"] == {
        "login": "sso-session corp", "cache_file": str(cache), "token": "missing", "token_expiration": None,
        "login_command": "aws sso login --profile dev"}
    assert run.pitfall("sso-token-missing") == {
        "code": "sso-token-missing", "severity": "error", "source": "sso",
        "message": f"no SSO token for sso-session corp is cached ({cache} does not exist): "
                   "run `aws sso login --profile dev`"}
    cache.parent.mkdir(parents=True)
    cache.write_text('{"accessToken": "t", "expiresAt": "2020-01-02T03:04:05Z"}')
    run = scn.doctor()
    assert (run.report["profile"]["sso"]["token"], run.report["profile"]["sso"]["token_expiration"]) == (
        "expired", "2020-01-02T03:04:05Z")
    assert run.codes.count("sso-token-expired") == 1


def test_all_profiles_lists_each_with_the_source_it_would_use_when_named(scn: Scenario) -> None:
    scn.write_config("[default]\nregion = us-east-1\n"
                     "[profile app]\nrole_arn = arn:aws:iam::111122223333:role/App\nsource_profile = base\n"
                     "[profile proc]\ncredential_process = /bin/false\n")
    scn.write_credentials(f"[base]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
                          "[half]\naws_access_key_id = AKIDHALFPAIR\n")
    # The environment's keys do not count: a named profile skips them, as in botocore.
    scn.env["AWS_ACCESS_KEY_ID"], scn.env["AWS_SECRET_ACCESS_KEY"] = "AKIDFROMENV", "env-secret"
    run = scn.run("doctor", "--all-profiles", "--json")
    assert run.rc == 0, run.stderr
    listing = json.loads(run.stdout)
    assert listing["error"] is None
    assert listing["profiles"] == [
        {"name": "app", "in_config_file": True, "in_credentials_file": False, "source": "assume-role", "error": None},
        {"name": "base", "in_config_file": False, "in_credentials_file": True, "source": "shared-credentials-file",
         "error": None},
        {"name": "default", "in_config_file": True, "in_credentials_file": False, "source": None, "error": None},
        {"name": "half", "in_config_file": False, "in_credentials_file": True, "source": "shared-credentials-file",
         "error": "shared-credentials-file: partial credentials found, missing: aws_secret_access_key"},
        {"name": "proc", "in_config_file": True, "in_credentials_file": False, "source": "custom-process",
         "error": None},
    ]
    table = scn.run("doctor", "--all-profiles").stdout
    assert table.splitlines()[3:] == [
        "profile  source (when named)            in           problem",
        "app      assume-role                    config",
        "base     shared-credentials-file        credentials",
        "default  none                           config",
        "half     shared-credentials-file        credentials  shared-credentials-file: partial credentials found, "
        "missing: aws_secret_access_key",
        "proc     custom-process                 config",
    ]
    assert SECRET_KEY not in run.stdout + table and ACCESS_KEY not in run.stdout + table


def test_all_profiles_takes_no_profile(scn: Scenario) -> None:
    run = scn.run("doctor", "--all-profiles", "--profile", "x")
    assert (run.rc, run.stdout) == (2, "")
    assert run.stderr.startswith(
        "credchain doctor: --all-profiles lists every profile: it takes neither --profile nor --verify\n")

