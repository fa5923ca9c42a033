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
        Err(Unreadable::Refused(why) | Unreadable::Exhausted(why)) => {
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

#[cfg(test)]
mod tests {
    use crate::chain::testing::{broken, not_configured, ready, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    const SOURCE: SourceName = SourceName::Ec2CredentialsFile;

    #[test]
    fn the_ec2_cli_file_named_by_aws_credential_file_is_read() {
        let scratch = Scratch::new();
        scratch.write("ec2", "AWSAccessKeyId=AKIAEC2\nAWSSecretKey = ec2-secret\n");
        let credentials = ready(scratch.detect(SOURCE, None, &[("AWS_CREDENTIAL_FILE", scratch.path("ec2").as_str())]));
        assert_eq!(credentials.source, SOURCE);
        assert_eq!(credentials.access_key_id, "AKIAEC2");
        assert_eq!(credentials.secret_access_key.as_str(), "ec2-secret");
    }

    #[test]
    fn without_aws_credential_file_it_does_not_apply() {
        let scratch = Scratch::new();
        assert_eq!(not_configured(scratch.detect(SOURCE, None, &[])), "AWS_CREDENTIAL_FILE is not set");
    }

    #[test]
    fn a_missing_file_does_not_apply_but_a_directory_is_invalid_config() {
        // botocore ignores a file it cannot open.
        let scratch = Scratch::new();
        let missing = scratch.path("nowhere");
        let why = not_configured(scratch.detect(SOURCE, None, &[("AWS_CREDENTIAL_FILE", missing.as_str())]));
        assert_eq!(why, format!("{missing} cannot be read"));
        let folder = scratch.dir().display().to_string();
        let error = broken(scratch.detect(SOURCE, None, &[("AWS_CREDENTIAL_FILE", folder.as_str())]));
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(
            error.message(),
            format!("ec2-credentials-file: {folder} is not a regular file (it is a directory)")
        );
    }

    #[test]
    fn an_access_key_without_its_secret_is_partial_credentials() {
        let scratch = Scratch::new();
        scratch.write("ec2", "AWSAccessKeyId=AKIAEC2\n");
        let error = broken(scratch.detect(SOURCE, None, &[("AWS_CREDENTIAL_FILE", scratch.path("ec2").as_str())]));
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        assert_eq!(error.message(), "ec2-credentials-file: partial credentials found, missing: AWSSecretKey");
    }
}
