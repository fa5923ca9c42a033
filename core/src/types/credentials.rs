//! Credentials as the chain resolves them. The cache freezes them into a
//! snapshot (`cache/snapshot.rs`).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::types::source::SourceName;

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
            .field("expiration", &self.expiration.map(rfc3339))
            .field("source", &self.source.as_str())
            .finish()
    }
}

/// Shows only the last four characters of an access key id, and none of
/// one that short (as the Python and Java bindings mask it).
pub fn mask_access_key(access_key_id: &str) -> String {
    let chars: Vec<char> = access_key_id.chars().collect();
    let keep = if chars.len() > 4 { 4 } else { 0 };
    let hidden = chars.len() - keep;
    let tail: String = chars[hidden..].iter().collect();
    format!("{}{}", "*".repeat(hidden), tail)
}

/// RFC 3339 in UTC with a `Z`, to the second: `2026-11-25T21:30:00Z`.
pub fn rfc3339(at: SystemTime) -> String {
    let moment =
        time::OffsetDateTime::from_unix_timestamp(unix_seconds(at)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    moment
        .format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap_or_default()
}

/// A time for a person to read: RFC 3339 UTC and how far it is from `now`,
/// `2026-11-25T21:30:00Z (in 4 min 59 s)` or `2026-11-25T21:30:00Z (12 s ago)`.
pub fn describe_time(at: SystemTime, now: SystemTime) -> String {
    let seconds = unix_seconds(at) - unix_seconds(now);
    if seconds >= 0 {
        format!("{} (in {})", rfc3339(at), human_duration(seconds))
    } else {
        format!("{} ({} ago)", rfc3339(at), human_duration(-seconds))
    }
}

/// A length of time for a person: `12 s`, `4 min 59 s`, `2 h 1 min`,
/// `3 d 4 h`; precise where it is short, rounded down where it is long.
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (d, h, m, s) = (seconds / 86_400, (seconds % 86_400) / 3600, (seconds % 3600) / 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min {s} s"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// Parses an RFC 3339 time such as `2026-11-25T21:30:00Z` (fractions and
/// offsets allowed); `None` for anything else or a time before 1970.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let parsed = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    let since_epoch = std::time::Duration::new(u64::try_from(parsed.unix_timestamp()).ok()?, parsed.nanosecond());
    UNIX_EPOCH.checked_add(since_epoch)
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets_and_masks_the_key() {
        let creds = Credentials::new_static(SourceName::Env, "AKIAABCDEFGH1234", "topsecretvalue")
            .with_session_token(Some("tokenvalue"));
        let shown = format!("{creds:?}");
        assert!(!shown.contains("topsecretvalue"));
        assert!(!shown.contains("tokenvalue"));
        assert!(!shown.contains("AKIAABCDEFGH1234"));
        assert!(shown.contains("************1234"), "{shown}");
    }

    #[test]
    fn a_key_id_of_four_characters_or_fewer_is_hidden_whole() {
        assert_eq!(mask_access_key("AKIDEXAMPLE1234"), "***********1234");
        assert_eq!(mask_access_key("ABCDE"), "*BCDE");
        assert_eq!(mask_access_key("ABCD"), "****");
        assert_eq!(mask_access_key(""), "");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0), "0 s");
        assert_eq!(human_duration(12), "12 s");
        assert_eq!(human_duration(299), "4 min 59 s");
        assert_eq!(human_duration(7260), "2 h 1 min");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(human_duration(-5), "0 s");
    }

    #[test]
    fn times_for_people_say_how_far_they_are() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_893_553_445);
        let later = now + std::time::Duration::from_secs(299);
        assert_eq!(describe_time(later, now), "2030-01-02T03:09:04Z (in 4 min 59 s)");
        assert_eq!(describe_time(now, later), "2030-01-02T03:04:05Z (4 min 59 s ago)");
        assert_eq!(describe_time(now, now), "2030-01-02T03:04:05Z (in 0 s)");
    }

    #[test]
    fn debug_shows_the_expiry_as_rfc3339_and_hides_secrets() {
        let credentials = Credentials::new_static(SourceName::Env, "AKIDEXAMPLE1234", "s3cr3t-value")
            .with_expiration(Some(UNIX_EPOCH + std::time::Duration::from_secs(1_893_553_445)));
        let debug = format!("{credentials:?}");
        assert!(debug.contains("expiration: Some(\"2030-01-02T03:04:05Z\")"), "{debug}");
        assert!(!debug.contains("s3cr3t") && !debug.contains("AKIDEXAMPLE"), "{debug}");
    }

    #[test]
    fn rfc3339_with_zone_and_fraction() {
        let at = parse_rfc3339("2030-01-02T03:04:05.5Z").unwrap();
        assert_eq!(at.duration_since(UNIX_EPOCH).unwrap().as_millis(), 1_893_553_445_500);
        let offset = parse_rfc3339("2030-01-02T04:04:05+01:00").unwrap();
        assert_eq!(offset.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_893_553_445);
        assert!(parse_rfc3339("tomorrow").is_none());
    }
}
