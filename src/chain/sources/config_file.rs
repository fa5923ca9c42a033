//! `config-file`: static keys in the profile's section of `AWS_CONFIG_FILE`
//! (default `~/.aws/config`).

use super::{static_keys_in, Detection};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::error::Result;

/// Reads the profile's `aws_access_key_id` from the config file only.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    static_keys_in(SourceName::ConfigFile, ctx.config_profile(), &ctx.config.path)
}
