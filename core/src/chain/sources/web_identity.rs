//! `assume-role-with-web-identity`: `AWS_WEB_IDENTITY_TOKEN_FILE` +
//! `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`), or the profile's
//! `web_identity_token_file` + `role_arn` (EKS IRSA).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::{ChainContext, ProfileOrigin};
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// The three values the STS call needs, each taken from the environment or
/// the profile.
#[derive(Debug)]
pub struct WebIdentityConfig {
    token_file: PathBuf,
    role_arn: String,
    session_name: String,
}

/// Each value comes from its variable when set, else from the profile, as in
/// botocore; a profile named by the caller ignores the variables.
fn value<'a>(ctx: &'a ChainContext, variable: &str, key: &str) -> Option<&'a str> {
    let from_env = match ctx.profile.origin {
        ProfileOrigin::Caller => None,
        _ => ctx.env.get(variable),
    };
    from_env.or_else(|| ctx.profile_value(key))
}

/// Applies when a token file is configured; a token file without a role is
/// botocore's `InvalidConfigError`.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    configured(
        value(ctx, "AWS_WEB_IDENTITY_TOKEN_FILE", "web_identity_token_file"),
        value(ctx, "AWS_ROLE_ARN", "role_arn"),
        value(ctx, "AWS_ROLE_SESSION_NAME", "role_session_name"),
    )
}

/// The same for a role chain's source profile: its own keys only, never
/// the variables (botocore builds this provider with `disable_env_vars`).
pub(super) fn detect_profile(ctx: &ChainContext, profile: &str) -> Result<Detection> {
    let value = |key| ctx.value_in(profile, key);
    configured(value("web_identity_token_file"), value("role_arn"), value("role_session_name"))
}

fn configured(token_file: Option<&str>, role_arn: Option<&str>, session_name: Option<&str>) -> Result<Detection> {
    let Some(token_file) = token_file.filter(|f| !f.is_empty()) else {
        return Ok(Detection::NotConfigured("no web identity token file is configured".into()));
    };
    let Some(role_arn) = role_arn.filter(|r| !r.is_empty()) else {
        return Err(Error::from_source(
            ErrorCode::InvalidConfig,
            SourceName::AssumeRoleWithWebIdentity.as_str(),
            "a web identity token file is configured but no role ARN: set role_arn in the profile or AWS_ROLE_ARN",
        ));
    };
    let session_name = session_name.map(str::to_owned).unwrap_or_else(default_session_name);
    Ok(Detection::Configured(Plan::WebIdentity(WebIdentityConfig {
        token_file: PathBuf::from(token_file),
        role_arn: role_arn.to_owned(),
        session_name,
    })))
}

/// The session name when the profile sets none: botocore's
/// `botocore-session-<unix seconds>`, with credchain's name.
pub(super) fn default_session_name() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("credchain-session-{now}")
}

