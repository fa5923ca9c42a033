//! The C view of a snapshot, and the cheap leases `credchain_get_credentials`
//! hands out on it.
//!
//! The cache's snapshot is plain and immutable; the C ABI hangs one
//! [`CredentialsView`] on it (the snapshot's attachment), built on the first
//! C call that asks for it. The view's strings live in NUL-terminated
//! buffers that are zeroed when it is reclaimed.
//!
//! `credchain_get_credentials` hands out a pointer into the view itself (no
//! copy). Counting those pointers on one shared counter made every call of
//! every thread bounce one cache line between cores; instead each view
//! carries [`LEASE_SHARDS`] copies of the C struct, each on its own cache
//! line with its own counter, and a thread leases the copy of its shard.
//! The view's memory outlives the snapshot: dropping the snapshot drops the
//! view's handle, which retires the memory, and retired memory is reclaimed
//! once no lease on any shard is outstanding.

use std::ffi::c_char;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroize;

use super::types::{credchain_credentials, source_cstr};
use credchain_core::sync::{AtomicBool, AtomicPtr, AtomicUsize};
use std::time::SystemTime;

use credchain_core::Snapshot;
use credchain_core::{unix_seconds, Credentials};

/// Copies of the C view per snapshot: enough that the threads of a busy
/// host rarely share one. (Two under loom: the model's threads then both
/// share a shard and use different ones, with fewer steps to explore.)
pub(crate) const LEASE_SHARDS: usize = if cfg!(credchain_loom) { 2 } else { 16 };

/// A NUL-terminated copy of a string whose bytes are zeroed on drop. The
/// bytes are a leaked boxed slice held by pointer, not a `Box`: moving a
/// `Box` (into the view's data) would invalidate the pointer already handed
/// to the C struct, which Miri reports as undefined behaviour.
struct CText(NonNull<[u8]>);

// SAFETY: CText owns its bytes alone and never writes them until drop; a
// shared reference only reads the pointer.
unsafe impl Send for CText {}
// SAFETY: as above: shared access is read-only.
unsafe impl Sync for CText {}

impl CText {
    /// Copies `text`; an interior NUL cannot come from a valid credential,
    /// so it is cut there rather than producing a C string that lies.
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let mut buffer = Vec::with_capacity(end + 1);
        buffer.extend_from_slice(&bytes[..end]);
        buffer.push(0);
        CText(NonNull::from(Box::leak(buffer.into_boxed_slice())))
    }

    fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
}

impl Drop for CText {
    fn drop(&mut self) {
        // SAFETY: from Box::leak in `CText::new`, taken back once, here.
        let mut bytes = unsafe { Box::from_raw(self.0.as_ptr()) };
        bytes.zeroize();
    }
}

/// One shard's copy of the C view and its count of outstanding leases, on
/// cache lines of its own. The view comes first: a pointer to the lease is a
/// pointer to the view. The count shares the view's first cache line, so
/// that a lease writes one line; the owner, only read, starts the second.
#[repr(C, align(64))]
struct Lease {
    view: credchain_credentials,
    outstanding: AtomicUsize,
    owner: *const ViewData,
}

/// The view's contents, at a fixed address until reclaimed.
struct ViewData {
    leases: [Lease; LEASE_SHARDS],
    retired: AtomicBool,
    _strings: [Option<CText>; 4],
    id: u64,
}

/// Numbers the views, so that tests can tell one reclaimed from another.
static NEXT_VIEW_ID: AtomicU64 = AtomicU64::new(1);

/// The C view of one snapshot: the handle the snapshot holds. Dropping it
/// retires the memory that leases may still point into.
pub(crate) struct CredentialsView {
    data: NonNull<ViewData>,
}

// SAFETY: the data is never mutated after construction except through
// atomics; the raw pointers in the views point into buffers it owns.
unsafe impl Send for CredentialsView {}
// SAFETY: as above.
unsafe impl Sync for CredentialsView {}

