//! Every pitfall check, in process: the shared files in a scratch folder, the
//! environment in memory, and the chain walked by `walk_offline`, which
//! fetches nothing (a source that needs a fetch is handed its outcome).

use std::time::{Duration, SystemTime};

use super::*;
use crate::chain::testing::{chmod, Scratch};
use crate::diagnostics::{walk_offline, Walk};
use crate::types::credentials::{rfc3339, Credentials};
use crate::types::error::{Error, ErrorCode};

const ENV_KEYS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "env-secret")];
const STATIC_DEFAULT: &str = "[default]\naws_access_key_id = AKIAFILEEXAMPLE\naws_secret_access_key = file-secret\n";

type Found = (&'static str, Severity, Option<&'static str>);

/// The walk for `profile` under the scratch environment plus `vars`.
fn walk(
    scratch: &Scratch,
    profile: Option<&str>,
    vars: &[(&'static str, &str)],
    fetched: Option<Result<Credentials, Error>>,
) -> Walk {
    walk_offline(profile, &scratch.env(vars), fetched)
}

/// The pitfalls of that walk, found now.
fn pitfalls(scratch: &Scratch, profile: Option<&str>, vars: &[(&'static str, &str)]) -> Vec<Pitfall> {
    find(&walk(scratch, profile, vars, None), SystemTime::now())
}

/// Code, severity and source of each pitfall, in the order found.
fn codes(found: &[Pitfall]) -> Vec<Found> {
    found.iter().map(|p| (p.code, p.severity, p.source)).collect()
}

/// The message of the one pitfall with `code`.
fn message<'a>(found: &'a [Pitfall], code: &str) -> &'a str {
    let mut matching = found.iter().filter(|p| p.code == code);
    let pitfall = matching.next().unwrap_or_else(|| panic!("no {code} in {found:?}"));
    assert!(matching.next().is_none(), "more than one {code} in {found:?}");
    &pitfall.message
}

fn in_an_hour_and(seconds: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600 + seconds)
}

/// Credentials a remote source could have answered with.
fn temporary(source: SourceName, expires_at: SystemTime) -> Credentials {
    Credentials::new_static(source, "ASIAREMOTEEXAMPLE", "remote-secret")
        .with_session_token(Some("remote-token"))
        .with_expiration(Some(expires_at))
}

fn failure(source: SourceName, code: ErrorCode) -> Option<Result<Credentials, Error>> {
    Some(Err(Error::from_source(code, source.as_str(), "it did not answer")))
}

#[test]
fn a_clean_static_profile_has_no_pitfall() {
    let scratch = Scratch::new();
    scratch.credentials(STATIC_DEFAULT);
    let walk = walk(&scratch, None, &[], None);
    assert_eq!(walk.trace.winner.as_ref().map(|(s, _)| *s), Some(SourceName::SharedCredentialsFile));
    assert_eq!(codes(&find(&walk, SystemTime::now())), []);
}

#[test]
fn a_profile_named_by_aws_profile_and_found_nowhere_stops_the_chain() {
    // botocore raises ProfileNotFound; it never falls back to IMDS.
    let scratch = Scratch::new();
    let credentials = scratch.credentials(STATIC_DEFAULT);
    let found = pitfalls(&scratch, None, &[("AWS_PROFILE", "ghost"), ("AWS_EC2_METADATA_DISABLED", "false")]);
    assert_eq!(codes(&found), [(PROFILE_NOT_FOUND, Severity::Error, None)]);
    let text = message(&found, PROFILE_NOT_FOUND);
    assert!(text.starts_with("the profile ghost (named by AWS_PROFILE) exists in neither"), "{text}");
    assert!(text.contains(&credentials.display().to_string()), "{text}");
}

#[test]
fn a_profile_named_by_the_caller_and_found_nowhere_says_so() {
    let scratch = Scratch::new();
    let found = pitfalls(&scratch, Some("ghost"), &[]);
    assert_eq!(codes(&found), [(PROFILE_NOT_FOUND, Severity::Error, None)]);
    assert!(message(&found, PROFILE_NOT_FOUND).contains("(named by the caller)"));
}

#[test]
fn nothing_configured_with_imds_disabled_is_no_source_configured() {
    // The default profile may be absent: no profile-not-found for it.
    let scratch = Scratch::new();
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(NO_SOURCE_CONFIGURED, Severity::Error, None)]);
    let text = message(&found, NO_SOURCE_CONFIGURED);
    assert!(text.starts_with("no source of the chain is configured for profile default"), "{text}");
    assert!(text.contains("AWS_EC2_METADATA_DISABLED"), "{text}");
}

