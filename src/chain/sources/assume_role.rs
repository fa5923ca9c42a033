//! `assume-role`: the profile has `role_arn` with `source_profile` or
//! `credential_source`.
//!
//! credchain walks the role chain itself, as botocore does, so that every
//! hop's `role_session_name`, `external_id` and `duration_seconds` reach STS
//! (aws-config's profile provider drops `duration_seconds`). Each hop is
//! aws-config's `AssumeRoleProvider` over the previous hop's provider; the
//! base is static keys, a named `credential_source`, or aws-config's profile
//! provider for the other base kinds (web identity, SSO, process).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::sts::AssumeRoleProvider;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;

use super::{delegate, metadata_provider_config, provider_config, sts_region, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// Role chains longer than this are configuration loops in practice.
const MAX_HOPS: usize = 8;

/// Applies when the merged profile has `role_arn` and no
/// `web_identity_token_file` (which makes it web identity instead).
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    if ctx.profile_value("role_arn").is_none() {
        return Ok(Detection::NotConfigured("the profile has no role_arn".into()));
    }
    if ctx.profile_value("web_identity_token_file").is_some() {
        return Ok(Detection::NotConfigured("role_arn belongs to web_identity_token_file".into()));
    }
    Ok(Detection::Configured(Plan::AssumeRole { profile: ctx.profile.name.clone() }))
}

/// Builds the chain of providers afresh (the files are re-read for every
/// fetch) and asks its last hop.
pub(super) async fn fetch(ctx: &ChainContext, profile: &str) -> Result<Credentials> {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(sts_region(ctx))
        .http_client(super::http::client(&ctx.network, SourceName::AssumeRole)?)
        .no_credentials()
        .load()
        .await;
    let mut visited = HashSet::new();
    let provider = role_hop(ctx, &sdk_config, profile, &mut visited).await?;
    delegate(SourceName::AssumeRole, &provider).await.map_err(|error| {
        let words = error.message().strip_prefix("assume-role: ").unwrap_or(error.message());
        Error::from_source(error.code(), SourceName::AssumeRole.as_str(), format!("{}: {words}", chain(ctx, profile)))
    })
}

/// One link of a role chain, as the fetch walks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleHop {
    /// A profile whose role is assumed.
    Role {
        /// The profile.
        profile: String,
        /// Its `role_arn`.
        role_arn: String,
    },
    /// The base: a profile whose own credentials (keys, SSO, a process,
    /// web identity) the first role is assumed with.
    Profile(String),
    /// The base: a `credential_source` (`Environment`, `Ec2InstanceMetadata`,
    /// `EcsContainer`).
    CredentialSource(String),
}

impl std::fmt::Display for RoleHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoleHop::Role { profile, role_arn } => write!(f, "profile {profile} (role {role_arn})"),
            RoleHop::Profile(profile) => write!(f, "profile {profile}"),
            RoleHop::CredentialSource(named) => write!(f, "credential_source {named}"),
        }
    }
}

/// The role chain from `profile` down to its base, as the hops above walk
/// it; a loop ends where it would repeat a profile (the fetch refuses it).
pub fn role_chain(ctx: &ChainContext, profile: &str) -> Vec<RoleHop> {
    let mut hops = Vec::new();
    let mut seen = HashSet::new();
    let mut current = profile;
    while seen.insert(current) && hops.len() < MAX_HOPS {
        let Some(role_arn) = ctx.value_in(current, "role_arn") else {
            hops.push(RoleHop::Profile(current.to_owned()));
            break;
        };
        hops.push(RoleHop::Role { profile: current.to_owned(), role_arn: role_arn.to_owned() });
        match (ctx.value_in(current, "source_profile"), ctx.value_in(current, "credential_source")) {
            (Some(next), _) if next != current => current = next,
            (None, Some(named)) => {
                hops.push(RoleHop::CredentialSource(named.to_owned()));
                break;
            }
            _ => break,
        }
    }
    hops
}

/// [`role_chain`] for messages: `profile dev (role arn:…:role/Admin) <-
/// profile base`.
fn chain(ctx: &ChainContext, profile: &str) -> String {
    role_chain(ctx, profile).iter().map(RoleHop::to_string).collect::<Vec<_>>().join(" <- ")
}

type BoxedHop<'a> = Pin<Box<dyn Future<Output = Result<AssumeRoleProvider>> + Send + 'a>>;

