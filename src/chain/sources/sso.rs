//! `sso`: IAM Identity Center, with an `sso_session` and its
//! `[sso-session NAME]` section, or the legacy `sso_start_url` form; the
//! token comes from `~/.aws/sso/cache`. aws-config's profile provider reads
//! both forms and calls the portal.

use aws_config::profile::ProfileFileCredentialsProvider;

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::Result;

/// Applies when the profile names an SSO account or role (botocore's test);
/// missing companions are reported by the provider as a config error.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let configured = ["sso_account_id", "sso_role_name"].iter().any(|k| ctx.profile_value(k).is_some());
    if !configured {
        return Ok(Detection::NotConfigured("the profile has no sso_account_id or sso_role_name".into()));
    }
    Ok(Detection::Configured(Plan::Sso { profile: ctx.profile.name.clone() }))
}

/// Asks the SSO portal through a fresh profile provider.
pub(super) async fn fetch(ctx: &ChainContext, profile: &str) -> Result<Credentials> {
    let provider =
        ProfileFileCredentialsProvider::builder().configure(&provider_config(ctx)).profile_name(profile).build();
    delegate(SourceName::Sso, &provider).await
}
