//! The C ABI's string arguments: arbitrary bytes (invalid UTF-8, over-long,
//! empty) as NUL-terminated profile names, host names, user names and
//! regions, through the exported `extern "C"` functions. The environment
//! has static keys (so tokens get signed for the default profile), an
//! empty HOME and IMDS disabled: nothing leaves the machine.
#![no_main]

use std::ffi::{c_char, CString};
use std::ptr;

use credchain::{
    credchain_diagnose, credchain_dsql_auth_token, credchain_error_code, credchain_error_free, credchain_error_message,
    credchain_error_source, credchain_free_credentials, credchain_get_credentials, credchain_invalidate,
    credchain_rds_auth_token, credchain_result, credchain_string_free,
};
use libfuzzer_sys::fuzz_target;

/// Input: a selector byte, then NUL-separated fields. An empty field is
/// passed as NULL when the selector says so, so both NULL and "" are seen.
fn field(fields: &[CString], i: usize, nulls: u8) -> *const c_char {
    match fields.get(i) {
        Some(_) if nulls & (1 << i) != 0 => ptr::null(),
        Some(text) => text.as_ptr(),
        None => ptr::null(),
    }
}

fn check_error(error: *mut credchain::credchain_error) {
    if !error.is_null() {
        let _ = credchain_error_code(error);
        let message = credchain_error_message(error);
        assert!(!message.is_null());
        // SAFETY: a NUL-terminated string owned by the error.
        let _ = unsafe { std::ffi::CStr::from_ptr(message) }.to_bytes().len();
        let _ = credchain_error_source(error);
        credchain_error_free(error);
    }
}

fuzz_target!(|data: &[u8]| {
    credchain_core::fuzzing::isolate(&[("AWS_ACCESS_KEY_ID", "AKIDFUZZ"), ("AWS_SECRET_ACCESS_KEY", "fuzz-secret")]);
    let Some((&selector, rest)) = data.split_first() else { return };
    let fields: Vec<CString> =
        rest.split(|&b| b == 0).take(4).map(|f| CString::new(f).expect("split at NUL")).collect();
    let nulls = selector >> 3;
    let (profile, host, user, region) =
        (field(&fields, 0, nulls), field(&fields, 1, nulls), field(&fields, 2, nulls), field(&fields, 3, nulls));
    let mut error = ptr::null_mut();
    match selector & 7 {
        0 | 1 => {
            let mut out: *const credchain::credchain_credentials = ptr::null();
            if credchain_get_credentials(profile, &mut out, &mut error) == credchain_result::CREDCHAIN_OK {
                assert!(!out.is_null());
                credchain_free_credentials(out.cast_mut());
            }
        }
        2 => {
            let _ = credchain_invalidate(profile, &mut error);
        }
        3 => {
            let mut json = ptr::null_mut();
            if credchain_diagnose(profile, &mut json, &mut error) == credchain_result::CREDCHAIN_OK {
                credchain_string_free(json);
            }
        }
        4 | 5 => {
            let mut token = ptr::null_mut();
            let port = u16::from(selector).wrapping_mul(257) | 1;
            if credchain_rds_auth_token(profile, host, port, user, region, 1_700_000_000, &mut token, &mut error)
                == credchain_result::CREDCHAIN_OK
            {
                credchain_string_free(token);
            }
        }
        _ => {
            let mut token = ptr::null_mut();
            if credchain_dsql_auth_token(profile, host, region, selector & 1 == 1, 0, &mut token, &mut error)
                == credchain_result::CREDCHAIN_OK
            {
                credchain_string_free(token);
            }
        }
    }
    check_error(error);
});