#[test]
fn half_a_key_pair_in_the_environment_stops_the_chain_as_an_error() {
    // botocore's EnvProvider raises PartialCredentialsError before the files.
    let scratch = Scratch::new();
    scratch.credentials(STATIC_DEFAULT);
    let walk = walk(&scratch, None, &[ENV_KEYS[0]], None);
    assert_eq!(walk.trace.failed_source, Some(SourceName::Env));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(PARTIAL_CREDENTIALS, Severity::Error, Some("env"))]);
    assert_eq!(
        message(&found, PARTIAL_CREDENTIALS),
        "env: partial credentials found, missing: AWS_SECRET_ACCESS_KEY. Set both the access key id and the secret \
         access key, or remove the half that is left."
    );
}

#[test]
fn half_a_key_pair_behind_the_winner_is_a_warning() {
    let scratch = Scratch::new();
    scratch.credentials("[default]\naws_access_key_id = AKIAFILEEXAMPLE\n");
    let found = pitfalls(&scratch, None, &ENV_KEYS);
    assert_eq!(codes(&found), [(PARTIAL_CREDENTIALS, Severity::Warning, Some("shared-credentials-file"))]);
    assert!(message(&found, PARTIAL_CREDENTIALS).contains("missing: aws_secret_access_key"));
}

#[test]
fn a_web_identity_token_without_a_role_is_invalid_config_of_that_source() {
    // botocore's AssumeRoleWithWebIdentityProvider raises InvalidConfigError.
    let scratch = Scratch::new();
    let found = pitfalls(&scratch, None, &[("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/token")]);
    assert_eq!(codes(&found), [(INVALID_CONFIG, Severity::Error, Some("assume-role-with-web-identity"))]);
    assert!(message(&found, INVALID_CONFIG).ends_with("Fix the configuration of this source or remove it."));
}

#[test]
fn an_unparsable_config_file_is_invalid_config_of_no_source() {
    let scratch = Scratch::new();
    let config = scratch.config("[default\nregion = x\n");
    let walk = walk(&scratch, None, &[], None);
    assert!(walk.ctx.is_none());
    assert!(walk.trace.detections.iter().all(|(_, d)| d.configured().is_none()));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(INVALID_CONFIG, Severity::Error, None)]);
    let text = message(&found, INVALID_CONFIG);
    assert!(text.contains(&config.display().to_string()), "{text}");
    assert!(text.ends_with("Fix the file; until then no source of the chain can be used."), "{text}");
}

#[test]
fn a_session_token_in_the_environment_is_temporary_credentials() {
    let scratch = Scratch::new();
    let expires_at = in_an_hour_and(3600);
    let expiration = rfc3339(expires_at);
    let vars = [
        ENV_KEYS[0],
        ENV_KEYS[1],
        ("AWS_SESSION_TOKEN", "env-token"),
        ("AWS_CREDENTIAL_EXPIRATION", expiration.as_str()),
    ];
    let found = pitfalls(&scratch, None, &vars);
    assert_eq!(codes(&found), [(ENV_TEMPORARY_CREDENTIALS, Severity::Warning, Some("env"))]);
    let text = message(&found, ENV_TEMPORARY_CREDENTIALS);
    assert!(text.contains(&format!("(a session token, expiring at {expiration})")), "{text}");
    // Long-term keys in the environment are no pitfall.
    assert_eq!(codes(&pitfalls(&scratch, None, &ENV_KEYS)), []);
}

