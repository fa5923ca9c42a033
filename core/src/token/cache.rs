//! A small cache of signed tokens, so that a driver that opens a connection
//! per request does not pay for a signature (three SHA-256 HMAC rounds and a
//! canonical request) every time.
//!
//! A token may be reused only while both of these hold:
//! - it has ample life left: more than [`DEFAULT_MIN_REMAINING`] (5 of its
//!   15 minutes), so a driver that hands it to a slow handshake, or a pool
//!   that opens several connections with it, does not race its expiry;
//! - the credentials that signed it are still the current ones. The caller
//!   passes `credentials_identity`, the id of the credentials snapshot it
//!   signs with; a refresh, rotation or `invalidate` yields a new snapshot
//!   and so a new id, and the next call signs anew. A token signed by
//!   credentials that were just revoked must not outlive them here.
//!
//! Signing happens outside the lock: two threads that miss at once both sign
//! (microseconds) and the second insert wins. That is cheaper and simpler
//! than making one wait for the other, and never blocks a reader on a
//! signer.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime};

use crate::support::sync::Mutex;

use super::AuthToken;

/// Reuse a token only while more than this much of its life is left.
pub const DEFAULT_MIN_REMAINING: Duration = Duration::from_secs(5 * 60);

/// How many tokens the process-wide cache holds: far more distinct
/// (profile, region, host, port, user, kind) combinations than a process
/// normally uses, few enough that a scan on eviction stays cheap.
pub const DEFAULT_CAPACITY: usize = 256;

/// Which kind of token a cache entry holds; part of the key because an RDS
/// token, a DSQL token and a DSQL admin token for the same host are
/// different strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// RDS or Aurora IAM auth (`rds-db`, `Action=connect`).
    Rds,
    /// Aurora DSQL, `Action=DbConnect`.
    DsqlConnect,
    /// Aurora DSQL, `Action=DbConnectAdmin`.
    DsqlAdmin,
}

/// What identifies a token in the cache. Borrowed, so that a lookup that
/// hits allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey<'a> {
    /// The credentials cache's profile key: the explicit profile name, or
    /// `None` for the ambient default.
    pub profile: Option<&'a str>,
    /// The signing region.
    pub region: &'a str,
    /// The host name, as the caller spelled it (it appears in the token).
    pub host: &'a str,
    /// The port; 0 for DSQL, whose tokens carry none.
    pub port: u16,
    /// The database user; empty for DSQL, whose tokens carry none.
    pub user: &'a str,
    /// RDS, DSQL or DSQL admin.
    pub kind: TokenKind,
}

impl<'a> TokenKey<'a> {
    /// The key of an RDS/Aurora token.
    pub fn rds(profile: Option<&'a str>, region: &'a str, host: &'a str, port: u16, user: &'a str) -> Self {
        TokenKey { profile, region, host, port, user, kind: TokenKind::Rds }
    }

    /// The key of an Aurora DSQL token.
    pub fn dsql(profile: Option<&'a str>, region: &'a str, host: &'a str, admin: bool) -> Self {
        let kind = if admin { TokenKind::DsqlAdmin } else { TokenKind::DsqlConnect };
        TokenKey { profile, region, host, port: 0, user: "", kind }
    }
}

/// The owned copy of a [`TokenKey`] that an entry keeps, to tell apart keys
/// whose hashes collide.
struct OwnedKey {
    profile: Option<Box<str>>,
    region: Box<str>,
    host: Box<str>,
    port: u16,
    user: Box<str>,
    kind: TokenKind,
}

impl OwnedKey {
    fn new(k: &TokenKey<'_>) -> Self {
        OwnedKey {
            profile: k.profile.map(Box::from),
            region: k.region.into(),
            host: k.host.into(),
            port: k.port,
            user: k.user.into(),
            kind: k.kind,
        }
    }

    fn matches(&self, k: &TokenKey<'_>) -> bool {
        self.port == k.port
            && self.kind == k.kind
            && *self.host == *k.host
            && *self.user == *k.user
            && *self.region == *k.region
            && self.profile.as_deref() == k.profile
    }
}

struct Entry {
    key: OwnedKey,
    identity: u64,
    token: AuthToken,
    /// Insertion order, for evicting the oldest.
    seq: u64,
}

#[derive(Default)]
struct Inner {
    /// Entries by key hash; a bucket holds more than one entry only on a
    /// hash collision.
    buckets: HashMap<u64, Vec<Entry>>,
    len: usize,
    next_seq: u64,
}

