//! `credchain_diagnose`: the doctor's report through the C ABI, and
//! `credchain_string_free` for the strings the library allocates.

use std::ffi::{c_char, CString};

use zeroize::Zeroize;

use super::guard::{guarded, guarded_infallible, optional_str, out_pointer};
use super::types::{credchain_error, credchain_result};
use crate::diagnostics;
use crate::error::Error;

/// Explains the credential chain for `profile`, as `credchain doctor --json`
/// does: for every source whether it is configured, used, skipped (and
/// why) or failed (with the upstream's words); which source wins; when its
/// credentials expire and whether they refresh automatically; and every
/// pitfall found, each with a stable code. The JSON schema is documented in
/// docs/doctor-json.md (`"schema_version": 1`).
///
/// `profile` is NULL for the default selection (`AWS_DEFAULT_PROFILE`, then
/// `AWS_PROFILE`, then `default`), exactly as for
/// `credchain_get_credentials`. On success `*json` receives a NUL-terminated
/// UTF-8 document to release with `credchain_string_free`; it never contains
/// a secret (the access key id is masked but for its last four characters).
///
/// A chain without credentials is still a successful diagnosis: the result
/// is `CREDCHAIN_OK` and the document's `"ok"` is false. Failures are only
/// invalid arguments, a diagnosis that could not finish (`CREDCHAIN_TIMEOUT`)
/// or a bug; then `*json` is untouched and `*error` (when `error` is not
/// NULL) receives details to release with `credchain_error_free`.
///
/// Only the winning source is fetched, bounded by the fetch timeout
/// (`CREDCHAIN_TIMEOUT_MS`); the cache is neither used nor changed. Blocks
/// the calling thread; must not be called from the log callback.
#[no_mangle]
pub extern "C" fn credchain_diagnose(
    profile: *const c_char,
    json: *mut *mut c_char,
    error: *mut *mut credchain_error,
) -> credchain_result {
    guarded(error, || {
        let json = out_pointer(json, "json")?;
        let profile = optional_str(profile, "profile")?;
        let report = diagnostics::diagnose(profile)?;
        let text = CString::new(diagnostics::render::to_json(&report))
            .map_err(|_| Error::internal("the diagnosis contains a NUL byte"))?;
        // SAFETY: `json` was checked non-NULL; the caller owns its storage.
        unsafe { *json = text.into_raw() };
        Ok(())
    })
}

/// Releases a string that credchain allocated (the JSON of
/// `credchain_diagnose`). Accepts NULL. The bytes are zeroed before the
/// memory is freed, so the same function is safe for strings that carry
/// secrets.
#[no_mangle]
pub extern "C" fn credchain_string_free(string: *mut c_char) {
    if string.is_null() {
        return;
    }
    guarded_infallible((), || {
        // SAFETY: non-NULL strings come from `CString::into_raw` in this
        // library and are released exactly once.
        let owned = unsafe { CString::from_raw(string) };
        owned.into_bytes_with_nul().zeroize();
    })
}
