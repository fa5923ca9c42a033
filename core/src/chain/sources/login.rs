//! `login`: the profile's `login_session`, credentials from `aws login`,
//! through aws-config's login provider.

use aws_config::login::LoginCredentialsProvider;

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{ErrorCode, Result};

/// Applies when the profile has `login_session`.
pub(super) fn detect(ctx: &ChainContext, profile: &str) -> Result<Detection> {
    match ctx.value_in(profile, "login_session") {
        Some(session) => Ok(Detection::Configured(Plan::Login { session: session.to_owned() })),
        None => Ok(Detection::NotConfigured("the profile has no login_session".into())),
    }
}

/// Reads the cached login token and refreshes it when needed. A token file
/// that cannot be used (a missing field) is the source failing to load, as
/// botocore's `LoginTokenLoadError` says, not invalid configuration, which
/// aws-config calls it; the profile and the network settings are checked
/// before and keep their own code.
pub(super) async fn fetch(ctx: &ChainContext, session: &str) -> Result<Credentials> {
    let provider =
        LoginCredentialsProvider::builder(session).configure(&provider_config(ctx, SourceName::Login)?).build();
    delegate(SourceName::Login, &provider).await.map_err(|error| match error.code() {
        ErrorCode::InvalidConfig => error.with_code(ErrorCode::SourceFailed),
        _ => error,
    })
}

#[cfg(test)]
mod tests {
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    #[test]
    fn a_login_session_applies_with_its_session() {
        let scratch = Scratch::new();
        scratch.config("[default]\nlogin_session = arn:aws:iam::123456789012:user/me\n");
        match plan(scratch.detect(SourceName::Login, None, &[])) {
            Plan::Login { session } => assert_eq!(session, "arn:aws:iam::123456789012:user/me"),
            other => panic!("expected a Login plan, got {other:?}"),
        }
    }

    #[test]
    fn a_profile_without_login_session_does_not_apply() {
        let scratch = Scratch::new();
        scratch.config("[default]\nregion = eu-west-1\n");
        let why = not_configured(scratch.detect(SourceName::Login, None, &[]));
        assert_eq!(why, "the profile has no login_session");
    }
}
