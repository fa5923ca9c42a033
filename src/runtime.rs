//! The one internal tokio runtime, started lazily, rebuilt in a forked
//! child, and never dropped by a static destructor.
//!
//! Callers never need a runtime: they hand work to this one and wait on a
//! condition variable. The runtime has one worker thread (not one per core)
//! plus tokio's blocking pool, whose idle threads exit after a few seconds.
//! tokio does not survive `fork()` (tokio#4301), so a `pthread_atfork` child
//! handler marks the parent's runtime as abandoned; the child's next call
//! builds a new one and the old one is leaked, never touched.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

use parking_lot::lock_api::RawMutex as _;
use parking_lot::Mutex;
use tokio::runtime::{Handle, Runtime};

/// The live runtime and the epoch it belongs to. A static is never dropped,
/// so process exit and library unload never join the runtime's threads
/// (which can hang); `shutdown` is the explicit way to stop it.
static RUNTIME: Mutex<Option<(u64, Runtime)>> = Mutex::new(None);
/// The epoch of the live runtime; 0 before the first one.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// Set in a forked child until it has abandoned the parent's runtime.
static FORKED: AtomicBool = AtomicBool::new(false);
static ATFORK: Once = Once::new();

/// The epoch of the runtime that is live in this process now, or 0 when
/// there is none or this is a child that has not yet replaced the parent's.
/// Cheap (two atomic loads): the hot path uses it to notice a fork.
pub fn live_epoch() -> u64 {
    if FORKED.load(Ordering::Acquire) {
        return 0;
    }
    EPOCH.load(Ordering::Acquire)
}

/// The current epoch, starting the runtime if needed.
pub fn epoch() -> u64 {
    handle().0
}

/// The runtime's handle and epoch, starting (or, after a fork, restarting)
/// the runtime when needed.
pub fn handle() -> (u64, Handle) {
    let mut slot = RUNTIME.lock();
    if FORKED.swap(false, Ordering::AcqRel) {
        // The parent's worker threads do not exist here: dropping the
        // runtime would wait for them for ever.
        if let Some(abandoned) = slot.take() {
            std::mem::forget(abandoned);
        }
    }
    if let Some((epoch, runtime)) = slot.as_ref() {
        return (*epoch, runtime.handle().clone());
    }
    let runtime = build_runtime();
    let epoch = EPOCH.load(Ordering::Acquire) + 1;
    let handle = runtime.handle().clone();
    *slot = Some((epoch, runtime));
    EPOCH.store(epoch, Ordering::Release);
    register_fork_handlers();
    crate::log::debug(format_args!("started the internal runtime (epoch {epoch})"));
    (epoch, handle)
}

fn build_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .thread_keep_alive(Duration::from_secs(5))
        .thread_name("credchain-runtime")
        .enable_all()
        .build()
        .expect("the credchain runtime could not start (out of threads or memory)")
}

/// Stops the runtime, waiting up to `grace` for its tasks. A later call
/// starts a new one. Meant for hosts about to unload the library.
pub fn shutdown(grace: Duration) {
    let taken = RUNTIME.lock().take();
    EPOCH.fetch_add(1, Ordering::AcqRel);
    if let Some((_, runtime)) = taken {
        runtime.shutdown_timeout(grace);
    }
}

/// Holds the runtime lock across `fork()` so the child never inherits it
/// locked by a thread that does not exist there.
fn register_fork_handlers() {
    ATFORK.call_once(|| {
        // SAFETY: the handlers only touch a static mutex and an atomic.
        unsafe {
            libc::pthread_atfork(Some(before_fork), Some(after_fork_in_parent), Some(after_fork_in_child));
        }
    });
}

extern "C" fn before_fork() {
    // SAFETY: released by one of the two handlers below, in each process.
    unsafe { RUNTIME.raw().lock() };
}

extern "C" fn after_fork_in_parent() {
    // SAFETY: locked by `before_fork` on this thread.
    unsafe { RUNTIME.raw().unlock() };
}

extern "C" fn after_fork_in_child() {
    FORKED.store(true, Ordering::Release);
    // SAFETY: locked by `before_fork` on the thread that forked, which is
    // the only thread in the child.
    unsafe { RUNTIME.raw().unlock() };
}
