//! IAM database authentication tokens for RDS, Aurora and Aurora DSQL
//! (issue 7).
//!
//! A token is a SigV4-presigned URL with its `https://` scheme cut off, used
//! as the database password:
//!
//! - RDS and Aurora (MySQL, PostgreSQL, …) and RDS Proxy:
//!   `GET https://host:port/?Action=connect&DBUser=user`, service `rds-db`;
//! - Aurora DSQL: `GET https://host/?Action=DbConnect` (or `DbConnectAdmin`
//!   for the `admin` role), service `dsql`, no port.
//!
//! Both expire [`TOKEN_LIFETIME`] (900 s) after signing, botocore's fixed
//! value for RDS and its default for DSQL. The strings are byte-for-byte
//! what botocore's `generate_db_auth_token` and the dsql client's
//! `generate_db_connect_auth_token` / `generate_db_connect_admin_auth_token`
//! return for the same inputs and clock (see `sign.rs` for the two places
//! where that takes more than calling aws-sigv4, and `tests.rs` for the
//! vectors).
//!
//! Layout: [`rds_token`] and [`dsql_token`] validate and sign; `region`
//! finds the signing region (`region_from_hostname`, [`resolve_region`]);
//! `cache` keeps tokens for reuse ([`TokenCache`]). Nothing here reads the
//! environment or the credential chain: the caller passes credentials, the
//! environment's region values and the time, which keeps this module pure
//! and its tests deterministic.
//!
//! [`auth_token`] (in `from_chain.rs`) ties it to the process-wide
//! credentials; the C ABI and the `credchain token` command call it.

mod cache;
mod fingerprint;
mod from_chain;
mod region;
mod sign;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

pub use cache::{TokenCache, TokenKey};
pub use fingerprint::token_fingerprint;
pub use from_chain::{auth_token, Signer, Target, TokenRequest};
#[cfg(any(test, feature = "fuzzing"))]
pub use region::region_from_hostname;
pub use region::{resolve_region, RegionSources};

/// How long a token is valid after its signing time: 15 minutes, the value
/// botocore always uses for RDS and by default for DSQL (`X-Amz-Expires=900`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// The signing name (service) of RDS and Aurora tokens.
pub const RDS_SERVICE: &str = "rds-db";

/// The signing name (service) of Aurora DSQL tokens.
pub const DSQL_SERVICE: &str = "dsql";

/// Longest host name accepted: a DNS name is at most 253 characters, plus
/// one for a trailing dot.
const MAX_HOSTNAME_LEN: usize = 254;

/// Longest user name accepted. Database engines allow far less (PostgreSQL
/// 63 bytes, MySQL 32 characters); this only stops absurd input.
const MAX_USERNAME_LEN: usize = 1024;

/// Latest signing time whose date still has four-digit years
/// (9999-12-31T23:59:59Z), which the SigV4 date format requires.
const MAX_SIGNING_UNIX_SECS: u64 = 253_402_300_799;

/// The credentials to sign with: borrowed from the caller's credentials
/// snapshot, so that no copy of a secret outlives the call here.
///
/// `Debug` shows only whether a session token is present, never a key.
#[derive(Clone, Copy)]
pub struct SigningCredentials<'a> {
    /// The access key id (`AKIA…`, `ASIA…`).
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a str,
    /// The session token of temporary credentials; `None` (or an empty
    /// string, treated the same) for long-term keys.
    pub session_token: Option<&'a str>,
}

impl fmt::Debug for SigningCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &"** redacted **")
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.map(|_| "** redacted **"))
            .finish()
    }
}

/// A signed token. The text is a bearer secret (it logs in as the user and,
/// with temporary credentials, carries the session token), so it lives in
/// memory that is zeroed when the last clone drops, and `Debug` never
/// shows it. Clones share one buffer: handing a cached token out costs a
/// reference count, not a copy.
#[derive(Clone)]
pub struct AuthToken {
    value: Arc<Zeroizing<String>>,
    signed_at: SystemTime,
    expires_at: SystemTime,
}

impl AuthToken {
    /// The token: `host[:port]/?Action=…&X-Amz-Signature=…`, to pass as the
    /// database password. Copy it into whatever buffer the driver needs and
    /// zero that buffer when done.
    pub fn as_str(&self) -> &str {
        self.value.as_str()
    }

