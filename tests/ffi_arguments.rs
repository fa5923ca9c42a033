//! Every bad argument to the C ABI gets its exact code and message, calling
//! the exported functions in-process (argument checks need no environment).

mod version;

use std::ffi::{c_char, CStr};
use std::ptr;

use credchain::{credchain_credentials, credchain_error, credchain_result};
use credchain::{credchain_error_code, credchain_error_free, credchain_error_message, credchain_error_source};
use credchain::{credchain_free_credentials, credchain_get_credentials, credchain_invalidate};
use credchain::{credchain_set_log_callback, credchain_version};

/// Calls `credchain_get_credentials` and returns its code and message.
fn get(profile: *const c_char, with_out: bool) -> (credchain_result, Option<String>) {
    let mut out: *const credchain_credentials = ptr::null();
    let mut error: *mut credchain_error = ptr::null_mut();
    let out_ptr = if with_out { &mut out as *mut _ } else { ptr::null_mut() };
    let code = credchain_get_credentials(profile, out_ptr, &mut error);
    let message = read_message(error);
    credchain_error_free(error);
    assert!(out.is_null(), "outputs are written only on success");
    (code, message)
}

fn read_message(error: *const credchain_error) -> Option<String> {
    let text = credchain_error_message(error);
    // SAFETY: a non-NULL message is a C string owned by `error`.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned())
}

#[test]
fn null_out_pointer() {
    let (code, message) = get(ptr::null(), false);
    assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert_eq!(message.as_deref(), Some("out must not be NULL"));
}

#[test]
fn invalid_utf8_profile() {
    let bad = b"dev\xff\0";
    let (code, message) = get(bad.as_ptr().cast(), true);
    assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert_eq!(message.as_deref(), Some("profile is not valid UTF-8"));
}

#[test]
fn a_megabyte_profile_name() {
    let mut huge = vec![b'p'; 1 << 20];
    huge.push(0);
    let (code, message) = get(huge.as_ptr().cast(), true);
    assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert_eq!(message.as_deref(), Some("profile is longer than 4096 bytes"));
}

#[test]
fn a_profile_name_of_exactly_the_limit_passes_the_argument_check() {
    let mut name = vec![b'p'; 4096];
    name.push(0);
    let (code, _) = get(name.as_ptr().cast(), true);
    assert_ne!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
}

#[test]
fn empty_profile_name() {
    let (code, message) = get(c"".as_ptr(), true);
    assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert_eq!(message.as_deref(), Some("profile is empty"));
}

#[test]
fn invalidate_checks_its_profile_too() {
    let mut error: *mut credchain_error = ptr::null_mut();
    let code = credchain_invalidate(c"\xc3\x28".as_ptr(), &mut error);
    assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert_eq!(credchain_error_code(error), credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert_eq!(read_message(error).as_deref(), Some("profile is not valid UTF-8"));
    assert!(credchain_error_source(error).is_null());
    credchain_error_free(error);
}

#[test]
fn frees_and_getters_accept_null() {
    credchain_free_credentials(ptr::null_mut());
    credchain_error_free(ptr::null_mut());
    assert_eq!(credchain_error_code(ptr::null()), credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    assert!(credchain_error_message(ptr::null()).is_null());
    assert!(credchain_error_source(ptr::null()).is_null());
}

#[test]
fn an_out_of_range_log_level_means_trace_and_null_turns_logging_off() {
    assert_eq!(credchain_set_log_callback(u32::MAX, None), credchain_result::CREDCHAIN_OK);
    assert!(!credchain_core::log::enabled(credchain_core::log::LogLevel::Error));
}

#[test]
fn version_matches_cargo_toml() {
    let declared = version::cargo_version();
    // SAFETY: the version is a static C string.
    let version = unsafe { CStr::from_ptr(credchain_version()) }.to_str().unwrap();
    assert_eq!(version, declared);
}