/// The provider that assumes `profile`'s role, over its source.
fn role_hop<'a>(
    ctx: &'a ChainContext,
    sdk_config: &'a SdkConfig,
    profile: &'a str,
    visited: &'a mut HashSet<String>,
) -> BoxedHop<'a> {
    Box::pin(async move {
        if !visited.insert(profile.to_owned()) || visited.len() > MAX_HOPS {
            return Err(config_error(format!("the role chain loops through profile {profile}")));
        }
        let value = |key: &str| ctx.value_in(profile, key);
        let role_arn = value("role_arn").ok_or_else(|| config_error(format!("profile {profile} has no role_arn")))?;
        if value("mfa_serial").is_some() {
            return Err(config_error(format!(
                "profile {profile} sets mfa_serial, and a library inside a driver cannot prompt for an MFA \
                 code: use a profile of its own whose credential_process asks for the code once and caches the \
                 session, for example [profile {profile}-mfa] with `credential_process = aws-vault exec \
                 {profile} --json`, or point source_profile at a profile holding the session keys of `aws sts \
                 get-session-token --serial-number ARN --token-code CODE` and drop mfa_serial here"
            )));
        }
        let source = match (value("source_profile"), value("credential_source")) {
            (Some(_), Some(_)) => {
                return Err(config_error(format!(
                    "profile {profile} has both source_profile and credential_source; keep one"
                )))
            }
            (None, None) => {
                return Err(config_error(format!(
                    "profile {profile} has role_arn but neither source_profile nor credential_source"
                )))
            }
            (None, Some(named)) => named_source(ctx, named)?,
            (Some(source), None) => source_profile(ctx, sdk_config, profile, source, visited).await?,
        };
        let mut builder = AssumeRoleProvider::builder(role_arn).configure(sdk_config).region(sts_region(ctx));
        if let Some(name) = value("role_session_name") {
            builder = builder.session_name(name);
        }
        if let Some(id) = value("external_id") {
            builder = builder.external_id(id);
        }
        if let Some(seconds) = value("duration_seconds") {
            let seconds: u64 = seconds.trim().parse().map_err(|_| {
                config_error(format!("profile {profile}: duration_seconds {seconds} is not a number of seconds"))
            })?;
            builder = builder.session_length(Duration::from_secs(seconds));
        }
        Ok(builder.build_from_provider(source).await)
    })
}

/// The credentials a `source_profile` provides: its own static keys when
/// it names itself or has no role, the next hop when it has a role, else
/// whatever aws-config's profile provider finds there (web identity, SSO,
/// process), as botocore resolves a source profile.
async fn source_profile(
    ctx: &ChainContext,
    sdk_config: &SdkConfig,
    profile: &str,
    source: &str,
    visited: &mut HashSet<String>,
) -> Result<SharedCredentialsProvider> {
    if !ctx.has_profile(source) {
        return Err(Error::profile_not_found(source));
    }
    let keys = (ctx.value_in(source, "aws_access_key_id"), ctx.value_in(source, "aws_secret_access_key"));
    let has_role = ctx.value_in(source, "role_arn").is_some();
    if let (Some(access), Some(secret)) = keys {
        if source == profile || !has_role {
            let token = ctx.value_in(source, "aws_session_token").map(str::to_owned);
            let credentials = aws_credential_types::Credentials::new(access, secret, token, None, "source-profile");
            return Ok(SharedCredentialsProvider::new(credentials));
        }
    }
    if has_role && source != profile {
        return Ok(SharedCredentialsProvider::new(role_hop(ctx, sdk_config, source, visited).await?));
    }
    let base = ProfileFileCredentialsProvider::builder()
        .configure(&provider_config(ctx, SourceName::AssumeRole)?)
        .profile_name(source)
        .build();
    Ok(SharedCredentialsProvider::new(base))
}

/// `credential_source`: botocore's canonical names.
fn named_source(ctx: &ChainContext, name: &str) -> Result<SharedCredentialsProvider> {
    match name {
        "Environment" => Ok(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())),
        "EcsContainer" => Ok(SharedCredentialsProvider::new(
            EcsCredentialsProvider::builder().configure(&metadata_provider_config(ctx)).build(),
        )),
        "Ec2InstanceMetadata" => Ok(SharedCredentialsProvider::new(
            ImdsCredentialsProvider::builder().configure(&metadata_provider_config(ctx)).build(),
        )),
        other => Err(config_error(format!(
            "credential_source {other} is not one of Environment, EcsContainer, Ec2InstanceMetadata"
        ))),
    }
}

