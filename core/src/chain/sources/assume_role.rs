//! `assume-role`: the profile has `role_arn` with `source_profile` or
//! `credential_source`.
//!
//! credchain walks the role chain itself, as botocore's `AssumeRoleProvider`
//! does, so that every hop's `role_session_name`, `external_id` and
//! `duration_seconds` reach STS (aws-config's profile provider drops
//! `duration_seconds`). The walk is offline ([`plan_chain`]): from the
//! selected profile down through `source_profile`s to the base, which is
//! either a `credential_source` or a source profile's own credentials, found
//! by the same detection as the chain's (web identity, SSO, keys, `aws
//! login`, a process: [`super::SOURCE_PROFILE_ORDER`]). A source profile
//! with keys is a base even when it has a `role_arn` of its own, as in
//! botocore. The fetch then gets the base's credentials and assumes each
//! role from the bottom up, one STS `AssumeRole` per hop.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::sts::AssumeRoleProvider;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;

use super::{delegate, detect_source_profile, metadata_provider_config, sts_region, Detection, Plan, Services};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// The keys whose presence makes a profile's own keys its credentials
/// (botocore's `_has_static_credentials` tests presence, either key).
const STATIC_KEYS: [&str; 2] = ["aws_access_key_id", "aws_secret_access_key"];

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

/// One role of a chain: the profile that names it and what STS is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleStep {
    /// The profile with the `role_arn`.
    pub profile: String,
    /// The role to assume.
    pub role_arn: String,
    /// `role_session_name`, when set.
    pub session_name: Option<String>,
    /// `external_id`, when set.
    pub external_id: Option<String>,
    /// `duration_seconds`, when set.
    pub duration: Option<Duration>,
}

/// Where a role chain's first credentials come from.
#[derive(Debug)]
pub enum ChainBase {
    /// A source profile's own credentials.
    Profile {
        /// The source profile.
        profile: String,
        /// The source that provides them (keys, web identity, SSO...).
        source: SourceName,
        /// How to get them.
        plan: Plan,
    },
    /// `credential_source`: `Environment`, `Ec2InstanceMetadata` or
    /// `EcsContainer`.
    CredentialSource(String),
}

/// A role chain as far as it could be walked: the roles from the selected
/// profile down, and the base or why there is none.
#[derive(Debug)]
pub struct RoleChain {
    /// The roles, the selected profile's first.
    pub roles: Vec<RoleStep>,
    /// The base, or the configuration error that ends the walk.
    pub base: Result<ChainBase>,
}

/// Walks `profile`'s role chain without any network call, as botocore's
/// `AssumeRoleProvider` does: each profile's role, then its source. A
/// source profile that was already visited is a loop, unless a profile
/// names itself and has keys (botocore allows that, to keep the keys and
/// the role in one profile).
pub fn plan_chain(ctx: &ChainContext, profile: &str) -> RoleChain {
    let mut roles = Vec::new();
    let base = walk(ctx, profile, &mut roles);
    RoleChain { roles, base }
}

fn walk(ctx: &ChainContext, profile: &str, roles: &mut Vec<RoleStep>) -> Result<ChainBase> {
    let mut visited = vec![profile.to_owned()];
    let mut current = profile.to_owned();
    loop {
        roles.push(role_step(ctx, &current)?);
        let source = match source_of(ctx, &current)? {
            Source::Named(named) => return Ok(ChainBase::CredentialSource(named)),
            Source::Profile(source) => source,
        };
        if !ctx.has_profile(&source) {
            return Err(config_error(format!(
                "the source_profile {source} of profile {current} exists in neither file"
            )));
        }
        if visited.contains(&source) && (source != current || !has_static_keys(ctx, &source)) {
            visited.push(source.clone());
            return Err(config_error(format!("the role chain loops: {}", visited.join(" -> "))));
        }
        visited.push(source.clone());
        if has_static_keys(ctx, &source) || !has_role(ctx, &source) {
            return match detect_source_profile(ctx, &source)? {
                Some((found, plan)) => Ok(ChainBase::Profile { profile: source, source: found, plan }),
                None => Err(config_error(format!(
                    "the source profile {source} has no credentials (no keys, web identity, SSO, login or \
                     credential_process)"
                ))),
            };
        }
        current = source;
    }
}

/// Whether the merged profile has either static key.
fn has_static_keys(ctx: &ChainContext, profile: &str) -> bool {
    STATIC_KEYS.iter().any(|key| ctx.value_in(profile, key).is_some())
}

/// Whether the profile assumes a role itself (`role_arn` without
/// `web_identity_token_file`, which makes the role web identity's).
fn has_role(ctx: &ChainContext, profile: &str) -> bool {
    ctx.value_in(profile, "role_arn").is_some() && ctx.value_in(profile, "web_identity_token_file").is_none()
}

