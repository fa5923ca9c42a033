//! `credchain doctor` and `credchain_diagnose`: walks the chain in order
//! and explains, for every source, whether it is configured, whether it
//! answered, was skipped (and why) or failed (in the upstream's words);
//! which source wins, when its credentials expire and whether they renew
//! themselves; and every pitfall found.
//!
//! Only the winning source is fetched, bounded by the cache's fetch timeout;
//! every other source is decided offline by its `detect`. The doctor does
//! not go through the cache: it reports what the chain finds now, without
//! disturbing (or being hidden by) the credentials the process serves.
//!
//! - `report.rs`: the model (and the JSON field order);
//! - `pitfalls.rs`: the checks, each with a stable code;
//! - `render.rs`: JSON and the human table;
//! - `shell.rs`: how `credential_process` is split into words.

pub mod pitfalls;
pub mod profiles;
pub mod render;
pub mod report;
pub mod shell;
pub mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use report::{Pitfall, Report, Severity, Status, SCHEMA_VERSION};

use crate::chain::environment::EnvVars;
use crate::chain::files::read_bounded;
use crate::chain::network::{Network, TrustStore};
use crate::chain::paths;
use crate::chain::sources::{RoleHop, TokenState};
use crate::chain::{self, ChainContext, Detected, Environment, ProfileOrigin, SelectedProfile, Services, Trace};
use crate::types::credentials::{mask_access_key, rfc3339, unix_seconds};
use crate::types::error::Error;
use report::{
    CredentialsReport, ErrorReport, FileReport, FilesReport, NetworkReport, ProfileReport, ProxyReport, RoleHopReport,
    SourceReport, SsoReport, TrustStoreReport,
};

/// Everything the walk found, which the pitfall checks read: the chain's
/// own trace, with what it was read from.
#[derive(Debug)]
pub struct Walk {
    /// The context, when the shared files could be read.
    pub ctx: Option<ChainContext>,
    /// The environment (also when the context could not be loaded).
    pub env: EnvVars,
    /// Where the config and credentials files are, expanded from the whole
    /// environment as the chain expands them (also when they could not be
    /// read).
    pub shared_files: (PathBuf, PathBuf),
    /// The chain's walk: every source's detection, the winner or the error.
    pub trace: Trace,
}

/// Diagnoses the chain for `profile` (`None`: the ambient selection, as the
/// cache makes it) under `environment`, on the current async runtime, with
/// the process's `services` for the one fetch. With `verify`, the resolved
/// credentials are shown to STS `GetCallerIdentity` too, and a refusal
/// makes the report not ok. A chain without credentials is a successful
/// diagnosis.
pub async fn diagnose_async(
    profile: Option<&str>,
    environment: Arc<Environment>,
    services: &Services,
    fetch_timeout: Duration,
    verify: bool,
) -> Report {
    let walk = walk(profile, environment, services, fetch_timeout).await;
    let verification = match (&walk.ctx, &walk.trace.winner) {
        (Some(ctx), Some((source, credentials))) if verify => Some(verify::verify(ctx, *source, credentials).await),
        _ => None,
    };
    // The checks `stat` files: on the blocking pool, not the runtime's worker.
    let checked = tokio::task::spawn_blocking(move || {
        let now = SystemTime::now();
        let pitfalls = pitfalls::find(&walk, now);
        build_report(&walk, pitfalls, now)
    });
    match checked.await {
        Ok(mut report) => {
            if let Some(verification) = verification {
                report.ok &= verification.ok;
                report.verification = Some(verification);
            }
            report
        }
        // A panic in a check reaches the caller's panic boundary as one.
        Err(failure) => std::panic::resume_unwind(failure.into_panic()),
    }
}

/// Walks the chain through `chain::walk_in`, the walk the cache's
/// resolution makes: every source decided offline, only the first that
/// applies fetched.
async fn walk(
    explicit: Option<&str>,
    environment: Arc<Environment>,
    services: &Services,
    fetch_timeout: Duration,
) -> Walk {
    let env = environment.vars.clone();
    let shared_files = paths::shared_file_paths(&env, &environment.child);
    let (_, loaded) = ChainContext::load(explicit, environment, fetch_timeout).await;
    match loaded {
        Ok(ctx) => {
            let trace = chain::walk_in(&ctx, services, fetch_timeout).await;
            Walk { ctx: Some(ctx), env, shared_files, trace }
        }
        Err(error) => unreadable(explicit, env, shared_files, error),
    }
}

