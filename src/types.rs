//! The C-visible types. Their layout and numbers are the ABI: fields are
//! only ever added at the end of a struct, numbers never change or get
//! reused.

use std::ffi::{c_char, CStr, CString};

use credchain_core::log::LogLevel;
use credchain_core::SourceName;
use credchain_core::{Error, ErrorCode};

/// The ABI's major version: copies of the library, and bindings, with the
/// same major can work together; a new major breaks a function or a type.
pub const CREDCHAIN_ABI_MAJOR: u32 = 1;
/// The ABI's minor version: grows when functions or result codes are added
/// (1.1: `credchain_token_fingerprint` and `CREDCHAIN_UNSUPPORTED`; 1.2:
/// `CREDCHAIN_EXHAUSTED`).
pub const CREDCHAIN_ABI_MINOR: u32 = 2;

/// The core declares what each result code and log level means and its
/// number (`ErrorCode`, `LogLevel`: the command prints the same numbers);
/// the C enums below are those numbers as the header spells them, written
/// out because cbindgen reads literals. This pairs each C name with its core
/// value: a core value without a C name, or a C number that differs from the
/// core's, does not compile.
macro_rules! same_numbers {
    ($c:ident from $core:ident { $($core_value:ident => $c_value:ident),* $(,)? }) => {
        impl From<$core> for $c {
            fn from(value: $core) -> Self {
                match value {
                    $($core::$core_value => $c::$c_value,)*
                }
            }
        }
        $(const _: () = assert!($c::$c_value as u32 == $core::$core_value as u32, stringify!($c_value));)*
    };
}

/// Result of every fallible call. `CREDCHAIN_OK` is 0; the other numbers are
/// stable and never reused.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types, reason = "C names, as the header spells them")]
pub enum credchain_result {
    /// Success; outputs were written.
    CREDCHAIN_OK = 0,
    /// A NULL out pointer, invalid UTF-8, an absurdly long or empty string,
    /// or an invalid hostname, port or user.
    CREDCHAIN_INVALID_ARGUMENT = 1,
    /// No source in the chain had credentials.
    CREDCHAIN_NO_CREDENTIALS = 2,
    /// The profile asked for exists in neither file; the message names it.
    CREDCHAIN_PROFILE_NOT_FOUND = 3,
    /// Half a key pair; the message names the missing variable or key.
    CREDCHAIN_PARTIAL_CREDENTIALS = 4,
    /// A configured source failed; the message carries the upstream's words
    /// (STS error code, process exit status, HTTP status).
    CREDCHAIN_SOURCE_FAILED = 5,
    /// The bounded wait for a fetch ran out.
    CREDCHAIN_TIMEOUT = 6,
    /// A bug (a caught panic); the host keeps running.
    CREDCHAIN_INTERNAL = 7,
    /// A configuration that cannot be used (malformed file, `role_arn`
    /// without a source, a web identity token file without a role).
    CREDCHAIN_INVALID_CONFIG = 8,
    /// The copy of the library that serves this process is older than the
    /// function called (another copy, loaded first, with a smaller ABI
    /// minor); the message names both copies. (ABI 1.1.)
    CREDCHAIN_UNSUPPORTED = 9,
    /// The process ran out of something the operating system gives it
    /// (file descriptors, processes or threads); the message names it, and
    /// a call after the host released some succeeds. (ABI 1.2.)
    CREDCHAIN_EXHAUSTED = 10,
}

same_numbers!(credchain_result from ErrorCode {
    InvalidArgument => CREDCHAIN_INVALID_ARGUMENT,
    NoCredentials => CREDCHAIN_NO_CREDENTIALS,
    ProfileNotFound => CREDCHAIN_PROFILE_NOT_FOUND,
    PartialCredentials => CREDCHAIN_PARTIAL_CREDENTIALS,
    SourceFailed => CREDCHAIN_SOURCE_FAILED,
    Timeout => CREDCHAIN_TIMEOUT,
    Internal => CREDCHAIN_INTERNAL,
    InvalidConfig => CREDCHAIN_INVALID_CONFIG,
    Unsupported => CREDCHAIN_UNSUPPORTED,
    Exhausted => CREDCHAIN_EXHAUSTED,
});

