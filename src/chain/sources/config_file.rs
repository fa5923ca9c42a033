//! `config-file`: static keys in the profile's section of `AWS_CONFIG_FILE`
//! (default `~/.aws/config`).

use super::{profile_token, static_key_pair, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::credentials::Credentials;
use crate::error::Result;

/// Reads the profile's `aws_access_key_id` from the config file only.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let Some(profile) = ctx.config_profile() else {
        return Ok(Detection::NotConfigured(format!(
            "no section for profile {} in {}",
            ctx.profile.name,
            ctx.config.path.display()
        )));
    };
    let get = |key: &str| profile.get(key);
    let source = SourceName::ConfigFile;
    let Some((access, secret)) = static_key_pair(source, get, "aws_access_key_id", "aws_secret_access_key")? else {
        return Ok(Detection::NotConfigured("the profile has no aws_access_key_id in the config file".into()));
    };
    let credentials = Credentials::new_static(source, access, secret)
        .with_session_token(profile_token(get))
        .with_account_id(profile.get("aws_account_id"));
    Ok(Detection::Configured(Plan::Ready(credentials)))
}