    /// The time it was signed at (whole seconds count; the SigV4 date drops
    /// the fraction).
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// When the server stops accepting it: `signed_at` + `TOKEN_LIFETIME` (15 minutes).
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthToken")
            .field("value", &"** redacted **")
            .field("signed_at", &self.signed_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What went wrong, for mapping onto the C ABI's result codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenErrorKind {
    /// A host name, user name, port, region or time the caller passed is
    /// unusable (`CREDCHAIN_INVALID_ARGUMENT`).
    InvalidArgument,
    /// Nothing named a region: not the argument, the host name, the
    /// environment nor the profile (`CREDCHAIN_INVALID_ARGUMENT` too, or
    /// `CREDCHAIN_INVALID_CONFIG`; the message says what to set).
    NoRegion,
    /// aws-sigv4 refused or changed behaviour: a bug or a dependency
    /// upgrade (`CREDCHAIN_INTERNAL`).
    Signing,
}

/// A token error: a kind and a message fit to show a user. Messages name
/// the offending host name, region or parameter but never a key, a session
/// token or a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    kind: TokenErrorKind,
    message: String,
}

impl TokenError {
    pub(crate) fn new(kind: TokenErrorKind, message: impl Into<String>) -> Self {
        TokenError { kind, message: message.into() }
    }

    fn invalid(message: impl Into<String>) -> Self {
        TokenError::new(TokenErrorKind::InvalidArgument, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TokenErrorKind {
        self.kind
    }

    /// The message, without a trailing period.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TokenError {}

/// Signs an RDS or Aurora IAM authentication token (also valid for RDS
/// Proxy) for `user` at `host:port` in `region`, signed at `signing_time`.
///
/// Equal, byte for byte, to botocore's
/// `rds.generate_db_auth_token(host, port, user, Region=region)` at the same
/// clock and credentials. `region` is not inferred here: pass what
/// [`resolve_region`] returns.
///
/// Errors ([`TokenErrorKind::InvalidArgument`]): an empty host name or one
/// carrying a scheme, path, port, user info or whitespace; port 0; an empty
/// user name or one with control characters; a malformed region; a signing
/// time before 1970 or after 9999; empty credentials.
pub fn rds_token(
    credentials: &SigningCredentials<'_>,
    host: &str,
    port: u16,
    user: &str,
    region: &str,
    signing_time: SystemTime,
) -> Result<AuthToken, TokenError> {
    validate_hostname(host)?;
    if port == 0 {
        return Err(TokenError::invalid(
            "port 0 is not a database port; pass the port the endpoint listens on (3306, 5432, ...)",
        ));
    }
    validate_username(user)?;
    validate_region(region)?;
    let credentials = validate_credentials(credentials)?;
    validate_time(signing_time)?;
    let value = sign::presign(
        &credentials,
        &sign::Presign {
            host,
            port: Some(port),
            service: RDS_SERVICE,
            action: "connect",
            db_user: Some(user),
            region,
            time: signing_time,
            expires_in: TOKEN_LIFETIME,
        },
    )?;
    Ok(token(value, signing_time))
}

/// Signs an Aurora DSQL authentication token for the cluster endpoint
/// `host` in `region`: `Action=DbConnectAdmin` when `admin` (to log in as
/// the `admin` role), else `Action=DbConnect` (any other role).
///
/// Equal, byte for byte, to boto3's dsql client
/// `generate_db_connect_admin_auth_token(host, Region=region)` or
/// `generate_db_connect_auth_token(host, Region=region)` with the default
/// `ExpiresIn` of 900 s.
///
/// Errors as for [`rds_token`], less port and user, which DSQL tokens do not
/// carry.
pub fn dsql_token(
    credentials: &SigningCredentials<'_>,
    host: &str,
    region: &str,
    admin: bool,
    signing_time: SystemTime,
) -> Result<AuthToken, TokenError> {
    validate_hostname(host)?;
    validate_region(region)?;
    let credentials = validate_credentials(credentials)?;
    validate_time(signing_time)?;
    let value = sign::presign(
        &credentials,
        &sign::Presign {
            host,
            port: None,
            service: DSQL_SERVICE,
            action: if admin { "DbConnectAdmin" } else { "DbConnect" },
            db_user: None,
            region,
            time: signing_time,
            expires_in: TOKEN_LIFETIME,
        },
    )?;
    Ok(token(value, signing_time))
}

/// Reads the C ABI's `int64_t signing_time`: 0 means "now" (`None`: the
/// caller signs at the current time and may use the cache), a positive
/// value is Unix seconds (`Some`: sign at exactly that time, bypassing the
/// cache, for deterministic tests). Negative values and years past 9999 are
/// [`TokenErrorKind::InvalidArgument`].
pub fn signing_time_from_unix(unix_seconds: i64) -> Result<Option<SystemTime>, TokenError> {
    match u64::try_from(unix_seconds) {
        Ok(0) => Ok(None),
        Ok(secs) if secs <= MAX_SIGNING_UNIX_SECS => Ok(Some(UNIX_EPOCH + Duration::from_secs(secs))),
        _ => Err(TokenError::invalid(format!(
            "signing_time {unix_seconds} is out of range: pass 0 for now, or Unix seconds between 1 and {MAX_SIGNING_UNIX_SECS}"
        ))),
    }
}

fn token(value: Zeroizing<String>, signed_at: SystemTime) -> AuthToken {
    AuthToken { value: Arc::new(value), signed_at, expires_at: signed_at + TOKEN_LIFETIME }
}

/// A user-supplied string for an error message: quoted, control characters
/// escaped, cut at 100 characters so a megabyte of junk stays out of logs.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in s.chars().enumerate() {
        if i == 100 {
            out.push_str("...");
            break;
        }
        if c == '\'' || c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A host name must be a bare DNS name or IPv4 address: it is pasted into
/// `https://{host}:{port}/` and into the signed `host` header, so a scheme,
/// a port, a path or user info would produce a token for some other URL
/// that the server rejects with an unhelpful "PAM authentication failed".
fn validate_hostname(host: &str) -> Result<(), TokenError> {
    if host.is_empty() {
        return Err(TokenError::invalid("hostname is empty"));
    }
    let q = quoted(host);
    if let Some(i) = host.find("://") {
        return Err(TokenError::invalid(format!(
            "hostname {q} must not contain a scheme ('{}://'); pass the bare endpoint name",
            &host[..i].chars().take(16).collect::<String>()
        )));
    }
    if host.chars().any(char::is_whitespace) {
        return Err(TokenError::invalid(format!("hostname {q} contains whitespace")));
    }
    if host.contains(['/', '?', '#']) {
        return Err(TokenError::invalid(format!(
            "hostname {q} must not contain a path or query ('/', '?', '#'); pass the bare endpoint name"
        )));
    }
    if host.contains('@') {
        return Err(TokenError::invalid(format!("hostname {q} must not contain user info ('@')")));
    }
    if host.starts_with('[') || host.matches(':').count() > 1 {
        return Err(TokenError::invalid(format!(
            "hostname {q} is an IPv6 address; tokens are signed for the endpoint's DNS name, pass that"
        )));
    }
    if host.contains(':') {
        return Err(TokenError::invalid(format!(
            "hostname {q} must not contain a port; pass the port as its own argument"
        )));
    }
    if host.len() > MAX_HOSTNAME_LEN {
        return Err(TokenError::invalid(format!("hostname is {} bytes long; a DNS name has at most 253", host.len())));
    }
    if let Some(c) = host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))) {
        return Err(TokenError::invalid(format!(
            "hostname {q} contains {}, which is not allowed in a host name (letters, digits, '-', '.', '_')",
            quoted(&c.to_string())
        )));
    }
    let labels = host.strip_suffix('.').unwrap_or(host);
    if labels.split('.').any(str::is_empty) {
        return Err(TokenError::invalid(format!("hostname {q} has an empty label ('..' or a leading '.')")));
    }
    Ok(())
}

