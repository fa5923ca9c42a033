//! libcredchain's C ABI, all of it: every `extern "C"` function, the panic
//! boundary, the pointer and string checks, the C view of a snapshot and the
//! agreement between copies of the library loaded into one process. It is a
//! thin layer over `credchain-core` (the `core/` crate): each export checks
//! its arguments, forwards to the serving copy, and calls the core's safe
//! API. cbindgen reads this crate, and only this crate
//! (`scripts/generate-header`), to write `include/credchain.h`.
//!
//! Conventions: the prefix `credchain_`; a `credchain_result` from every
//! fallible call; outputs written only on success; details in an optional
//! `credchain_error **` (never thread-local: JNA and virtual threads hop
//! between OS threads); every `*_free` accepts NULL.
//!
//! The Rust API of this crate is the C ABI itself (the functions and types
//! of the header); Rust programs use `credchain-core` instead.

// The exported functions take raw pointers from C by design and check them
// (NULL, length, UTF-8) before use; marking them `unsafe fn` would change
// nothing for C callers and only hide that the checks happen inside.
#![allow(clippy::not_unsafe_ptr_arg_deref, reason = "C callers pass raw pointers; each export checks them")]

mod copies;
mod credentials;
mod diagnose;
mod error;
mod guard;
mod lifecycle;
mod strings;
mod token;
mod types;
mod view;

pub use credentials::{
    credchain_free_credentials, credchain_generation_counter, credchain_get_credentials, credchain_invalidate,
    credchain_reload_environment,
};
pub use diagnose::credchain_diagnose;
pub use error::{credchain_error_code, credchain_error_free, credchain_error_message, credchain_error_source};
pub use guard::CREDCHAIN_MAX_STRING_BYTES;
pub use lifecycle::{
    credchain_abi_version, credchain_log_subscribe, credchain_log_unsubscribe, credchain_set_log_callback,
    credchain_shutdown, credchain_version,
};
pub use strings::credchain_string_free;
pub use token::{credchain_dsql_auth_token, credchain_rds_auth_token, credchain_token_fingerprint};
pub use types::{
    credchain_credentials, credchain_error, credchain_log_callback, credchain_log_level, credchain_log_subscriber,
    credchain_result, CREDCHAIN_ABI_MAJOR, CREDCHAIN_ABI_MINOR,
};

use credchain_export::export;
use std::ffi::CStr;

use copies::{CopyIdentity, CopyTable};

// What this copy tells the other copies of the library in the process
// (`copies.rs`): here, beside the modules whose functions its table lists.

/// Statics holding raw pointers to static data and functions.
struct Shared<T>(T);
// SAFETY: everything the pointers reach is immutable and static.
unsafe impl<T> Sync for Shared<T> {}

static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(version) => version,
    Err(_) => panic!("the package version contains a NUL"),
};

static TABLE: Shared<CopyTable> = Shared(CopyTable {
    size: copies::TABLE_SIZE,
    get_credentials: credentials::credchain_get_credentials,
    free_credentials: credentials::credchain_free_credentials,
    invalidate: credentials::credchain_invalidate,
    reload_environment: credentials::credchain_reload_environment,
    generation_counter: credentials::credchain_generation_counter,
    diagnose: diagnose::credchain_diagnose,
    error_code: error::credchain_error_code,
    error_message: error::credchain_error_message,
    error_source: error::credchain_error_source,
    error_free: error::credchain_error_free,
    set_log_callback: lifecycle::credchain_set_log_callback,
    log_subscribe: lifecycle::credchain_log_subscribe,
    log_unsubscribe: lifecycle::credchain_log_unsubscribe,
    shutdown: lifecycle::credchain_shutdown,
    string_free: strings::credchain_string_free,
    rds_auth_token: token::credchain_rds_auth_token,
    dsql_auth_token: token::credchain_dsql_auth_token,
    token_fingerprint: token::credchain_token_fingerprint,
});

static IDENTITY: Shared<CopyIdentity> = Shared(CopyIdentity {
    magic: copies::IDENTITY_MAGIC,
    abi_major: copies::BUILT_ABI_MAJOR,
    abi_minor: copies::BUILT_ABI_MINOR,
    version: VERSION.as_ptr(),
    table: &TABLE.0,
});

/// This copy's identity, for the other copies of the library in the
/// process (not for hosts: it is not in the header).
///
/// cbindgen:ignore
#[export(local)]
#[no_mangle]
pub extern "C" fn credchain_copy_identity() -> *const CopyIdentity {
    std::ptr::addr_of!(IDENTITY.0)
}
