//! The pitfall checks. Each has a stable code (listed in
//! `docs/doctor-json.md`), a severity and a message that says what to do
//! instead. Most come from the AWS Advanced Python Wrapper's "AWS
//! Credentials Requirement" page; the rest from the chain's own rules
//! (botocore's order, which this library follows).
//!
//! Severity rule for problems tied to one source: `error` when that source
//! is the one the chain uses or stops at, `warning` when an earlier source
//! answered first (the problem is latent: it bites when the configuration
//! changes).

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::report::{Pitfall, Severity};
use super::{shared_file_paths, shell, Walk};
use crate::cache::timing::windows;
use crate::chain::files::read_bounded;
use crate::chain::sources::TokenState;
use crate::chain::{ChainContext, Detected, ProfileOrigin, SourceName};
use crate::platform;
use crate::types::credentials::{describe_time, Credentials};
use crate::types::error::ErrorCode;

/// `AWS_ACCESS_KEY_ID` holds temporary credentials.
pub const ENV_TEMPORARY_CREDENTIALS: &str = "env-temporary-credentials";
/// Environment keys hide a refreshing source configured in the profile.
pub const ENV_SHADOWS_REFRESHABLE_SOURCE: &str = "env-shadows-refreshable-source";
/// A session token pasted into the credentials or config file.
pub const STATIC_TEMPORARY_CREDENTIALS_IN_FILE: &str = "static-temporary-credentials-in-file";
/// An `ASIA` key without its session token.
pub const MISSING_SESSION_TOKEN: &str = "missing-session-token";
/// A profile asked for by name exists in neither file.
pub const PROFILE_NOT_FOUND: &str = "profile-not-found";
/// The credentials in use are inside their mandatory refresh window.
pub const CREDENTIALS_EXPIRING: &str = "credentials-expiring";
/// The credentials in use have expired.
pub const CREDENTIALS_EXPIRED: &str = "credentials-expired";
/// A file holding secret keys is readable by group or others.
pub const CREDENTIALS_FILE_PERMISSIONS: &str = "credentials-file-permissions";
/// Half a key pair.
pub const PARTIAL_CREDENTIALS: &str = "partial-credentials";
/// A configuration the chain cannot use.
pub const INVALID_CONFIG: &str = "invalid-config";
/// The caller named a profile while environment keys are set.
pub const EXPLICIT_PROFILE_IGNORES_ENV: &str = "explicit-profile-ignores-env";
/// `AWS_DEFAULT_PROFILE` and `AWS_PROFILE` name different profiles.
pub const PROFILE_VARIABLES_DISAGREE: &str = "profile-variables-disagree";
/// `credential_process` starts with an unquoted path containing a space.
pub const CREDENTIAL_PROCESS_UNQUOTED_SPACE: &str = "credential-process-unquoted-space";
/// `credential_process` uses syntax that `sh` interprets and botocore does not.
pub const CREDENTIAL_PROCESS_SHELL_SYNTAX: &str = "credential-process-shell-syntax";
/// Nothing is configured, so the chain falls back to instance metadata.
pub const IMDS_FALLBACK: &str = "imds-fallback";
/// `credential_process` runs credchain for the very profile it serves.
pub const CREDENTIAL_PROCESS_LOOP: &str = "credential-process-loop";
/// A shared file, or its folder, can be written by other users.
pub const CONFIG_FILE_WRITABLE_BY_OTHERS: &str = "config-file-writable-by-others";
/// No source of the chain is configured at all.
pub const NO_SOURCE_CONFIGURED: &str = "no-source-configured";

/// The profile keys that configure a source which renews its credentials.
const REFRESHING_PROFILE_KEYS: &[&str] = &[
    "credential_process",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
    "role_arn",
    "web_identity_token_file",
    "login_session",
];

/// The lifetime assumed for static credentials whose issue time is unknown:
/// STS's default session, for which the mandatory window is botocore's
/// full 10 minutes.
const ASSUMED_STATIC_LIFETIME: Duration = Duration::from_secs(3600);

