//! `login`: the profile's `login_session`, credentials from `aws login`,
//! through aws-config's login provider.

use aws_config::login::LoginCredentialsProvider;

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::Result;

/// Applies when the profile has `login_session`.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    match ctx.profile_value("login_session") {
        Some(session) => Ok(Detection::Configured(Plan::Login { session: session.to_owned() })),
        None => Ok(Detection::NotConfigured("the profile has no login_session".into())),
    }
}

/// Reads the cached login token and refreshes it when needed.
pub(super) async fn fetch(ctx: &ChainContext, session: &str) -> Result<Credentials> {
    let provider = LoginCredentialsProvider::builder(session).configure(&provider_config(ctx)).build();
    delegate(SourceName::Login, &provider).await
}
