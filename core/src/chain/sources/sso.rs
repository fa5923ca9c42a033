//! `sso`: IAM Identity Center, with an `sso_session` and its
//! `[sso-session NAME]` section, or the legacy `sso_start_url` form; the
//! token comes from `~/.aws/sso/cache`.
//!
//! The settings are resolved here from credchain's own reading of the files,
//! as botocore's `SSOProvider` resolves them (a session's keys may repeat in
//! the profile when they agree). With a session, aws-config's SSO provider
//! reads (and refreshes) the token and calls the portal; in the legacy form
//! credchain reads the token itself, in either of the aws CLI's formats,
//! and calls the portal's `GetRoleCredentials`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::sso::SsoCredentialsProvider;
use aws_config::BehaviorVersion;
use aws_types::region::Region;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::{delegate, describe_sdk_error, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::files::{read_bounded, Unreadable};
use crate::chain::paths::expand_home;
use crate::chain::SourceName;
use crate::types::credentials::{describe_time, parse_rfc3339, Credentials};
use crate::types::error::{Error, ErrorCode, Result};

/// Applies when the profile names an SSO account or role (botocore's test);
/// then every setting must be there and agree with its session.
pub(super) fn detect(ctx: &ChainContext, profile: &str) -> Result<Detection> {
    match settings(ctx, profile)? {
        Some(settings) => Ok(Detection::Configured(Plan::Sso { profile: profile.to_owned(), settings })),
        None => Ok(Detection::NotConfigured("the profile has no sso_account_id or sso_role_name".into())),
    }
}

/// What a profile's SSO login needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSettings {
    /// `sso_start_url`.
    pub start_url: String,
    /// `sso_region`: where the portal is.
    pub region: String,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
    /// `sso_session`, when the profile uses one.
    pub session: Option<String>,
}

/// The profile's SSO settings, its `[sso-session]`'s keys merged in (every
/// key: a profile may repeat one when the values agree); `None` when the
/// profile names neither an SSO account nor role. A session that does not
/// exist, a key the profile and its session disagree on, or a missing
/// setting is a configuration error, as in botocore.
pub fn settings(ctx: &ChainContext, profile: &str) -> Result<Option<SsoSettings>> {
    let value = |key: &str| ctx.value_in(profile, key);
    if value("sso_account_id").is_none() && value("sso_role_name").is_none() {
        return Ok(None);
    }
    let session = value("sso_session");
    let mut from_session: Vec<(&str, &str)> = Vec::new();
    if let Some(name) = session {
        let section = ctx.config.profiles.sso_session(name).ok_or_else(|| {
            config_error(format!("profile {profile}: the sso_session {name} has no [sso-session {name}] section"))
        })?;
        for (key, theirs) in section.iter() {
            match value(key) {
                Some(mine) if mine != theirs => {
                    return Err(config_error(format!(
                        "profile {profile}: {key} is {mine} in the profile but {theirs} in [sso-session {name}]; \
                         keep one"
                    )))
                }
                _ => from_session.push((key, theirs)),
            }
        }
    }
    let get = |key: &str| value(key).or_else(|| from_session.iter().find(|(k, _)| *k == key).map(|(_, v)| *v));
    let required = ["sso_role_name", "sso_account_id", "sso_start_url", "sso_region"].map(|key| (key, get(key)));
    let missing: Vec<&str> = required.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
    if !missing.is_empty() {
        return Err(config_error(format!("profile {profile} uses SSO but has no {}", missing.join(", "))));
    }
    let [role_name, account_id, start_url, region] = required.map(|(_, v)| v.unwrap_or_default().to_owned());
    Ok(Some(SsoSettings { start_url, region, account_id, role_name, session: session.map(str::to_owned) }))
}

fn config_error(message: String) -> Error {
    Error::from_source(ErrorCode::InvalidConfig, SourceName::Sso.as_str(), message)
}