/// Log message levels, most severe first.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types, reason = "C names, as the header spells them")]
pub enum credchain_log_level {
    /// No messages (only meaningful as a maximum).
    CREDCHAIN_LOG_OFF = 0,
    /// Failures a caller will see.
    CREDCHAIN_LOG_ERROR = 1,
    /// Failures absorbed while old credentials are still served.
    CREDCHAIN_LOG_WARN = 2,
    /// Refreshes, rotations, invalidations.
    CREDCHAIN_LOG_INFO = 3,
    /// Scheduling detail.
    CREDCHAIN_LOG_DEBUG = 4,
    /// Everything.
    CREDCHAIN_LOG_TRACE = 5,
}

same_numbers!(credchain_log_level from LogLevel {
    Off => CREDCHAIN_LOG_OFF,
    Error => CREDCHAIN_LOG_ERROR,
    Warn => CREDCHAIN_LOG_WARN,
    Info => CREDCHAIN_LOG_INFO,
    Debug => CREDCHAIN_LOG_DEBUG,
    Trace => CREDCHAIN_LOG_TRACE,
});

/// A set of AWS credentials. Read-only: the strings belong to the library
/// and stay valid until the struct is passed to
/// `credchain_free_credentials`. The struct may grow at its end in later
/// versions, never elsewhere.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types, reason = "C names, as the header spells them")]
pub struct credchain_credentials {
    /// The access key id.
    pub access_key_id: *const c_char,
    /// The secret access key.
    pub secret_access_key: *const c_char,
    /// The session token; NULL when there is none.
    pub session_token: *const c_char,
    /// The account id; NULL when unknown.
    pub account_id: *const c_char,
    /// botocore's name for the source: "env", "iam-role", ...
    pub source: *const c_char,
    /// Expiry in Unix seconds; 0 when the credentials never expire.
    pub expiration: i64,
    /// Until when (Unix seconds) a copy of these credentials kept by the
    /// caller may be used without asking again: the start of the library's
    /// mandatory refresh window, from which the library itself would wait
    /// for new credentials, and never later than one second before
    /// `expiration` (a binding needs no margin of its own). 0 when the credentials never expire: a copy
    /// stays good until `credchain_generation_counter` moves. (ABI 1.0.)
    pub reuse_until: i64,
}

/// Details of a failure: a code, a message and the source it came from.
/// Opaque; read it with `credchain_error_*` and free it with
/// `credchain_error_free`.
#[allow(non_camel_case_types, reason = "C names, as the header spells them")]
pub struct credchain_error {
    pub(crate) code: credchain_result,
    pub(crate) message: CString,
    pub(crate) source: Option<&'static std::ffi::CStr>,
}

impl From<&Error> for credchain_error {
    fn from(error: &Error) -> Self {
        let text = error.message().replace('\0', " ");
        credchain_error {
            code: error.code().into(),
            message: CString::new(text).unwrap_or_default(),
            source: error.source_name().and_then(SourceName::from_method).map(source_cstr),
        }
    }
}

/// Receives log messages. Called from any thread, including the library's
/// own runtime thread, possibly concurrently; `message` is valid only during
/// the call. It must return quickly and must not call back into credchain.
#[allow(non_camel_case_types, reason = "C names, as the header spells them")]
pub type credchain_log_callback = Option<unsafe extern "C" fn(level: credchain_log_level, message: *const c_char)>;

/// Receives log messages for one subscription, with the subscriber's
/// `userdata`. Called from any thread, including the library's own runtime
/// thread, possibly concurrently; `message` is valid only during the call.
/// It must return quickly and must not call back into credchain.
#[allow(non_camel_case_types, reason = "C names, as the header spells them")]
pub type credchain_log_subscriber =
    Option<unsafe extern "C" fn(level: credchain_log_level, message: *const c_char, userdata: *mut std::ffi::c_void)>;

/// botocore's method name of `source` as a static C string, for the C view.
pub(crate) fn source_cstr(source: SourceName) -> &'static CStr {
    match source {
        SourceName::Env => c"env",
        SourceName::AssumeRole => c"assume-role",
        SourceName::AssumeRoleWithWebIdentity => c"assume-role-with-web-identity",
        SourceName::Sso => c"sso",
        SourceName::SharedCredentialsFile => c"shared-credentials-file",
        SourceName::Login => c"login",
        SourceName::CustomProcess => c"custom-process",
        SourceName::ConfigFile => c"config-file",
        SourceName::Ec2CredentialsFile => c"ec2-credentials-file",
        SourceName::BotoConfig => c"boto-config",
        SourceName::ContainerRole => c"container-role",
        SourceName::IamRole => c"iam-role",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_has_the_same_name_in_c_and_in_rust() {
        for source in SourceName::ALL {
            assert_eq!(source_cstr(source).to_str().unwrap(), source.as_str());
        }
    }
}