/// A profile's role and its STS parameters.
fn role_step(ctx: &ChainContext, profile: &str) -> Result<RoleStep> {
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
    let duration = match value("duration_seconds") {
        None => None,
        Some(seconds) => Some(Duration::from_secs(seconds.trim().parse().map_err(|_| {
            config_error(format!("profile {profile}: duration_seconds {seconds} is not a number of seconds"))
        })?)),
    };
    Ok(RoleStep {
        profile: profile.to_owned(),
        role_arn: role_arn.to_owned(),
        session_name: value("role_session_name").map(str::to_owned),
        external_id: value("external_id").map(str::to_owned),
        duration,
    })
}

/// Where a role's credentials come from.
enum Source {
    Profile(String),
    Named(String),
}

/// `source_profile` or `credential_source` (exactly one of them).
fn source_of(ctx: &ChainContext, profile: &str) -> Result<Source> {
    match (ctx.value_in(profile, "source_profile"), ctx.value_in(profile, "credential_source")) {
        (Some(_), Some(_)) => {
            Err(config_error(format!("profile {profile} has both source_profile and credential_source; keep one")))
        }
        // botocore's PartialCredentialsError: half of what a role needs.
        (None, None) => Err(config_error_with(
            ErrorCode::PartialCredentials,
            format!("profile {profile} has role_arn but neither source_profile nor credential_source"),
        )),
        (None, Some(named)) if NAMED_SOURCES.contains(&named) => Ok(Source::Named(named.to_owned())),
        (None, Some(other)) => Err(config_error(format!(
            "profile {profile}: credential_source {other} is not one of {}",
            NAMED_SOURCES.join(", ")
        ))),
        (Some(source), None) => Ok(Source::Profile(source.to_owned())),
    }
}

/// botocore's canonical `credential_source` names.
const NAMED_SOURCES: [&str; 3] = ["Environment", "EcsContainer", "Ec2InstanceMetadata"];

/// Gets the base's credentials and assumes each role from the bottom up.
/// Every failure names the whole chain.
pub(super) async fn fetch(ctx: &ChainContext, profile: &str, services: &Services) -> Result<Credentials> {
    let named = |error: Error| name_the_chain(ctx, profile, error);
    let chain = plan_chain(ctx, profile);
    let base = chain.base.map_err(named)?;
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(sts_region(ctx))
        .http_client(super::http::client(&ctx.network, SourceName::AssumeRole)?)
        .no_credentials()
        .load()
        .await;
    let mut credentials = base_credentials(ctx, base, services).await.map_err(named)?;
    for step in chain.roles.iter().rev() {
        credentials = assume(ctx, &sdk_config, step, &credentials).await.map_err(named)?;
    }
    Ok(credentials)
}

type BoxedFetch<'a> = Pin<Box<dyn Future<Output = Result<Credentials>> + Send + 'a>>;

/// The base's credentials: the source profile's plan, carried out as the
/// chain carries out its own (boxed: the plan's fetch may lead back here
/// only through another plan, but the types are recursive).
fn base_credentials<'a>(ctx: &'a ChainContext, base: ChainBase, services: &'a Services) -> BoxedFetch<'a> {
    Box::pin(async move {
        match base {
            ChainBase::Profile { plan, .. } => super::fetch_plan(plan, ctx, services).await,
            ChainBase::CredentialSource(named) => {
                let provider = named_source(ctx, &named);
                delegate(SourceName::AssumeRole, &provider).await.map_err(|error| {
                    let detail = format!("credential_source {named}: {}", error.detail());
                    error.with_detail(detail)
                })
            }
        }
    })
}

/// One STS `AssumeRole` call for `step`, signed with `credentials`.
async fn assume(
    ctx: &ChainContext,
    sdk_config: &SdkConfig,
    step: &RoleStep,
    credentials: &Credentials,
) -> Result<Credentials> {
    let signing = aws_credential_types::Credentials::new(
        credentials.access_key_id.as_str(),
        credentials.secret_access_key.as_str(),
        credentials.session_token.as_ref().map(|token| token.as_str().to_owned()),
        credentials.expiration,
        "credchain-role-chain",
    );
    let session_name = step.session_name.clone().unwrap_or_else(super::web_identity::default_session_name);
    let mut builder = AssumeRoleProvider::builder(&step.role_arn)
        .configure(sdk_config)
        .region(sts_region(ctx))
        .session_name(session_name);
    if let Some(id) = &step.external_id {
        builder = builder.external_id(id);
    }
    if let Some(duration) = step.duration {
        builder = builder.session_length(duration);
    }
    let provider = builder.build_from_provider(SharedCredentialsProvider::new(signing)).await;
    delegate(SourceName::AssumeRole, &provider).await
}