fn config_error(message: String) -> Error {
    Error::from_source(ErrorCode::InvalidConfig, SourceName::AssumeRole.as_str(), message)
}

#[cfg(test)]
mod tests {
    use super::chain;
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    fn assumed_profile(scratch: &Scratch, vars: &[(&'static str, &str)]) -> String {
        match plan(scratch.detect(SourceName::AssumeRole, None, vars)) {
            Plan::AssumeRole { profile } => profile,
            other => panic!("expected an AssumeRole plan, got {other:?}"),
        }
    }

    #[test]
    fn messages_name_every_hop_of_the_role_chain() {
        let scratch = Scratch::new();
        scratch.config(
            "[profile dev]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = mid\n\
             [profile mid]\nrole_arn = arn:aws:iam::2:role/B\nsource_profile = base\n\
             [profile base]\naws_access_key_id = AKID\naws_secret_access_key = s\n\
             [profile ec2]\nrole_arn = arn:aws:iam::3:role/C\ncredential_source = Ec2InstanceMetadata\n\
             [profile self]\nrole_arn = arn:aws:iam::4:role/D\nsource_profile = self\n\
             [profile loop1]\nrole_arn = arn:aws:iam::5:role/E\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = arn:aws:iam::6:role/F\nsource_profile = loop1\n",
        );
        let ctx = scratch.context(None, &[]);
        assert_eq!(
            chain(&ctx, "dev"),
            "profile dev (role arn:aws:iam::1:role/A) <- profile mid (role arn:aws:iam::2:role/B) <- profile base"
        );
        assert_eq!(
            chain(&ctx, "ec2"),
            "profile ec2 (role arn:aws:iam::3:role/C) <- credential_source Ec2InstanceMetadata"
        );
        assert_eq!(chain(&ctx, "self"), "profile self (role arn:aws:iam::4:role/D)");
        assert_eq!(
            chain(&ctx, "loop1"),
            "profile loop1 (role arn:aws:iam::5:role/E) <- profile loop2 (role arn:aws:iam::6:role/F)"
        );
    }

    #[test]
    fn a_role_with_a_source_profile_is_assumed_for_the_selected_profile() {
        let scratch = Scratch::new();
        scratch.config("[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n");
        assert_eq!(assumed_profile(&scratch, &[("AWS_PROFILE", "dev")]), "dev");
    }

    #[test]
    fn a_role_with_a_credential_source_applies() {
        let scratch = Scratch::new();
        scratch.config("[default]\nrole_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Environment\n");
        assert_eq!(assumed_profile(&scratch, &[]), "default");
    }

    #[test]
    fn a_profile_without_role_arn_does_not_assume_a_role() {
        let scratch = Scratch::new();
        scratch.config("[default]\nsource_profile = base\n");
        let why = not_configured(scratch.detect(SourceName::AssumeRole, None, &[]));
        assert_eq!(why, "the profile has no role_arn");
    }

    #[test]
    fn a_role_with_a_web_identity_token_file_is_left_to_web_identity() {
        // botocore's AssumeRoleProvider._has_assume_role_config_vars.
        let scratch = Scratch::new();
        scratch.config("[default]\nrole_arn = arn:aws:iam::123456789012:role/r\nweb_identity_token_file = /t\n");
        let why = not_configured(scratch.detect(SourceName::AssumeRole, None, &[]));
        assert_eq!(why, "role_arn belongs to web_identity_token_file");
    }

    #[test]
    fn role_arn_in_the_credentials_file_counts() {
        // botocore merges the credentials file's section over the config's.
        let scratch = Scratch::new();
        scratch.credentials("[dev]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n");
        assert_eq!(assumed_profile(&scratch, &[("AWS_PROFILE", "dev")]), "dev");
    }

    #[test]
    fn a_role_without_a_source_is_detected_and_refused_only_by_the_fetch() {
        // botocore's _get_role_config raises at load, without a network call;
        // credchain's detection lets it through and role_hop refuses it.
        let scratch = Scratch::new();
        scratch.config("[default]\nrole_arn = arn:aws:iam::123456789012:role/r\n");
        assert_eq!(assumed_profile(&scratch, &[]), "default");
    }
}
