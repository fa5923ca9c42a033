//! Credentials as the chain resolves them, and the immutable snapshot that
//! the cache hands to every caller.
//!
//! A [`Snapshot`] is built once per fetch and then only read. Its first field
//! is the C view (`credchain_credentials`), whose strings point into buffers
//! the snapshot owns, so the C ABI can hand out a reference-counted pointer
//! instead of copying five strings on every call. Secret buffers are zeroed
//! when the last reference goes.

use std::ffi::c_char;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::{Zeroize, Zeroizing};

use crate::chain::SourceName;
use crate::ffi::types::credchain_credentials;

/// Credentials as one source of the chain produced them.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id (not secret, but shown masked by diagnostics).
    pub access_key_id: String,
    /// The secret access key; zeroed on drop.
    pub secret_access_key: Zeroizing<String>,
    /// The session token of temporary credentials; zeroed on drop.
    pub session_token: Option<Zeroizing<String>>,
    /// The account id, when the source knows it.
    pub account_id: Option<String>,
    /// When the credentials stop working; `None` for long-term keys.
    pub expiration: Option<SystemTime>,
    /// Which source of the chain produced them.
    pub source: SourceName,
}

impl Credentials {
    /// Long-term credentials without a token or expiry.
    pub fn new_static(source: SourceName, access_key_id: &str, secret_access_key: &str) -> Self {
        Credentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: Zeroizing::new(secret_access_key.to_owned()),
            session_token: None,
            account_id: None,
            expiration: None,
            source,
        }
    }

    /// Adds a session token (an empty one counts as none).
    pub fn with_session_token(mut self, token: Option<&str>) -> Self {
        self.session_token = token.filter(|t| !t.is_empty()).map(|t| Zeroizing::new(t.to_owned()));
        self
    }

    /// Adds an account id (an empty one counts as none).
    pub fn with_account_id(mut self, account_id: Option<&str>) -> Self {
        self.account_id = account_id.filter(|a| !a.is_empty()).map(str::to_owned);
        self
    }

    /// Adds an expiry.
    pub fn with_expiration(mut self, expiration: Option<SystemTime>) -> Self {
        self.expiration = expiration;
        self
    }

    /// Whether the two hold the same keys, token, source and expiry, so that
    /// a re-resolution that changed nothing is not announced as a rotation.
    pub fn same_as(&self, other: &Credentials) -> bool {
        self.access_key_id == other.access_key_id
            && *self.secret_access_key == *other.secret_access_key
            && self.session_token.as_deref() == other.session_token.as_deref()
            && self.account_id == other.account_id
            && self.expiration == other.expiration
            && self.source == other.source
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &mask_access_key(&self.access_key_id))
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.as_ref().map(|_| "** redacted **"))
            .field("account_id", &self.account_id)
            .field("expiration", &self.expiration.map(unix_seconds))
            .field("source", &self.source.as_str())
            .finish()
    }
}

/// Shows only the last four characters of an access key id.
pub fn mask_access_key(access_key_id: &str) -> String {
    let chars: Vec<char> = access_key_id.chars().collect();
    let keep = chars.len().min(4);
    let hidden = chars.len() - keep;
    let tail: String = chars[hidden..].iter().collect();
    format!("{}{}", "*".repeat(hidden), tail)
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    }
}

/// A NUL-terminated copy of a string whose bytes are zeroed on drop. The
/// bytes live in a boxed slice, so the pointer handed to C never moves.
struct CText(Box<[u8]>);

impl CText {
    /// Copies `text`; an interior NUL cannot come from a valid credential,
    /// so it is cut there rather than producing a C string that lies.
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let mut buffer = Vec::with_capacity(end + 1);
        buffer.extend_from_slice(&bytes[..end]);
        buffer.push(0);
        CText(buffer.into_boxed_slice())
    }

    fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
}