/// Asks the SSO portal for the role's credentials. When that fails for want
/// of a usable cached token, the error says which token, where it is looked
/// for, and the `aws sso login` command that makes one.
pub(super) async fn fetch(ctx: &ChainContext, profile: &str, settings: &SsoSettings) -> Result<Credentials> {
    let fetched = match &settings.session {
        Some(session) => fetch_with_session(ctx, profile, settings, session).await,
        None => fetch_legacy(ctx, profile, settings).await,
    };
    match fetched {
        Err(error) if error.code() == ErrorCode::SourceFailed => Err(explain_failure(ctx, profile, error).await),
        other => other,
    }
}

/// botocore's `SSOTokenProvider` refreshes a session's token this long
/// before it expires.
const REFRESH_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The session form. A cached token good for longer than the refresh window
/// is used as it is (read by credchain, so either of the aws CLI's expiry
/// formats is understood); otherwise aws-config's provider refreshes it
/// through SSO-OIDC, writes the cache, and calls the portal.
async fn fetch_with_session(
    ctx: &ChainContext,
    profile: &str,
    settings: &SsoSettings,
    session: &str,
) -> Result<Credentials> {
    if let (TokenState::ValidUntil(at), Some(token)) = cached_token(ctx, profile).await? {
        if at > SystemTime::now() + REFRESH_WINDOW {
            return role_credentials(ctx, settings, &token).await;
        }
    }
    let provider = SsoCredentialsProvider::builder()
        .configure(&provider_config(ctx, SourceName::Sso)?)
        .start_url(&settings.start_url)
        .account_id(&settings.account_id)
        .role_name(&settings.role_name)
        .region(Region::new(settings.region.clone()))
        .session_name(session)
        .build();
    delegate(SourceName::Sso, &provider).await
}

/// The legacy form: the cached token (refused when it has expired, as
/// botocore does, sparing the portal a call), then `GetRoleCredentials`.
async fn fetch_legacy(ctx: &ChainContext, profile: &str, settings: &SsoSettings) -> Result<Credentials> {
    let token = match cached_token(ctx, profile).await? {
        (TokenState::ValidUntil(_), Some(token)) => token,
        (TokenState::Missing, _) => return Err(failed(format!("Token for {} does not exist", settings.start_url))),
        (TokenState::ExpiredAt(_), _) => return Err(failed("the cached SSO token has expired".into())),
        _ => return Err(failed(format!("Token for {} is invalid", settings.start_url))),
    };
    role_credentials(ctx, settings, &token).await
}

fn failed(words: String) -> Error {
    Error::from_source(ErrorCode::SourceFailed, SourceName::Sso.as_str(), words)
}

/// The profile's cached token: its state, and its `accessToken` when it
/// has one (read on the blocking pool: a home directory on a stalled mount
/// must not hold up the runtime's worker).
async fn cached_token(ctx: &ChainContext, profile: &str) -> Result<(TokenState, Option<Zeroizing<String>>)> {
    let cache = token_cache(ctx, profile).ok_or_else(|| failed("no token cache for the profile".into()))?;
    let bytes = tokio::task::spawn_blocking(move || read_bounded(&cache.path))
        .await
        .map_err(|_| Error::internal("reading the SSO token cache failed (a bug)"))?;
    let token = bytes.as_ref().ok().and_then(|b| access_token(b));
    Ok((token_state(bytes, SystemTime::now()), token))
}

/// The portal's `GetRoleCredentials` for the profile's account and role.
async fn role_credentials(ctx: &ChainContext, settings: &SsoSettings, token: &str) -> Result<Credentials> {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .http_client(super::http::client(&ctx.network, SourceName::Sso)?)
        .no_credentials()
        .load()
        .await;
    let answer = aws_sdk_sso::Client::new(&sdk_config)
        .get_role_credentials()
        .role_name(&settings.role_name)
        .account_id(&settings.account_id)
        .access_token(token)
        .send()
        .await
        .map_err(|error| failed(describe_sdk_error(&error)).with_cause(error))?;
    let role = answer.role_credentials().ok_or_else(|| failed("the portal's answer has no roleCredentials".into()))?;
    let expiration = UNIX_EPOCH + Duration::from_millis(u64::try_from(role.expiration()).unwrap_or(0));
    Ok(Credentials::new_static(
        SourceName::Sso,
        role.access_key_id().unwrap_or_default(),
        role.secret_access_key().unwrap_or_default(),
    )
    .with_session_token(role.session_token())
    .with_account_id(Some(&settings.account_id))
    .with_expiration(Some(expiration)))
}

