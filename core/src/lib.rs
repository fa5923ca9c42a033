//! credchain's core: one process-wide, always-fresh source of AWS
//! credentials, resolved in botocore's order and refreshed in the
//! background, as a safe Rust API. The C ABI (`libcredchain`, the crate at
//! the repository's root) and the `credchain` command are built on it; this
//! crate holds no `extern "C"` function and no public function that takes a
//! raw pointer.
//!
//! Its modules are layers that each use only the ones below them
//! (`scripts/check-layers` checks what the compiler cannot):
//!
//! | layer | folder | holds |
//! |---|---|---|
//! | types | `types/` | credentials, source names, errors, text escaping |
//! | platform | `platform/` | every call into the operating system |
//! | support | `support/` | locks, bounded waiting, the runtime slot, logging |
//! | chain | `chain/` | which source applies, in botocore's order, and its credentials |
//! | cache | `cache/` | per-profile snapshots and their background refresh |
//! | services | `token/`, `diagnostics/` | IAM database tokens; the doctor |
//! | process | `process/` | the one instance that owns all process state |
//! | Rust API | `api.rs` | the functions re-exported below |

#![warn(missing_docs)]

mod api;
mod cache;
mod chain;
mod diagnostics;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod platform;
mod process;
mod support;
mod token;
mod types;

pub use api::{
    auth_token, diagnose, diagnose_and_verify, generation_counter, get_credentials, get_credentials_async, invalidate,
    list_profiles, log_subscribe, log_unsubscribe, reload_environment, runtime_handle, set_log_sink, shutdown,
    with_credentials,
};
pub use cache::Snapshot;
pub use diagnostics::{profiles, render, report, shell};
pub use support::{log, sync};
pub use token::{token_fingerprint, AuthToken, Target, TokenRequest};
pub use types::credentials::{describe_time, human_duration, mask_access_key, rfc3339, unix_seconds, Credentials};
pub use types::error::{Error, ErrorCode, Result};
pub use types::source::SourceName;
pub use types::text;
