//! `shared-credentials-file`: static keys of the profile in
//! `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`).

use super::{static_keys_in, Detection};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::error::Result;

/// Reads the profile's `aws_access_key_id` from the credentials file only.
pub(super) fn detect(ctx: &ChainContext, profile: &str) -> Result<Detection> {
    static_keys_in(
        SourceName::SharedCredentialsFile,
        ctx.credentials.profiles.get_profile(profile),
        &ctx.credentials.path,
    )
}

#[cfg(test)]
mod tests {
    use crate::chain::testing::{broken, not_configured, ready, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    const SOURCE: SourceName = SourceName::SharedCredentialsFile;

    #[test]
    fn the_profiles_keys_are_read_with_token_and_account_id() {
        let scratch = Scratch::new();
        scratch.credentials(
            "[dev]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n\
             aws_session_token = file-token\naws_account_id = 111122223333\n",
        );
        let credentials = ready(scratch.detect(SOURCE, Some("dev"), &[]));
        assert_eq!(credentials.source, SOURCE);
        assert_eq!(credentials.access_key_id, "AKIAFILE");
        assert_eq!(credentials.secret_access_key.as_str(), "file-secret");
        assert_eq!(credentials.session_token.as_deref().map(String::as_str), Some("file-token"));
        assert_eq!(credentials.account_id.as_deref(), Some("111122223333"));
    }

    #[test]
    fn aws_security_token_wins_over_aws_session_token() {
        // botocore's SharedCredentialProvider.TOKENS order.
        let scratch = Scratch::new();
        scratch.credentials(
            "[default]\naws_access_key_id = A\naws_secret_access_key = s\n\
             aws_session_token = session\naws_security_token = legacy\n",
        );
        let credentials = ready(scratch.detect(SOURCE, None, &[]));
        assert_eq!(credentials.session_token.as_deref().map(String::as_str), Some("legacy"));
    }

    #[test]
    fn an_access_key_without_its_secret_is_partial_credentials() {
        // botocore's _extract_creds_from_mapping: PartialCredentialsError.
        let scratch = Scratch::new();
        scratch.credentials("[default]\naws_access_key_id = AKIAFILE\n");
        let error = broken(scratch.detect(SOURCE, None, &[]));
        assert_eq!(error.code(), ErrorCode::PartialCredentials);
        assert_eq!(
            error.message(),
            "shared-credentials-file: partial credentials found, missing: aws_secret_access_key"
        );
    }

    #[test]
    fn a_profile_without_a_section_does_not_apply() {
        let scratch = Scratch::new();
        let path = scratch.credentials("[other]\naws_access_key_id = A\naws_secret_access_key = s\n");
        let why = not_configured(scratch.detect(SOURCE, None, &[]));
        assert_eq!(why, format!("{} has no section for the profile", path.display()));
    }

    #[test]
    fn keys_in_the_config_file_are_not_this_sources() {
        let scratch = Scratch::new();
        scratch.config("[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
        let path = scratch.credentials("[default]\nregion = eu-west-1\n");
        let why = not_configured(scratch.detect(SOURCE, None, &[]));
        assert_eq!(why, format!("the profile has no aws_access_key_id in {}", path.display()));
    }
}
