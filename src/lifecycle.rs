//! Versions, logging and shutdown.

use credchain_export::export;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Arc;
use std::time::Duration;

use super::guard::{fallible, out_pointer};
use super::types::{
    credchain_error, credchain_log_callback, credchain_log_level, credchain_log_subscriber, credchain_result,
};
use credchain_core as api;
use credchain_core::log::{LogLevel, LogSink};
use credchain_core::Error;

/// The ABI version of this library: `CREDCHAIN_ABI_MAJOR << 16 |
/// CREDCHAIN_ABI_MINOR`. A binding or a driver compares the major with the
/// header it was built with before calling anything else.
#[export(local)]
#[no_mangle]
pub extern "C" fn credchain_abi_version() -> u32 {
    (super::copies::BUILT_ABI_MAJOR << 16) | super::copies::BUILT_ABI_MINOR
}

/// The library's version, "MAJOR.MINOR.PATCH", in static storage. Matches
/// the `CREDCHAIN_VERSION_*` macros of the header it was built with.
#[export(local)]
#[no_mangle]
pub extern "C" fn credchain_version() -> *const c_char {
    static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version contains a NUL"),
    };
    VERSION.as_ptr()
}

/// Installs `callback`, the one replaceable log callback, for messages up to
/// `max_level` (a
/// `credchain_log_level`; larger numbers mean TRACE); NULL turns logging
/// off. Returns once calls into the previous callback have finished (at
/// most a second), so a host may unload its logging afterwards (a Python
/// interpreter at exit). The callback runs on any thread, including the library's runtime
/// thread, possibly concurrently; it must be quick and must not call
/// credchain. Messages say what was refreshed, from which source and when
/// the next refresh is due; they never contain secrets. Subscriptions
/// (`credchain_log_subscribe`) are not affected: a host that shares the
/// process with others should subscribe instead.
#[export]
#[no_mangle]
pub extern "C" fn credchain_set_log_callback(max_level: u32, callback: credchain_log_callback) -> credchain_result {
    fallible(std::ptr::null_mut(), || {
        let sink = callback.map(|callback| -> LogSink {
            Arc::new(move |level: LogLevel, message: &str| {
                let text = c_message(message);
                // SAFETY: the host handed us this function for this purpose;
                // `text` outlives the call.
                unsafe { callback(credchain_log_level::from(level), text.as_ptr()) };
            })
        });
        api::set_log_sink(LogLevel::from_u32(max_level), sink);
        Ok(())
    })
}

/// A message as C reads it (an interior NUL cannot end it early).
fn c_message(message: &str) -> CString {
    CString::new(message.replace('\0', " ")).unwrap_or_default()
}

/// The host's `userdata`, handed back to its callback untouched.
struct Userdata(*mut c_void);
// SAFETY: the library never dereferences it; the host that subscribed
// promised that its callback may be called with it from any thread.
unsafe impl Send for Userdata {}
// SAFETY: as above.
unsafe impl Sync for Userdata {}

impl Userdata {
    /// The pointer (a method, so that a closure captures the whole wrapper).
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Subscribes `callback` to messages up to `max_level` (a
/// `credchain_log_level`, `CREDCHAIN_LOG_ERROR` to `CREDCHAIN_LOG_TRACE`;
/// larger numbers mean TRACE), called with `userdata`. On success
/// `*subscription` receives the handle for `credchain_log_unsubscribe`.
///
/// Each host in a process (a Python plugin, a JVM, a C driver) subscribes
/// on its own, at its own level; unsubscribing one silences only that one.
/// The callback runs on any thread, including the library's runtime
/// thread, possibly concurrently; it must be quick and must not call
/// credchain. `userdata` is never dereferenced by the library.
#[export]
#[no_mangle]
pub extern "C" fn credchain_log_subscribe(
    max_level: u32,
    callback: credchain_log_subscriber,
    userdata: *mut c_void,
    subscription: *mut u64,
    error: *mut *mut credchain_error,
) -> credchain_result {
    let out = out_pointer(subscription, "subscription")?;
    let Some(callback) = callback else {
        return Err(Error::invalid_argument("callback is NULL"));
    };
    let level = LogLevel::from_u32(max_level);
    if level == LogLevel::Off {
        return Err(Error::invalid_argument(
            "max_level is CREDCHAIN_LOG_OFF: a subscription needs a level from CREDCHAIN_LOG_ERROR up",
        ));
    }
    let userdata = Userdata(userdata);
    let sink: LogSink = Arc::new(move |level: LogLevel, message: &str| {
        let text = c_message(message);
        // SAFETY: the host handed us this function and its userdata for
        // this purpose; `text` outlives the call.
        unsafe { callback(credchain_log_level::from(level), text.as_ptr(), userdata.get()) };
    });
    let id = api::log_subscribe(level, sink);
    // SAFETY: `out` was checked non-NULL; the caller owns its storage.
    unsafe { *out = id };
    Ok(())
}

/// Ends subscription `subscription`. Returns once calls into its callback
/// have finished (at most a second), so a host may unload its logging
/// afterwards. An unknown or already ended subscription is
/// `CREDCHAIN_INVALID_ARGUMENT`. Must not be called from a log callback.
#[export]
#[no_mangle]
pub extern "C" fn credchain_log_unsubscribe(subscription: u64, error: *mut *mut credchain_error) -> credchain_result {
    if api::log_unsubscribe(subscription) {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "there is no log subscription {subscription} (never made, or already ended)"
        )))
    }
}

/// Stops the library's background runtime, waiting up to one second for
/// in-flight fetches. For hosts about to unload the library (`dlclose`);
/// nothing is stopped at process exit or unload otherwise. Cached
/// credentials stay; a later call starts a new runtime. Must not be called
/// from the log callback.
#[export]
#[no_mangle]
pub extern "C" fn credchain_shutdown() {
    credchain_core::shutdown(Duration::from_secs(1))
}