#[test]
fn an_asia_key_in_the_environment_without_its_token_is_an_error_and_a_warning() {
    let scratch = Scratch::new();
    let found = pitfalls(&scratch, None, &[("AWS_ACCESS_KEY_ID", "ASIAENVEXAMPLE"), ENV_KEYS[1]]);
    assert_eq!(
        codes(&found),
        [
            (MISSING_SESSION_TOKEN, Severity::Error, Some("env")),
            (ENV_TEMPORARY_CREDENTIALS, Severity::Warning, Some("env")),
        ]
    );
    assert!(message(&found, MISSING_SESSION_TOKEN).contains("Add the session token (AWS_SESSION_TOKEN)"));
    assert!(message(&found, ENV_TEMPORARY_CREDENTIALS).contains("(an ASIA access key)"));
}

#[test]
fn environment_keys_hiding_a_role_and_a_container_endpoint_are_a_warning() {
    let scratch = Scratch::new();
    scratch.config("[default]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n");
    let vars = [ENV_KEYS[0], ENV_KEYS[1], ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x")];
    let found = pitfalls(&scratch, None, &vars);
    assert_eq!(codes(&found), [(ENV_SHADOWS_REFRESHABLE_SOURCE, Severity::Warning, Some("env"))]);
    let text = message(&found, ENV_SHADOWS_REFRESHABLE_SOURCE);
    assert!(
        text.contains("hides role_arn in profile default, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which"),
        "{text}"
    );
}

#[test]
fn environment_keys_over_a_profile_without_a_refreshing_source_hide_nothing() {
    let scratch = Scratch::new();
    scratch.config("[default]\nregion = eu-west-1\nsource_profile = base\n");
    assert_eq!(codes(&pitfalls(&scratch, None, &ENV_KEYS)), []);
}

#[test]
fn a_profile_named_by_the_caller_ignores_environment_keys_with_a_warning() {
    // botocore drops its env provider when a profile is passed to the session.
    let scratch = Scratch::new();
    scratch.credentials("[dev]\naws_access_key_id = AKIADEVEXAMPLE\naws_secret_access_key = dev-secret\n");
    let walk = walk(&scratch, Some("dev"), &ENV_KEYS, None);
    assert_eq!(walk.trace.winner.as_ref().map(|(s, _)| *s), Some(SourceName::SharedCredentialsFile));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(EXPLICIT_PROFILE_IGNORES_ENV, Severity::Warning, Some("env"))]);
    assert!(message(&found, EXPLICIT_PROFILE_IGNORES_ENV)
        .contains("so AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment are ignored"));
    let found = pitfalls(&scratch, Some("dev"), &[ENV_KEYS[1]]);
    assert!(message(&found, EXPLICIT_PROFILE_IGNORES_ENV).contains("so AWS_SECRET_ACCESS_KEY in the environment is"));
}

#[test]
fn profile_variables_that_disagree_are_a_warning_unless_the_caller_named_one() {
    // botocore reads AWS_DEFAULT_PROFILE first; the CLI v2 and the SDKs AWS_PROFILE.
    let scratch = Scratch::new();
    scratch.credentials("[a]\naws_access_key_id = AKIAAEXAMPLE\naws_secret_access_key = a-secret\n");
    let disagree = [("AWS_DEFAULT_PROFILE", "a"), ("AWS_PROFILE", "b")];
    let walk = walk(&scratch, None, &disagree, None);
    assert_eq!(walk.trace.profile.name, "a");
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(PROFILE_VARIABLES_DISAGREE, Severity::Warning, None)]);
    assert!(message(&found, PROFILE_VARIABLES_DISAGREE).starts_with("AWS_DEFAULT_PROFILE=a wins over AWS_PROFILE=b"));
    assert_eq!(codes(&pitfalls(&scratch, None, &[("AWS_DEFAULT_PROFILE", "a"), ("AWS_PROFILE", "a")])), []);
    assert_eq!(codes(&pitfalls(&scratch, Some("a"), &disagree)), []);
}

