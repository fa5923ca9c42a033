//! The static sources and the precedence rules of the chain, each scenario in
//! its own process with its own HOME (see `common`).

mod common;

use common::{assert_credentials, assert_error, iso_in, Scenario};

const CREDS_DEFAULT: &str = "[default]\naws_access_key_id = AKIDCREDSFILE\naws_secret_access_key = creds-secret\n";

#[test]
fn env_keys_with_session_token() {
    let mut s = Scenario::new();
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV")
        .env("AWS_SECRET_ACCESS_KEY", "env-secret")
        .env("AWS_SESSION_TOKEN", "env-token");
    assert_credentials(&s.get(None), "env", "AKIDENV", "env-secret", Some("env-token"));
}

#[test]
fn env_security_token_wins_over_session_token() {
    let mut s = Scenario::new();
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "env-secret");
    s.env("AWS_SECURITY_TOKEN", "legacy-token").env("AWS_SESSION_TOKEN", "session-token");
    assert_credentials(&s.get(None), "env", "AKIDENV", "env-secret", Some("legacy-token"));
}

#[test]
fn env_empty_security_token_falls_back_to_session_token() {
    let mut s = Scenario::new();
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "env-secret");
    s.env("AWS_SECURITY_TOKEN", "").env("AWS_SESSION_TOKEN", "session-token");
    assert_credentials(&s.get(None), "env", "AKIDENV", "env-secret", Some("session-token"));
}

#[test]
fn env_account_id_and_expiration() {
    let mut s = Scenario::new();
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "env-secret");
    s.env("AWS_ACCOUNT_ID", "111122223333").env("AWS_CREDENTIAL_EXPIRATION", "2031-02-03T04:05:06Z");
    let answer = s.get(None);
    assert_eq!(answer["account_id"], "111122223333");
    // 2031-02-03T04:05:06Z, as Python's datetime computes it.
    assert_eq!(answer["expiration"], "2031-02-03T04:05:06Z");
    assert_eq!(common::expiration_unix(&answer), 1_927_857_906);
}

#[test]
fn env_bad_expiration_is_a_config_error() {
    let mut s = Scenario::new();
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "x").env("AWS_CREDENTIAL_EXPIRATION", "soon");
    assert_error(&s.get(None), "invalid-config", "env: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
}

#[test]
fn env_access_key_without_secret_is_partial() {
    let mut s = Scenario::new();
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV");
    s.credentials(CREDS_DEFAULT);
    assert_error(&s.get(None), "partial-credentials", "env: partial credentials found, missing: AWS_SECRET_ACCESS_KEY");
}

#[test]
fn env_secret_without_access_key_is_partial() {
    let mut s = Scenario::new();
    s.env("AWS_SECRET_ACCESS_KEY", "env-secret");
    assert_error(&s.get(None), "partial-credentials", "env: partial credentials found, missing: AWS_ACCESS_KEY_ID");
}

#[test]
fn shared_credentials_file_with_token_keys_in_botocore_order() {
    let s = Scenario::new();
    s.credentials(
        "[default]\naws_access_key_id = AKIDCREDSFILE\naws_secret_access_key = creds-secret\n\
         aws_session_token = session\naws_security_token = legacy\naws_account_id = 444455556666\n",
    );
    let answer = s.get(None);
    assert_credentials(&answer, "shared-credentials-file", "AKIDCREDSFILE", "creds-secret", Some("legacy"));
    assert_eq!(answer["account_id"], "444455556666");
}

#[test]
fn shared_credentials_file_partial_keys() {
    let s = Scenario::new();
    s.credentials("[default]\naws_access_key_id = AKIDCREDSFILE\n");
    assert_error(
        &s.get(None),
        "partial-credentials",
        "shared-credentials-file: partial credentials found, missing: aws_secret_access_key",
    );
}

#[test]
fn alternate_credentials_file_location() {
    let mut s = Scenario::new();
    let path = s.file("elsewhere/creds", CREDS_DEFAULT);
    s.env("AWS_SHARED_CREDENTIALS_FILE", path.to_str().unwrap());
    assert_credentials(&s.get(None), "shared-credentials-file", "AKIDCREDSFILE", "creds-secret", None);
}

#[test]
fn config_file_keys() {
    let s = Scenario::new();
    s.config("[profile dev]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret\naws_session_token = cfg-token\n");
    assert_credentials(&s.get(Some("dev")), "config-file", "AKIDCONFIG", "config-secret", Some("cfg-token"));
}

/// A credentials file that is there but cannot be opened is an error naming
/// it, not an absent file: the config file's keys must not answer instead.
#[test]
fn a_credentials_file_that_cannot_be_opened_is_an_error_not_absent() {
    let mut s = Scenario::new();
    s.config("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n");
    let looping = s.file("looping", "");
    std::fs::remove_file(&looping).unwrap();
    std::os::unix::fs::symlink(&looping, &looping).unwrap();
    s.env("AWS_SHARED_CREDENTIALS_FILE", looping.to_str().unwrap());
    assert_error(
        &s.get(None),
        "invalid-config",
        &format!("{} cannot be opened (Too many levels of symbolic links (os error 40))", looping.display()),
    );
}