/// `assume-role: words` as `assume-role: <the chain>: words` (when the
/// walk got as far as a first role). Another source's failure (the base's)
/// becomes the role chain's, its whole message the words and itself the
/// cause, so that its own cause stays reachable through `source()`.
fn name_the_chain(ctx: &ChainContext, profile: &str, error: Error) -> Error {
    let chain = chain(ctx, profile);
    if chain.is_empty() {
        return error;
    }
    if error.source_name() == Some(SourceName::AssumeRole.as_str()) {
        let detail = format!("{chain}: {}", error.detail());
        return error.with_detail(detail);
    }
    Error::from_source(error.code(), SourceName::AssumeRole.as_str(), format!("{chain}: {error}")).with_cause(error)
}

/// One link of a role chain, for people (messages and the doctor).
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
    Profile {
        /// The source profile.
        profile: String,
        /// The source that provides its credentials.
        source: SourceName,
    },
    /// The base: a `credential_source` (`Environment`, `Ec2InstanceMetadata`,
    /// `EcsContainer`).
    CredentialSource(String),
}

impl std::fmt::Display for RoleHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoleHop::Role { profile, role_arn } => write!(f, "profile {profile} (role {role_arn})"),
            RoleHop::Profile { profile, source } => write!(f, "profile {profile} ({source})"),
            RoleHop::CredentialSource(named) => write!(f, "credential_source {named}"),
        }
    }
}

/// The role chain from `profile` down to its base, as [`plan_chain`]
/// walks it; a broken chain ends at the last role walked.
pub fn role_chain(ctx: &ChainContext, profile: &str) -> Vec<RoleHop> {
    let chain = plan_chain(ctx, profile);
    let mut hops: Vec<RoleHop> =
        chain.roles.into_iter().map(|step| RoleHop::Role { profile: step.profile, role_arn: step.role_arn }).collect();
    match chain.base {
        Ok(ChainBase::Profile { profile, source, .. }) => hops.push(RoleHop::Profile { profile, source }),
        Ok(ChainBase::CredentialSource(named)) => hops.push(RoleHop::CredentialSource(named)),
        Err(_) => {}
    }
    hops
}

/// [`role_chain`] for messages: `profile dev (role arn:…:role/Admin) <-
/// profile base`.
fn chain(ctx: &ChainContext, profile: &str) -> String {
    role_chain(ctx, profile).iter().map(RoleHop::to_string).collect::<Vec<_>>().join(" <- ")
}

/// `credential_source`'s provider. Its name was checked by the walk.
fn named_source(ctx: &ChainContext, name: &str) -> SharedCredentialsProvider {
    match name {
        "Environment" => SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()),
        "EcsContainer" => SharedCredentialsProvider::new(
            EcsCredentialsProvider::builder().configure(&metadata_provider_config(ctx)).build(),
        ),
        _ => SharedCredentialsProvider::new(
            ImdsCredentialsProvider::builder().configure(&metadata_provider_config(ctx)).build(),
        ),
    }
}

fn config_error(message: String) -> Error {
    config_error_with(ErrorCode::InvalidConfig, message)
}

fn config_error_with(code: ErrorCode, message: String) -> Error {
    Error::from_source(code, SourceName::AssumeRole.as_str(), message)
}