#[test]
fn a_session_token_pasted_into_the_credentials_file_is_a_warning() {
    let scratch = Scratch::new();
    scratch.credentials(
        "[default]\naws_access_key_id = ASIAFILEEXAMPLE\naws_secret_access_key = s\naws_session_token = t\n",
    );
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(
        codes(&found),
        [(STATIC_TEMPORARY_CREDENTIALS_IN_FILE, Severity::Warning, Some("shared-credentials-file"))]
    );
    assert!(message(&found, STATIC_TEMPORARY_CREDENTIALS_IN_FILE).contains("holds a session token (aws_session_token)"));
}

#[test]
fn a_security_token_pasted_into_the_config_file_is_a_warning() {
    let scratch = Scratch::new();
    scratch
        .config("[default]\naws_access_key_id = ASIACFGEXAMPLE\naws_secret_access_key = s\naws_security_token = t\n");
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(STATIC_TEMPORARY_CREDENTIALS_IN_FILE, Severity::Warning, Some("config-file"))]);
    assert!(message(&found, STATIC_TEMPORARY_CREDENTIALS_IN_FILE).contains("(aws_security_token)"));
}

#[test]
fn an_asia_key_without_its_token_in_the_winning_file_is_an_error() {
    let scratch = Scratch::new();
    scratch.credentials("[default]\naws_access_key_id = ASIAFILEEXAMPLE\naws_secret_access_key = s\n");
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(MISSING_SESSION_TOKEN, Severity::Error, Some("shared-credentials-file"))]);
    assert!(message(&found, MISSING_SESSION_TOKEN).contains("Add the session token (aws_session_token)"));
}

#[test]
fn an_asia_key_without_its_token_behind_the_winner_is_a_warning() {
    let scratch = Scratch::new();
    scratch.credentials("[default]\naws_access_key_id = ASIAFILEEXAMPLE\naws_secret_access_key = s\n");
    let found = pitfalls(&scratch, None, &ENV_KEYS);
    assert_eq!(codes(&found), [(MISSING_SESSION_TOKEN, Severity::Warning, Some("shared-credentials-file"))]);
}

#[test]
fn expired_static_credentials_are_refused_and_reported_expired() {
    let scratch = Scratch::new();
    let expired = rfc3339(SystemTime::now() - Duration::from_secs(3600));
    let walk = walk(&scratch, None, &[ENV_KEYS[0], ENV_KEYS[1], ("AWS_CREDENTIAL_EXPIRATION", expired.as_str())], None);
    assert_eq!(walk.trace.failed_source, Some(SourceName::Env));
    assert_eq!(walk.trace.error.as_ref().map(Error::code), Some(ErrorCode::SourceFailed));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(CREDENTIALS_EXPIRED, Severity::Error, Some("env"))]);
    let text = message(&found, CREDENTIALS_EXPIRED);
    assert!(text.starts_with(&format!("the credentials from env expired at {expired}")), "{text}");
    assert!(text.contains("env is static and never refreshes"), "{text}");
}

#[test]
fn static_credentials_inside_the_ten_minute_window_are_expiring() {
    // botocore's mandatory refresh window: 10 minutes.
    let scratch = Scratch::new();
    let soon = rfc3339(SystemTime::now() + Duration::from_secs(300));
    let found = pitfalls(&scratch, None, &[ENV_KEYS[0], ENV_KEYS[1], ("AWS_CREDENTIAL_EXPIRATION", soon.as_str())]);
    assert_eq!(codes(&found), [(CREDENTIALS_EXPIRING, Severity::Warning, Some("env"))]);
    assert!(message(&found, CREDENTIALS_EXPIRING).contains("inside the 600 s window in which SDKs stop using them"));
    let later = rfc3339(SystemTime::now() + Duration::from_secs(3000));
    assert_eq!(
        codes(&pitfalls(&scratch, None, &[ENV_KEYS[0], ENV_KEYS[1], ("AWS_CREDENTIAL_EXPIRATION", later.as_str())])),
        []
    );
}