/// A bounded cache of signed tokens. See the module docs for when a token
/// is reused.
pub struct TokenCache {
    inner: Mutex<Inner>,
    hasher: RandomState,
    capacity: usize,
    min_remaining: Duration,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens themselves.
        f.debug_struct("TokenCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .field("min_remaining", &self.min_remaining)
            .finish()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new(DEFAULT_CAPACITY)
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens (at least 1) that reuses a token
    /// while more than [`DEFAULT_MIN_REMAINING`] of its life is left.
    pub fn new(capacity: usize) -> Self {
        TokenCache::with_min_remaining(capacity, DEFAULT_MIN_REMAINING)
    }

    /// Like [`TokenCache::new`], with another reuse threshold (a test, or a
    /// driver that holds tokens for long).
    pub fn with_min_remaining(capacity: usize, min_remaining: Duration) -> Self {
        TokenCache {
            inner: Mutex::new(Inner::default()),
            hasher: RandomState::new(),
            capacity: capacity.max(1),
            min_remaining,
        }
    }

    /// Returns a cached token for `key` if it may be reused (see the module
    /// docs), else calls `sign`, caches what it returns and returns it.
    ///
    /// `credentials_identity` is the id of the credentials snapshot that
    /// `sign` will use; `now` is the current time (and should be the time
    /// `sign` signs at). An error from `sign` is returned as is and nothing
    /// is cached.
    ///
    /// Callers that sign at an explicit time (deterministic tests) must not
    /// come here: call the signing function directly.
    pub fn get_or_sign<E>(
        &self,
        key: &TokenKey<'_>,
        credentials_identity: u64,
        now: SystemTime,
        sign: impl FnOnce() -> Result<AuthToken, E>,
    ) -> Result<AuthToken, E> {
        let hash = self.hasher.hash_one(key);
        {
            let inner = self.inner.lock();
            if let Some(bucket) = inner.buckets.get(&hash) {
                if let Some(e) = bucket.iter().find(|e| e.key.matches(key)) {
                    if e.identity == credentials_identity && self.reusable(&e.token, now) {
                        return Ok(e.token.clone());
                    }
                }
            }
        }
        let token = sign()?;
        self.insert(hash, key, credentials_identity, token.clone(), now);
        Ok(token)
    }

    /// Whether `token` still has more than the threshold of life at `now`.
    /// A token "signed in the future" (the clock stepped back) is not reused:
    /// re-signing is cheap and its date would look odd to the server.
    fn reusable(&self, token: &AuthToken, now: SystemTime) -> bool {
        now >= token.signed_at()
            && token.expires_at().duration_since(now).map(|left| left > self.min_remaining).unwrap_or(false)
    }

    fn insert(&self, hash: u64, key: &TokenKey<'_>, identity: u64, token: AuthToken, now: SystemTime) {
        let mut inner = self.inner.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        if let Some(e) = inner.buckets.get_mut(&hash).and_then(|b| b.iter_mut().find(|e| e.key.matches(key))) {
            e.identity = identity;
            e.token = token;
            e.seq = seq;
            return;
        }
        if inner.len >= self.capacity {
            self.make_room(&mut inner, now);
        }
        inner.buckets.entry(hash).or_default().push(Entry { key: OwnedKey::new(key), identity, token, seq });
        inner.len += 1;
    }

    /// Frees one slot at least: first every token too old to reuse, then,
    /// if none was, the oldest insertion.
    fn make_room(&self, inner: &mut Inner, now: SystemTime) {
        let before = inner.len;
        inner.buckets.retain(|_, bucket| {
            bucket.retain(|e| self.reusable(&e.token, now));
            !bucket.is_empty()
        });
        inner.len = inner.buckets.values().map(Vec::len).sum();
        if inner.len < before {
            return;
        }
        let oldest = inner.buckets.iter().flat_map(|(h, b)| b.iter().map(move |e| (e.seq, *h))).min();
        if let Some((seq, hash)) = oldest {
            if let Some(bucket) = inner.buckets.get_mut(&hash) {
                bucket.retain(|e| e.seq != seq);
                if bucket.is_empty() {
                    inner.buckets.remove(&hash);
                }
            }
            inner.len -= 1;
        }
    }

    /// How many tokens are cached, reusable or not.
    pub fn len(&self) -> usize {
        self.inner.lock().len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{rds_token, SigningCredentials, TOKEN_LIFETIME};
    use std::cell::Cell;
    use std::time::UNIX_EPOCH;

    const CREDS: SigningCredentials<'static> =
        SigningCredentials { access_key_id: "AKIDEXAMPLE", secret_access_key: "secret", session_token: None };

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_724_709_600 + secs)
    }

    /// Gets a token through the cache, counting real signatures.
    fn get(cache: &TokenCache, key: &TokenKey<'_>, identity: u64, now: SystemTime, signs: &Cell<u32>) -> AuthToken {
        cache
            .get_or_sign(key, identity, now, || {
                signs.set(signs.get() + 1);
                rds_token(&CREDS, key.host, key.port, key.user, key.region, now)
            })
            .unwrap()
    }

