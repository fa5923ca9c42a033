//! `ec2-credentials-file`: the EC2 CLI's legacy file named by
//! `AWS_CREDENTIAL_FILE` (`AWSAccessKeyId=`, `AWSSecretKey=`).

use super::{static_key_pair, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::files::Unreadable;
use crate::chain::ini::parse_key_values;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// Uses the file when the variable is set; a missing file means nothing, a
/// file that is no regular file (or too large) is an error naming it.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let source = SourceName::Ec2CredentialsFile;
    let Some(file) = &ctx.legacy.ec2_credentials else {
        return Ok(Detection::NotConfigured("AWS_CREDENTIAL_FILE is not set".into()));
    };
    let text = match &file.text {
        Ok(text) => text,
        Err(Unreadable::Missing) => {
            return Ok(Detection::NotConfigured(format!("{} cannot be read", file.path.display())))
        }
        Err(Unreadable::Refused(why)) => {
            return Err(Error::from_source(
                ErrorCode::InvalidConfig,
                source.as_str(),
                format!("{} {why}", file.path.display()),
            ))
        }
    };
    let values = parse_key_values(text);
    let get = |key: &str| values.get(key).map(String::as_str);
    let Some((access, secret)) = static_key_pair(source, get, "AWSAccessKeyId", "AWSSecretKey")? else {
        return Ok(Detection::NotConfigured(format!("{} has no AWSAccessKeyId", file.path.display())));
    };
    Ok(Detection::Configured(Plan::Ready(Credentials::new_static(source, access, secret))))
}
