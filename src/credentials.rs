//! `credchain_get_credentials` and friends.

use credchain_export::export;
use std::ffi::c_char;

use super::guard::{optional_str, out_pointer};
use super::types::{credchain_credentials, credchain_error, credchain_result};
use super::view::CredentialsView;
use credchain_core as api;

/// Gets credentials for `profile` from the process-wide cache, resolving the
/// chain on first use.
///
/// `profile` is NULL for the default profile (`AWS_DEFAULT_PROFILE`, then
/// `AWS_PROFILE`, then `default`); a name skips the `env` source and must
/// exist in the config or credentials file. On success `*out` receives
/// credentials to release with `credchain_free_credentials`; on failure
/// `*out` is left untouched and, when `error` is not NULL, `*error` receives
/// details to release with `credchain_error_free`.
///
/// The credentials are shared with other callers and read-only (`const`):
/// never write to them or their strings.
///
/// Cheap when the cache is warm: no allocation, no lock, no copy. Blocks
/// only when no valid credentials are cached, and never longer than the
/// configured timeout (`CREDCHAIN_TIMEOUT_MS`, default 10 s). Any thread may
/// call it.
#[export]
#[no_mangle]
pub extern "C" fn credchain_get_credentials(
    profile: *const c_char,
    out: *mut *const credchain_credentials,
    error: *mut *mut credchain_error,
) -> credchain_result {
    let out = out_pointer(out, "out")?;
    let profile = optional_str(profile, "profile")?;
    // A lease on the shared snapshot itself: no copy, and no write to a
    // counter that other threads' calls share.
    let view = api::with_credentials(profile, |snapshot| snapshot.view(CredentialsView::of).lease())?;
    // SAFETY: `out` was checked non-NULL; the caller owns its storage.
    unsafe { *out = view };
    Ok(())
}

/// Releases credentials from `credchain_get_credentials`. Accepts NULL. The
/// strings are zeroed when the last holder of the same snapshot lets go.
/// Each pointer is released once; a second release of a pointer whose
/// credentials are still held elsewhere is refused and logged.
#[export]
#[no_mangle]
pub extern "C" fn credchain_free_credentials(credentials: *const credchain_credentials) {
    if credentials.is_null() {
        return;
    }
    // SAFETY: non-NULL pointers come from `CredentialsView::lease` in
    // `credchain_get_credentials`; each is released exactly once.
    unsafe { CredentialsView::release(credentials.cast_mut()) };
}

/// Drops the cached credentials of `profile` (NULL: the default profile) so
/// that the next call resolves the chain again: for a driver whose login
/// just failed with an expired-token error.
#[export]
#[no_mangle]
pub extern "C" fn credchain_invalidate(profile: *const c_char, error: *mut *mut credchain_error) -> credchain_result {
    let profile = optional_str(profile, "profile")?;
    api::invalidate(profile);
    Ok(())
}

/// Reads the process environment again. credchain reads it once, when the
/// library is loaded, and never again on its own, because reading it while
/// another thread calls `setenv` can crash the process. A host that changes
/// `AWS_*` variables (or `HOME`) at run time calls this afterwards, at a
/// moment when none of its threads writes the environment, then
/// `credchain_invalidate` for profiles that must see the change at once.
#[export]
#[no_mangle]
pub extern "C" fn credchain_reload_environment() {
    api::reload_environment()
}

/// The address of a counter that increases whenever any cached credentials
/// change (refresh, rotation, invalidation). Bindings read it directly from
/// memory, without a call, to know when their own copy is stale. The
/// address is valid for the life of the process; read it atomically.
#[export]
#[no_mangle]
pub extern "C" fn credchain_generation_counter() -> *const u64 {
    api::generation_counter().as_ptr()
}