/// The walk when the shared files could not be read: the profile as the
/// environment selects it, and no source decided.
fn unreadable(explicit: Option<&str>, env: EnvVars, shared_files: (PathBuf, PathBuf), error: Error) -> Walk {
    let trace = Trace::unreadable(SelectedProfile::select(explicit, &env), error);
    Walk { ctx: None, env, shared_files, trace }
}

/// Test-only: the walk [`walk`] makes, read synchronously and without any
/// fetch: the chain's own `decide`, then the first source that applies
/// answers with the credentials its detection read, or, for a source that
/// needs a fetch (a role, a process, the container, IMDS...), with
/// `fetched`, the fetch's outcome as the test hands it in; either goes
/// through the chain's own `usable` check.
#[cfg(test)]
pub(crate) fn walk_offline(
    explicit: Option<&str>,
    environment: &Environment,
    fetched: Option<crate::types::error::Result<crate::types::credentials::Credentials>>,
) -> Walk {
    let env = environment.vars.clone();
    let shared_files = paths::shared_file_paths(&env, &environment.child);
    let ctx = match ChainContext::read(explicit, environment).1 {
        Ok(ctx) => ctx,
        Err(error) => return unreadable(explicit, env, shared_files, error),
    };
    let chain::Decision { mut trace, first } = chain::decide(&ctx);
    if let Some((source, plan)) = first {
        let outcome = match (plan, fetched) {
            (chain::Plan::Ready(credentials), None) => Ok(credentials),
            (chain::Plan::Ready(_), Some(_)) => panic!("{source} answered offline: hand in no fetch"),
            (_, Some(outcome)) => outcome,
            (plan, None) => panic!("{source} needs a fetch ({plan:?}): hand in its outcome"),
        };
        trace.settle(source, outcome.and_then(|credentials| chain::usable(source, credentials)));
    }
    Walk { ctx: Some(ctx), env, shared_files, trace }
}

/// Why the sources after the one that settled the chain were not asked.
fn not_reached(walk: &Walk) -> String {
    if let Some((winner, _)) = &walk.trace.winner {
        return format!("not reached: {winner} answered first");
    }
    if walk.trace.profile_missing {
        return format!(
            "not reached: the profile {} was not found",
            crate::types::text::escape_name(&walk.trace.profile.name)
        );
    }
    match walk.trace.failed_source {
        Some(source) => format!("not reached: {source} failed first"),
        None => "not reached: the shared config files could not be read".to_owned(),
    }
}

fn source_rows(walk: &Walk) -> Vec<SourceReport> {
    let winner = walk.trace.winner.as_ref().map(|(s, _)| *s);
    walk.trace
        .detections
        .iter()
        .enumerate()
        .map(|(index, (source, detected))| {
            let (status, reason) = if Some(*source) == winner {
                (Status::Used, None)
            } else if Some(*source) == walk.trace.failed_source {
                let message = walk.trace.error.as_ref().map(|e| e.message().to_owned());
                (Status::Failed, message)
            } else {
                let reason = match detected {
                    Detected::NotConfigured(why) => why.clone(),
                    Detected::Configured { .. } | Detected::Unknown => not_reached(walk),
                    Detected::Broken(error) => {
                        format!("{}; its configuration is broken too: {}", not_reached(walk), error.message())
                    }
                };
                (Status::Skipped, Some(reason))
            };
            SourceReport {
                position: index + 1,
                name: source.as_str(),
                configured: detected.configured(),
                status,
                reason,
                refreshes_automatically: source.refreshes_itself(),
            }
        })
        .collect()
}

fn build_report(walk: &Walk, pitfalls: Vec<Pitfall>, now: SystemTime) -> Report {
    let (config_path, credentials_path) = shared_file_paths(walk);
    let exists = |path: &std::path::Path| path.exists();
    let credentials = walk.trace.winner.as_ref().map(|(source, credentials)| CredentialsReport {
        source: source.as_str(),
        access_key_id: mask_access_key(&credentials.access_key_id),
        session_token: credentials.session_token.is_some(),
        account_id: credentials.account_id.clone(),
        expiration: credentials.expiration.map(rfc3339),
        expires_in_seconds: credentials.expiration.map(|at| unix_seconds(at) - unix_seconds(now)),
        refreshes_automatically: source.refreshes_itself(),
    });
    let ok = walk.trace.winner.is_some() && !pitfalls.iter().any(|p| p.severity == Severity::Error);
    Report {
        schema_version: SCHEMA_VERSION,
        credchain_version: env!("CARGO_PKG_VERSION"),
        ok,
        profile: profile_report(walk, now),
        files: FilesReport {
            config: FileReport { path: config_path.display().to_string(), exists: exists(&config_path) },
            credentials: FileReport { path: credentials_path.display().to_string(), exists: exists(&credentials_path) },
        },
        network: network_report(walk),
        sources: source_rows(walk),
        winner: walk.trace.winner.as_ref().map(|(s, _)| s.as_str()),
        credentials,
        error: walk.trace.error.as_ref().map(ErrorReport::from),
        pitfalls,
        verification: None,
        library_copies: None,
    }
}

