//! The checks every exported function runs before trusting its arguments,
//! and the panic boundary that keeps a bug from unwinding into the host.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::types::{credchain_error, credchain_result};
use credchain_core::{Error, Result};

/// The longest string accepted from a caller. Profile names, hostnames and
/// user names are short; a megabyte is a bug or an attack, not a name.
pub const CREDCHAIN_MAX_STRING_BYTES: usize = 4096;

/// Runs `body` behind a panic boundary; on failure writes the detail to
/// `error_out` (when not NULL) and returns its code.
pub fn guarded(error_out: *mut *mut credchain_error, body: impl FnOnce() -> Result<()>) -> credchain_result {
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|panic| Err(Error::internal(format!("credchain bug: {}", panic_message(&panic)))));
    match outcome {
        Ok(()) => credchain_result::CREDCHAIN_OK,
        Err(error) => {
            let code = credchain_result::from(error.code());
            write_error(error_out, &error);
            code
        }
    }
}

/// Runs `body`, which cannot fail, behind a panic boundary (for frees and
/// getters that must never unwind into C).
pub fn guarded_infallible<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

fn write_error(error_out: *mut *mut credchain_error, error: &Error) {
    if error_out.is_null() {
        return;
    }
    let boxed = Box::into_raw(Box::new(credchain_error::from(error)));
    // SAFETY: the caller passed a non-NULL pointer to writable storage for
    // one pointer, as the header documents.
    unsafe { *error_out = boxed };
}

/// Checks an out pointer.
pub fn out_pointer<T>(out: *mut T, name: &str) -> Result<*mut T> {
    if out.is_null() {
        return Err(Error::invalid_argument(format!("{name} must not be NULL")));
    }
    Ok(out)
}

/// Reads an optional C string argument: NULL is `None`; longer than
/// [`CREDCHAIN_MAX_STRING_BYTES`], empty or not UTF-8 is an invalid argument.
pub fn optional_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: a non-NULL argument is a readable C string by contract;
    // strnlen reads at most CREDCHAIN_MAX_STRING_BYTES + 1 bytes of it.
    let length = unsafe { libc::strnlen(ptr, CREDCHAIN_MAX_STRING_BYTES + 1) };
    if length > CREDCHAIN_MAX_STRING_BYTES {
        return Err(Error::invalid_argument(format!("{name} is longer than {CREDCHAIN_MAX_STRING_BYTES} bytes")));
    }
    if length == 0 {
        return Err(Error::invalid_argument(format!("{name} is empty")));
    }
    // SAFETY: `length` bytes followed by a NUL were just measured.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8")))?;
    Ok(Some(text))
}

/// Reads a required C string argument.
pub fn required_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    optional_str(ptr, name)?.ok_or_else(|| Error::invalid_argument(format!("{name} must not be NULL")))
}
