//! The immutable snapshot the cache serves: one fetch's credentials, a
//! number unique in the process, and room for a layer above to hang its own
//! view of them (the C ABI's leased C strings, the C ABI crate's `view.rs`).

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::time::SystemTime;

use super::timing::windows;
use crate::types::credentials::Credentials;
use crate::types::source::SourceName;

/// Hands out a new number for every snapshot, so a token signed by one set
/// of credentials is never mistaken for one signed by the next.
static NEXT_SNAPSHOT_ID: AtomicU64 = AtomicU64::new(1);

/// One immutable set of credentials as the cache serves it.
pub struct Snapshot {
    credentials: Credentials,
    id: u64,
    fetched_at: SystemTime,
    attachment: Attachment,
}

/// How close to expiry a copy of credentials kept outside the library is
/// never handed out: a caller needs a moment to use them.
pub const REUSE_MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

impl Snapshot {
    /// Freezes `credentials` into a snapshot fetched at `fetched_at`.
    pub fn new(credentials: Credentials, fetched_at: SystemTime) -> Self {
        Snapshot {
            credentials,
            id: NEXT_SNAPSHOT_ID.fetch_add(1, Ordering::Relaxed),
            fetched_at,
            attachment: Attachment::default(),
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

    /// Until when a copy of these credentials kept outside the library (a
    /// binding's) may be handed out without asking the library again: the
    /// start of the mandatory refresh window, from which callers of the
    /// library wait for new credentials (or get the refresh's error). `None`
    /// for credentials that never expire: a copy of those stays good until
    /// the generation counter moves.
    ///
    /// Never later than `REUSE_MARGIN` (a second) before expiry, even for credentials
    /// so short-lived that their mandatory window is smaller: the margin
    /// lives here, once, rather than in each binding.
    pub fn reuse_until(&self) -> Option<SystemTime> {
        let expires = self.expiration()?;
        let lifetime = expires.duration_since(self.fetched_at).unwrap_or_default();
        let (_, mandatory) = windows(lifetime);
        let floor = expires.checked_sub(REUSE_MARGIN).unwrap_or(SystemTime::UNIX_EPOCH);
        Some((expires - mandatory).min(floor))
    }

    /// The source name.
    pub fn source(&self) -> SourceName {
        self.credentials.source
    }

    /// The view of type `V` hung on this snapshot, made from its credentials
    /// by `make` on first use. Lock-free: racing first users each make one
    /// and all but the first to publish drop theirs. One kind of view per
    /// snapshot: asking for another type is a bug and panics.
    pub fn view<V: Any + Send + Sync>(&self, make: impl FnOnce(&Snapshot) -> V) -> &V {
        self.attachment.get_or_attach(|| make(self))
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot").field("id", &self.id).field("credentials", &self.credentials).finish()
    }
}

/// A value attached once, without a lock (a lock taken here could be held
/// by a parent thread at the moment of a `fork()` and stay held in the
/// child), and dropped with its owner.
#[derive(Default)]
struct Attachment {
    value: AtomicPtr<Box<dyn Any + Send + Sync>>,
}

impl Attachment {
    fn get_or_attach<V: Any + Send + Sync>(&self, make: impl FnOnce() -> V) -> &V {
        let mut current = self.value.load(Ordering::Acquire);
        if current.is_null() {
            let ours: Box<Box<dyn Any + Send + Sync>> = Box::new(Box::new(make()));
            let ours = Box::into_raw(ours);
            match self.value.compare_exchange(std::ptr::null_mut(), ours, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => current = ours,
                Err(theirs) => {
                    // SAFETY: `ours` was never published.
                    drop(unsafe { Box::from_raw(ours) });
                    current = theirs;
                }
            }
        }
        // SAFETY: a published value lives until `self` is dropped.
        let value: &(dyn Any + Send + Sync) = unsafe { &**current };
        value.downcast_ref::<V>().expect("a snapshot carries one kind of view")
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let value = *self.value.get_mut();
        if !value.is_null() {
            // SAFETY: published by `get_or_attach` from Box::into_raw, and
            // no borrow of it outlives `self`.
            drop(unsafe { Box::from_raw(value) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    fn sample() -> Snapshot {
        // Miri runs isolated, without the wall clock (scripts/miri).
        #[cfg(miri)]
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        #[cfg(not(miri))]
        let now = SystemTime::now();
        Snapshot::new(Credentials::new_static(SourceName::Env, "AKIDEXAMPLE", "shh"), now)
    }

    struct Counted(Arc<AtomicUsize>, String);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_view_is_made_once_and_dropped_with_its_snapshot() {
        let drops = Arc::new(AtomicUsize::new(0));
        let snapshot = sample();
        let mut made = 0;
        let first = snapshot.view(|s| {
            made += 1;
            Counted(drops.clone(), s.credentials().access_key_id.clone())
        });
        assert_eq!(first.1, "AKIDEXAMPLE");
        let again = snapshot.view(|_| -> Counted { unreachable!("made twice") });
        assert!(std::ptr::eq(first, again));
        assert_eq!(made, 1);
        drop(snapshot);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn racing_first_users_share_one_view_and_the_losers_are_dropped() {
        let drops = Arc::new(AtomicUsize::new(0));
        let snapshot = Arc::new(sample());
        let addresses: Vec<usize> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (snapshot, drops) = (snapshot.clone(), drops.clone());
                    scope.spawn(move || {
                        snapshot.view(|s| Counted(drops, s.credentials().access_key_id.clone())) as *const _ as usize
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(addresses.windows(2).all(|w| w[0] == w[1]), "every caller sees the published view");
        let losers = drops.load(Ordering::SeqCst);
        drop(snapshot);
        assert_eq!(drops.load(Ordering::SeqCst), losers + 1, "the published view goes with the snapshot");
    }

    #[test]
    fn a_copy_may_be_reused_until_the_mandatory_window() {
        let fetched = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let hour = std::time::Duration::from_secs(3600);
        let expiring = Credentials::new_static(SourceName::Sso, "A", "B").with_expiration(Some(fetched + hour));
        let snapshot = Snapshot::new(expiring, fetched);
        // One hour: botocore's 10-minute mandatory window.
        assert_eq!(snapshot.reuse_until(), Some(fetched + hour - std::time::Duration::from_secs(600)));
        assert_eq!(sample().reuse_until(), None, "static credentials: until the generation moves");
    }

    #[test]
    fn a_copy_is_never_reused_within_the_margin_of_expiry() {
        let fetched = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        // Five seconds of life: the mandatory window (a sixth, 833 ms) is
        // smaller than the margin, which wins.
        let short = Credentials::new_static(SourceName::AssumeRole, "A", "B")
            .with_expiration(Some(fetched + std::time::Duration::from_secs(5)));
        let snapshot = Snapshot::new(short, fetched);
        assert_eq!(snapshot.reuse_until(), Some(fetched + std::time::Duration::from_secs(4)));
    }

    #[test]
    fn debug_output_masks_the_secret() {
        let text = format!("{:?}", sample());
        assert!(!text.contains("shh"), "{text}");
    }
}
