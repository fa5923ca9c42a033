//! Tokens signed with a snapshot of credentials: the glue between the pure
//! signing code of this module and what the process layer gives it (the
//! credentials, the environment's capture, the token cache), shared by the
//! C ABI and the `credchain token` command.

use std::sync::Arc;
use std::time::SystemTime;

use super::TokenCache;
use super::{
    dsql_token, rds_token, resolve_region, signing_time_from_unix, AuthToken, RegionSources, SigningCredentials,
    TokenError, TokenErrorKind, TokenKey,
};
use crate::cache::Snapshot;
use crate::chain::context::ChainContext;
use crate::chain::Environment;
use crate::types::error::{Error, ErrorCode, Result};

/// What to sign for.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// RDS, Aurora or RDS Proxy: `host:port` and a database user.
    Rds {
        /// The port the endpoint listens on.
        port: u16,
        /// The database user.
        user: &'a str,
    },
    /// Aurora DSQL, as the `admin` role or another one.
    Dsql {
        /// `DbConnectAdmin` rather than `DbConnect`.
        admin: bool,
    },
}

/// One token to sign.
#[derive(Clone, Copy, Debug)]
pub struct TokenRequest<'a> {
    /// The profile whose credentials sign (`None`: the default profile).
    pub profile: Option<&'a str>,
    /// The database endpoint's host name.
    pub host: &'a str,
    /// The region, when the caller names it.
    pub region: Option<&'a str>,
    /// What to sign for.
    pub target: Target<'a>,
    /// Unix seconds, or 0 for now.
    pub signing_time: i64,
}

/// What signing takes from the process: the environment's capture (for the
/// region), the credentials of a profile, and the cache of signed tokens.
pub struct Signer<'a, F: FnOnce(Option<&str>) -> Result<Arc<Snapshot>>> {
    /// The latest capture of the environment.
    pub environment: &'a Environment,
    /// The credentials of a profile.
    pub credentials: F,
    /// Tokens signed "now", reused while they have ample life left.
    pub tokens: &'a TokenCache,
}

/// Signs the token `request` asks for. Only "now" tokens are cached, and a
/// cached token is reused only while it has ample life left and the
/// credentials that signed it are still current. The region is settled
/// before credentials are asked for, so a bad host name costs no fetch.
pub fn auth_token<F>(signer: Signer<'_, F>, request: TokenRequest<'_>) -> Result<AuthToken>
where
    F: FnOnce(Option<&str>) -> Result<Arc<Snapshot>>,
{
    let TokenRequest { profile, host, region, target, signing_time } = request;
    let fixed_time = signing_time_from_unix(signing_time).map_err(convert)?;
    let region = signing_region(signer.environment, profile, host, region)?;
    let snapshot = (signer.credentials)(profile)?;
    let sign = |at: SystemTime| sign_with(&snapshot, host, &region, target, at);
    match fixed_time {
        Some(at) => sign(at),
        None => {
            let now = SystemTime::now();
            let key = match target {
                Target::Rds { port, user } => TokenKey::rds(profile, &region, host, port, user),
                Target::Dsql { admin } => TokenKey::dsql(profile, &region, host, admin),
            };
            signer.tokens.get_or_sign(&key, snapshot.id(), now, || sign(now))
        }
    }
}

fn sign_with(snapshot: &Snapshot, host: &str, region: &str, target: Target<'_>, at: SystemTime) -> Result<AuthToken> {
    let credentials = snapshot.credentials();
    let signing = SigningCredentials {
        access_key_id: &credentials.access_key_id,
        secret_access_key: &credentials.secret_access_key,
        session_token: credentials.session_token.as_deref().map(String::as_str),
    };
    let signed = match target {
        Target::Rds { port, user } => rds_token(&signing, host, port, user, region, at),
        Target::Dsql { admin } => dsql_token(&signing, host, region, admin, at),
    };
    signed.map_err(convert)
}

/// The region: the argument, the host name, `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, then the profile's `region`. The profile's files
/// are read only when nothing earlier names a region.
/// The variables come from the library's capture of the environment, never
/// `getenv` here: token calls race whatever the host does to its
/// environment.
fn signing_region(
    environment: &Environment,
    profile: Option<&str>,
    host: &str,
    explicit: Option<&str>,
) -> Result<String> {
    let aws_region = environment.vars.non_empty("AWS_REGION").map(str::to_owned);
    let aws_default_region = environment.vars.non_empty("AWS_DEFAULT_REGION").map(str::to_owned);
    let mut sources = RegionSources {
        explicit,
        aws_region: aws_region.as_deref(),
        aws_default_region: aws_default_region.as_deref(),
        profile_region: None,
    };
    match resolve_region(host, &sources) {
        Err(error) if error.kind() == TokenErrorKind::NoRegion => {
            let profile_region = region_of_profile(environment, profile);
            sources.profile_region = profile_region.as_deref();
            resolve_region(host, &sources).map(|r| r.region).map_err(convert)
        }
        other => other.map(|r| r.region).map_err(convert),
    }
}

/// The `region` key of the profile, read through the same profile parser
/// the chain uses.
fn region_of_profile(environment: &Environment, profile: Option<&str>) -> Option<String> {
    // A caller's thread: reading the (bounded) files here needs no runtime.
    let (_, context) = ChainContext::read(profile, environment);
    context.ok()?.profile_value("region").map(str::to_owned)
}

fn convert(error: TokenError) -> Error {
    let code = match error.kind() {
        TokenErrorKind::InvalidArgument | TokenErrorKind::NoRegion => ErrorCode::InvalidArgument,
        TokenErrorKind::Signing => ErrorCode::Internal,
    };
    Error::new(code, error.message())
}
