//! `ec2-credentials-file`: the EC2 CLI's legacy file named by
//! `AWS_CREDENTIAL_FILE` (`AWSAccessKeyId=`, `AWSSecretKey=`).

use super::{static_key_pair, Detection, Plan};
use crate::chain::context::{expand_home, ChainContext};
use crate::chain::ini::parse_key_values;
use crate::chain::SourceName;
use crate::credentials::Credentials;
use crate::error::Result;

/// Reads the file when the variable is set; a missing file means nothing.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let Some(path) = ctx.env.get("AWS_CREDENTIAL_FILE") else {
        return Ok(Detection::NotConfigured("AWS_CREDENTIAL_FILE is not set".into()));
    };
    let path = expand_home(path, &ctx.env);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Detection::NotConfigured(format!("{} cannot be read", path.display())));
    };
    let values = parse_key_values(&text);
    let get = |key: &str| values.get(key).map(String::as_str);
    let source = SourceName::Ec2CredentialsFile;
    let Some((access, secret)) = static_key_pair(source, get, "AWSAccessKeyId", "AWSSecretKey")? else {
        return Ok(Detection::NotConfigured(format!("{} has no AWSAccessKeyId", path.display())));
    };
    Ok(Detection::Configured(Plan::Ready(Credentials::new_static(source, access, secret))))
}