/// Calls STS AssumeRoleWithWebIdentity through aws-config.
/// A token file that cannot be read is named in the error (aws-config's own
/// words give only the operating system's).
pub(super) async fn fetch(ctx: &ChainContext, config: WebIdentityConfig) -> Result<Credentials> {
    let token_file = config.token_file.clone();
    let provider = WebIdentityTokenCredentialsProvider::builder()
        .configure(&provider_config(ctx, SourceName::AssumeRoleWithWebIdentity)?)
        .static_configuration(StaticConfiguration {
            web_identity_token_file: config.token_file,
            role_arn: config.role_arn,
            session_name: config.session_name,
        })
        .build();
    let error = match delegate(SourceName::AssumeRoleWithWebIdentity, &provider).await {
        Ok(credentials) => return Ok(credentials),
        Err(error) => error,
    };
    match tokio::fs::File::open(&token_file).await {
        Ok(_) => Err(error),
        Err(unreadable) => Err(Error::from_source(
            ErrorCode::SourceFailed,
            SourceName::AssumeRoleWithWebIdentity.as_str(),
            format!("the web identity token file {} cannot be read: {unreadable}", token_file.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::WebIdentityConfig;
    use crate::chain::sources::Plan;
    use crate::chain::testing::{broken, not_configured, plan, Scratch};
    use crate::chain::SourceName;
    use crate::types::error::ErrorCode;

    const ROLE: &str = "arn:aws:iam::123456789012:role/web";

    fn config(scratch: &Scratch, profile: Option<&str>, vars: &[(&'static str, &str)]) -> WebIdentityConfig {
        match plan(scratch.detect(SourceName::AssumeRoleWithWebIdentity, profile, vars)) {
            Plan::WebIdentity(config) => config,
            other => panic!("expected a WebIdentity plan, got {other:?}"),
        }
    }

    #[test]
    fn the_variables_configure_the_token_file_role_and_session_name() {
        let scratch = Scratch::new();
        let vars =
            [("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/token"), ("AWS_ROLE_ARN", ROLE), ("AWS_ROLE_SESSION_NAME", "pod")];
        let config = config(&scratch, None, &vars);
        assert_eq!(config.token_file, std::path::Path::new("/var/token"));
        assert_eq!(config.role_arn, ROLE);
        assert_eq!(config.session_name, "pod");
    }

    #[test]
    fn a_token_file_without_a_role_is_invalid_config() {
        // botocore's AssumeRoleWithWebIdentityProvider raises InvalidConfigError.
        let scratch = Scratch::new();
        let error = broken(scratch.detect(
            SourceName::AssumeRoleWithWebIdentity,
            None,
            &[("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/token")],
        ));
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(error.source_name(), Some("assume-role-with-web-identity"));
        assert!(error.message().contains("no role ARN: set role_arn in the profile or AWS_ROLE_ARN"), "{error:?}");
    }

    #[test]
    fn the_profile_configures_it_with_a_generated_session_name() {
        let scratch = Scratch::new();
        scratch.config(&format!("[default]\nweb_identity_token_file = /p/token\nrole_arn = {ROLE}\n"));
        let config = config(&scratch, None, &[]);
        assert_eq!(config.token_file, std::path::Path::new("/p/token"));
        assert_eq!(config.role_arn, ROLE);
        assert!(config.session_name.starts_with("credchain-session-"), "{}", config.session_name);
    }

    #[test]
    fn each_variable_wins_over_its_profile_key() {
        // botocore's _get_config: the variable, else the profile, key by key.
        let scratch = Scratch::new();
        scratch.config("[default]\nweb_identity_token_file = /p/token\nrole_arn = arn:aws:iam::1:role/profile\n");
        let config = config(&scratch, None, &[("AWS_ROLE_ARN", ROLE)]);
        assert_eq!(config.token_file, std::path::Path::new("/p/token"));
        assert_eq!(config.role_arn, ROLE);
    }

    #[test]
    fn a_profile_named_by_the_caller_ignores_the_variables() {
        // botocore disables the environment for a profile passed to the session.
        let scratch = Scratch::new();
        scratch.credentials("[dev]\naws_access_key_id = AKIA\naws_secret_access_key = s\n");
        let vars = [("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/token"), ("AWS_ROLE_ARN", ROLE)];
        let why = not_configured(scratch.detect(SourceName::AssumeRoleWithWebIdentity, Some("dev"), &vars));
        assert_eq!(why, "no web identity token file is configured");
    }

    #[test]
    fn an_empty_token_file_variable_hides_the_profiles_token_file() {
        // botocore tests `key in os.environ`, then `if not token_path`.
        let scratch = Scratch::new();
        scratch.config(&format!("[default]\nweb_identity_token_file = /p/token\nrole_arn = {ROLE}\n"));
        let vars = [("AWS_WEB_IDENTITY_TOKEN_FILE", "")];
        let why = not_configured(scratch.detect(SourceName::AssumeRoleWithWebIdentity, None, &vars));
        assert_eq!(why, "no web identity token file is configured");
    }
}
