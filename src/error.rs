//! Reading and releasing `credchain_error`.

use credchain_export::export;
use std::ffi::c_char;

use super::types::{credchain_error, credchain_result};

/// The error's code; `CREDCHAIN_INVALID_ARGUMENT` for NULL.
#[export]
#[no_mangle]
pub extern "C" fn credchain_error_code(error: *const credchain_error) -> credchain_result {
    // SAFETY: a non-NULL pointer comes from this library and is not freed.
    match unsafe { error.as_ref() } {
        Some(error) => error.code,
        None => credchain_result::CREDCHAIN_INVALID_ARGUMENT,
    }
}

/// The error's message, owned by the error (valid until it is freed);
/// NULL for NULL. Never contains a secret.
#[export]
#[no_mangle]
pub extern "C" fn credchain_error_message(error: *const credchain_error) -> *const c_char {
    // SAFETY: as above.
    match unsafe { error.as_ref() } {
        Some(error) => error.message.as_ptr(),
        None => std::ptr::null(),
    }
}

/// The name of the chain source that failed ("sso", "iam-role", ...), or
/// NULL when the failure belongs to no single source. Static storage.
#[export]
#[no_mangle]
pub extern "C" fn credchain_error_source(error: *const credchain_error) -> *const c_char {
    // SAFETY: as above.
    match unsafe { error.as_ref() }.and_then(|e| e.source) {
        Some(source) => source.as_ptr(),
        None => std::ptr::null(),
    }
}

/// Releases an error. Accepts NULL.
#[export]
#[no_mangle]
pub extern "C" fn credchain_error_free(error: *mut credchain_error) {
    if error.is_null() {
        return;
    }
    // SAFETY: non-NULL errors come from `Box::into_raw` in this library
    // and are released exactly once.
    drop(unsafe { Box::from_raw(error) });
}