impl Drop for CText {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Hands out a new number for every snapshot, so a token signed by one set
/// of credentials is never mistaken for one signed by the next.
static NEXT_SNAPSHOT_ID: AtomicU64 = AtomicU64::new(1);

/// One immutable set of credentials as the cache serves it.
///
/// `repr(C)` with the C view first: a `*const Snapshot` is also a valid
/// `*const credchain_credentials`, which is what lets the C ABI return the
/// shared snapshot itself.
#[repr(C)]
pub struct Snapshot {
    view: credchain_credentials,
    access_key_id: CText,
    secret_access_key: CText,
    session_token: Option<CText>,
    account_id: Option<CText>,
    credentials: Credentials,
    id: u64,
    fetched_at: SystemTime,
}

// SAFETY: the raw pointers in `view` point into the boxed buffers owned by
// the same snapshot, which is never mutated after construction.
unsafe impl Send for Snapshot {}
// SAFETY: as above; shared access only ever reads.
unsafe impl Sync for Snapshot {}

impl Snapshot {
    /// Freezes `credentials` into a snapshot fetched at `fetched_at`.
    pub fn new(credentials: Credentials, fetched_at: SystemTime) -> Self {
        let access_key_id = CText::new(&credentials.access_key_id);
        let secret_access_key = CText::new(&credentials.secret_access_key);
        let session_token = credentials.session_token.as_deref().map(|t| CText::new(t));
        let account_id = credentials.account_id.as_deref().map(CText::new);
        let view = credchain_credentials {
            access_key_id: access_key_id.as_ptr(),
            secret_access_key: secret_access_key.as_ptr(),
            session_token: session_token.as_ref().map_or(std::ptr::null(), CText::as_ptr),
            account_id: account_id.as_ref().map_or(std::ptr::null(), CText::as_ptr),
            source: credentials.source.as_cstr().as_ptr(),
            expiration: credentials.expiration.map_or(0, unix_seconds),
        };
        Snapshot {
            view,
            access_key_id,
            secret_access_key,
            session_token,
            account_id,
            credentials,
            id: NEXT_SNAPSHOT_ID.fetch_add(1, Ordering::Relaxed),
            fetched_at,
        }
    }

    /// The credentials this snapshot holds.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A number unique to this snapshot within the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// When the fetch that produced it finished.
    pub fn fetched_at(&self) -> SystemTime {
        self.fetched_at
    }

    /// When the credentials expire, if they do.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.credentials.expiration
    }

    /// The source name.
    pub fn source(&self) -> SourceName {
        self.credentials.source
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot").field("id", &self.id).field("credentials", &self.credentials).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn the_c_view_points_at_the_snapshots_own_strings() {
        let creds = Credentials::new_static(SourceName::Env, "AKIDEXAMPLE", "shh")
            .with_session_token(Some("tok"))
            .with_account_id(Some("123456789012"));
        let snapshot = Snapshot::new(creds, SystemTime::now());
        let view = &snapshot.view;
        // SAFETY: the view's pointers are valid while `snapshot` lives.
        unsafe {
            assert_eq!(CStr::from_ptr(view.access_key_id).to_str().unwrap(), "AKIDEXAMPLE");
            assert_eq!(CStr::from_ptr(view.secret_access_key).to_str().unwrap(), "shh");
            assert_eq!(CStr::from_ptr(view.session_token).to_str().unwrap(), "tok");
            assert_eq!(CStr::from_ptr(view.account_id).to_str().unwrap(), "123456789012");
            assert_eq!(CStr::from_ptr(view.source).to_str().unwrap(), "env");
        }
        assert_eq!(view.expiration, 0);
    }

    #[test]
    fn an_empty_token_is_no_token() {
        let creds = Credentials::new_static(SourceName::Env, "A", "B").with_session_token(Some(""));
        let snapshot = Snapshot::new(creds, SystemTime::now());
        assert!(snapshot.view.session_token.is_null());
        assert!(snapshot.view.account_id.is_null());
    }

    #[test]
    fn debug_output_hides_secrets_and_masks_the_key() {
        let creds = Credentials::new_static(SourceName::Env, "AKIAABCDEFGH1234", "topsecretvalue")
            .with_session_token(Some("tokenvalue"));
        let shown = format!("{:?}", Snapshot::new(creds, SystemTime::now()));
        assert!(!shown.contains("topsecretvalue"));
        assert!(!shown.contains("tokenvalue"));
        assert!(!shown.contains("AKIAABCDEFGH1234"));
        assert!(shown.contains("************1234"), "{shown}");
    }
}
