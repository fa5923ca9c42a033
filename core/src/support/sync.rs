//! The library's locks, and the concurrency primitives of the hand-offs
//! that loom model-checks.
//!
//! Every lock is std's (a futex word and nothing else), behind
//! parking_lot's API (`lock()` without poisoning). Not parking_lot itself: it parks threads in one global
//! hash table whose buckets have locks of their own, and a bucket locked by
//! a parent thread at the moment of `fork()` stays locked in the child, so
//! the child's first contended lock or wait hangs for
//! ever (seen: 1 child in 200 with 8 threads calling during the forks).
//! std's lock keeps all its state in the lock itself, and a forked child
//! only ever uses locks of its own instance.
//!
//! The lock-free retirement of C views (the C ABI crate's `view.rs`), the
//! single flight (`cache/flight.rs`) and the cache entry's state cell
//! (`SwapCell`, with `cache/state.rs`'s invalidation protocol) take their
//! atomics and locks from here; under
//! `RUSTFLAGS="--cfg credchain_loom"` they are loom's, so that `cargo test
//! --lib loom` explores the interleavings of the very code that ships
//! (`scripts/loom`).
//!
//! tokio's `Notify` (the flight's wake-up) is not modelled: loom sees each
//! of its calls as one indivisible step, and explores the interleavings
//! around them. So the flight's models check the lock and the order of its
//! steps, but cannot catch a wake-up lost inside tokio's `Notify` (a
//! `notified()` created after the result is checked instead of before is
//! NOT caught: tried as a mutant).

// The atomics of the C view's leases (in the C ABI crate) and of the cache:
// std's normally, loom's under model checking, so both crates are modelled
// with one switch.
#[cfg(credchain_loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};
#[cfg(not(credchain_loom))]
pub use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};

/// The flight's lock: std's normally, loom's under model checking.
pub(crate) mod checked {
    #[cfg(credchain_loom)]
    pub(crate) use super::loom_model::Mutex;
    #[cfg(not(credchain_loom))]
    pub(crate) use super::Mutex;
}

/// Defines a lock with parking_lot's API over a `$inner` module shaped like
/// `std::sync` (std's, or loom's).
macro_rules! mutex_over {
    ($inner:path) => {
        use $inner as inner;

        /// A mutex whose `lock` cannot fail (a panic while it was held
        /// leaves the data as it was).
        #[derive(Debug, Default)]
        pub struct Mutex<T>(inner::Mutex<T>);

        impl<T> Mutex<T> {
            /// A new, unlocked mutex.
            pub fn new(value: T) -> Self {
                Mutex(inner::Mutex::new(value))
            }

            /// Locks, waiting as long as it takes.
            pub fn lock(&self) -> inner::MutexGuard<'_, T> {
                self.0.lock().unwrap_or_else(|e| e.into_inner())
            }

            /// Locks if nobody holds the lock now.
            #[allow(
                dead_code,
                reason = "the macro defines the lock for std and for loom; not every instance calls try_lock"
            )]
            pub fn try_lock(&self) -> Option<inner::MutexGuard<'_, T>> {
                match self.0.try_lock() {
                    Ok(guard) => Some(guard),
                    Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                }
            }
        }
    };
}

mod std_locks {
    mutex_over!(std::sync);
}

pub(crate) use std_locks::Mutex;

#[cfg(credchain_loom)]
mod loom_model {
    mutex_over!(loom::sync);
}

/// A shared value replaced as a whole: readers load it without a lock,
/// writers swap it or compare-and-swap it. arc-swap's `ArcSwap` normally;
/// under loom a lock around an `Arc` with the same semantics, so that the
/// protocols built on it (the cache entry's invalidation) are model-checked.
pub(crate) use swap_cell::SwapCell;

#[cfg(not(credchain_loom))]
mod swap_cell {
    use std::sync::Arc;

    use arc_swap::ArcSwap;

    /// See the re-export.
    #[derive(Debug)]
    pub(crate) struct SwapCell<T>(ArcSwap<T>);

    impl<T> SwapCell<T> {
        /// A cell holding `value`.
        pub(crate) fn new(value: T) -> Self {
            SwapCell(ArcSwap::from_pointee(value))
        }

        /// The current value, without a lock or a reference-count write.
        pub(crate) fn load(&self) -> arc_swap::Guard<Arc<T>> {
            self.0.load()
        }

        /// The current value, as an `Arc` of its own.
        pub(crate) fn load_full(&self) -> Arc<T> {
            self.0.load_full()
        }

        /// Replaces the value.
        pub(crate) fn store(&self, value: Arc<T>) {
            self.0.store(value)
        }

        /// Replaces the value with `next` if it is still `current` (the same
        /// `Arc`); true when it was replaced.
        pub(crate) fn compare_and_swap(&self, current: &Arc<T>, next: Arc<T>) -> bool {
            let previous = self.0.compare_and_swap(current, next);
            Arc::ptr_eq(&*previous, current)
        }
    }
}

#[cfg(credchain_loom)]
mod swap_cell {
    use std::sync::Arc;

    use super::loom_model::Mutex;

    /// See the re-export.
    #[derive(Debug)]
    pub(crate) struct SwapCell<T>(Mutex<Arc<T>>);

    impl<T> SwapCell<T> {
        /// A cell holding `value`.
        pub(crate) fn new(value: T) -> Self {
            SwapCell(Mutex::new(Arc::new(value)))
        }

        /// The current value.
        pub(crate) fn load(&self) -> Arc<T> {
            self.0.lock().clone()
        }

        /// The current value, as an `Arc` of its own.
        pub(crate) fn load_full(&self) -> Arc<T> {
            self.0.lock().clone()
        }

        /// Replaces the value.
        pub(crate) fn store(&self, value: Arc<T>) {
            *self.0.lock() = value;
        }

        /// Replaces the value with `next` if it is still `current`.
        pub(crate) fn compare_and_swap(&self, current: &Arc<T>, next: Arc<T>) -> bool {
            let mut held = self.0.lock();
            if Arc::ptr_eq(&held, current) {
                *held = next;
                true
            } else {
                false
            }
        }
    }
}