#[test]
fn alternate_config_file_location() {
    let mut s = Scenario::new();
    let path = s.file("cfg/other", "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n");
    s.env("AWS_CONFIG_FILE", path.to_str().unwrap());
    assert_credentials(&s.get(None), "config-file", "AKIDCONFIG", "c", None);
}

#[test]
fn credentials_file_beats_config_file() {
    let s = Scenario::new();
    s.credentials(CREDS_DEFAULT);
    s.config("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n");
    assert_credentials(&s.get(None), "shared-credentials-file", "AKIDCREDSFILE", "creds-secret", None);
}

/// A `credential_process` that prints fixed JSON (quoted path: aws-config
/// runs it through `sh -c`, botocore splits it itself).
fn process_profile(s: &Scenario, profile_header: &str, json: &str) {
    let script = s.file("bin/my process.sh", &format!("#!/bin/sh\ncat <<'JSON'\n{json}\nJSON\n"));
    make_executable(&script);
    s.config(&format!("{profile_header}\ncredential_process = \"{}\"\n", script.display()));
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn credential_process_with_expiration_and_account() {
    let s = Scenario::new();
    let expires = iso_in(3600);
    process_profile(
        &s,
        "[default]",
        &format!(
            r#"{{"Version":1,"AccessKeyId":"AKIDPROCESS","SecretAccessKey":"p-secret","SessionToken":"p-token","Expiration":"{expires}","AccountId":"777788889999"}}"#
        ),
    );
    let answer = s.get(None);
    assert_credentials(&answer, "custom-process", "AKIDPROCESS", "p-secret", Some("p-token"));
    assert_eq!(answer["account_id"], "777788889999");
    assert!(common::expiration_unix(&answer) > common::unix_in(3500));
}

#[test]
fn credentials_file_keys_beat_credential_process() {
    let s = Scenario::new();
    process_profile(&s, "[default]", r#"{"Version":1,"AccessKeyId":"AKIDPROCESS","SecretAccessKey":"p"}"#);
    s.credentials(CREDS_DEFAULT);
    assert_credentials(&s.get(None), "shared-credentials-file", "AKIDCREDSFILE", "creds-secret", None);
}

#[test]
fn credential_process_beats_config_file_keys() {
    let s = Scenario::new();
    let script = s.file(
        "bin/proc.sh",
        "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDPROCESS\",\"SecretAccessKey\":\"p\"}'\n",
    );
    make_executable(&script);
    s.config(&format!(
        "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\ncredential_process = {}\n",
        script.display()
    ));
    assert_credentials(&s.get(None), "custom-process", "AKIDPROCESS", "p", None);
}

#[test]
fn credential_process_failure_carries_the_exit_status() {
    let s = Scenario::new();
    let script = s.file("bin/fail.sh", "#!/bin/sh\necho 'no such role' >&2\nexit 3\n");
    make_executable(&script);
    s.config(&format!("[default]\ncredential_process = {}\n", script.display()));
    let answer = s.get(None);
    assert_eq!(answer["error"]["code"], "source-failed", "{answer}");
    assert_eq!(
        answer["error"]["message"],
        "custom-process: the credential_process of profile default exited with status 3: no such role"
    );
}

#[test]
fn ec2_credentials_file() {
    let mut s = Scenario::new();
    let path = s.file("ec2/creds", "AWSAccessKeyId=AKIDEC2FILE\nAWSSecretKey=ec2-secret\n");
    s.env("AWS_CREDENTIAL_FILE", path.to_str().unwrap());
    assert_credentials(&s.get(None), "ec2-credentials-file", "AKIDEC2FILE", "ec2-secret", None);
}

#[test]
fn config_file_keys_beat_the_ec2_credentials_file() {
    let mut s = Scenario::new();
    let path = s.file("ec2/creds", "AWSAccessKeyId=AKIDEC2FILE\nAWSSecretKey=ec2-secret\n");
    s.env("AWS_CREDENTIAL_FILE", path.to_str().unwrap());
    s.config("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n");
    assert_credentials(&s.get(None), "config-file", "AKIDCONFIG", "c", None);
}

#[test]
fn boto_config_in_home() {
    let s = Scenario::new();
    s.file(".boto", "[Credentials]\naws_access_key_id = AKIDBOTO\naws_secret_access_key = boto-secret\n");
    assert_credentials(&s.get(None), "boto-config", "AKIDBOTO", "boto-secret", None);
}

#[test]
fn boto_config_variable_replaces_the_default_locations() {
    let mut s = Scenario::new();
    s.file(".boto", "[Credentials]\naws_access_key_id = AKIDHOMEBOTO\naws_secret_access_key = h\n");
    let path = s.file("etc/boto.cfg", "[Credentials]\naws_access_key_id = AKIDVARBOTO\naws_secret_access_key = v\n");
    s.env("BOTO_CONFIG", path.to_str().unwrap());
    assert_credentials(&s.get(None), "boto-config", "AKIDVARBOTO", "v", None);
}

#[test]
fn boto_config_variable_pointing_nowhere_hides_home_boto() {
    let mut s = Scenario::new();
    s.file(".boto", "[Credentials]\naws_access_key_id = AKIDHOMEBOTO\naws_secret_access_key = h\n");
    s.env("BOTO_CONFIG", "/nonexistent/boto.cfg");
    assert_error(&s.get(None), "no-credentials", "unable to locate credentials in any source of the chain");
}

#[test]
fn ec2_credentials_file_beats_boto() {
    let mut s = Scenario::new();
    s.file(".boto", "[Credentials]\naws_access_key_id = AKIDBOTO\naws_secret_access_key = b\n");
    let path = s.file("ec2/creds", "AWSAccessKeyId=AKIDEC2FILE\nAWSSecretKey=e\n");
    s.env("AWS_CREDENTIAL_FILE", path.to_str().unwrap());
    assert_credentials(&s.get(None), "ec2-credentials-file", "AKIDEC2FILE", "e", None);
}

#[test]
fn env_beats_every_file() {
    let mut s = Scenario::new();
    s.credentials(CREDS_DEFAULT);
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "e");
    assert_credentials(&s.get(None), "env", "AKIDENV", "e", None);
}

#[test]
fn a_profile_named_by_the_caller_skips_env() {
    let mut s = Scenario::new();
    s.credentials("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = d\n");
    s.env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "e");
    assert_credentials(&s.get(Some("dev")), "shared-credentials-file", "AKIDDEV", "d", None);
}

