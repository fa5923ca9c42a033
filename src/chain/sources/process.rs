//! `custom-process`: the profile's `credential_process`. aws-config runs it
//! through `sh -c` where botocore splits it itself; paths with spaces must
//! be quoted for both to agree.

use aws_config::credential_process::CredentialProcessProvider;

use super::{delegate, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::credentials::Credentials;
use crate::error::Result;

/// Applies when the merged profile has `credential_process`.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    match ctx.profile_value("credential_process") {
        Some(command) => Ok(Detection::Configured(Plan::Process {
            command: command.to_owned(),
            account_id: ctx.profile_value("aws_account_id").map(str::to_owned),
        })),
        None => Ok(Detection::NotConfigured("the profile has no credential_process".into())),
    }
}

/// Runs the process; its JSON may carry `Expiration` and `AccountId`, and
/// the profile's `aws_account_id` fills in a missing account id.
pub(super) async fn fetch(_ctx: &ChainContext, command: &str, account_id: Option<String>) -> Result<Credentials> {
    let provider = CredentialProcessProvider::new(command.to_owned());
    let credentials = delegate(SourceName::CustomProcess, &provider).await?;
    if credentials.account_id.is_none() {
        return Ok(credentials.with_account_id(account_id.as_deref()));
    }
    Ok(credentials)
}
