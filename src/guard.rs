//! The checks every exported function runs before trusting its arguments,
//! and the panic boundary that keeps a bug from unwinding into the host.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::types::{credchain_error, credchain_result};
use credchain_core::{Error, Result};

/// The longest string accepted from a caller. Profile names, hostnames and
/// user names are short; a megabyte is a bug or an attack, not a name.
pub const CREDCHAIN_MAX_STRING_BYTES: usize = 4096;

/// The panic boundary of every export (`#[export]` puts it there): runs
/// `body`, and turns a panic into `R`'s failure value, with the detail in
/// `*error_out` when the export has one (NULL otherwise).
pub(crate) fn boundary<R: Outcome>(error_out: *mut *mut credchain_error, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let error = Error::internal(format!("credchain bug: {}", panic_message(&panic)));
        R::failure(error_out, &error)
    })
}

/// Runs the body of a fallible export: `Ok` is `CREDCHAIN_OK`; an error
/// becomes its code, with the detail in `*error_out` when it is not NULL.
pub(crate) fn fallible(error_out: *mut *mut credchain_error, body: impl FnOnce() -> Result<()>) -> credchain_result {
    match body() {
        Ok(()) => credchain_result::CREDCHAIN_OK,
        Err(error) => credchain_result::failure(error_out, &error),
    }
}

/// What an export returns when it cannot run its body: after a panic, or
/// when the serving copy of the library lacks the function.
pub(crate) trait Outcome: Sized {
    /// The value that reports `error` (written to `*error_out` where the
    /// export has one).
    fn failure(error_out: *mut *mut credchain_error, error: &Error) -> Self;

    /// The value for an export named `name` that the serving copy does not
    /// have (it predates the function): a clear error, logged once for
    /// exports that cannot carry one.
    fn missing(error_out: *mut *mut credchain_error, name: &str) -> Self {
        let error = super::copies::missing_function(name);
        if error_out.is_null() {
            log_missing_once(&error);
        }
        Self::failure(error_out, &error)
    }
}

impl Outcome for credchain_result {
    fn failure(error_out: *mut *mut credchain_error, error: &Error) -> Self {
        write_error(error_out, error);
        credchain_result::from(error.code())
    }
}

impl Outcome for () {
    fn failure(_: *mut *mut credchain_error, _: &Error) -> Self {}
}

impl<T> Outcome for *const T {
    fn failure(_: *mut *mut credchain_error, _: &Error) -> Self {
        std::ptr::null()
    }
}

impl<T> Outcome for *mut T {
    fn failure(_: *mut *mut credchain_error, _: &Error) -> Self {
        std::ptr::null_mut()
    }
}

impl Outcome for u32 {
    fn failure(_: *mut *mut credchain_error, _: &Error) -> Self {
        0
    }
}

/// Logs a missing function once per process (a host calling it in a loop
/// would otherwise flood its log).
fn log_missing_once(error: &Error) {
    static LOGGED: std::sync::Once = std::sync::Once::new();
    LOGGED.call_once(|| credchain_core::log::error(format_args!("{}", error.message())));
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
pub(crate) fn out_pointer<T>(out: *mut T, name: &str) -> Result<*mut T> {
    if out.is_null() {
        return Err(Error::invalid_argument(format!("{name} must not be NULL")));
    }
    Ok(out)
}

/// Reads an optional C string argument: NULL is `None`; longer than
/// [`CREDCHAIN_MAX_STRING_BYTES`], empty or not UTF-8 is an invalid argument.
pub(crate) fn optional_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: a non-NULL argument is a readable C string by contract;
    // at most CREDCHAIN_MAX_STRING_BYTES + 1 bytes of it are read.
    let length = unsafe { bounded_length(ptr, CREDCHAIN_MAX_STRING_BYTES + 1) };
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

/// The length of the C string at `ptr`, or `limit` when it has no NUL in
/// its first `limit` bytes (`strnlen`, without libc).
///
/// # Safety
///
/// `ptr` points to a NUL-terminated string or to `limit` readable bytes.
unsafe fn bounded_length(ptr: *const c_char, limit: usize) -> usize {
    // SAFETY: by the contract, every byte up to the NUL or the limit is
    // readable, and the loop stops at the first of the two.
    (0..limit).find(|&i| unsafe { *ptr.add(i) } == 0).unwrap_or(limit)
}

/// Reads a required C string argument.
pub(crate) fn required_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    optional_str(ptr, name)?.ok_or_else(|| Error::invalid_argument(format!("{name} must not be NULL")))
}

