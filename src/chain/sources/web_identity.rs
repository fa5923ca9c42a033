//! `assume-role-with-web-identity`: `AWS_WEB_IDENTITY_TOKEN_FILE` +
//! `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`), or the profile's
//! `web_identity_token_file` + `role_arn` (EKS IRSA).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::{ChainContext, ProfileOrigin};
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// The three values the STS call needs, each taken from the environment or
/// the profile.
#[derive(Debug)]
pub struct WebIdentityConfig {
    token_file: PathBuf,
    role_arn: String,
    session_name: String,
}

/// Each value comes from its variable when set, else from the profile, as in
/// botocore; a profile named by the caller ignores the variables.
fn value<'a>(ctx: &'a ChainContext, variable: &str, key: &str) -> Option<&'a str> {
    let from_env = match ctx.profile.origin {
        ProfileOrigin::Caller => None,
        _ => ctx.env.get(variable),
    };
    from_env.or_else(|| ctx.profile_value(key))
}

/// Applies when a token file is configured; a token file without a role is
/// botocore's `InvalidConfigError`.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let Some(token_file) =
        value(ctx, "AWS_WEB_IDENTITY_TOKEN_FILE", "web_identity_token_file").filter(|f| !f.is_empty())
    else {
        return Ok(Detection::NotConfigured("no web identity token file is configured".into()));
    };
    let Some(role_arn) = value(ctx, "AWS_ROLE_ARN", "role_arn").filter(|r| !r.is_empty()) else {
        return Err(Error::from_source(
            ErrorCode::InvalidConfig,
            SourceName::AssumeRoleWithWebIdentity.as_str(),
            "a web identity token file is configured but no role ARN: set role_arn in the profile or AWS_ROLE_ARN",
        ));
    };
    let session_name = value(ctx, "AWS_ROLE_SESSION_NAME", "role_session_name")
        .map(str::to_owned)
        .unwrap_or_else(default_session_name);
    Ok(Detection::Configured(Plan::WebIdentity(WebIdentityConfig {
        token_file: PathBuf::from(token_file),
        role_arn: role_arn.to_owned(),
        session_name,
    })))
}

/// botocore names sessions `botocore-session-<unix seconds>`.
fn default_session_name() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("credchain-session-{now}")
}

/// Calls STS AssumeRoleWithWebIdentity through aws-config.
pub(super) async fn fetch(ctx: &ChainContext, config: WebIdentityConfig) -> Result<Credentials> {
    let provider = WebIdentityTokenCredentialsProvider::builder()
        .configure(&provider_config(ctx))
        .static_configuration(StaticConfiguration {
            web_identity_token_file: config.token_file,
            role_arn: config.role_arn,
            session_name: config.session_name,
        })
        .build();
    delegate(SourceName::AssumeRoleWithWebIdentity, &provider).await
}