#[test]
fn a_profile_named_by_aws_profile_does_not_skip_env() {
    let mut s = Scenario::new();
    s.credentials("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = d\n");
    s.env("AWS_PROFILE", "dev").env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "e");
    assert_credentials(&s.get(None), "env", "AKIDENV", "e", None);
}

#[test]
fn aws_default_profile_beats_aws_profile() {
    let mut s = Scenario::new();
    s.credentials(
        "[one]\naws_access_key_id = AKIDONE\naws_secret_access_key = 1\n[two]\naws_access_key_id = AKIDTWO\naws_secret_access_key = 2\n",
    );
    s.env("AWS_DEFAULT_PROFILE", "one").env("AWS_PROFILE", "two");
    assert_credentials(&s.get(None), "shared-credentials-file", "AKIDONE", "1", None);
}

#[test]
fn aws_profile_selects_the_profile() {
    let mut s = Scenario::new();
    s.credentials("[two]\naws_access_key_id = AKIDTWO\naws_secret_access_key = 2\n");
    s.env("AWS_PROFILE", "two");
    assert_credentials(&s.get(None), "shared-credentials-file", "AKIDTWO", "2", None);
}

#[test]
fn a_named_profile_that_does_not_exist_is_not_found_and_never_falls_through() {
    let mut s = Scenario::new();
    s.credentials(CREDS_DEFAULT);
    s.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/never");
    assert_error(&s.get(Some("ghost")), "profile-not-found", "the config profile (ghost) could not be found");
}

#[test]
fn a_profile_named_by_the_environment_must_exist_too() {
    let mut s = Scenario::new();
    s.env("AWS_PROFILE", "ghost").env("AWS_ACCESS_KEY_ID", "AKIDENV").env("AWS_SECRET_ACCESS_KEY", "e");
    assert_error(&s.get(None), "profile-not-found", "the config profile (ghost) could not be found");
}

#[test]
fn nothing_configured_is_no_credentials() {
    let s = Scenario::new();
    assert_error(&s.get(None), "no-credentials", "unable to locate credentials in any source of the chain");
}

#[test]
fn a_malformed_config_file_is_a_config_error_naming_the_file() {
    let s = Scenario::new();
    s.config("[default\nregion = x\n");
    let answer = s.get(None);
    assert_eq!(answer["error"]["code"], "invalid-config", "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("{}: ", s.home.join(".aws/config").display())), "{message}");
}

#[test]
fn role_arn_without_a_source_is_partial_credentials() {
    // botocore's PartialCredentialsError (cred_var "source_profile or credential_source").
    let s = Scenario::new();
    s.config("[default]\nrole_arn = arn:aws:iam::123456789012:role/r\nregion = us-east-1\n");
    let answer = s.get(None);
    assert_eq!(answer["error"]["code"], "partial-credentials", "{answer}");
    assert_eq!(
        answer["error"]["message"],
        "assume-role: profile default (role arn:aws:iam::123456789012:role/r): profile default has role_arn but \
         neither source_profile nor credential_source",
        "{answer}"
    );
}

#[test]
fn web_identity_token_file_without_a_role_is_a_config_error() {
    let mut s = Scenario::new();
    let token = s.file("token", "jwt");
    s.env("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap());
    assert_error(
        &s.get(None),
        "invalid-config",
        "assume-role-with-web-identity: a web identity token file is configured but no role ARN: set role_arn in the profile or AWS_ROLE_ARN",
    );
}