#[test]
fn refreshing_credentials_are_expiring_within_a_sixth_of_their_lifetime() {
    let scratch = Scratch::new();
    scratch.config("[default]\ncredential_process = /opt/bin/creds --json\n");
    let answer = temporary(SourceName::CustomProcess, in_an_hour_and(0));
    let walk = walk(&scratch, None, &[], Some(Ok(answer)));
    assert_eq!(walk.trace.winner.as_ref().map(|(s, _)| *s), Some(SourceName::CustomProcess));
    let found = find(&walk, walk.trace.fetched_at + Duration::from_secs(3300));
    assert_eq!(codes(&found), [(CREDENTIALS_EXPIRING, Severity::Warning, Some("custom-process"))]);
    assert!(message(&found, CREDENTIALS_EXPIRING).contains("custom-process handed out credentials that are about to"));
    assert_eq!(codes(&find(&walk, walk.trace.fetched_at + Duration::from_secs(60))), []);
}

#[test]
fn a_credentials_file_readable_by_group_or_others_is_a_warning() {
    let scratch = Scratch::new();
    let path = scratch.credentials(STATIC_DEFAULT);
    chmod(&path, 0o644);
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(CREDENTIALS_FILE_PERMISSIONS, Severity::Warning, None)]);
    assert_eq!(
        message(&found, CREDENTIALS_FILE_PERMISSIONS),
        format!(
            "{} (mode 644) holds secret keys and is readable by its group and every other user: run chmod 600 {}",
            path.display(),
            path.display()
        )
    );
    chmod(&path, 0o640);
    let found = pitfalls(&scratch, None, &[]);
    assert!(message(&found, CREDENTIALS_FILE_PERMISSIONS)
        .contains("(mode 640) holds secret keys and is readable by its group:"));
}

#[test]
fn a_readable_config_file_matters_only_when_it_holds_a_secret() {
    let scratch = Scratch::new();
    scratch.credentials(STATIC_DEFAULT);
    let config = scratch.config("[default]\nregion = eu-west-1\n");
    chmod(&config, 0o644);
    assert_eq!(codes(&pitfalls(&scratch, None, &[])), []);
    scratch.config("[default]\naws_access_key_id = AKIACFGEXAMPLE\naws_secret_access_key = s\n");
    chmod(&config, 0o604);
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(CREDENTIALS_FILE_PERMISSIONS, Severity::Warning, None)]);
    let text = message(&found, CREDENTIALS_FILE_PERMISSIONS);
    assert!(text.starts_with(&format!("{} (mode 604)", config.display())), "{text}");
    assert!(text.contains("readable by every other user"), "{text}");
}

#[test]
fn a_shared_file_writable_by_its_group_is_a_warning() {
    let scratch = Scratch::new();
    let path = scratch.credentials(STATIC_DEFAULT);
    chmod(&path, 0o620);
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(CONFIG_FILE_WRITABLE_BY_OTHERS, Severity::Warning, None)]);
    let text = message(&found, CONFIG_FILE_WRITABLE_BY_OTHERS);
    assert!(text.starts_with(&format!("the file {} (mode 620) can be written by its group", path.display())), "{text}");
    assert!(text.ends_with(&format!("run chmod go-w {}", path.display())), "{text}");
}

#[test]
fn a_folder_writable_by_every_user_is_a_warning_unless_sticky() {
    let scratch = Scratch::new();
    scratch.credentials(STATIC_DEFAULT);
    chmod(scratch.dir(), 0o777);
    let found = pitfalls(&scratch, None, &[]);
    assert_eq!(codes(&found), [(CONFIG_FILE_WRITABLE_BY_OTHERS, Severity::Warning, None)]);
    let expected = format!("the folder {} (mode 777) can be written by every user", scratch.dir().display());
    assert!(message(&found, CONFIG_FILE_WRITABLE_BY_OTHERS).starts_with(&expected));
    chmod(scratch.dir(), 0o1777);
    assert_eq!(codes(&pitfalls(&scratch, None, &[])), []);
}

