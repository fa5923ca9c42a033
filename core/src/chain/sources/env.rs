//! `env`: keys from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.

use super::{Detection, Plan};
use crate::chain::context::{ChainContext, ProfileOrigin};
use crate::chain::SourceName;
use crate::types::credentials::parse_rfc3339;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

const ACCESS_KEY: &str = "AWS_ACCESS_KEY_ID";
const SECRET_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// botocore's order: the first non-empty one wins.
const TOKENS: [&str; 2] = ["AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"];
const EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
const ACCOUNT_ID: &str = "AWS_ACCOUNT_ID";

/// Reads the environment. A profile named by the caller skips this source
/// (botocore removes its env provider then); one named by `AWS_PROFILE`
/// does not. With `AWS_CREDENTIAL_EXPIRATION` the credentials expire and
/// are re-read from the environment at refresh.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    if matches!(ctx.profile.origin, ProfileOrigin::Caller) {
        return Ok(Detection::NotConfigured("skipped: the caller named a profile".into()));
    }
    let env = &ctx.env;
    let has_secret = env.non_empty(SECRET_KEY).is_some();
    let Some(access_key) = env.non_empty(ACCESS_KEY) else {
        if has_secret {
            // botocore ignores a lone secret; docs/design.md asks for an error
            // naming the missing key, which tells the user more.
            return Err(partial(ACCESS_KEY));
        }
        return Ok(Detection::NotConfigured(format!("{ACCESS_KEY} is not set")));
    };
    let Some(secret_key) = env.non_empty(SECRET_KEY) else {
        return Err(partial(SECRET_KEY));
    };
    let token = TOKENS.iter().find_map(|name| env.non_empty(name));
    let expiration = match env.non_empty(EXPIRATION) {
        None => None,
        Some(text) => Some(parse_rfc3339(text).ok_or_else(|| {
            Error::from_source(
                ErrorCode::InvalidConfig,
                SourceName::Env.as_str(),
                format!("{EXPIRATION} is not an ISO 8601 time"),
            )
        })?),
    };
    let credentials = Credentials::new_static(SourceName::Env, access_key, secret_key)
        .with_session_token(token)
        .with_account_id(env.non_empty(ACCOUNT_ID))
        .with_expiration(expiration);
    Ok(Detection::Configured(Plan::Ready(credentials)))
}

fn partial(missing: &str) -> Error {
    Error::from_source(
        ErrorCode::PartialCredentials,
        SourceName::Env.as_str(),
        format!("partial credentials found, missing: {missing}"),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use crate::chain::testing::{broken, not_configured, ready, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    const KEYS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "AKIAENV"), ("AWS_SECRET_ACCESS_KEY", "env-secret")];

    #[test]
    fn both_keys_are_read_with_the_token_and_the_account_id() {
        let scratch = Scratch::new();
        let vars = [KEYS[0], KEYS[1], ("AWS_SESSION_TOKEN", "env-token"), ("AWS_ACCOUNT_ID", "111122223333")];
        let credentials = ready(scratch.detect(SourceName::Env, None, &vars));
        assert_eq!(credentials.source, SourceName::Env);
        assert_eq!(credentials.access_key_id, "AKIAENV");
        assert_eq!(credentials.secret_access_key.as_str(), "env-secret");
        assert_eq!(credentials.session_token.as_deref().map(String::as_str), Some("env-token"));
        assert_eq!(credentials.account_id.as_deref(), Some("111122223333"));
        assert_eq!(credentials.expiration, None);
    }

    #[test]
    fn the_security_token_wins_over_the_session_token() {
        // botocore's EnvProvider tries AWS_SECURITY_TOKEN first.
        let scratch = Scratch::new();
        let vars = [KEYS[0], KEYS[1], ("AWS_SESSION_TOKEN", "session"), ("AWS_SECURITY_TOKEN", "legacy")];
        let credentials = ready(scratch.detect(SourceName::Env, None, &vars));
        assert_eq!(credentials.session_token.as_deref().map(String::as_str), Some("legacy"));
    }

    #[test]
    fn an_access_key_without_its_secret_is_partial_credentials() {
        // botocore: PartialCredentialsError naming the missing variable.
        let scratch = Scratch::new();
        let error = broken(scratch.detect(SourceName::Env, None, &[KEYS[0]]));
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        assert_eq!(error.message(), "env: partial credentials found, missing: AWS_SECRET_ACCESS_KEY");
        assert_eq!(error.source_name(), Some("env"));
    }

    #[test]
    fn a_lone_secret_is_partial_credentials_naming_the_access_key() {
        // botocore ignores a lone secret; docs/design.md asks for an error.
        let scratch = Scratch::new();
        let error = broken(scratch.detect(SourceName::Env, None, &[KEYS[1]]));
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        assert_eq!(error.message(), "env: partial credentials found, missing: AWS_ACCESS_KEY_ID");
    }

    #[test]
    fn an_empty_access_key_counts_as_unset() {
        // botocore: `if access_key:`, so an empty value is no value.
        let scratch = Scratch::new();
        let why = not_configured(scratch.detect(SourceName::Env, None, &[("AWS_ACCESS_KEY_ID", "")]));
        assert_eq!(why, "AWS_ACCESS_KEY_ID is not set");
    }

    #[test]
    fn a_profile_named_by_the_caller_skips_the_environment_but_aws_profile_does_not() {
        // botocore drops its env provider only for a profile passed to the session.
        let scratch = Scratch::new();
        let why = not_configured(scratch.detect(SourceName::Env, Some("dev"), &KEYS));
        assert_eq!(why, "skipped: the caller named a profile");
        let vars = [KEYS[0], KEYS[1], ("AWS_PROFILE", "dev")];
        assert_eq!(ready(scratch.detect(SourceName::Env, None, &vars)).access_key_id, "AKIAENV");
    }

    #[test]
    fn the_expiration_is_parsed_and_a_malformed_one_is_invalid_config() {
        // botocore's EnvProvider parses AWS_CREDENTIAL_EXPIRATION as ISO 8601.
        let scratch = Scratch::new();
        let vars = [KEYS[0], KEYS[1], ("AWS_CREDENTIAL_EXPIRATION", "2031-02-03T04:05:06Z")];
        let credentials = ready(scratch.detect(SourceName::Env, None, &vars));
        assert_eq!(credentials.expiration, Some(UNIX_EPOCH + Duration::from_secs(1_927_857_906)));
        let vars = [KEYS[0], KEYS[1], ("AWS_CREDENTIAL_EXPIRATION", "soon")];
        let error = broken(scratch.detect(SourceName::Env, None, &vars));
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(error.message(), "env: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
    }
}