impl CredentialsView {
    /// The view of `snapshot`.
    pub(crate) fn of(snapshot: &Snapshot) -> Self {
        CredentialsView::new(snapshot.credentials(), snapshot.reuse_until())
    }

    /// Copies `credentials` into C strings and the shards' views.
    pub(crate) fn new(credentials: &Credentials, reuse_until: Option<SystemTime>) -> Self {
        let access_key_id = CText::new(&credentials.access_key_id);
        let secret_access_key = CText::new(&credentials.secret_access_key);
        let session_token = credentials.session_token.as_deref().map(|t| CText::new(t));
        let account_id = credentials.account_id.as_deref().map(CText::new);
        let view = credchain_credentials {
            access_key_id: access_key_id.as_ptr(),
            secret_access_key: secret_access_key.as_ptr(),
            session_token: session_token.as_ref().map_or(std::ptr::null(), CText::as_ptr),
            account_id: account_id.as_ref().map_or(std::ptr::null(), CText::as_ptr),
            source: source_cstr(credentials.source).as_ptr(),
            expiration: credentials.expiration.map_or(0, unix_seconds),
            reuse_until: reuse_until.map_or(0, unix_seconds),
        };
        let lease = || Lease { view, owner: std::ptr::null(), outstanding: AtomicUsize::new(0) };
        // A raw pointer from the start: a reference taken before leaking the
        // Box would be invalidated by the leak (Miri: undefined behaviour).
        let data = Box::into_raw(Box::new(ViewData {
            leases: std::array::from_fn(|_| lease()),
            retired: AtomicBool::new(false),
            _strings: [Some(access_key_id), Some(secret_access_key), session_token, account_id],
            id: NEXT_VIEW_ID.fetch_add(1, Ordering::Relaxed),
        }));
        // SAFETY: `data` is a fresh allocation no one else sees yet.
        unsafe {
            for lease in (*data).leases.iter_mut() {
                lease.owner = data;
            }
        }
        // SAFETY: Box::into_raw never returns null.
        CredentialsView { data: unsafe { NonNull::new_unchecked(data) } }
    }

    fn data(&self) -> &ViewData {
        // SAFETY: the data is reclaimed only after this handle is dropped.
        unsafe { self.data.as_ref() }
    }

    /// A number unique to this view within the process.
    pub(crate) fn id(&self) -> u64 {
        self.data().id
    }

    /// Leases the calling thread's copy of the C view; the lease keeps the
    /// view's memory alive after its snapshot goes, until
    /// [`CredentialsView::release`]. Must be called while the view is held.
    pub(crate) fn lease(&self) -> *mut credchain_credentials {
        let lease = &self.data().leases[shard_of_this_thread()];
        lease.outstanding.fetch_add(1, Ordering::SeqCst);
        (lease as *const Lease).cast_mut().cast()
    }

    /// Ends a lease from [`CredentialsView::lease`].
    ///
    /// # Safety
    ///
    /// `view` must come from `lease` and be released exactly once.
    pub(crate) unsafe fn release(view: *mut credchain_credentials) {
        // SAFETY: by the contract, `view` is the first field of a live lease.
        let lease = unsafe { &*(view as *const Lease) };
        // SAFETY: the owner outlives its outstanding leases, and this one is
        // still outstanding until the decrement below.
        let retired = unsafe { (*lease.owner).retired.load(Ordering::SeqCst) };
        let Some(previous) = end_one_lease(&lease.outstanding) else {
            credchain_core::log::error(format_args!(
                "credchain_free_credentials was called again for credentials already released (a double free \
                 in the caller); the call was ignored"
            ));
            return;
        };
        // Nothing of the snapshot is touched after the decrement: another
        // thread may reclaim it from then on. A lease that saw it live and
        // ended after its retirement leaves it for the next reclaim.
        if previous == 1 && retired {
            reclaim();
        }
    }
}

