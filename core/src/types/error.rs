//! The library's error: a stable code, the facts of a failure (the chain
//! source, the profile, the endpoint, the failure's own words, what to do)
//! with the message rendered from them in one place, and the upstream error
//! behind it as `source()`. Messages never carry a secret: they are built
//! from names, paths, statuses and upstream error codes only, and the
//! upstream error is never printed.

use std::fmt;
use std::sync::Arc;

use crate::types::text::escape_name;

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
    /// The process ran out of something the operating system gives it
    /// (file descriptors, processes or threads, memory for a child): not a
    /// bug and not the configuration; the message names what ran out, and
    /// the next call after the host released some succeeds.
    Exhausted = 10,
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
            ErrorCode::Exhausted => "exhausted",
        }
    }
}

/// A failure: its code, the facts that explain it, and the message built
/// from them.
///
/// The facts are kept apart so that each layer adds its own (the chain the
/// profile, the network the endpoint and the remedy) without editing text;
/// the message is rendered from them in one place (`Facts::render`), as
/// `SOURCE: profile PROFILE: DETAIL (endpoint URL ENDPOINT): REMEDY`, each
/// part present when its fact is.
#[derive(Clone)]
pub struct Error(Box<Facts>);

/// An [`Error`]'s contents, boxed so that every `Result<T, Error>` stays a
/// pointer wide on its error side.
#[derive(Clone)]
struct Facts {
    code: ErrorCode,
    source: Option<&'static str>,
    profile: Option<String>,
    endpoint: Option<String>,
    detail: String,
    remedy: Option<String>,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// The rendered text, refreshed by every setter, so that readers (the C
    /// ABI, the command) borrow one `&str` rather than each rendering anew.
    message: String,
}

impl Facts {
    /// The one place a message is built from the facts. The profile is
    /// shown escaped, as every caller string is, and only when the detail
    /// does not name it already (custom-process's "the credential_process
    /// of profile dev exited with status 1"), so a message names it once.
    fn render(&self) -> String {
        let mut text = String::with_capacity(self.detail.len() + 64);
        if let Some(source) = self.source {
            text.push_str(source);
            text.push_str(": ");
        }
        if let Some(shown) = self.profile.as_deref().map(escape_name) {
            if !names_profile(&self.detail, &shown) {
                text.push_str("profile ");
                text.push_str(&shown);
                text.push_str(": ");
            }
        }
        text.push_str(&self.detail);
        if let Some(endpoint) = &self.endpoint {
            text.push_str(" (endpoint URL ");
            text.push_str(endpoint);
            text.push(')');
        }
        if let Some(remedy) = &self.remedy {
            text.push_str(": ");
            text.push_str(remedy);
        }
        text
    }
}

impl Error {
    fn of(code: ErrorCode, source: Option<&'static str>, detail: String) -> Self {
        let mut facts = Facts {
            code,
            source,
            profile: None,
            endpoint: None,
            detail,
            remedy: None,
            cause: None,
            message: String::new(),
        };
        facts.message = facts.render();
        Error(Box::new(facts))
    }

