//! `sso`: IAM Identity Center, with an `sso_session` and its
//! `[sso-session NAME]` section, or the legacy `sso_start_url` form; the
//! token comes from `~/.aws/sso/cache`. aws-config's profile provider reads
//! both forms and calls the portal.

use std::path::PathBuf;
use std::time::SystemTime;

use aws_config::profile::ProfileFileCredentialsProvider;
use sha1::{Digest, Sha1};

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::{expand_home, ChainContext};
use crate::chain::files::{read_bounded, Unreadable};
use crate::chain::SourceName;
use crate::types::credentials::{describe_time, parse_rfc3339, Credentials};
use crate::types::error::{Error, ErrorCode, Result};

/// Applies when the profile names an SSO account or role (botocore's test);
/// missing companions are reported by the provider as a config error.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let configured = ["sso_account_id", "sso_role_name"].iter().any(|k| ctx.profile_value(k).is_some());
    if !configured {
        return Ok(Detection::NotConfigured("the profile has no sso_account_id or sso_role_name".into()));
    }
    Ok(Detection::Configured(Plan::Sso { profile: ctx.profile.name.clone() }))
}

/// Asks the SSO portal through a fresh profile provider. When that fails
/// for want of a usable cached token, the error says which token, where it
/// is looked for, and the `aws sso login` command that makes one.
pub(super) async fn fetch(ctx: &ChainContext, profile: &str) -> Result<Credentials> {
    let provider = ProfileFileCredentialsProvider::builder()
        .configure(&provider_config(ctx, SourceName::Sso)?)
        .profile_name(profile)
        .build();
    match delegate(SourceName::Sso, &provider).await {
        Err(error) if error.code() == ErrorCode::SourceFailed => Err(explain_failure(ctx, profile, error).await),
        other => other,
    }
}

/// The token a profile's SSO login caches: what `aws sso login` is asked
/// for, and the file botocore and the aws CLI keep it in.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenCache {
    /// `sso-session NAME` or `start URL URL`.
    pub label: String,
    /// `~/.aws/sso/cache/SHA1.json`, the SHA-1 of the session name (or of
    /// the start URL for the legacy form), as botocore's `SSOTokenLoader`.
    pub path: PathBuf,
}

/// Where `profile`'s SSO token is cached; `None` when it has no SSO login.
pub fn token_cache(ctx: &ChainContext, profile: &str) -> Option<TokenCache> {
    let (label, key) = match ctx.value_in(profile, "sso_session") {
        Some(session) => (format!("sso-session {session}"), session),
        None => {
            let url = ctx.value_in(profile, "sso_start_url")?;
            (format!("start URL {url}"), url)
        }
    };
    let digest: String = Sha1::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    Some(TokenCache { label, path: expand_home("~/.aws/sso/cache", &ctx.env).join(format!("{digest}.json")) })
}

/// What the token cache holds.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenState {
    /// No file.
    Missing,
    /// A token that expired then.
    ExpiredAt(SystemTime),
    /// A token good until then.
    ValidUntil(SystemTime),
    /// A file that cannot be read or holds no expiry.
    Unreadable,
}

/// The state of a token cache file's contents at `now`.
pub fn token_state(bytes: std::result::Result<Vec<u8>, Unreadable>, now: SystemTime) -> TokenState {
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(Unreadable::Missing) => return TokenState::Missing,
        Err(Unreadable::Refused(_)) => return TokenState::Unreadable,
    };
    let expires = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|json| json.get("expiresAt").and_then(|v| v.as_str()).map(str::to_owned))
        // The aws CLI v1 wrote `2026-11-26T17:00:00UTC`.
        .and_then(|text| parse_rfc3339(&text.replace("UTC", "Z")));
    match expires {
        Some(at) if at <= now => TokenState::ExpiredAt(at),
        Some(at) => TokenState::ValidUntil(at),
        None => TokenState::Unreadable,
    }
}