/// Runs every check over `walk`; errors first, then warnings, then info,
/// each group in the order of the checks.
pub fn find(walk: &Walk, now: SystemTime) -> Vec<Pitfall> {
    let mut found = Vec::new();
    profile_not_found(walk, &mut found);
    broken_sources(walk, &mut found);
    no_source_configured(walk, &mut found);
    env_temporary_credentials(walk, &mut found);
    env_shadows_refreshable_source(walk, &mut found);
    explicit_profile_ignores_env(walk, &mut found);
    profile_variables_disagree(walk, &mut found);
    static_temporary_credentials_in_file(walk, &mut found);
    missing_session_token(walk, &mut found);
    expiry(walk, now, &mut found);
    file_permissions(walk, &mut found);
    credential_process(walk, &mut found);
    imds_fallback(walk, &mut found);
    sso_token(walk, now, &mut found);
    found.sort_by_key(|p| p.severity);
    found
}

/// Records a pitfall. Control characters in the message (from a profile
/// name or a path) are escaped so a message is always one line.
fn push(found: &mut Vec<Pitfall>, code: &'static str, severity: Severity, source: Option<SourceName>, message: String) {
    let message = crate::types::text::escape_controls(&message);
    found.push(Pitfall { code, severity, source: source.map(SourceName::as_str), message });
}

/// `error` when `source` is the one the chain uses or stops at, `warning`
/// when an earlier source settled the chain first.
fn severity_for(walk: &Walk, source: SourceName) -> Severity {
    let used = walk.trace.winner.as_ref().is_some_and(|(s, _)| *s == source);
    if used || walk.trace.failed_source == Some(source) {
        Severity::Error
    } else {
        Severity::Warning
    }
}

fn detected(walk: &Walk, source: SourceName) -> Option<&Detected> {
    walk.trace.detections.iter().find(|(s, _)| *s == source).map(|(_, d)| d)
}

fn ready(walk: &Walk, source: SourceName) -> Option<&Credentials> {
    match detected(walk, source) {
        Some(Detected::Configured { ready }) => ready.as_ref(),
        _ => None,
    }
}

fn is_temporary_key(access_key_id: &str) -> bool {
    access_key_id.starts_with("ASIA")
}

fn how_profile_was_chosen(walk: &Walk) -> String {
    match walk.trace.profile.origin {
        ProfileOrigin::Caller => "named by the caller".to_owned(),
        ProfileOrigin::Variable(variable) => format!("named by {variable}"),
        ProfileOrigin::Default => "the default".to_owned(),
    }
}

fn profile_not_found(walk: &Walk, found: &mut Vec<Pitfall>) {
    if !walk.trace.profile_missing {
        return;
    }
    let (config, credentials) = shared_file_paths(walk);
    let name = &walk.trace.profile.name;
    push(
        found,
        PROFILE_NOT_FOUND,
        Severity::Error,
        None,
        format!(
            "the profile {name} ({}) exists in neither {} nor {}, so the chain stops (it never falls back to a \
             container or instance role for a named profile). Add a [profile {name}] section to the config file or a \
             [{name}] section to the credentials file, or name a profile that exists.",
            how_profile_was_chosen(walk),
            config.display(),
            credentials.display()
        ),
    );
}

/// Half key pairs and unusable configurations, wherever they are.
fn broken_sources(walk: &Walk, found: &mut Vec<Pitfall>) {
    if walk.ctx.is_none() {
        if let Some(error) = &walk.trace.error {
            let message = format!("{}. Fix the file; until then no source of the chain can be used.", error.message());
            push(found, INVALID_CONFIG, Severity::Error, None, message);
        }
        return;
    }
    for (source, detection) in &walk.trace.detections {
        let Detected::Broken(error) = detection else {
            continue;
        };
        let severity = severity_for(walk, *source);
        match error.code() {
            ErrorCode::PartialCredentials => push(
                found,
                PARTIAL_CREDENTIALS,
                severity,
                Some(*source),
                format!(
                    "{}. Set both the access key id and the secret access key, or remove the half that is left.",
                    error.message()
                ),
            ),
            _ => push(
                found,
                INVALID_CONFIG,
                severity,
                Some(*source),
                format!("{}. Fix the configuration of this source or remove it.", error.message()),
            ),
        }
    }
}

fn no_source_configured(walk: &Walk, found: &mut Vec<Pitfall>) {
    if walk.ctx.is_none()
        || walk.trace.profile_missing
        || walk.trace.winner.is_some()
        || walk.trace.failed_source.is_some()
    {
        return;
    }
    if walk.trace.detections.iter().any(|(_, d)| d.configured() != Some(false)) {
        return;
    }
    let (config, credentials) = shared_file_paths(walk);
    push(
        found,
        NO_SOURCE_CONFIGURED,
        Severity::Error,
        None,
        format!(
            "no source of the chain is configured for profile {}: no AWS_ACCESS_KEY_ID, nothing usable in {} or {}, \
             no web identity or container endpoint, and instance metadata is disabled (AWS_EC2_METADATA_DISABLED). \
             Configure one: role_arn with source_profile, sso_session or credential_process in the config file, \
             static keys in the credentials file for development, or run with an instance or task role.",
            walk.trace.profile.name,
            config.display(),
            credentials.display()
        ),
    );
}

