//! The library's locks, and the concurrency primitives of the two hand-offs
//! that loom model-checks.
//!
//! Every lock is std's (a futex word and nothing else), behind
//! parking_lot's API (`lock()` without poisoning, `wait_until(&mut guard,
//! deadline)`). Not parking_lot itself: it parks threads in one global
//! hash table whose buckets have locks of their own, and a bucket locked by
//! a parent thread at the moment of `fork()` stays locked in the child, so
//! the child's first contended lock or condition-variable wait hangs for
//! ever (seen: 1 child in 200 with 8 threads calling during the forks).
//! std's lock keeps all its state in the lock itself, and a forked child
//! only ever uses locks of its own instance.
//!
//! The lock-free retirement of C views (`ffi/view.rs`) and the single
//! flight (`cache/flight.rs`) take their atomics, lock and condition
//! variable from here; under `RUSTFLAGS="--cfg credchain_loom"` they are
//! loom's, so that `cargo test --lib loom` explores the interleavings of
//! the very code that ships (`scripts/loom`).
//!
//! Under loom, a condition-variable wait whose deadline has already passed
//! times out at once; any other deadline is treated as never expiring,
//! since loom has no clock. tokio's `Notify` (the flight's asynchronous
//! wake-up) is not modelled: loom sees each of its calls as one indivisible
//! step, and explores the interleavings around them. So the models check
//! the condition-variable hand-off fully, but cannot catch a wake-up lost
//! inside tokio's `Notify` (a `notified()` created after the result is
//! checked instead of before is NOT caught: tried as a mutant).

#[cfg(credchain_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};
#[cfg(not(credchain_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};

/// The flight's lock and condition variable: std's normally, loom's under
/// model checking.
pub(crate) mod checked {
    #[cfg(credchain_loom)]
    pub(crate) use super::loom_model::{Condvar, Mutex};
    #[cfg(not(credchain_loom))]
    pub(crate) use super::{Condvar, Mutex};
}

/// Defines a lock and a condition variable with parking_lot's API over a
/// `$inner` module shaped like `std::sync` (std's, or loom's).
macro_rules! locks_over {
    ($inner:path, $wait:ident) => {
        use std::ops::{Deref, DerefMut};
        use std::time::Instant;

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
            pub fn lock(&self) -> MutexGuard<'_, T> {
                MutexGuard(Some(self.0.lock().unwrap_or_else(|e| e.into_inner())))
            }

            /// Locks if nobody holds the lock now.
            #[allow(dead_code)]
            pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
                match self.0.try_lock() {
                    Ok(guard) => Some(MutexGuard(Some(guard))),
                    Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(MutexGuard(Some(poisoned.into_inner()))),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                }
            }
        }

        /// Holds the lock; the inner guard is lent to the condition
        /// variable while it waits.
        pub struct MutexGuard<'a, T>(Option<inner::MutexGuard<'a, T>>);

        impl<T> Deref for MutexGuard<'_, T> {
            type Target = T;
            fn deref(&self) -> &T {
                self.0.as_ref().expect("guard lent to a wait")
            }
        }

        impl<T> DerefMut for MutexGuard<'_, T> {
            fn deref_mut(&mut self) -> &mut T {
                self.0.as_mut().expect("guard lent to a wait")
            }
        }

        /// Whether a wait ended by its deadline.
        pub struct WaitTimeoutResult(bool);

        impl WaitTimeoutResult {
            /// True when the deadline passed.
            pub fn timed_out(&self) -> bool {
                self.0
            }
        }

        /// A condition variable with parking_lot's `wait_until`.
        #[derive(Debug, Default)]
        pub struct Condvar(inner::Condvar);

        impl Condvar {
            /// A new condition variable.
            pub fn new() -> Self {
                Condvar(inner::Condvar::new())
            }

            /// Wakes every waiter.
            pub fn notify_all(&self) {
                self.0.notify_all();
            }

            /// Waits for a notification or `deadline` (spurious wake-ups
            /// possible: callers loop on their condition).
            pub fn wait_until<T>(&self, guard: &mut MutexGuard<'_, T>, deadline: Instant) -> WaitTimeoutResult {
                let now = Instant::now();
                if now >= deadline {
                    return WaitTimeoutResult(true);
                }
                let held = guard.0.take().expect("guard lent to a wait");
                let (held, timed_out) = $wait(&self.0, held, deadline - now);
                guard.0 = Some(held);
                WaitTimeoutResult(timed_out)
            }
        }
    };
}

/// std's condition variable, waiting at most `limit`.
fn wait_std<'a, T>(
    condvar: &std::sync::Condvar,
    guard: std::sync::MutexGuard<'a, T>,
    limit: std::time::Duration,
) -> (std::sync::MutexGuard<'a, T>, bool) {
    match condvar.wait_timeout(guard, limit) {
        Ok((guard, result)) => (guard, result.timed_out()),
        Err(poisoned) => {
            let (guard, result) = poisoned.into_inner();
            (guard, result.timed_out())
        }
    }
}

mod std_locks {
    use super::wait_std;
    locks_over!(std::sync, wait_std);
}

// Under loom only the flight's pair is loom's; std's condition variable
// then has no user.
#[cfg_attr(credchain_loom, allow(unused_imports))]
pub(crate) use std_locks::{Condvar, Mutex};

/// loom's condition variable: no clock, so it waits for a notification.
#[cfg(credchain_loom)]
fn wait_loom<'a, T>(
    condvar: &loom::sync::Condvar,
    guard: loom::sync::MutexGuard<'a, T>,
    _limit: std::time::Duration,
) -> (loom::sync::MutexGuard<'a, T>, bool) {
    (condvar.wait(guard).unwrap_or_else(|e| e.into_inner()), false)
}

#[cfg(credchain_loom)]
mod loom_model {
    use super::wait_loom;
    locks_over!(loom::sync, wait_loom);
}