/// `error`, said in terms of the profile's login when the token is the
/// reason; the cache file is read on the blocking pool (a home directory on
/// a stalled network mount must not hold up the runtime's worker).
async fn explain_failure(ctx: &ChainContext, profile: &str, error: Error) -> Error {
    let Some(cache) = token_cache(ctx, profile) else { return error };
    let path = cache.path.clone();
    let read = tokio::task::spawn_blocking(move || read_bounded(&path)).await;
    let Ok(bytes) = read else { return error };
    let upstream = error.message().strip_prefix("sso: ").unwrap_or(error.message());
    match token_state(bytes, SystemTime::now()) {
        TokenState::Missing => Error::from_source(
            ErrorCode::SourceFailed,
            SourceName::Sso.as_str(),
            format!(
                "profile {profile}: no SSO token for {} is cached ({} does not exist): run `aws sso login \
                 --profile {profile}`",
                cache.label,
                cache.path.display()
            ),
        ),
        TokenState::ExpiredAt(at) => Error::from_source(
            ErrorCode::SourceFailed,
            SourceName::Sso.as_str(),
            format!(
                "profile {profile}: the SSO token for {} expired at {} and could not be renewed ({upstream}): \
                 run `aws sso login --profile {profile}`",
                cache.label,
                describe_time(at, SystemTime::now())
            ),
        ),
        TokenState::ValidUntil(_) | TokenState::Unreadable => {
            Error::from_source(error.code(), SourceName::Sso.as_str(), format!("profile {profile}: {upstream}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{token_cache, token_state, TokenState, Unreadable};
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    fn sso_profile(scratch: &Scratch) -> String {
        match plan(scratch.detect(SourceName::Sso, None, &[("AWS_PROFILE", "dev")])) {
            Plan::Sso { profile } => profile,
            other => panic!("expected an Sso plan, got {other:?}"),
        }
    }

    #[test]
    fn an_sso_account_and_role_apply_for_the_selected_profile() {
        let scratch = Scratch::new();
        scratch.config(
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
        );
        assert_eq!(sso_profile(&scratch), "dev");
    }

    #[test]
    fn an_sso_role_name_alone_applies_and_its_companions_are_checked_later() {
        // botocore's SSOProvider applies when either of the two is present.
        let scratch = Scratch::new();
        scratch.config("[profile dev]\nsso_role_name = Admin\n");
        assert_eq!(sso_profile(&scratch), "dev");
    }

    #[test]
    fn the_token_cache_is_named_by_the_sessions_sha1_or_the_start_urls() {
        let scratch = Scratch::new();
        scratch.config(
            "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = A\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
             [profile old]\nsso_start_url = https://corp.awsapps.com/start\nsso_account_id = 1\n",
        );
        let ctx = scratch.context(None, &[]);
        let cache = |profile| token_cache(&ctx, profile).unwrap();
        // sha1("corp") and sha1("https://corp.awsapps.com/start"), as botocore names them.
        assert_eq!(cache("dev").label, "sso-session corp");
        assert_eq!(
            cache("dev").path,
            scratch.dir().join(".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
        );
        assert_eq!(cache("old").label, "start URL https://corp.awsapps.com/start");
        assert_eq!(
            cache("old").path,
            scratch.dir().join(".aws/sso/cache/a51746d4aa793ae07b25e90c3a5db96fc7832bd7.json")
        );
        assert_eq!(token_cache(&ctx, "absent"), None);
    }

    #[test]
    fn the_token_state_reads_both_expiry_formats() {
        let now = UNIX_EPOCH + Duration::from_secs(1_893_553_445);
        let file = |text: &str| Ok(text.as_bytes().to_vec());
        assert_eq!(token_state(Err(Unreadable::Missing), now), TokenState::Missing);
        assert_eq!(token_state(Err(Unreadable::Refused("x".into())), now), TokenState::Unreadable);
        assert_eq!(
            token_state(file(r#"{"expiresAt": "2020-01-02T03:04:05Z"}"#), now),
            TokenState::ExpiredAt(UNIX_EPOCH + Duration::from_secs(1_577_934_245))
        );
        assert_eq!(
            token_state(file(r#"{"expiresAt": "2020-01-02T03:04:05UTC"}"#), now),
            TokenState::ExpiredAt(UNIX_EPOCH + Duration::from_secs(1_577_934_245))
        );
        assert_eq!(
            token_state(file(r#"{"expiresAt": "2099-01-02T03:04:05Z"}"#), now),
            TokenState::ValidUntil(UNIX_EPOCH + Duration::from_secs(4_071_006_245))
        );
        assert_eq!(token_state(file("not json"), now), TokenState::Unreadable);
    }

    #[test]
    fn an_sso_session_without_account_or_role_does_not_apply() {
        let scratch = Scratch::new();
        scratch.config("[profile dev]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://x/start\n");
        let why = not_configured(scratch.detect(SourceName::Sso, None, &[("AWS_PROFILE", "dev")]));
        assert_eq!(why, "the profile has no sso_account_id or sso_role_name");
    }
}
