//! `config-file`: static keys in the profile's section of `AWS_CONFIG_FILE`
//! (default `~/.aws/config`).

use super::{static_keys_in, Detection};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::error::Result;

/// Reads the profile's `aws_access_key_id` from the config file only.
pub(super) fn detect(ctx: &ChainContext, profile: &str) -> Result<Detection> {
    static_keys_in(SourceName::ConfigFile, ctx.config.profiles.get_profile(profile), &ctx.config.path)
}

#[cfg(test)]
mod tests {
    use crate::chain::testing::{broken, not_configured, ready, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    const SOURCE: SourceName = SourceName::ConfigFile;

    #[test]
    fn keys_in_the_profile_section_of_the_config_file_are_read() {
        let scratch = Scratch::new();
        scratch.config("[profile dev]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfg-secret\n");
        let credentials = ready(scratch.detect(SOURCE, None, &[("AWS_PROFILE", "dev")]));
        assert_eq!(credentials.source, SOURCE);
        assert_eq!(credentials.access_key_id, "AKIACFG");
        assert_eq!(credentials.secret_access_key.as_str(), "cfg-secret");
        assert!(credentials.session_token.is_none());
    }

    #[test]
    fn keys_in_the_credentials_file_are_not_this_sources() {
        let scratch = Scratch::new();
        scratch.credentials("[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
        let path = scratch.config("[default]\nregion = eu-west-1\n");
        let why = not_configured(scratch.detect(SOURCE, None, &[]));
        assert_eq!(why, format!("the profile has no aws_access_key_id in {}", path.display()));
    }

    #[test]
    fn an_access_key_without_its_secret_is_partial_credentials() {
        let scratch = Scratch::new();
        scratch.config("[default]\naws_access_key_id = AKIACFG\n");
        let error = broken(scratch.detect(SOURCE, None, &[]));
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        assert_eq!(error.message(), "config-file: partial credentials found, missing: aws_secret_access_key");
    }

    #[test]
    fn a_config_section_without_the_profile_prefix_is_not_the_profile() {
        // botocore reads `[profile dev]` in the config file; `[dev]` is not it.
        let scratch = Scratch::new();
        scratch.config("[dev]\naws_access_key_id = A\naws_secret_access_key = s\n");
        let why = not_configured(scratch.detect(SOURCE, None, &[("AWS_PROFILE", "dev")]));
        assert!(why.ends_with("has no section for the profile"), "{why}");
    }
}