const ENV_UNSET: &str = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN";

fn env_temporary_credentials(walk: &Walk, found: &mut Vec<Pitfall>) {
    let Some(credentials) = ready(walk, SourceName::Env) else {
        return;
    };
    if credentials.session_token.is_none() && !is_temporary_key(&credentials.access_key_id) {
        return;
    }
    let what = if credentials.session_token.is_some() { "a session token" } else { "an ASIA access key" };
    let expiry = match credentials.expiration {
        Some(at) => format!(", expiring at {}", crate::types::credentials::rfc3339(at)),
        None => String::new(),
    };
    push(
        found,
        ENV_TEMPORARY_CREDENTIALS,
        Severity::Warning,
        Some(SourceName::Env),
        format!(
            "the environment holds temporary credentials ({what}{expiry}): environment variables are never refreshed, \
             so every connection fails once they expire. Instead, unset {ENV_UNSET} and configure a source that refreshes: \
             role_arn with source_profile, sso_session or credential_process in the config file, or an instance or \
             task role."
        ),
    );
}

fn env_shadows_refreshable_source(walk: &Walk, found: &mut Vec<Pitfall>) {
    let (Some(ctx), Some(Detected::Configured { .. })) = (&walk.ctx, detected(walk, SourceName::Env)) else {
        return;
    };
    let mut hidden: Vec<String> = REFRESHING_PROFILE_KEYS
        .iter()
        .filter(|key| ctx.profile_value(key).is_some())
        .map(|key| format!("{key} in profile {}", crate::types::text::escape_name(&walk.trace.profile.name)))
        .collect();
    for variable in
        ["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    {
        if walk.env.non_empty(variable).is_some() {
            hidden.push(variable.to_owned());
        }
    }
    if hidden.is_empty() {
        return;
    }
    push(
        found,
        ENV_SHADOWS_REFRESHABLE_SOURCE,
        Severity::Warning,
        Some(SourceName::Env),
        format!(
            "AWS_ACCESS_KEY_ID is set, so the environment answers first and hides {}, which would refresh \
             automatically. Unset {ENV_UNSET} so that the refreshing source is used.",
            hidden.join(", ")
        ),
    );
}

fn explicit_profile_ignores_env(walk: &Walk, found: &mut Vec<Pitfall>) {
    if !matches!(walk.trace.profile.origin, ProfileOrigin::Caller) {
        return;
    }
    let set: Vec<&str> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .into_iter()
        .filter(|v| walk.env.non_empty(v).is_some())
        .collect();
    if set.is_empty() {
        return;
    }
    push(
        found,
        EXPLICIT_PROFILE_IGNORES_ENV,
        Severity::Warning,
        Some(SourceName::Env),
        format!(
            "the caller named profile {}, so {} in the environment {} ignored (as in botocore). If the environment's \
             keys were meant, pass no profile; otherwise unset them so nobody is misled.",
            walk.trace.profile.name,
            set.join(" and "),
            if set.len() == 1 { "is" } else { "are" }
        ),
    );
}

fn profile_variables_disagree(walk: &Walk, found: &mut Vec<Pitfall>) {
    if matches!(walk.trace.profile.origin, ProfileOrigin::Caller) {
        return;
    }
    let (Some(default), Some(profile)) = (walk.env.non_empty("AWS_DEFAULT_PROFILE"), walk.env.non_empty("AWS_PROFILE"))
    else {
        return;
    };
    if default == profile {
        return;
    }
    push(
        found,
        PROFILE_VARIABLES_DISAGREE,
        Severity::Warning,
        None,
        format!(
            "AWS_DEFAULT_PROFILE={default} wins over AWS_PROFILE={profile} here, as in botocore, but the AWS CLI v2 \
             and the other SDKs use AWS_PROFILE. Unset one of the two so every tool uses the same profile."
        ),
    );
}

