//! `shared-credentials-file`: static keys of the profile in
//! `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`).

use super::{static_keys_in, Detection};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::error::Result;

/// Reads the profile's `aws_access_key_id` from the credentials file only.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    static_keys_in(SourceName::SharedCredentialsFile, ctx.credentials_profile(), &ctx.credentials.path)
}
