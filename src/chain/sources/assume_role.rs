//! `assume-role`: the profile has `role_arn` with `source_profile` or
//! `credential_source`. aws-config's profile provider runs the whole role
//! chain (source profiles, `credential_source`, `external_id`,
//! `role_session_name`, `duration_seconds`) against STS.

use aws_config::profile::ProfileFileCredentialsProvider;

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::credentials::Credentials;
use crate::error::Result;

/// Applies when the merged profile has `role_arn` and no
/// `web_identity_token_file` (which makes it web identity instead).
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    if ctx.profile_value("role_arn").is_none() {
        return Ok(Detection::NotConfigured("the profile has no role_arn".into()));
    }
    if ctx.profile_value("web_identity_token_file").is_some() {
        return Ok(Detection::NotConfigured("role_arn belongs to web_identity_token_file".into()));
    }
    Ok(Detection::Configured(Plan::AssumeRole { profile: ctx.profile.name.clone() }))
}

/// Builds a fresh profile provider per fetch: it parses the files once and
/// would otherwise keep its first error for ever (aws-sdk-rust#746).
pub(super) async fn fetch(ctx: &ChainContext, profile: &str) -> Result<Credentials> {
    let provider = ProfileFileCredentialsProvider::builder()
        .configure(&provider_config(ctx))
        .profile_name(profile)
        .build();
    delegate(SourceName::AssumeRole, &provider).await
}