fn static_temporary_credentials_in_file(walk: &Walk, found: &mut Vec<Pitfall>) {
    let Some(ctx) = &walk.ctx else {
        return;
    };
    let files = [
        (SourceName::SharedCredentialsFile, ctx.credentials_profile(), &ctx.credentials.path),
        (SourceName::ConfigFile, ctx.config_profile(), &ctx.config.path),
    ];
    for (source, profile, path) in files {
        let Some(profile) = profile else {
            continue;
        };
        let Some(key) = ["aws_session_token", "aws_security_token"]
            .into_iter()
            .find(|k| profile.get(k).is_some_and(|v| !v.is_empty()))
        else {
            continue;
        };
        push(
            found,
            STATIC_TEMPORARY_CREDENTIALS_IN_FILE,
            Severity::Warning,
            Some(source),
            format!(
                "profile {} in {} holds a session token ({key}): temporary credentials pasted into a file (from `aws \
                 sts assume-role`, the SSO portal...) are static and stop working when they expire. Remove the keys \
                 and {key} from this section and configure role_arn with source_profile, sso_session or \
                 credential_process in the config file instead.",
                walk.trace.profile.name,
                path.display()
            ),
        );
    }
}

fn missing_session_token(walk: &Walk, found: &mut Vec<Pitfall>) {
    for (source, _) in &walk.trace.detections {
        let Some(credentials) = ready(walk, *source) else {
            continue;
        };
        if !is_temporary_key(&credentials.access_key_id) || credentials.session_token.is_some() {
            continue;
        }
        let token_name = match source {
            SourceName::Env => "AWS_SESSION_TOKEN",
            _ => "aws_session_token",
        };
        push(
            found,
            MISSING_SESSION_TOKEN,
            severity_for(walk, *source),
            Some(*source),
            format!(
                "the access key id starts with ASIA (temporary credentials) but no session token is set, so AWS \
                 rejects every request signed with it. Add the session token ({token_name}) that came with the key, \
                 or better, configure a source that refreshes temporary credentials by itself."
            ),
        );
    }
}

fn expiry(walk: &Walk, now: SystemTime, found: &mut Vec<Pitfall>) {
    // The chain refuses expired credentials, so static ones past their
    // expiry show up as the failure of their source, not as a winner.
    let refused = walk.trace.failed_source.and_then(|source| ready(walk, source).map(|c| (source, c)));
    let Some((source, credentials)) = walk.trace.winner.as_ref().map(|(s, c)| (*s, c)).or(refused) else {
        return;
    };
    let Some(expires_at) = credentials.expiration else {
        return;
    };
    let Ok(remaining) = expires_at.duration_since(now) else {
        push(
            found,
            CREDENTIALS_EXPIRED,
            Severity::Error,
            Some(source),
            format!(
                "the credentials from {source} expired at {}; credchain never serves expired credentials. {}",
                crate::types::credentials::rfc3339(expires_at),
                renew_advice(source)
            ),
        );
        return;
    };
    if walk.trace.winner.is_none() {
        return;
    }
    // A source that renews itself just issued these, so their lifetime is
    // known; static ones were issued at an unknown time.
    let lifetime = if source.refreshes_itself() {
        expires_at.duration_since(walk.trace.fetched_at).unwrap_or(Duration::ZERO)
    } else {
        ASSUMED_STATIC_LIFETIME
    };
    let (_, mandatory) = windows(lifetime);
    if remaining >= mandatory {
        return;
    }
    push(
        found,
        CREDENTIALS_EXPIRING,
        Severity::Warning,
        Some(source),
        format!(
            "the credentials from {source} expire in {} s (at {}), inside the {} s window in which SDKs stop using \
             them. {}",
            remaining.as_secs(),
            crate::types::credentials::rfc3339(expires_at),
            mandatory.as_secs(),
            renew_advice(source)
        ),
    );
}

fn renew_advice(source: SourceName) -> String {
    if source.refreshes_itself() {
        format!("{source} handed out credentials that are about to expire; check what it returns (a caching helper?).")
    } else {
        format!(
            "{source} is static and never refreshes: replace them now, and configure a source that refreshes (role_arn \
             with source_profile, sso_session, credential_process, an instance or task role)."
        )
    }
}

