//! credchain: one process-wide, always-fresh source of AWS credentials for
//! every database-driver plugin in a process, behind a C ABI.
//!
//! - [`chain`]: which source applies, in botocore's order, and its credentials;
//! - [`cache`]: per-profile snapshots, the background refresher;
//! - [`runtime`]: the one internal runtime and fork handling;
//! - [`diagnostics`]: `credchain doctor`, the chain explained;
//! - [`ffi`]: the C ABI;
//! - [`log`]: the logging hook.
//!
//! Rust callers use [`get_credentials`] and [`invalidate`].

#![warn(missing_docs)]

pub mod cache;
pub mod chain;
pub mod credentials;
pub mod diagnostics;
pub mod error;
pub mod ffi;
pub mod log;
pub mod runtime;
pub mod snapshot;
pub mod token;

use std::sync::Arc;

pub use credentials::{Credentials, Snapshot};
pub use error::{Error, ErrorCode, Result};

/// The credentials for `profile` (`None`: the default profile) from the
/// process-wide cache.
pub fn get_credentials(profile: Option<&str>) -> Result<Arc<Snapshot>> {
    cache::global().get(profile)
}

/// Drops the cached credentials for `profile` so the next call resolves the
/// chain again.
pub fn invalidate(profile: Option<&str>) {
    cache::global().invalidate(profile)
}