/// The argument checks on the strings and pointers a C caller passes,
/// in-process and through the exports (as `tests/ffi_arguments.rs` calls
/// them); `scripts/miri` runs them under Miri, which checks that a string
/// is never read past its NUL or past the limit.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{credchain_get_credentials, credchain_invalidate};
    use crate::error::{credchain_error_code, credchain_error_free, credchain_error_message};
    use crate::types::credchain_credentials;
    use std::ptr;

    fn refused(ptr: *const c_char) -> String {
        optional_str(ptr, "profile").expect_err("refused").message().to_owned()
    }

    #[test]
    fn null_is_no_string_and_a_string_ends_at_its_nul() {
        assert_eq!(optional_str(ptr::null(), "profile").unwrap(), None);
        assert_eq!(optional_str(c"dev".as_ptr(), "profile").unwrap(), Some("dev"));
        assert_eq!(required_str(ptr::null(), "host").expect_err("refused").message(), "host must not be NULL");
        assert_eq!(out_pointer(ptr::null_mut::<u8>(), "out").expect_err("refused").message(), "out must not be NULL");
    }

    #[test]
    fn empty_and_invalid_utf8_strings_are_refused() {
        assert_eq!(refused(c"".as_ptr()), "profile is empty");
        assert_eq!(refused(c"dev\xff".as_ptr()), "profile is not valid UTF-8");
        assert_eq!(refused(c"\xc3\x28".as_ptr()), "profile is not valid UTF-8");
    }

    #[test]
    fn a_string_of_the_limit_passes_and_one_byte_more_is_refused() {
        let mut at_limit = vec![b'p'; CREDCHAIN_MAX_STRING_BYTES];
        at_limit.push(0);
        assert_eq!(optional_str(at_limit.as_ptr().cast(), "profile").unwrap().map(str::len), Some(4096));
        let mut over = vec![b'p'; CREDCHAIN_MAX_STRING_BYTES + 1];
        over.push(0);
        assert_eq!(refused(over.as_ptr().cast()), "profile is longer than 4096 bytes");
    }

    #[test]
    fn an_unterminated_buffer_one_byte_past_the_limit_is_refused_without_reading_past_it() {
        // No NUL anywhere: the check reads exactly `limit + 1` bytes, the
        // whole allocation, and nothing after it.
        let unterminated = vec![b'p'; CREDCHAIN_MAX_STRING_BYTES + 1].into_boxed_slice();
        assert_eq!(refused(unterminated.as_ptr().cast()), "profile is longer than 4096 bytes");
    }

    #[test]
    fn a_panic_in_an_export_becomes_an_internal_error() {
        let mut error: *mut credchain_error = ptr::null_mut();
        let code: credchain_result = boundary(&mut error, || panic!("boom"));
        assert_eq!(code, credchain_result::CREDCHAIN_INTERNAL);
        assert!(!error.is_null());
        // SAFETY: written by `boundary` from Box::into_raw; released once.
        let error = unsafe { Box::from_raw(error) };
        assert_eq!(error.message.to_str().unwrap(), "credchain bug: boom");
        let nothing: *const u8 = boundary(ptr::null_mut(), || panic!("no error out"));
        assert!(nothing.is_null());
    }

    #[test]
    fn the_exports_refuse_bad_strings_and_write_only_the_error() {
        crate::copies::serve_in_this_copy();
        let read = |error: *mut credchain_error| {
            // SAFETY: a message owned by `error`, which is live.
            let text = unsafe { CStr::from_ptr(credchain_error_message(error)) }.to_str().unwrap().to_owned();
            (credchain_error_code(error), text)
        };
        let mut out: *const credchain_credentials = ptr::null();
        let mut error: *mut credchain_error = ptr::null_mut();
        let code = credchain_get_credentials(c"dev\xff".as_ptr(), &mut out, &mut error);
        assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
        assert!(out.is_null(), "outputs are written only on success");
        assert_eq!(read(error), (code, "profile is not valid UTF-8".to_owned()));
        credchain_error_free(error);

        let mut error: *mut credchain_error = ptr::null_mut();
        let code = credchain_get_credentials(ptr::null(), ptr::null_mut(), &mut error);
        assert_eq!(read(error), (code, "out must not be NULL".to_owned()));
        credchain_error_free(error);

        let mut error: *mut credchain_error = ptr::null_mut();
        let unterminated = vec![b'p'; CREDCHAIN_MAX_STRING_BYTES + 1].into_boxed_slice();
        let code = credchain_invalidate(unterminated.as_ptr().cast(), &mut error);
        assert_eq!(read(error), (code, "profile is longer than 4096 bytes".to_owned()));
        credchain_error_free(error);
        assert_eq!(credchain_invalidate(c"".as_ptr(), ptr::null_mut()), credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    }
}