#[test]
fn an_unquoted_path_with_a_space_is_an_error_for_the_process_in_use() {
    // botocore splits the command with shlex, as sh does: the path breaks at the space.
    let scratch = Scratch::new();
    let helper = scratch.write("my tools/helper", "#!/bin/sh\n");
    let answer = Credentials::new_static(SourceName::CustomProcess, "AKIAPROCEXAMPLE", "s");
    scratch.config(&format!("[default]\ncredential_process = {} --json\n", helper.display()));
    let found = find(&walk(&scratch, None, &[], Some(Ok(answer.clone()))), SystemTime::now());
    assert_eq!(codes(&found), [(CREDENTIAL_PROCESS_UNQUOTED_SPACE, Severity::Error, Some("custom-process"))]);
    let text = message(&found, CREDENTIAL_PROCESS_UNQUOTED_SPACE);
    assert!(text.contains(&format!("Quote the path: credential_process = '{}' ...", helper.display())), "{text}");
    scratch.config(&format!("[default]\ncredential_process = '{}' --json\n", helper.display()));
    assert_eq!(codes(&find(&walk(&scratch, None, &[], Some(Ok(answer))), SystemTime::now())), []);
}

#[test]
fn shell_syntax_in_credential_process_is_a_warning_but_single_quoted_is_not() {
    // botocore runs the command without a shell; aws-config through sh -c.
    let scratch = Scratch::new();
    let answer = Credentials::new_static(SourceName::CustomProcess, "AKIAPROCEXAMPLE", "s");
    scratch.config("[default]\ncredential_process = /opt/bin/creds --json | tee /tmp/log\n");
    let found = find(&walk(&scratch, None, &[], Some(Ok(answer.clone()))), SystemTime::now());
    assert_eq!(codes(&found), [(CREDENTIAL_PROCESS_SHELL_SYNTAX, Severity::Warning, Some("custom-process"))]);
    assert!(message(&found, CREDENTIAL_PROCESS_SHELL_SYNTAX).starts_with("credential_process uses '|' outside single"));
    scratch.config("[default]\ncredential_process = /opt/bin/creds --filter '$HOME|x'\n");
    assert_eq!(codes(&find(&walk(&scratch, None, &[], Some(Ok(answer))), SystemTime::now())), []);
}

#[test]
fn an_unbalanced_quote_in_credential_process_takes_the_sources_severity() {
    // shlex.split raises ValueError("No closing quotation").
    let scratch = Scratch::new();
    scratch.config("[default]\ncredential_process = \"/opt/bin/creds --json\n");
    let walk = walk(&scratch, None, &[], failure(SourceName::CustomProcess, ErrorCode::SourceFailed));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(CREDENTIAL_PROCESS_SHELL_SYNTAX, Severity::Error, Some("custom-process"))]);
    assert!(message(&found, CREDENTIAL_PROCESS_SHELL_SYNTAX).contains("unbalanced quote or a trailing backslash"));
    // Behind the environment's keys it is latent: a warning.
    assert_eq!(
        codes(&pitfalls(&scratch, None, &ENV_KEYS)),
        [
            (ENV_SHADOWS_REFRESHABLE_SOURCE, Severity::Warning, Some("env")),
            (CREDENTIAL_PROCESS_SHELL_SYNTAX, Severity::Warning, Some("custom-process")),
        ]
    );
}

#[test]
fn credchain_get_for_the_profile_it_serves_is_a_loop() {
    let scratch = Scratch::new();
    scratch.config(
        "[profile dev]\ncredential_process = credchain get --profile dev --format process\n\
         [profile app]\ncredential_process = credchain get --profile=dev --format process\n",
    );
    let refused = || failure(SourceName::CustomProcess, ErrorCode::InvalidConfig);
    let found = find(&walk(&scratch, Some("dev"), &[], refused()), SystemTime::now());
    assert_eq!(codes(&found), [(CREDENTIAL_PROCESS_LOOP, Severity::Error, Some("custom-process"))]);
    assert!(
        message(&found, CREDENTIAL_PROCESS_LOOP).starts_with("the credential_process of profile dev runs credchain")
    );
    // Another profile's credentials are no loop.
    assert_eq!(codes(&find(&walk(&scratch, Some("app"), &[], refused()), SystemTime::now())), []);
}