    #[test]
    fn reuses_while_life_is_ample() {
        let cache = TokenCache::new(8);
        let key = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "app");
        let signs = Cell::new(0);
        let first = get(&cache, &key, 1, t(0), &signs);
        let again = get(&cache, &key, 1, t(1), &signs);
        // 599 s old: 301 s of 900 left, more than 5 minutes.
        let late = get(&cache, &key, 1, t(599), &signs);
        assert_eq!(signs.get(), 1);
        assert_eq!(first.as_str(), again.as_str());
        assert_eq!(first.as_str(), late.as_str());
        assert_eq!(first.expires_at(), t(0) + TOKEN_LIFETIME);
    }

    #[test]
    fn renews_when_life_runs_low() {
        let cache = TokenCache::new(8);
        let key = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "app");
        let signs = Cell::new(0);
        let first = get(&cache, &key, 1, t(0), &signs);
        // 600 s old: exactly 5 minutes left, not "more than": sign anew.
        let renewed = get(&cache, &key, 1, t(600), &signs);
        assert_eq!(signs.get(), 2);
        assert_ne!(first.as_str(), renewed.as_str());
        assert_eq!(renewed.signed_at(), t(600));
        // And the renewed one is reused in turn.
        get(&cache, &key, 1, t(700), &signs);
        assert_eq!(signs.get(), 2);
        // Expired outright.
        get(&cache, &key, 1, t(600 + 901), &signs);
        assert_eq!(signs.get(), 3);
    }

    #[test]
    fn renews_when_credentials_identity_changes() {
        let cache = TokenCache::new(8);
        let key = TokenKey::rds(Some("prod"), "us-east-1", "db.example.com", 5432, "app");
        let signs = Cell::new(0);
        get(&cache, &key, 7, t(0), &signs);
        get(&cache, &key, 8, t(1), &signs); // rotation or invalidate
        assert_eq!(signs.get(), 2);
        get(&cache, &key, 8, t(2), &signs);
        assert_eq!(signs.get(), 2);
        get(&cache, &key, 7, t(3), &signs); // never back to an old snapshot's token
        assert_eq!(signs.get(), 3);
    }

    #[test]
    fn clock_stepping_back_signs_anew() {
        let cache = TokenCache::new(8);
        let key = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "app");
        let signs = Cell::new(0);
        get(&cache, &key, 1, t(100), &signs);
        get(&cache, &key, 1, t(50), &signs);
        assert_eq!(signs.get(), 2);
    }

    #[test]
    fn every_key_field_separates_entries() {
        let cache = TokenCache::new(64);
        let signs = Cell::new(0);
        let base = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "app");
        let keys = [
            base,
            TokenKey { profile: Some("other"), ..base },
            TokenKey { region: "us-west-2", ..base },
            TokenKey { host: "db2.example.com", ..base },
            TokenKey { port: 5433, ..base },
            TokenKey { user: "app2", ..base },
        ];
        for k in &keys {
            get(&cache, k, 1, t(0), &signs);
        }
        for k in &keys {
            get(&cache, k, 1, t(1), &signs);
        }
        assert_eq!(signs.get(), keys.len() as u32);
        assert_eq!(cache.len(), keys.len());
        let d = TokenKey::dsql(None, "us-east-1", "x.dsql.us-east-1.on.aws", false);
        let a = TokenKey::dsql(None, "us-east-1", "x.dsql.us-east-1.on.aws", true);
        assert_ne!(d, a);
        assert_eq!((d.port, d.user), (0, ""));
    }

    #[test]
    fn errors_are_not_cached() {
        let cache = TokenCache::new(8);
        let key = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "app");
        let r: Result<AuthToken, &str> = cache.get_or_sign(&key, 1, t(0), || Err("boom"));
        assert_eq!(r.unwrap_err(), "boom");
        assert!(cache.len() == 0);
    }

    #[test]
    fn bounded_evicting_oldest() {
        let cache = TokenCache::new(3);
        let signs = Cell::new(0);
        let users = ["u0", "u1", "u2", "u3"];
        for (i, u) in users.iter().enumerate() {
            let key = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, u);
            get(&cache, &key, 1, t(i as u64), &signs);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(signs.get(), 4);
        // u1..u3 survive, u0 (the oldest) went.
        for u in &users[1..] {
            get(&cache, &TokenKey::rds(None, "us-east-1", "db.example.com", 5432, u), 1, t(10), &signs);
        }
        assert_eq!(signs.get(), 4);
        get(&cache, &TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "u0"), 1, t(10), &signs);
        assert_eq!(signs.get(), 5);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn eviction_prefers_stale_tokens() {
        let cache = TokenCache::new(2);
        let signs = Cell::new(0);
        let old = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "old");
        let young = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "young");
        get(&cache, &young, 1, t(500), &signs);
        get(&cache, &old, 1, t(0), &signs); // inserted later, but older token
                                            // At t(650) "old" has 250 s left (stale), "young" 750 s.
        let third = TokenKey::rds(None, "us-east-1", "db.example.com", 5432, "third");
        get(&cache, &third, 1, t(650), &signs);
        assert_eq!(cache.len(), 2);
        get(&cache, &young, 1, t(651), &signs);
        assert_eq!(signs.get(), 3, "young survived");
    }
}
