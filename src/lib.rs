//! credchain: one process-wide, always-fresh source of AWS credentials for
//! every database-driver plugin in a process, behind a C ABI.
//!
//! - [`chain`]: which source applies, in botocore's order, and its credentials;
//! - [`cache`]: per-profile snapshots, the background refresher;
//! - [`instance`]: all process state in one value, and fork handling;
//! - [`runtime`]: the internal runtime;
//! - [`text`]: how upstream text and caller strings reach messages;
//! - [`diagnostics`]: `credchain doctor`, the chain explained;
//! - [`ffi`]: the C ABI;
//! - [`log`]: the logging hook.
//!
//! Rust callers use [`get_credentials`] and [`invalidate`].

#![warn(missing_docs)]

pub mod block;
pub mod cache;
pub mod chain;
pub mod credentials;
pub mod diagnostics;
pub mod error;
pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod instance;
pub mod log;
pub mod runtime;
pub mod snapshot;
mod sync;
pub mod text;
pub mod token;

use std::sync::Arc;

pub use credentials::{Credentials, Snapshot};
pub use error::{Error, ErrorCode, Result};

/// The credentials for `profile` (`None`: the default profile) from the
/// process-wide cache.
pub fn get_credentials(profile: Option<&str>) -> Result<Arc<Snapshot>> {
    instance::instance().with_credentials(profile, Arc::clone)
}

/// Reads the process environment again (`AWS_*` variables, `HOME`, and the
/// environment given to `credential_process`). credchain reads it once at
/// load and never on its own: call this after changing the environment, at
/// a moment when no other thread writes it, then `invalidate` the profiles
/// that should see the change at once (static credentials notice it within
/// `CREDCHAIN_STATIC_RECHECK_MS` anyway).
pub fn reload_environment() {
    instance::instance().environment.refresh();
}

/// Drops the cached credentials for `profile` so the next call resolves the
/// chain again.
pub fn invalidate(profile: Option<&str>) {
    cache::global().invalidate(profile)
}
