//! The credential chain: which source applies, in botocore's order, and the
//! credentials it yields, tagged with botocore's name for that source.
//!
//! credchain decides which source applies itself (see `docs/design.md` for
//! why aws-config's own `DefaultCredentialsChain` cannot be used) and
//! delegates each remote protocol (STS, SSO, `aws login`, processes, the
//! container endpoint, IMDS) to aws-config's providers. The static sources
//! are read here, one file per source under `sources/`.

pub mod context;
pub mod environment;
pub mod files;
pub mod ini;
pub mod inputs;
pub mod process_output;
pub mod sources;

use std::ffi::CStr;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use context::{ChainContext, ProfileOrigin, SelectedProfile};
pub use environment::{Environment, LatestEnvironment};
pub use inputs::Fingerprint;
pub use sources::{Detection, Plan, Services};

use crate::credentials::Credentials;
use crate::error::{Error, ErrorCode, Result};

/// A source of the chain, named exactly as botocore names the credential
/// `method` it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceName {
    /// `AWS_ACCESS_KEY_ID` and friends.
    Env,
    /// `role_arn` with `source_profile` or `credential_source`.
    AssumeRole,
    /// A web identity token file and a role (EKS IRSA).
    AssumeRoleWithWebIdentity,
    /// IAM Identity Center.
    Sso,
    /// Static keys in the shared credentials file.
    SharedCredentialsFile,
    /// `login_session`, from `aws login`.
    Login,
    /// `credential_process`.
    CustomProcess,
    /// Static keys in the config file.
    ConfigFile,
    /// The EC2 CLI's `AWS_CREDENTIAL_FILE`.
    Ec2CredentialsFile,
    /// Boto2's config file.
    BotoConfig,
    /// ECS or EKS Pod Identity container endpoint.
    ContainerRole,
    /// EC2 instance metadata.
    IamRole,
}

/// The chain's order (see the table in `docs/design.md`).
pub const ORDER: [SourceName; 12] = [
    SourceName::Env,
    SourceName::AssumeRole,
    SourceName::AssumeRoleWithWebIdentity,
    SourceName::Sso,
    SourceName::SharedCredentialsFile,
    SourceName::Login,
    SourceName::CustomProcess,
    SourceName::ConfigFile,
    SourceName::Ec2CredentialsFile,
    SourceName::BotoConfig,
    SourceName::ContainerRole,
    SourceName::IamRole,
];