/// The selected profile: where it is, its region, its role chain and its
/// SSO login (whose token file is read here, on the blocking pool).
fn profile_report(walk: &Walk, now: SystemTime) -> ProfileReport {
    let ctx = walk.ctx.as_ref();
    let name = walk.trace.profile.name.as_str();
    let region = ctx.and_then(ChainContext::region_and_origin);
    let role_chain = ctx
        .filter(|c| c.profile_value("role_arn").is_some())
        .map(|c| chain::sources::role_chain(c, name).into_iter().map(role_hop_report).collect());
    ProfileReport {
        name: name.to_owned(),
        origin: origin_name(walk.trace.profile.origin),
        in_config_file: ctx.map(|c| c.config_profile().is_some()),
        in_credentials_file: ctx.map(|c| c.credentials_profile().is_some()),
        region_from: region.as_ref().map(|(_, from)| from.clone()),
        region: region.map(|(region, _)| region),
        role_chain,
        sso: ctx.and_then(|c| sso_report(c, name, now)),
    }
}

fn role_hop_report(hop: RoleHop) -> RoleHopReport {
    match hop {
        RoleHop::Role { profile, role_arn } => {
            RoleHopReport { profile: Some(profile), role_arn: Some(role_arn), source: None, credential_source: None }
        }
        RoleHop::Profile { profile, source } => RoleHopReport {
            profile: Some(profile),
            role_arn: None,
            source: Some(source.as_str()),
            credential_source: None,
        },
        RoleHop::CredentialSource(named) => {
            RoleHopReport { profile: None, role_arn: None, source: None, credential_source: Some(named) }
        }
    }
}

fn sso_report(ctx: &ChainContext, profile: &str, now: SystemTime) -> Option<SsoReport> {
    let cache = chain::sources::token_cache(ctx, profile)?;
    let (token, expiration) = match chain::sources::token_state(read_bounded(&cache.path), now) {
        TokenState::Missing => ("missing", None),
        TokenState::Unreadable => ("unreadable", None),
        TokenState::ExpiredAt(at) => ("expired", Some(rfc3339(at))),
        TokenState::ValidUntil(at) => ("valid", Some(rfc3339(at))),
    };
    Some(SsoReport {
        login: cache.label,
        cache_file: cache.path.display().to_string(),
        token,
        token_expiration: expiration,
        login_command: format!("aws sso login --profile {profile}"),
    })
}

/// The trust store and proxy: the context's, or (when the files could not
/// be read) the environment's alone.
fn network_report(walk: &Walk) -> NetworkReport {
    let from_env;
    let network = match &walk.ctx {
        Some(ctx) => &ctx.network,
        None => {
            from_env = Network::read(&walk.env, &walk.trace.profile.name, None);
            &from_env
        }
    };
    let trust_store = match &network.trust {
        TrustStore::System => {
            TrustStoreReport { kind: "system", path: None, from: None, certificates: None, problem: None }
        }
        TrustStore::Bundle { path, origin } => TrustStoreReport {
            kind: "bundle",
            path: Some(path.display().to_string()),
            from: Some(origin.to_string()),
            certificates: network.certificates.as_ref().ok().map(Vec::len),
            problem: network.certificates.as_ref().err().cloned(),
        },
    };
    let proxy = network.proxy.as_ref().map(|proxy| ProxyReport {
        url: proxy.display_url(),
        from: proxy.variable,
        no_proxy: proxy.no_proxy.as_ref().map(|(_, rules)| rules.clone()),
        no_proxy_from: proxy.no_proxy.as_ref().map(|(variable, _)| *variable),
    });
    NetworkReport { trust_store, proxy }
}

/// The shared files' paths: the context's, or (when it could not be
/// loaded) worked out the same way from the environment.
pub fn shared_file_paths(walk: &Walk) -> (std::path::PathBuf, std::path::PathBuf) {
    match &walk.ctx {
        Some(ctx) => (ctx.config.path.clone(), ctx.credentials.path.clone()),
        None => walk.shared_files.clone(),
    }
}

/// The JSON name of a profile origin.
pub fn origin_name(origin: ProfileOrigin) -> &'static str {
    match origin {
        ProfileOrigin::Caller => "caller",
        ProfileOrigin::Variable(name) => name,
        ProfileOrigin::Default => "default",
    }
}
