//! credchain: one process-wide, always-fresh source of AWS credentials for
//! every database-driver plugin in a process, behind a C ABI.
//!
//! The crate is built in layers that each use only the ones below them
//! (`scripts/check-layers` checks it):
//!
//! | layer | folder | holds |
//! |---|---|---|
//! | types | `types/` | credentials, source names, errors, text escaping |
//! | support | `support/` | locks, bounded waiting, the runtime slot, logging |
//! | chain | `chain/` | which source applies, in botocore's order, and its credentials |
//! | cache | `cache/` | per-profile snapshots and their background refresh |
//! | services | `token/`, `diagnostics/` | IAM database tokens; the doctor |
//! | process | `process/` | the one instance that owns all process state |
//! | Rust API | `api.rs` | the functions below |
//! | C ABI | `ffi/` | every `extern "C"` function, the C view of a snapshot |
//! | server | `serve/` | the cache on the container-credentials protocol (`credchain serve`) |
//!
//! The CLI (`src/bin/credchain`) uses only this public API.

#![warn(missing_docs)]

// Linux only, for now: the library finds its other loaded copies through
// ELF and `dl_iterate_phdr`, handles fork with `pthread_atfork`, reads
// `CLOCK_REALTIME_COARSE`, and `credchain serve` takes signals with
// `sigtimedwait`. README, "Platforms", says what a port needs.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "credchain builds for Linux only (x86_64 tested, aarch64 expected to work): see README, \"Platforms\", \
     for what a macOS or Windows port needs"
);

mod api;
pub(crate) mod cache;
pub(crate) mod chain;
pub(crate) mod diagnostics;
pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod process;
pub mod serve;
pub(crate) mod support;
pub(crate) mod token;
pub(crate) mod types;

pub use api::{
    auth_token, diagnose, diagnose_and_verify, generation_counter, get_credentials, invalidate, list_profiles,
    reload_environment, set_log_sink, shutdown,
};
pub use cache::Snapshot;
pub use diagnostics::{profiles, render, report, shell};
pub use support::log;
pub use token::{AuthToken, Target, TokenRequest};
pub use types::credentials::{describe_time, human_duration, mask_access_key, rfc3339, unix_seconds, Credentials};
pub use types::error::{Error, ErrorCode, Result};
pub use types::source::SourceName;
