//! The credential chain: which source applies, in botocore's order, and the
//! credentials it yields, tagged with botocore's name for that source.
//!
//! credchain decides which source applies itself (see `docs/design.md` for
//! why aws-config's own `DefaultCredentialsChain` cannot be used) and
//! delegates each remote protocol (STS, SSO, `aws login`, processes, the
//! container endpoint, IMDS) to aws-config's providers. The static sources
//! are read here, one file per source under `sources/`. The walk itself
//! (which source applies, which answers) is decided once, in `trace.rs`,
//! for the cache's resolution and `credchain doctor` alike.

pub mod context;
pub mod environment;
pub mod files;
pub mod ini;
pub mod inputs;
pub mod network;
pub mod paths;
pub mod process_output;
pub mod profile_file;
pub mod sources;
#[cfg(test)]
pub(crate) mod testing;
pub mod trace;

use std::sync::Arc;
use std::time::Duration;

pub use context::{ChainContext, ProfileOrigin, SelectedProfile};
pub use environment::{Environment, LatestEnvironment};
pub use inputs::Fingerprint;
pub use sources::{Detection, Plan, Services};
pub use trace::{decide, Decision, Detected, Trace};

use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};
pub use crate::types::source::SourceName;

/// The chain's order (see the table in `docs/design.md`): botocore's, in
/// which `SourceName` declares its variants.
pub const ORDER: [SourceName; 12] = SourceName::ALL;

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
    walk_in(ctx, services, fetch_timeout).await.outcome()
}

/// Walks the chain over an already loaded context and keeps the trace:
/// [`decide`] offline, then the first source that applies is fetched
/// (bounded by `fetch_timeout`) and settles the walk. `resolve_in` and
/// `credchain doctor` both walk here.
pub async fn walk_in(ctx: &ChainContext, services: &Services, fetch_timeout: Duration) -> Trace {
    let Decision { mut trace, first } = decide(ctx);
    if let Some((source, plan)) = first {
        let outcome = fetch_with_deadline(source, plan, ctx, services, fetch_timeout).await;
        trace.settle(source, outcome);
    }
    trace
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
pub(crate) fn usable(source: SourceName, credentials: Credentials) -> Result<Credentials> {
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