/// The user name is percent-encoded into the token, so any text is
/// representable; only empty, absurdly long and control-character names are
/// refused, as no database has such users and they usually betray a
/// caller's bug (an unterminated or unstripped string).
fn validate_username(user: &str) -> Result<(), TokenError> {
    if user.is_empty() {
        return Err(TokenError::invalid("username is empty"));
    }
    if user.len() > MAX_USERNAME_LEN {
        return Err(TokenError::invalid(format!(
            "username is {} bytes long; at most {MAX_USERNAME_LEN} are accepted",
            user.len()
        )));
    }
    if let Some(c) = user.chars().find(|c| c.is_control()) {
        return Err(TokenError::invalid(format!("username contains the control character U+{:04X}", u32::from(c))));
    }
    Ok(())
}

fn validate_region(region: &str) -> Result<(), TokenError> {
    if region.is_empty() {
        return Err(TokenError::invalid("region is empty"));
    }
    if !region::is_valid_region_name(region) {
        return Err(TokenError::invalid(format!(
            "region {} is not a valid region name (letters, digits and '-', such as 'us-east-1')",
            quoted(region)
        )));
    }
    Ok(())
}

/// Empty keys would sign a token no server accepts; they can only come from
/// a bug upstream, so say so instead of failing at login. An empty session
/// token means "none" (botocore would send `X-Amz-Security-Token=` and be
/// rejected; the C ABI uses NULL, and "" is the same intent).
fn validate_credentials<'a>(c: &SigningCredentials<'a>) -> Result<SigningCredentials<'a>, TokenError> {
    if c.access_key_id.is_empty() {
        return Err(TokenError::invalid("the credentials have an empty access key id"));
    }
    if c.secret_access_key.is_empty() {
        return Err(TokenError::invalid("the credentials have an empty secret access key"));
    }
    Ok(SigningCredentials { session_token: c.session_token.filter(|t| !t.is_empty()), ..*c })
}

fn validate_time(t: SystemTime) -> Result<(), TokenError> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= MAX_SIGNING_UNIX_SECS => Ok(()),
        _ => Err(TokenError::invalid("signing time is before 1970 or after 9999")),
    }
}
