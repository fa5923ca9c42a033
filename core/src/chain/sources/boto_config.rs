//! `boto-config`: Boto2's config file, `[Credentials]` section.

use super::{static_key_pair, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::files::Unreadable;
use crate::chain::ini::parse_ini;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// Tries only `BOTO_CONFIG` when it is set, else `/etc/boto.cfg` then
/// `~/.boto`; the first file with `aws_access_key_id` in `[Credentials]` wins.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let source = SourceName::BotoConfig;
    let broken = |path: &std::path::Path, problem: &str| {
        Error::from_source(ErrorCode::InvalidConfig, source.as_str(), format!("{}: {problem}", path.display()))
    };
    for file in &ctx.legacy.boto {
        let text = match &file.text {
            Ok(text) => text,
            Err(Unreadable::Missing) => continue,
            Err(Unreadable::Refused(why) | Unreadable::Exhausted(why)) => return Err(broken(&file.path, why)),
        };
        let sections = parse_ini(text).map_err(|problem| broken(&file.path, &problem.to_string()))?;
        let Some(section) = sections.get("Credentials") else {
            continue;
        };
        let get = |key: &str| section.get(key);
        if let Some((access, secret)) = static_key_pair(source, get, "aws_access_key_id", "aws_secret_access_key")? {
            return Ok(Detection::Configured(Plan::Ready(Credentials::new_static(source, access, secret))));
        }
    }
    Ok(Detection::NotConfigured("no Boto2 config file with [Credentials] aws_access_key_id".into()))
}

#[cfg(test)]
mod tests {
    use crate::chain::testing::{broken, not_configured, ready, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    const SOURCE: SourceName = SourceName::BotoConfig;
    const NOT_CONFIGURED: &str = "no Boto2 config file with [Credentials] aws_access_key_id";

    #[test]
    fn the_credentials_section_of_boto_config_is_read() {
        let scratch = Scratch::new();
        scratch.write("boto", "[Credentials]\naws_access_key_id = AKIABOTO\naws_secret_access_key: boto-secret\n");
        let credentials = ready(scratch.detect(SOURCE, None, &[]));
        assert_eq!(credentials.source, SOURCE);
        assert_eq!(credentials.access_key_id, "AKIABOTO");
        assert_eq!(credentials.secret_access_key.as_str(), "boto-secret");
        assert!(credentials.session_token.is_none());
    }

    #[test]
    fn a_set_boto_config_is_the_only_file_tried() {
        // botocore's BotoProvider: BOTO_CONFIG replaces /etc/boto.cfg and ~/.boto.
        let scratch = Scratch::new();
        scratch.write(".boto", "[Credentials]\naws_access_key_id = AKIAHOME\naws_secret_access_key = s\n");
        assert_eq!(not_configured(scratch.detect(SOURCE, None, &[])), NOT_CONFIGURED);
    }

    #[test]
    fn a_file_without_a_credentials_section_does_not_apply() {
        let scratch = Scratch::new();
        scratch.write("boto", "[Boto]\naws_access_key_id = AKIABOTO\n");
        assert_eq!(not_configured(scratch.detect(SOURCE, None, &[])), NOT_CONFIGURED);
    }

    #[test]
    fn an_unparsable_file_is_invalid_config_naming_the_line() {
        // RawConfigParser raises MissingSectionHeaderError.
        let scratch = Scratch::new();
        let path = scratch.write("boto", "aws_access_key_id = AKIABOTO\n");
        let error = broken(scratch.detect(SOURCE, None, &[]));
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(
            error.message(),
            format!("boto-config: {}: line 1: a key before the first [section]", path.display())
        );
    }

    #[test]
    fn an_access_key_without_its_secret_is_partial_credentials() {
        let scratch = Scratch::new();
        scratch.write("boto", "[Credentials]\naws_access_key_id = AKIABOTO\n");
        let error = broken(scratch.detect(SOURCE, None, &[]));
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        assert_eq!(error.message(), "boto-config: partial credentials found, missing: aws_secret_access_key");
    }
}
