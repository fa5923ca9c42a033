//! The public Rust API: what a Rust caller, the CLI and the C ABI call.
//! Every function here works on the process's one instance
//! (`process/instance.rs`).

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Snapshot;
use crate::diagnostics::Report;
use crate::process::instance::instance;
use crate::support::log::{LogLevel, LogSink};
use crate::token::{AuthToken, TokenRequest};
use crate::types::error::Result;

/// The credentials for `profile` (`None`: the default profile) from the
/// process-wide cache, resolving the chain on first use. Waits at most the
/// call timeout (`CREDCHAIN_TIMEOUT_MS`).
pub fn get_credentials(profile: Option<&str>) -> Result<Arc<Snapshot>> {
    instance().cache.get(profile)
}

/// Runs `use_it` on the current snapshot for `profile` (resolving the
/// chain first when nothing valid is cached), without taking a reference
/// count on it: the hot path of the C ABI, which leases a view of the
/// snapshot itself.
pub fn with_credentials<R>(profile: Option<&str>, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
    instance().with_credentials(profile, use_it)
}

/// The credentials for `profile`, as [`get_credentials`], from async code
/// running on the library's runtime ([`runtime_handle`]): waits without
/// blocking a runtime thread.
pub async fn get_credentials_async(profile: Option<&str>) -> Result<Arc<Snapshot>> {
    instance().cache.get_async(profile).await
}

/// A handle to the library's runtime (started if it is not running), for
/// a front end that serves on it (`credchain serve`); an
/// [`ErrorCode::Exhausted`](crate::ErrorCode) error when it cannot start.
pub fn runtime_handle() -> Result<tokio::runtime::Handle> {
    Ok(instance().runtime.handle()?.1)
}

/// Drops the cached credentials for `profile` so the next call resolves the
/// chain again.
pub fn invalidate(profile: Option<&str>) {
    instance().cache.invalidate(profile)
}

/// Reads the process environment again (`AWS_*` variables, `HOME`, and the
/// environment given to `credential_process`). credchain reads it once at
/// load and never on its own: call this after changing the environment, at
/// a moment when no other thread writes it, then `invalidate` the profiles
/// that should see the change at once (static credentials notice it within
/// `CREDCHAIN_STATIC_RECHECK_MS` anyway).
pub fn reload_environment() {
    instance().chain.environment.refresh();
}

/// Signs an IAM database token (RDS, Aurora, RDS Proxy or Aurora DSQL) with
/// the credentials of `request.profile`.
pub fn auth_token(request: TokenRequest<'_>) -> Result<AuthToken> {
    instance().auth_token(request)
}

/// Diagnoses the chain for `profile` (`None`: the ambient selection, as
/// [`get_credentials`] makes it): every source, what it said, the winner
/// and every pitfall found. Blocks the calling thread for at most the call
/// timeout; must not be called from the log sink or from inside the
/// library's runtime. Fails only when the diagnosis itself cannot run; a
/// chain without credentials is a successful diagnosis.
pub fn diagnose(profile: Option<&str>) -> Result<Report> {
    instance().diagnose(profile, false)
}

/// Every profile of the shared config and credentials files, sorted by
/// name, with the source the chain would use when it is named
/// (`credchain doctor --all-profiles`). Decided offline: nothing is
/// fetched and no process runs.
pub fn list_profiles() -> crate::profiles::ProfilesReport {
    instance().list_profiles()
}

/// [`diagnose`], and then STS `GetCallerIdentity` with the credentials the
/// chain resolved (`credchain doctor --verify`): the report's
/// `verification` says whether STS accepted them and whose they are, and a
/// refusal makes the report not ok. This is the only call of the library
/// that uses the credentials; it goes where the chain's STS calls go.
pub fn diagnose_and_verify(profile: Option<&str>) -> Result<Report> {
    instance().diagnose(profile, true)
}

/// Replaces the replaceable log sink (the one `credchain_set_log_callback`
/// sets) with `sink` for messages up to `max_level`; `None` removes it.
/// Returns once calls into the previous sink have finished.
pub fn set_log_sink(max_level: LogLevel, sink: Option<LogSink>) {
    instance().log.set_sink(max_level, sink)
}

/// Adds a log subscriber for messages up to `max_level`; returns its id for
/// [`log_unsubscribe`]. Subscribers are independent of the replaceable sink
/// and of each other.
pub fn log_subscribe(max_level: LogLevel, sink: LogSink) -> u64 {
    instance().log.subscribe(max_level, sink)
}

/// Ends subscription `id`; false when there is no such subscription (never
/// made, or already ended). Returns once calls into its sink have finished.
pub fn log_unsubscribe(id: u64) -> bool {
    instance().log.unsubscribe(id)
}

/// Stops the background runtime, waiting up to `grace` for its tasks. Cached
/// credentials stay; a later call starts a new runtime.
pub fn shutdown(grace: Duration) {
    instance().runtime.shutdown(grace)
}

/// A counter that increases whenever any cached credentials change; its
/// address is valid for the life of the process.
pub fn generation_counter() -> &'static AtomicU64 {
    crate::cache::generation_counter()
}