#[cfg(test)]
mod tests {
    use super::{chain, plan_chain, ChainBase, RoleStep};
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
             [profile loop1]\nrole_arn = arn:aws:iam::5:role/E\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = arn:aws:iam::6:role/F\nsource_profile = loop1\n",
        );
        let ctx = scratch.context(None, &[]);
        assert_eq!(
            chain(&ctx, "dev"),
            "profile dev (role arn:aws:iam::1:role/A) <- profile mid (role arn:aws:iam::2:role/B) <- profile base \
             (config-file)"
        );
        assert_eq!(
            chain(&ctx, "ec2"),
            "profile ec2 (role arn:aws:iam::3:role/C) <- credential_source Ec2InstanceMetadata"
        );
        assert_eq!(
            chain(&ctx, "loop1"),
            "profile loop1 (role arn:aws:iam::5:role/E) <- profile loop2 (role arn:aws:iam::6:role/F)"
        );
    }

    /// The base of `profile`'s chain: (source profile, source), or the
    /// walk's error message.
    fn base(scratch: &Scratch, profile: &str) -> std::result::Result<(String, SourceName), String> {
        let ctx = scratch.context(None, &[]);
        match plan_chain(&ctx, profile).base {
            Ok(ChainBase::Profile { profile, source, .. }) => Ok((profile, source)),
            Ok(ChainBase::CredentialSource(named)) => Err(format!("credential_source {named}")),
            Err(error) => Err(error.message().to_owned()),
        }
    }

    const ROLE: &str = "role_arn = arn:aws:iam::1:role/A\n";

    #[test]
    fn a_source_profile_with_keys_is_the_base_even_with_a_role_of_its_own() {
        // botocore's _resolve_credentials_from_profile: static keys first.
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile dev]\n{ROLE}source_profile = base\n\
             [profile base]\n{ROLE}source_profile = other\naws_access_key_id = AKID\naws_secret_access_key = s\n"
        ));
        assert_eq!(base(&scratch, "dev"), Ok(("base".into(), SourceName::ConfigFile)));
    }

    #[test]
    fn a_source_profile_is_resolved_in_botocores_profile_provider_order() {
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile dev]\n{ROLE}source_profile = web\n\
             [profile web]\nrole_arn = arn:aws:iam::1:role/W\nweb_identity_token_file = /t\n\
             [profile sso]\n{ROLE}source_profile = corp\n\
             [profile corp]\nsso_account_id = 1\nsso_role_name = R\nsso_start_url = https://s\nsso_region = r\n\
             [profile proc]\n{ROLE}source_profile = both\n\
             [profile both]\ncredential_process = true\naws_access_key_id = A\naws_secret_access_key = s\n\
             [profile proc2]\n{ROLE}source_profile = creds\n\
             [profile creds]\ncredential_process = true\n"
        ));
        scratch.credentials("[creds]\naws_access_key_id = A\naws_secret_access_key = s\n");
        assert_eq!(base(&scratch, "dev"), Ok(("web".into(), SourceName::AssumeRoleWithWebIdentity)));
        assert_eq!(base(&scratch, "sso"), Ok(("corp".into(), SourceName::Sso)));
        // Keys in the config file lose to the process; in the credentials file they win.
        assert_eq!(base(&scratch, "proc"), Ok(("both".into(), SourceName::CustomProcess)));
        assert_eq!(base(&scratch, "proc2"), Ok(("creds".into(), SourceName::SharedCredentialsFile)));
    }

    #[test]
    fn loops_are_refused_naming_the_loop_but_a_profile_may_source_its_own_keys() {
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile self]\n{ROLE}source_profile = self\naws_access_key_id = A\naws_secret_access_key = s\n\
             [profile bare]\n{ROLE}source_profile = bare\n\
             [profile a]\n{ROLE}source_profile = b\n[profile b]\n{ROLE}source_profile = c\n\
             [profile c]\n{ROLE}source_profile = a\n"
        ));
        assert_eq!(base(&scratch, "self"), Ok(("self".into(), SourceName::ConfigFile)));
        assert_eq!(base(&scratch, "bare"), Err("assume-role: the role chain loops: bare -> bare".into()));
        assert_eq!(base(&scratch, "a"), Err("assume-role: the role chain loops: a -> b -> c -> a".into()));
    }

    #[test]
    fn a_broken_source_profile_says_what_is_wrong() {
        let scratch = Scratch::new();
        scratch.config(&format!(
            "[profile ghost]\n{ROLE}source_profile = nowhere\n\
             [profile empty]\n{ROLE}source_profile = blank\n[profile blank]\nregion = eu-west-1\n\
             [profile half]\n{ROLE}source_profile = partial\n[profile partial]\naws_access_key_id = A\n\
             [profile two]\n{ROLE}source_profile = x\ncredential_source = Environment\n\
             [profile odd]\n{ROLE}credential_source = Somewhere\n"
        ));
        assert_eq!(
            base(&scratch, "ghost"),
            Err("assume-role: the source_profile nowhere of profile ghost exists in neither file".into())
        );
        assert_eq!(
            base(&scratch, "empty"),
            Err("assume-role: the source profile blank has no credentials (no keys, web identity, SSO, login or \
                 credential_process)"
                .into())
        );
        let half = base(&scratch, "half").unwrap_err();
        assert!(half.starts_with("config-file: ") && half.contains("aws_secret_access_key"), "{half}");
        assert_eq!(
            base(&scratch, "two"),
            Err("assume-role: profile two has both source_profile and credential_source; keep one".into())
        );
        assert_eq!(
            base(&scratch, "odd"),
            Err("assume-role: profile odd: credential_source Somewhere is not one of Environment, EcsContainer, \
                 Ec2InstanceMetadata"
                .into())
        );
    }

    #[test]
    fn each_role_carries_its_sts_parameters() {
        let scratch = Scratch::new();
        scratch.config(
            "[profile dev]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = base\nrole_session_name = me\n\
             external_id = ext\nduration_seconds = 1800\n\
             [profile base]\naws_access_key_id = A\naws_secret_access_key = s\n",
        );
        let ctx = scratch.context(None, &[]);
        let chain = plan_chain(&ctx, "dev");
        assert_eq!(
            chain.roles,
            [RoleStep {
                profile: "dev".into(),
                role_arn: "arn:aws:iam::1:role/A".into(),
                session_name: Some("me".into()),
                external_id: Some("ext".into()),
                duration: Some(std::time::Duration::from_secs(1800)),
            }]
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