fn file_permissions(walk: &Walk, found: &mut Vec<Pitfall>) {
    let Some(ctx) = &walk.ctx else {
        return;
    };
    let mut files: Vec<&Path> = Vec::new();
    if ctx.credentials.exists {
        files.push(&ctx.credentials.path);
    }
    // The config file only matters when it holds a secret for this profile.
    if ctx.config.exists && ctx.config_profile().is_some_and(|p| p.get("aws_secret_access_key").is_some()) {
        files.push(&ctx.config.path);
    }
    writable_by_others(ctx, found);
    for path in files {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let mode = platform::permission_bits(&meta) & 0o777;
        if mode & 0o044 == 0 {
            continue;
        }
        push(
            found,
            CREDENTIALS_FILE_PERMISSIONS,
            Severity::Warning,
            None,
            format!(
                "{} (mode {mode:03o}) holds secret keys and is readable by {}: run chmod 600 {}",
                path.display(),
                match (mode & 0o040 != 0, mode & 0o004 != 0) {
                    (true, true) => "its group and every other user",
                    (true, false) => "its group",
                    _ => "every other user",
                },
                shell::quote(&path.display().to_string())
            ),
        );
    }
}

/// A shared file, or the folder it is in, that another user can write lets
/// that user change which credentials (or which process) this one uses.
fn writable_by_others(ctx: &ChainContext, found: &mut Vec<Pitfall>) {
    for file in [&ctx.credentials, &ctx.config].into_iter().filter(|f| f.exists) {
        let folder = file.path.parent().filter(|p| !p.as_os_str().is_empty());
        for (path, what) in [(Some(file.path.as_path()), "file"), (folder, "folder")] {
            let Some(path) = path else { continue };
            let Ok(meta) = std::fs::metadata(path) else { continue };
            let mode = platform::permission_bits(&meta);
            // A sticky, world-writable folder (/tmp) still lets others
            // create files there but not replace this one.
            let sticky = what == "folder" && mode & 0o1000 != 0;
            if mode & 0o022 == 0 || sticky {
                continue;
            }
            push(
                found,
                CONFIG_FILE_WRITABLE_BY_OTHERS,
                Severity::Warning,
                None,
                format!(
                    "the {what} {} (mode {:03o}) can be written by {}, who could then choose the credentials or the \
                     credential_process this process uses: run chmod go-w {}",
                    path.display(),
                    mode & 0o777,
                    if mode & 0o002 != 0 { "every user" } else { "its group" },
                    shell::quote(&path.display().to_string())
                ),
            );
        }
    }
}

fn credential_process(walk: &Walk, found: &mut Vec<Pitfall>) {
    let Some(command) = walk.ctx.as_ref().and_then(|ctx| ctx.profile_value("credential_process")) else {
        return;
    };
    let source = SourceName::CustomProcess;
    let Some(split) = shell::split(command) else {
        push(
            found,
            CREDENTIAL_PROCESS_SHELL_SYNTAX,
            severity_for(walk, source),
            Some(source),
            "credential_process has an unbalanced quote or a trailing backslash: botocore refuses it and sh reports \
             a syntax error. Balance the quotes."
                .to_owned(),
        );
        return;
    };
    if runs_credchain_for(&split.words, walk) {
        push(
            found,
            CREDENTIAL_PROCESS_LOOP,
            Severity::Error,
            Some(source),
            format!(
                "the credential_process of profile {p} runs credchain for profile {p} itself: a loop, which credchain \
                 refuses. `credchain get --format process` is for other tools; give it a profile whose credentials \
                 come from elsewhere (a source_profile, sso_session or keys).",
                p = crate::types::text::escape_name(&walk.trace.profile.name)
            ),
        );
    }
    if let Some(path) = unquoted_path_with_space(&split.words) {
        push(
            found,
            CREDENTIAL_PROCESS_UNQUOTED_SPACE,
            severity_for(walk, source),
            Some(source),
            format!(
                "credential_process starts with the path {path} unquoted: it contains a space, so both botocore and \
                 sh run {} instead. Quote the path: credential_process = {} ...",
                split.words[0],
                shell::quote(&path)
            ),
        );
    }
    if !split.shell_specials.is_empty() {
        let specials: Vec<String> = split.shell_specials.iter().map(|c| format!("'{c}'")).collect();
        push(
            found,
            CREDENTIAL_PROCESS_SHELL_SYNTAX,
            Severity::Warning,
            Some(source),
            format!(
                "credential_process uses {} outside single quotes: credchain (like aws-config) runs the command \
                 with /bin/sh -c, which interprets it, while botocore and the AWS CLI run it without a shell and pass it \
                 literally, so the two run different commands. Use absolute paths and literal arguments (or a \
                 wrapper script), quoting with single quotes.",
                specials.join(", ")
            ),
        );
    }
}