    /// An error that belongs to no particular source; `message` is its
    /// detail.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::of(code, None, message.into())
    }

    /// An error raised by one chain source; `message` is its detail, and the
    /// rendered message starts with the source's name so a log line says
    /// where it came from.
    pub fn from_source(code: ErrorCode, source: &'static str, message: impl fmt::Display) -> Self {
        Error::of(code, Some(source), message.to_string())
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
            format!("the config profile ({}) could not be found", escape_name(profile)),
        )
    }

    /// "no credentials in any source".
    pub fn no_credentials() -> Self {
        Error::new(ErrorCode::NoCredentials, "unable to locate credentials in any source of the chain")
    }

    /// The failure belongs to `profile`. The first profile given stays: a
    /// source that attributed its failure (SSO, to the profile it was
    /// configured in) is not re-attributed by the chain that called it.
    /// The message names the profile after the source, unless the detail
    /// already does.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        if self.0.profile.is_none() {
            self.0.profile = Some(profile.into());
            self.0.message = self.0.render();
        }
        self
    }

    /// The request that failed went to `endpoint` and got no response:
    /// a person needs the URL to check the network path.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.0.endpoint = Some(endpoint.into());
        self.0.message = self.0.render();
        self
    }

    /// What to do about the failure. A later remedy replaces an earlier one,
    /// so that a message gives one instruction: the layer that adds it last
    /// has seen more of the failure (a certificate the trust store refused
    /// is not fixed by logging in again).
    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Self {
        self.0.remedy = Some(remedy.into());
        self.0.message = self.0.render();
        self
    }

    /// The failure's own words, replaced (a source that puts the upstream's
    /// words in context: a role chain, a `credential_source`), keeping every
    /// other fact and the cause.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = detail.into();
        self.0.message = self.0.render();
        self
    }

    /// The same failure under another code (instance metadata's failures
    /// mean "no credentials" to the chain), keeping every fact and the cause.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.0.code = code;
        self
    }

    /// The upstream error behind the failure, kept so that callers can walk
    /// it through [`std::error::Error::source`] and classify it by type.
    /// It never reaches the message or the `Debug` form: an SDK error's
    /// `Debug` form can quote a response body.
    pub fn with_cause(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.cause = Some(Arc::new(cause));
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The human-readable message, rendered from the other fields.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The chain source that failed, when the failure belongs to one.
    pub fn source_name(&self) -> Option<&'static str> {
        self.0.source
    }

    /// The profile the failure belongs to, when the chain or the source
    /// attributed it to one.
    pub fn profile(&self) -> Option<&str> {
        self.0.profile.as_deref()
    }

    /// The URL of a request that never got a response.
    pub fn endpoint(&self) -> Option<&str> {
        self.0.endpoint.as_deref()
    }

    /// The failure's own words, without the source, profile, endpoint or
    /// remedy around them.
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// What to do about the failure, when something is known to help.
    pub fn remedy(&self) -> Option<&str> {
        self.0.remedy.as_deref()
    }
}

/// Whether `detail` says `profile NAME` (`shown` is the escaped name) as
/// whole words: "profile dev" inside "profile devops" is another profile.
/// Only the detail is read: a source's words that name the profile are
/// kept as they are (custom-process's, which put it mid-sentence), while
/// the endpoint and the remedy may mention a profile without naming the
/// failure's (a CA bundle "from ca_bundle in profile dev").
fn names_profile(detail: &str, shown: &str) -> bool {
    let phrase = format!("profile {shown}");
    detail.match_indices(&phrase).any(|(at, _)| {
        let before = detail[..at].chars().next_back();
        let after = detail[at + phrase.len()..].chars().next();
        before.is_none_or(|c| c.is_whitespace() || c == '(')
            && after.is_none_or(|c| c.is_whitespace() || matches!(c, ':' | ',' | ';' | ')'))
    })
}

/// Two errors are equal when their facts are: the cause is left out, as
/// upstream errors have no equality of their own.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (self.0.code, self.0.source, &self.0.profile, &self.0.endpoint, &self.0.detail, &self.0.remedy)
            == (other.0.code, other.0.source, &other.0.profile, &other.0.endpoint, &other.0.detail, &other.0.remedy)
    }
}

impl Eq for Error {}

/// The code and the message only: the cause is left out, as its `Debug`
/// form can quote an upstream's response body.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.0.code.name(), self.0.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

