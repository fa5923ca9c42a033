//! The library's error: a stable code, a message fit to show a user, and the
//! chain source it came from. Messages never carry a secret: they are built
//! from names, paths, statuses and upstream error codes only.

use std::fmt;

/// What kind of failure. The C ABI's `credchain_result` carries the same
/// numbers (0 is its success); they are stable and never reused, and a new
/// failure kind gets a new number at the end.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The caller passed something unusable: a NULL out pointer, invalid
    /// UTF-8, an absurdly long string, an invalid hostname.
    InvalidArgument = 1,
    /// No source in the chain had credentials.
    NoCredentials = 2,
    /// A profile that was asked for exists in neither file.
    ProfileNotFound = 3,
    /// A source had half a key pair; the message names the missing half.
    PartialCredentials = 4,
    /// A source was configured but its upstream failed; the message carries
    /// the upstream's own words.
    SourceFailed = 5,
    /// The bounded wait for a fetch ran out.
    Timeout = 6,
    /// A bug: a caught panic or an impossible state.
    Internal = 7,
    /// A configuration the chain cannot use (a malformed file, `role_arn`
    /// without a source, an unknown `credential_source`).
    InvalidConfig = 8,
    /// The copy of the C library that serves the process predates the
    /// function called (an older copy loaded first).
    Unsupported = 9,
}

impl ErrorCode {
    /// The stable, lower-case name used in JSON output and logs.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid-argument",
            ErrorCode::NoCredentials => "no-credentials",
            ErrorCode::ProfileNotFound => "profile-not-found",
            ErrorCode::PartialCredentials => "partial-credentials",
            ErrorCode::SourceFailed => "source-failed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidConfig => "invalid-config",
            ErrorCode::Unsupported => "unsupported",
        }
    }
}

/// A failure with its code, a message and, when one applies, the source name.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    source: Option<&'static str>,
}

impl Error {
    /// An error that belongs to no particular source.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), source: None }
    }

    /// An error raised by one chain source; the message is prefixed with the
    /// source's name so a log line says where it came from.
    pub fn from_source(code: ErrorCode, source: &'static str, message: impl fmt::Display) -> Self {
        Error { code, message: format!("{source}: {message}"), source: Some(source) }
    }

    /// Shorthand for [`ErrorCode::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorCode::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Unsupported, message)
    }

    /// Shorthand for [`ErrorCode::InvalidConfig`].
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidConfig, message)
    }

    /// Shorthand for [`ErrorCode::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }

    /// "profile not found", naming the profile.
    pub fn profile_not_found(profile: &str) -> Self {
        Error::new(
            ErrorCode::ProfileNotFound,
            format!("the config profile ({}) could not be found", crate::types::text::escape_name(profile)),
        )
    }

    /// "no credentials in any source".
    pub fn no_credentials() -> Self {
        Error::new(ErrorCode::NoCredentials, "unable to locate credentials in any source of the chain")
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The chain source that failed, when the failure belongs to one.
    pub fn source_name(&self) -> Option<&'static str> {
        self.source
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.code.name(), self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
