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