#[test]
fn credchain_get_behind_a_wrapper_that_clears_the_environment_is_a_loop() {
    let scratch = Scratch::new();
    let refused = || failure(SourceName::CustomProcess, ErrorCode::InvalidConfig);
    for wrapper in ["env -i HOME=/home/app", "sudo -u app", "/usr/bin/env -i PATH=/usr/bin"] {
        scratch.config(&format!(
            "[profile dev]\ncredential_process = {wrapper} /usr/local/bin/credchain get --format process --profile dev\n"
        ));
        let found = find(&walk(&scratch, Some("dev"), &[], refused()), SystemTime::now());
        assert_eq!(codes(&found), [(CREDENTIAL_PROCESS_LOOP, Severity::Error, Some("custom-process"))], "{wrapper}");
    }
}

#[test]
fn credchain_get_without_a_profile_loops_only_for_the_ambient_profile() {
    let scratch = Scratch::new();
    let refused = || failure(SourceName::CustomProcess, ErrorCode::InvalidConfig);
    for command in ["/usr/local/bin/credchain get --format process", "python3 -m credchain get"] {
        scratch.config(&format!("[default]\ncredential_process = {command}\n"));
        let ambient = find(&walk(&scratch, None, &[], refused()), SystemTime::now());
        assert_eq!(codes(&ambient), [(CREDENTIAL_PROCESS_LOOP, Severity::Error, Some("custom-process"))], "{command}");
        // Named by the caller, the child resolves the ambient profile instead.
        assert_eq!(codes(&find(&walk(&scratch, Some("default"), &[], refused()), SystemTime::now())), []);
    }
    // Only `get` resolves credentials.
    scratch.config("[default]\ncredential_process = credchain doctor\n");
    assert_eq!(codes(&find(&walk(&scratch, None, &[], refused()), SystemTime::now())), []);
}

#[test]
fn instance_metadata_answering_for_an_unconfigured_profile_is_info() {
    let scratch = Scratch::new();
    let answer = temporary(SourceName::IamRole, in_an_hour_and(5 * 3600));
    let walk = walk(&scratch, None, &[("AWS_EC2_METADATA_DISABLED", "false")], Some(Ok(answer)));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(IMDS_FALLBACK, Severity::Info, Some("iam-role"))]);
    let text = message(&found, IMDS_FALLBACK);
    assert!(
        text.contains("instance metadata service (http://169.254.169.254): the recommended setup on EC2"),
        "{text}"
    );
}

#[test]
fn instance_metadata_failing_is_a_warning_naming_the_endpoint() {
    let scratch = Scratch::new();
    let vars = [("AWS_EC2_METADATA_DISABLED", "false"), ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338")];
    let walk = walk(&scratch, None, &vars, failure(SourceName::IamRole, ErrorCode::NoCredentials));
    let found = find(&walk, SystemTime::now());
    assert_eq!(codes(&found), [(IMDS_FALLBACK, Severity::Warning, Some("iam-role"))]);
    let text = message(&found, IMDS_FALLBACK);
    assert!(text.contains("(http://127.0.0.1:1338), which did not answer"), "{text}");
    assert!(text.contains("set AWS_EC2_METADATA_DISABLED=true"), "{text}");
    // Not reached when an earlier source answers.
    assert_eq!(codes(&pitfalls(&scratch, None, &[vars[0], ENV_KEYS[0], ENV_KEYS[1]])), []);
}

#[test]
fn errors_come_before_warnings_whatever_the_order_of_the_checks() {
    // profile_variables_disagree runs before expiry, yet its warning comes second.
    let scratch = Scratch::new();
    scratch.credentials("[a]\naws_access_key_id = AKIAAEXAMPLE\naws_secret_access_key = a-secret\n");
    let expired = rfc3339(SystemTime::now() - Duration::from_secs(60));
    let vars = [
        ("AWS_DEFAULT_PROFILE", "a"),
        ("AWS_PROFILE", "b"),
        ENV_KEYS[0],
        ENV_KEYS[1],
        ("AWS_CREDENTIAL_EXPIRATION", expired.as_str()),
    ];
    assert_eq!(
        codes(&pitfalls(&scratch, None, &vars)),
        [(CREDENTIALS_EXPIRED, Severity::Error, Some("env")), (PROFILE_VARIABLES_DISAGREE, Severity::Warning, None)]
    );
}