/// Takes one lease off `outstanding` unless none is outstanding (a second
/// release of the same view), so that a caller's double free cannot wrap
/// the count and keep the snapshot from ever being reclaimed. Returns the
/// count before.
fn end_one_lease(outstanding: &AtomicUsize) -> Option<usize> {
    let mut current = outstanding.load(Ordering::SeqCst);
    loop {
        let next = current.checked_sub(1)?;
        match outstanding.compare_exchange(current, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(previous) => return Some(previous),
            Err(now) => current = now,
        }
    }
}

impl Drop for CredentialsView {
    /// The snapshot is gone: retire the data, and reclaim every retired
    /// view whose leases have all ended (this one included, usually).
    fn drop(&mut self) {
        self.data().retired.store(true, Ordering::SeqCst);
        push_retired(Box::new(Retired { data: self.data, next: std::ptr::null_mut() }));
        reclaim();
    }
}

impl fmt::Debug for CredentialsView {
    /// Never the strings: they are secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsView").field("id", &self.id()).finish_non_exhaustive()
    }
}

/// A retired snapshot's data, waiting for its leases to end: a node of a
/// lock-free list, so that neither retiring nor reclaiming ever parks a
/// caller's thread.
struct Retired {
    data: NonNull<ViewData>,
    next: *mut Retired,
}

/// The head of the retired list. Nodes are only pushed one at a time and
/// taken all at once (`swap`), so the list has no ABA hazard.
#[cfg(not(credchain_loom))]
static RETIRED: AtomicPtr<Retired> = AtomicPtr::new(std::ptr::null_mut());
#[cfg(credchain_loom)]
loom::lazy_static! {
    static ref RETIRED: AtomicPtr<Retired> = AtomicPtr::new(std::ptr::null_mut());
}

fn push_retired(node: Box<Retired>) {
    let node = Box::into_raw(node);
    let mut head = RETIRED.load(Ordering::SeqCst);
    loop {
        // SAFETY: `node` is ours until the exchange below publishes it.
        unsafe { (*node).next = head };
        match RETIRED.compare_exchange_weak(head, node, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return,
            Err(current) => head = current,
        }
    }
}

/// Frees the retired snapshots no lease refers to any more; puts the others
/// back. Concurrent reclaimers each take a disjoint part of the list.
fn reclaim() {
    let mut list = RETIRED.swap(std::ptr::null_mut(), Ordering::SeqCst);
    while !list.is_null() {
        // SAFETY: the swap made this thread the only owner of the nodes.
        let mut node = unsafe { Box::from_raw(list) };
        list = node.next;
        node.next = std::ptr::null_mut();
        // SAFETY: retired data stays allocated until it is freed here.
        let data = unsafe { node.data.as_ref() };
        if data.leases.iter().any(|l| l.outstanding.load(Ordering::SeqCst) != 0) {
            push_retired(node);
            continue;
        }
        #[cfg(test)]
        reclaimed_log::note(data.id);
        // SAFETY: from Box::leak in `CredentialsView::new`; retired, so no new
        // lease can start, and none is outstanding.
        drop(unsafe { Box::from_raw(node.data.as_ptr()) });
    }
}

