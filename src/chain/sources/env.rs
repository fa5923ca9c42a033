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
