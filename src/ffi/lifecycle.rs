//! Version, logging and shutdown.

use std::ffi::{c_char, CStr};
use std::sync::Arc;
use std::time::Duration;

use super::guard::guarded;
use super::types::{credchain_error, credchain_log_callback, credchain_log_level, credchain_result};
use crate::support::log::{self, LogLevel, LogSink};

/// The library's version, "MAJOR.MINOR.PATCH", in static storage. Matches
/// the `CREDCHAIN_VERSION_*` macros of the header it was built with.
#[no_mangle]
pub extern "C" fn credchain_version() -> *const c_char {
    static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version contains a NUL"),
    };
    VERSION.as_ptr()
}

/// Installs `callback` for messages up to `max_level` (a
/// `credchain_log_level`; larger numbers mean TRACE); NULL turns logging
/// off. Returns once calls into the previous callback have finished (at
/// most a second), so a host may unload its logging afterwards (a Python
/// interpreter at exit). The callback runs on any thread, including the library's runtime
/// thread, possibly concurrently; it must be quick and must not call
/// credchain. Messages say what was refreshed, from which source and when
/// the next refresh is due; they never contain secrets.
#[no_mangle]
pub extern "C" fn credchain_set_log_callback(max_level: u32, callback: credchain_log_callback) -> credchain_result {
    guarded(std::ptr::null_mut::<*mut credchain_error>(), || {
        let sink = callback.map(|callback| -> LogSink {
            Arc::new(move |level: LogLevel, message: &str| {
                let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the host handed us this function for this purpose;
                // `text` outlives the call.
                unsafe { callback(credchain_log_level::from(level), text.as_ptr()) };
            })
        });
        log::set_sink(LogLevel::from_u32(max_level), sink);
        Ok(())
    })
}

/// Stops the library's background runtime, waiting up to one second for
/// in-flight fetches. For hosts about to unload the library (`dlclose`);
/// nothing is stopped at process exit or unload otherwise. Cached
/// credentials stay; a later call starts a new runtime. Must not be called
/// from the log callback.
#[no_mangle]
pub extern "C" fn credchain_shutdown() {
    super::guard::guarded_infallible((), || crate::api::shutdown(Duration::from_secs(1)))
}