impl SourceName {
    /// botocore's method name.
    pub fn as_str(self) -> &'static str {
        self.as_cstr().to_str().unwrap_or("unknown")
    }

    /// botocore's method name as a static C string, for the C view.
    pub fn as_cstr(self) -> &'static CStr {
        match self {
            SourceName::Env => c"env",
            SourceName::AssumeRole => c"assume-role",
            SourceName::AssumeRoleWithWebIdentity => c"assume-role-with-web-identity",
            SourceName::Sso => c"sso",
            SourceName::SharedCredentialsFile => c"shared-credentials-file",
            SourceName::Login => c"login",
            SourceName::CustomProcess => c"custom-process",
            SourceName::ConfigFile => c"config-file",
            SourceName::Ec2CredentialsFile => c"ec2-credentials-file",
            SourceName::BotoConfig => c"boto-config",
            SourceName::ContainerRole => c"container-role",
            SourceName::IamRole => c"iam-role",
        }
    }

    /// Whether credentials from this source renew themselves when they
    /// expire (a remote source asked again), as opposed to static values
    /// pasted somewhere that will simply stop working.
    pub fn refreshes_itself(self) -> bool {
        !matches!(
            self,
            SourceName::Env
                | SourceName::SharedCredentialsFile
                | SourceName::ConfigFile
                | SourceName::Ec2CredentialsFile
                | SourceName::BotoConfig
        )
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one resolution, success or not, with the fingerprint of
/// what was read, so that the cache can tell when to look again.
#[derive(Debug)]
pub struct Resolution {
    /// The winning source's credentials, or why there are none.
    pub outcome: Result<Credentials>,
    /// The inputs' fingerprint, taken before they were read.
    pub inputs: Fingerprint,
}

/// Resolves the chain for `explicit_profile` (`None`: the ambient profile)
/// under `environment` (a caller's capture). Reading the files and the
/// winning source's fetch are each bounded by `fetch_timeout`.
pub async fn resolve(
    explicit_profile: Option<&str>,
    environment: Arc<Environment>,
    services: &Services,
    fetch_timeout: Duration,
) -> Resolution {
    let (inputs, ctx) = ChainContext::load(explicit_profile, environment, fetch_timeout).await;
    let outcome = match ctx {
        Ok(ctx) => resolve_in(&ctx, services, fetch_timeout).await,
        Err(error) => Err(error),
    };
    Resolution { outcome, inputs }
}

/// Walks the chain over an already loaded context: the first source that
/// applies answers, and its failure is the chain's failure (as in botocore).
pub async fn resolve_in(ctx: &ChainContext, services: &Services, fetch_timeout: Duration) -> Result<Credentials> {
    check_profile_exists(ctx)?;
    for source in ORDER {
        if let Detection::Configured(plan) = sources::detect(source, ctx)? {
            return fetch_with_deadline(source, plan, ctx, services, fetch_timeout).await;
        }
    }
    Err(Error::no_credentials())
}

/// Carries out `plan`, giving up after `limit` with an error that names the
/// source, so that a hung upstream never holds the refresh for ever.
pub async fn fetch_with_deadline(
    source: SourceName,
    plan: Plan,
    ctx: &ChainContext,
    services: &Services,
    limit: Duration,
) -> Result<Credentials> {
    match tokio::time::timeout(limit, sources::fetch(plan, ctx, services)).await {
        Ok(outcome) => outcome.and_then(|credentials| usable(source, credentials)),
        Err(_) => Err(Error::from_source(
            ErrorCode::Timeout,
            source.as_str(),
            format!("no answer within {} ms", limit.as_millis()),
        )),
    }
}

/// Refuses credentials no caller could use: an empty key or secret, or an
/// expiry already past (never returned; IMDS's static stability extends its
/// own expiry before this check). Remote sources, whose credentials are
/// always temporary, must also carry a session token and an expiry (a
/// lenient parser fills missing fields with empty values).
fn usable(source: SourceName, credentials: Credentials) -> Result<Credentials> {
    let refuse = |problem: String| Err(Error::from_source(ErrorCode::SourceFailed, source.as_str(), problem));
    if credentials.access_key_id.is_empty() {
        return refuse("the answer has no access key id".into());
    }
    if credentials.secret_access_key.is_empty() {
        return refuse("the answer has no secret access key".into());
    }
    let temporary = source.refreshes_itself() && source != SourceName::CustomProcess;
    if temporary && credentials.session_token.is_none() {
        return refuse("the answer has no session token".into());
    }
    match credentials.expiration {
        None if temporary => refuse("the answer has no expiration".into()),
        Some(at) if at <= std::time::UNIX_EPOCH + Duration::from_secs(1) && temporary => {
            refuse("the answer has no expiration".into())
        }
        Some(at) if at <= std::time::SystemTime::now() => refuse(format!(
            "the credentials expired {} s ago",
            std::time::SystemTime::now().duration_since(at).unwrap_or_default().as_secs()
        )),
        _ => Ok(credentials),
    }
}

/// A profile that was asked for by name must exist in one of the two files;
/// it never falls through to the container or IMDS.
pub fn check_profile_exists(ctx: &ChainContext) -> Result<()> {
    if ctx.profile.was_named() && !ctx.profile_exists() {
        return Err(Error::profile_not_found(&ctx.profile.name));
    }
    Ok(())
}

/// The static C string of a source name given as text, for error details.
pub fn source_cstr(name: &str) -> Option<&'static CStr> {
    ORDER.iter().find(|s| s.as_str() == name).map(|s| s.as_cstr())
}
