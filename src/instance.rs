//! All of the library's process state in one value, and fork handled once
//! for all of it.
//!
//! An [`Instance`] owns the runtime, the credentials cache, the chain's kept
//! services (the IMDS provider, the child-process slots), the token cache
//! and the latest capture of the environment. It is created on first use, on a caller's
//! thread. After `fork()`, the child's first call builds a new instance
//! that carries over the still-valid snapshots (read without taking a lock)
//! and leaks the parent's: no lock, runtime or thread of the parent is ever
//! touched in the child, so a lock that a parent thread held at the moment
//! of the fork cannot hang the child. The `pthread_atfork` child handler
//! only bumps a counter; no handler takes a lock, so `fork()` in the host
//! can never wait on the library (nor on a log callback that the library is
//! running).

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Once;

use crate::cache::Cache;
use crate::chain::{LatestEnvironment, Services};
use crate::runtime::RuntimeSlot;
use crate::token::TokenCache;

/// The library's process state.
pub struct Instance {
    /// How many forks this process had seen when the instance was made.
    forks_seen: u64,
    /// The internal runtime.
    pub runtime: RuntimeSlot,
    /// The credentials cache.
    pub cache: Cache,
    /// What the chain keeps between resolutions.
    pub services: Services,
    /// The latest capture of the environment, for work on the runtime.
    pub environment: LatestEnvironment,
    /// Signed IAM database tokens; a forked child starts with none.
    pub tokens: TokenCache,
}

/// The current instance; never freed (a static destructor or library unload
/// must not join the runtime, and a forked child leaks its parent's).
static CURRENT: AtomicPtr<Instance> = AtomicPtr::new(std::ptr::null_mut());
/// Forks seen by this process; bumped in the child by the atfork handler.
static FORKS: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

/// The current instance, creating it (or, in a forked child, its
/// successor) on first use. Two atomic loads when nothing changed.
pub fn instance() -> &'static Instance {
    let current = CURRENT.load(Ordering::Acquire);
    // SAFETY: non-null values come from Box::into_raw below and are never
    // freed.
    if let Some(instance) = unsafe { current.as_ref() } {
        if instance.forks_seen == FORKS.load(Ordering::Acquire) {
            return instance;
        }
    }
    replace(current)
}

#[cold]
fn replace(current: *mut Instance) -> &'static Instance {
    let forks = FORKS.load(Ordering::Acquire);
    // SAFETY: as in `instance`.
    let fresh = match unsafe { current.as_ref() } {
        Some(parent) => Instance::after_fork(parent, forks),
        None => Instance::new(forks),
    };
    let fresh = Box::into_raw(Box::new(fresh));
    match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            register_fork_handler();
            // SAFETY: just published; never freed.
            unsafe { &*fresh }
        }
        Err(_) => {
            // Another thread installed one first; ours was never shared and
            // has started nothing (the runtime starts on first use).
            // SAFETY: from Box::into_raw above, seen by no one else.
            drop(unsafe { Box::from_raw(fresh) });
            instance()
        }
    }
}

impl Instance {
    /// The first instance of the process, at load or on a caller's thread:
    /// the environment, the settings, the log configuration and the runtime
    /// builder's defaults are read here, never later (nor in a child).
    fn new(forks_seen: u64) -> Self {
        crate::cache::settings::settings();
        crate::log::enabled(crate::log::LogLevel::Error);
        crate::runtime::prepare();
        Instance {
            forks_seen,
            runtime: RuntimeSlot::default(),
            cache: Cache::default(),
            services: Services::default(),
            environment: LatestEnvironment::capture_now(),
            tokens: TokenCache::default(),
        }
    }

    /// A forked child's instance: the parent's still-valid credentials and
    /// environment capture, everything else new.
    fn after_fork(parent: &Instance, forks_seen: u64) -> Self {
        Instance {
            forks_seen,
            runtime: RuntimeSlot::default(),
            cache: parent.cache.carry_over(),
            services: Services::default(),
            environment: LatestEnvironment::starting_from(parent.environment.current()),
            tokens: TokenCache::default(),
        }
    }
}

impl Instance {
    /// Runs `use_it` on `profile`'s current snapshot (the hot path).
    pub fn with_credentials<R>(
        &self,
        profile: Option<&str>,
        use_it: impl FnOnce(&std::sync::Arc<crate::Snapshot>) -> R,
    ) -> crate::Result<R> {
        self.cache.with_current(profile, use_it)
    }
}

/// Creates the instance when the library is loaded, so that the
/// environment is read before the host has had a chance to start threads
/// that write it (see `chain/environment.rs`). Starts no thread.
#[used]
#[link_section = ".init_array"]
static CREATE_AT_LOAD: extern "C" fn() = create_at_load;

extern "C" fn create_at_load() {
    // A panic must not unwind into the loader.
    let _ = std::panic::catch_unwind(instance);
}

fn register_fork_handler() {
    ATFORK.call_once(|| {
        // SAFETY: the handler only touches atomics.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
}

extern "C" fn after_fork_in_child() {
    FORKS.fetch_add(1, Ordering::AcqRel);
    crate::log::forget_calls_in_progress();
}