/// `source()` is the upstream error the failure was mapped from, so that
/// a caller can walk the chain and classify it by type.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.cause.as_deref().map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(detail: &str) -> Error {
        Error::from_source(ErrorCode::SourceFailed, "assume-role-with-web-identity", detail)
    }

    #[test]
    fn each_fact_takes_its_place_in_the_message() {
        assert_eq!(Error::new(ErrorCode::Internal, "a bug").message(), "a bug");
        assert_eq!(failed("it failed").message(), "assume-role-with-web-identity: it failed");
        assert_eq!(
            failed("it failed").with_profile("dev").message(),
            "assume-role-with-web-identity: profile dev: it failed"
        );
        assert_eq!(
            failed("it failed").with_endpoint("https://sts.eu-west-1.amazonaws.com").message(),
            "assume-role-with-web-identity: it failed (endpoint URL https://sts.eu-west-1.amazonaws.com)"
        );
        assert_eq!(
            failed("it failed").with_remedy("fix the trust store").message(),
            "assume-role-with-web-identity: it failed: fix the trust store"
        );
        let all = failed("it failed")
            .with_remedy("fix the trust store")
            .with_endpoint("https://sts.example")
            .with_profile("dev");
        assert_eq!(
            all.message(),
            "assume-role-with-web-identity: profile dev: it failed (endpoint URL https://sts.example): fix the trust \
             store"
        );
        assert_eq!(
            (all.profile(), all.endpoint(), all.detail(), all.remedy()),
            (Some("dev"), Some("https://sts.example"), "it failed", Some("fix the trust store"))
        );
        assert_eq!(
            Error::new(ErrorCode::SourceFailed, "it failed").with_profile("dev").message(),
            "profile dev: it failed"
        );
    }

    #[test]
    fn the_detail_and_code_can_change_while_the_other_facts_stay() {
        let error = failed("refused")
            .with_profile("dev")
            .with_cause(std::io::Error::other("upstream"))
            .with_detail("the chain: refused")
            .with_code(ErrorCode::NoCredentials);
        assert_eq!(error.message(), "assume-role-with-web-identity: profile dev: the chain: refused");
        assert_eq!(error.code(), ErrorCode::NoCredentials);
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn the_profile_is_named_once() {
        assert_eq!(
            failed("the session expired").with_profile("dev").with_profile("other").message(),
            "assume-role-with-web-identity: profile dev: the session expired"
        );
        let named = Error::from_source(
            ErrorCode::SourceFailed,
            "custom-process",
            "the credential_process of profile dev exited with status 1: nope",
        );
        assert_eq!(
            named.with_profile("dev").message(),
            "custom-process: the credential_process of profile dev exited with status 1: nope"
        );
        // Another profile whose name starts with this one's is not this one.
        assert_eq!(
            failed("the source profile devops failed").with_profile("dev").message(),
            "assume-role-with-web-identity: profile dev: the source profile devops failed"
        );
        // A remedy that mentions the profile does not name the failure's.
        let remedy = "the trust store, /ca.pem (from ca_bundle in profile dev), does not vouch for it";
        assert_eq!(
            failed("refused").with_remedy(remedy).with_profile("dev").message(),
            format!("assume-role-with-web-identity: profile dev: refused: {remedy}")
        );
    }

    #[test]
    fn a_profile_name_is_escaped_in_the_message_and_kept_as_given() {
        let error = failed("it failed").with_profile("dev\nINFO forged");
        assert_eq!(error.message(), "assume-role-with-web-identity: profile dev\\nINFO forged: it failed");
        assert_eq!(error.profile(), Some("dev\nINFO forged"));
        let named = failed("the credential_process of profile dev\\nx exited").with_profile("dev\nx");
        assert_eq!(named.message(), "assume-role-with-web-identity: the credential_process of profile dev\\nx exited");
    }

    #[test]
    fn source_is_the_cause_and_neither_debug_nor_display_shows_it() {
        let cause = std::io::Error::other("body: aws_secret_access_key=s3cret");
        let error = failed("it failed").with_cause(cause);
        let source = std::error::Error::source(&error).expect("the cause");
        assert_eq!(source.to_string(), "body: aws_secret_access_key=s3cret");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
        assert!(!format!("{error:?}").contains("s3cret"));
        assert!(!error.to_string().contains("s3cret"));
        assert_eq!(format!("{error:?}"), "Error(source-failed: assume-role-with-web-identity: it failed)");
        assert!(std::error::Error::source(&failed("it failed")).is_none());
    }

    #[test]
    fn equality_compares_the_facts_not_the_cause() {
        let with_cause = failed("it failed").with_cause(std::io::Error::other("x"));
        assert_eq!(with_cause, failed("it failed"));
        assert_eq!(with_cause.clone(), with_cause);
        assert_ne!(failed("it failed").with_profile("dev"), failed("it failed"));
    }
}
