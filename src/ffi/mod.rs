//! The C ABI, all of it: every `extern "C"` function, the panic boundary,
//! and the pointer and string checks. cbindgen reads this module, and only
//! this module (`scripts/generate-header`), to write `include/credchain.h`.
//!
//! Conventions: the prefix `credchain_`; a `credchain_result` from every
//! fallible call; outputs written only on success; details in an optional
//! `credchain_error **` (never thread-local: JNA and virtual threads hop
//! between OS threads); every `*_free` accepts NULL.

// The exported functions take raw pointers from C by design and check them
// (NULL, length, UTF-8) before use; marking them `unsafe fn` would change
// nothing for C callers and only hide that the checks happen inside.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod copies;
pub mod credentials;
pub mod diagnose;
pub mod error;
pub mod guard;
pub mod lifecycle;
pub mod strings;
pub mod token;
pub mod types;
mod view;

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
    size: std::mem::size_of::<CopyTable>(),
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
});

static IDENTITY: Shared<CopyIdentity> = Shared(CopyIdentity {
    magic: copies::IDENTITY_MAGIC,
    abi_major: copies::BUILT_ABI_MAJOR,
    abi_minor: types::CREDCHAIN_ABI_MINOR,
    version: VERSION.as_ptr(),
    table: &TABLE.0,
});

/// This copy's identity, for the other copies of the library in the
/// process (not for hosts: it is not in the header).
///
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn credchain_copy_identity() -> *const CopyIdentity {
    &IDENTITY.0
}
