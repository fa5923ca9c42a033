//! Strings the library allocates for its callers (tokens, the diagnosis)
//! and `credchain_string_free`, which releases them.

use credchain_export::export;
use std::ffi::{c_char, CString};

use zeroize::Zeroize;

use credchain_core::{Error, Result};

/// Hands `text` to the caller through `out` (already checked non-NULL), as
/// a string to release with `credchain_string_free`.
pub(crate) fn write_string(out: *mut *mut c_char, text: &str) -> Result<()> {
    let owned = CString::new(text).map_err(|_| Error::internal("a string for the caller contained a NUL byte"))?;
    // SAFETY: the caller of this function checked `out`; the host owns the
    // storage it points to.
    unsafe { *out = owned.into_raw() };
    Ok(())
}

/// Releases a string that credchain allocated (an auth token, the JSON of
/// `credchain_diagnose`). Accepts NULL. The bytes are zeroed before the
/// memory is freed: tokens are secrets.
#[export]
#[no_mangle]
pub extern "C" fn credchain_string_free(string: *mut c_char) {
    if string.is_null() {
        return;
    }
    // SAFETY: non-NULL strings come from `CString::into_raw` in
    // `write_string` and are released exactly once.
    let owned = unsafe { CString::from_raw(string) };
    owned.into_bytes_with_nul().zeroize();
}

/// A string handed to the caller and released through the export, as a C
/// caller does (`scripts/miri` runs this under Miri: one allocation, freed
/// once, through the pointer handed out).
#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn a_string_handed_out_is_released_by_the_export() {
        crate::copies::serve_in_this_copy();
        let mut out: *mut c_char = std::ptr::null_mut();
        write_string(&mut out, "token?Action=connect").unwrap();
        // SAFETY: a C string from `write_string`, live until freed below.
        assert_eq!(unsafe { CStr::from_ptr(out) }.to_str().unwrap(), "token?Action=connect");
        credchain_string_free(out);
        credchain_string_free(std::ptr::null_mut());
    }

    #[test]
    fn a_string_with_a_nul_is_not_handed_out() {
        let mut out: *mut c_char = std::ptr::null_mut();
        assert!(write_string(&mut out, "a\0b").is_err());
        assert!(out.is_null(), "outputs are written only on success");
    }
}