/// Whether the command runs `credchain get` (or `python -m credchain get`)
/// for the walk's own profile: its `--profile` names it, or
/// it names none and the walk is of the ambient profile. credchain may come
/// after a wrapper (`env -i HOME=... credchain get`, `sudo -u ... credchain
/// get`), which is where a guard kept in the environment alone was lost.
fn runs_credchain_for(words: &[String], walk: &Walk) -> bool {
    let is_credchain = |w: &String| Path::new(w).file_name().is_some_and(|n| n == "credchain");
    let subcommand = if let Some(at) = words.iter().position(is_credchain) {
        words.get(at + 1)
    } else {
        words.windows(3).find(|w| w[0] == "-m" && w[1] == "credchain").map(|w| &w[2])
    };
    // Only `get` resolves credentials; the demo's helper and others do not.
    if subcommand.is_none_or(|s| s != "get") {
        return false;
    }
    let named = words.iter().enumerate().find_map(|(i, w)| {
        w.strip_prefix("--profile=")
            .map(str::to_owned)
            .or_else(|| (w == "--profile").then(|| words.get(i + 1).cloned()).flatten())
    });
    match named {
        Some(profile) => profile == walk.trace.profile.name,
        None => !matches!(walk.trace.profile.origin, ProfileOrigin::Caller),
    }
}

/// The existing file that the first words make when joined by spaces, when
/// the first word alone is not a file.
fn unquoted_path_with_space(words: &[String]) -> Option<String> {
    let first = words.first()?;
    if !first.contains('/') || Path::new(first).exists() {
        return None;
    }
    (2..=words.len()).map(|n| words[..n].join(" ")).find(|candidate| Path::new(candidate).is_file())
}

fn imds_fallback(walk: &Walk, found: &mut Vec<Pitfall>) {
    let source = SourceName::IamRole;
    let answered = walk.trace.winner.as_ref().is_some_and(|(s, _)| *s == source);
    if !answered && walk.trace.failed_source != Some(source) {
        return;
    }
    let endpoint = walk
        .env
        .non_empty("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .or_else(|| walk.ctx.as_ref().and_then(|c| c.profile_value("ec2_metadata_service_endpoint")))
        .unwrap_or("http://169.254.169.254");
    if answered {
        push(
            found,
            IMDS_FALLBACK,
            Severity::Info,
            Some(source),
            format!(
                "nothing else is configured for profile {}, so the credentials come from the instance metadata \
                 service ({endpoint}): the recommended setup on EC2. Elsewhere, configure a source explicitly.",
                walk.trace.profile.name
            ),
        );
    } else {
        push(
            found,
            IMDS_FALLBACK,
            Severity::Warning,
            Some(source),
            format!(
                "nothing else is configured for profile {}, so the chain fell back to the instance metadata service \
                 ({endpoint}), which did not answer. Off EC2, set AWS_EC2_METADATA_DISABLED=true so the chain fails \
                 at once, and configure a source (a profile with role_arn, sso_session or credential_process, or \
                 keys in the credentials file).",
                walk.trace.profile.name
            ),
        );
    }
}

/// `sso-token-missing` / `sso-token-expired`: the SSO source applies and
/// its cached token is missing or past its expiry (aws-config may still
/// renew an expired one with its refresh token; when that fails, only
/// `aws sso login` helps).
fn sso_token(walk: &Walk, now: SystemTime, found: &mut Vec<Pitfall>) {
    let (Some(ctx), Some(Detected::Configured { .. })) = (&walk.ctx, detected(walk, SourceName::Sso)) else {
        return;
    };
    let Some(cache) = crate::chain::sources::token_cache(ctx, &walk.trace.profile.name) else { return };
    let login = format!("aws sso login --profile {}", walk.trace.profile.name);
    let (code, message) = match crate::chain::sources::token_state(read_bounded(&cache.path), now) {
        TokenState::Missing => (
            "sso-token-missing",
            format!(
                "no SSO token for {} is cached ({} does not exist): run `{login}`",
                cache.label,
                cache.path.display()
            ),
        ),
        TokenState::ExpiredAt(at) => (
            "sso-token-expired",
            format!(
                "the SSO token for {} expired at {}; unless it can be renewed with its refresh token, run `{login}`",
                cache.label,
                describe_time(at, now)
            ),
        ),
        TokenState::ValidUntil(_) | TokenState::Unreadable => return,
    };
    push(found, code, severity_for(walk, SourceName::Sso), Some(SourceName::Sso), message);
}

#[cfg(test)]
#[path = "pitfalls_tests.rs"]
mod tests;