/// The shard of the calling thread: handed out round-robin on first use.
#[cfg(not(credchain_loom))]
fn shard_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % LEASE_SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// The same under loom, with loom's per-execution statics.
#[cfg(credchain_loom)]
fn shard_of_this_thread() -> usize {
    loom::lazy_static! {
        static ref NEXT: AtomicUsize = AtomicUsize::new(0);
    }
    loom::thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % LEASE_SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// Ids of the snapshots reclaimed so far (tests only), to tell a reclaim
/// from none and to catch one reclaimed twice.
#[cfg(test)]
mod reclaimed_log {
    use std::collections::HashSet;
    use std::sync::Mutex;

    static RECLAIMED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

    pub(super) fn note(id: u64) {
        let mut ids = RECLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        assert!(ids.get_or_insert_with(HashSet::new).insert(id), "snapshot {id} reclaimed twice");
    }

    pub(super) fn contains(id: u64) -> bool {
        RECLAIMED.lock().unwrap_or_else(|e| e.into_inner()).as_ref().is_some_and(|ids| ids.contains(&id))
    }
}

#[cfg(all(test, not(credchain_loom)))]
mod tests {
    use super::*;
    use credchain_core::SourceName;
    use std::ffi::CStr;
    use std::sync::Arc;

    fn sample() -> CredentialsView {
        let creds = Credentials::new_static(SourceName::Env, "AKIDEXAMPLE", "shh")
            .with_session_token(Some("tok"))
            .with_account_id(Some("123456789012"));
        CredentialsView::new(&creds, None)
    }

    #[test]
    fn a_lease_points_at_the_snapshots_own_strings() {
        let snapshot = sample();
        let view = snapshot.lease();
        // SAFETY: the lease is live until released below.
        unsafe {
            let v = &*view;
            assert_eq!(CStr::from_ptr(v.access_key_id).to_str().unwrap(), "AKIDEXAMPLE");
            assert_eq!(CStr::from_ptr(v.secret_access_key).to_str().unwrap(), "shh");
            assert_eq!(CStr::from_ptr(v.session_token).to_str().unwrap(), "tok");
            assert_eq!(CStr::from_ptr(v.account_id).to_str().unwrap(), "123456789012");
            assert_eq!(CStr::from_ptr(v.source).to_str().unwrap(), "env");
            assert_eq!(v.expiration, 0);
            CredentialsView::release(view);
        }
    }

    #[test]
    fn an_empty_token_is_no_token() {
        let creds = Credentials::new_static(SourceName::Env, "A", "B").with_session_token(Some(""));
        let snapshot = CredentialsView::new(&creds, None);
        let view = snapshot.lease();
        // SAFETY: live until released.
        unsafe {
            assert!((*view).session_token.is_null());
            assert!((*view).account_id.is_null());
            CredentialsView::release(view);
        }
    }

    #[test]
    fn a_lease_outlives_the_last_arc_and_the_snapshot_is_then_reclaimed() {
        let snapshot = Arc::new(sample());
        let id = snapshot.id();
        let view = snapshot.lease();
        drop(snapshot);
        // SAFETY: the lease keeps the retired snapshot's memory alive.
        let key = unsafe { CStr::from_ptr((*view).access_key_id) }.to_str().unwrap().to_owned();
        assert_eq!(key, "AKIDEXAMPLE");
        let reclaimed = reclaimed_log::contains;
        assert!(!reclaimed(id), "retired, waiting for its lease");
        // SAFETY: released once.
        unsafe { CredentialsView::release(view) };
        assert!(reclaimed(id), "reclaimed when its last lease ended");
    }

    #[test]
    fn a_double_release_is_ignored_and_the_snapshot_is_still_reclaimed() {
        let snapshot = Arc::new(sample());
        let id = snapshot.id();
        let view = snapshot.lease();
        // SAFETY: the snapshot is held by the Arc, so the second release
        // reads live memory; it must change nothing.
        unsafe {
            CredentialsView::release(view);
            CredentialsView::release(view);
        }
        drop(snapshot);
        assert!(reclaimed_log::contains(id), "a wrapped lease count would keep the snapshot for ever");
    }

    #[test]
    fn no_two_leases_share_a_cache_line() {
        // The C struct (56 bytes since reuse_until), the counter and the
        // owner take two whole lines; the view and its counter share the
        // first.
        assert_eq!(std::mem::align_of::<Lease>(), 64);
        assert_eq!(std::mem::size_of::<Lease>(), 128);
        assert_eq!(std::mem::offset_of!(Lease, outstanding), 56);
    }
}

/// Model checks of the retirement list and the lease shards (`scripts/loom`:
/// `RUSTFLAGS="--cfg credchain_loom" cargo test --release --lib loom`). Each model
/// asserts, over every interleaving loom explores, that a leased view is
/// never reclaimed before its lease ends, that no snapshot is reclaimed
/// twice, and that once every lease has ended and every `Arc` is gone one
/// more `reclaim` (the next retirement) leaves the list empty.
#[cfg(all(test, credchain_loom))]
mod loom_tests {
    use super::*;
    use credchain_core::SourceName;
    use std::ffi::CStr;
    use std::sync::Arc;

    use loom::thread;

    fn snapshot(key: &str) -> Arc<CredentialsView> {
        Arc::new(CredentialsView::new(&Credentials::new_static(SourceName::Env, key, "secret"), None))
    }

    /// Reads the leased view as C would, checks its snapshot is still
    /// there, and ends the lease.
    fn use_and_release(view: *mut credchain_credentials, id: u64, key: &str) {
        assert!(!reclaimed_log::contains(id), "snapshot {id} reclaimed under a live lease");
        // SAFETY: the lease is live until released below.
        let seen = unsafe { CStr::from_ptr((*view).access_key_id) }.to_str().unwrap().to_owned();
        assert_eq!(seen, key);
        // SAFETY: released once.
        unsafe { CredentialsView::release(view) };
    }

    /// Nothing is left on the list once every lease and `Arc` is gone and
    /// one more reclaim has run; every snapshot of the model was reclaimed.
    fn assert_all_reclaimed(ids: &[u64]) {
        reclaim();
        assert!(RETIRED.load(Ordering::SeqCst).is_null(), "a retired snapshot was left on the list");
        for &id in ids {
            assert!(reclaimed_log::contains(id), "snapshot {id} never reclaimed");
        }
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    /// A lease ends on one thread while the last `Arc` is dropped on
    /// another: the release's "retired?" check and the reclaimer's "any
    /// lease outstanding?" check race.
    #[test]
    fn loom_release_races_the_last_arc() {
        model(|| {
            let snap = snapshot("AKIDONE");
            let id = snap.id();
            let view = snap.lease() as usize;
            let reader = thread::spawn(move || use_and_release(view as *mut _, id, "AKIDONE"));
            drop(snap);
            reader.join().unwrap();
            assert_all_reclaimed(&[id]);
        });
    }

    /// Two threads lease (one shard each, or both the same one, depending
    /// on the order they first lease in) while the main thread drops the
    /// last `Arc`.
    #[test]
    fn loom_two_leases_on_the_shards_and_a_retirement() {
        model(|| {
            let snap = snapshot("AKIDTWO");
            let id = snap.id();
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let held = snap.clone();
                    thread::spawn(move || {
                        let view = held.lease();
                        drop(held);
                        use_and_release(view, id, "AKIDTWO");
                    })
                })
                .collect();
            drop(snap);
            for reader in readers {
                reader.join().unwrap();
            }
            assert_all_reclaimed(&[id]);
        });
    }

    /// Two snapshots retired at once on two threads, each with a lease that
    /// the other thread ends: concurrent pushes, concurrent reclaimers
    /// taking the list from each other and putting nodes back.
    #[test]
    fn loom_concurrent_retirements_and_reclaimers() {
        model(|| {
            let a = snapshot("AKIDA");
            let b = snapshot("AKIDB");
            let (ia, ib) = (a.id(), b.id());
            let va = a.lease() as usize;
            let vb = b.lease() as usize;
            let t = thread::spawn(move || {
                drop(a);
                use_and_release(vb as *mut _, ib, "AKIDB");
            });
            drop(b);
            use_and_release(va as *mut _, ia, "AKIDA");
            t.join().unwrap();
            assert_all_reclaimed(&[ia, ib]);
        });
    }
}