/// The cached token's `accessToken`, held so that it is zeroed on drop.
fn access_token(bytes: &[u8]) -> Option<Zeroizing<String>> {
    let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    json.get("accessToken")?.as_str().map(|t| Zeroizing::new(t.to_owned()))
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
        Err(Unreadable::Refused(_) | Unreadable::Exhausted(_)) => return TokenState::Unreadable,
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
    let login = format!("run `aws sso login --profile {profile}`");
    let detail = match token_state(bytes, SystemTime::now()) {
        TokenState::Missing => {
            format!("no SSO token for {} is cached ({} does not exist)", cache.label, cache.path.display())
        }
        TokenState::ExpiredAt(at) => format!(
            "the SSO token for {} expired at {} and could not be renewed ({})",
            cache.label,
            describe_time(at, SystemTime::now()),
            error.detail()
        ),
        TokenState::ValidUntil(_) | TokenState::Unreadable => return error.with_profile(profile),
    };
    error.with_detail(detail).with_remedy(login).with_profile(profile)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{settings, token_cache, token_state, SsoSettings, TokenState, Unreadable};
    use crate::chain::sources::Plan;
    use crate::chain::testing::{broken, not_configured, plan, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    fn sso_profile(scratch: &Scratch) -> String {
        match plan(scratch.detect(SourceName::Sso, None, &[("AWS_PROFILE", "dev")])) {
            Plan::Sso { profile, .. } => profile,
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
    fn an_sso_role_name_alone_applies_and_its_missing_companions_are_a_config_error() {
        // botocore's SSOProvider applies when either of the two is present,
        // then requires them all (InvalidConfigError).
        let scratch = Scratch::new();
        scratch.config("[profile dev]\nsso_role_name = Admin\n");
        let error = broken(scratch.detect(SourceName::Sso, None, &[("AWS_PROFILE", "dev")]));
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(error.message(), "sso: profile dev uses SSO but has no sso_account_id, sso_start_url, sso_region");
    }

    const CORP: &str = "[sso-session corp]\nsso_start_url = https://corp/start\nsso_region = eu-west-1\n";

    #[test]
    fn a_sessions_keys_may_repeat_in_the_profile_when_they_agree() {
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile dev]\nsso_session = corp\nsso_start_url = https://corp/start\nsso_region = eu-west-1\n\
             sso_account_id = 1\nsso_role_name = R\n{CORP}"
        ));
        let ctx = scratch.context(None, &[]);
        assert_eq!(
            settings(&ctx, "dev").unwrap(),
            Some(SsoSettings {
                start_url: "https://corp/start".into(),
                region: "eu-west-1".into(),
                account_id: "1".into(),
                role_name: "R".into(),
                session: Some("corp".into()),
            })
        );
    }

    #[test]
    fn every_key_of_the_session_counts_and_is_checked() {
        // botocore's _resolve_sso_session_reference merges and compares every key.
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile dev]\nsso_session = corp\nsso_account_id = 1\n\
             [profile other]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Mine\n\
             {CORP}sso_role_name = FromSession\n"
        ));
        let ctx = scratch.context(None, &[]);
        assert_eq!(settings(&ctx, "dev").unwrap().unwrap().role_name, "FromSession");
        assert_eq!(
            settings(&ctx, "other").unwrap_err().message(),
            "sso: profile other: sso_role_name is Mine in the profile but FromSession in [sso-session corp]; keep one"
        );
    }

    #[test]
    fn a_session_that_disagrees_or_does_not_exist_is_a_config_error() {
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile dev]\nsso_session = corp\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n\
             [profile lost]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n{CORP}"
        ));
        let ctx = scratch.context(None, &[]);
        assert_eq!(
            settings(&ctx, "dev").unwrap_err().message(),
            "sso: profile dev: sso_region is us-east-1 in the profile but eu-west-1 in [sso-session corp]; keep one"
        );
        assert_eq!(
            settings(&ctx, "lost").unwrap_err().message(),
            "sso: profile lost: the sso_session gone has no [sso-session gone] section"
        );
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
