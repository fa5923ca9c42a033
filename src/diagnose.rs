//! `credchain_diagnose`: the doctor's report through the C ABI.

use credchain_export::export;
use std::ffi::c_char;

use super::guard::{optional_str, out_pointer};
use super::strings::write_string;
use super::types::{credchain_error, credchain_result};
use credchain_core as api;

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
#[export]
#[no_mangle]
pub extern "C" fn credchain_diagnose(
    profile: *const c_char,
    json: *mut *mut c_char,
    error: *mut *mut credchain_error,
) -> credchain_result {
    let json = out_pointer(json, "json")?;
    let profile = optional_str(profile, "profile")?;
    let mut report = api::diagnose(profile)?;
    report.library_copies = Some(super::copies::loaded_copies().iter().map(|c| c.report()).collect());
    write_string(json, &credchain_core::render::to_json(&report))
}
