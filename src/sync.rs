//! The concurrency primitives of the two hand-offs that loom model-checks:
//! the lock-free retirement of snapshots (`snapshot.rs`) and the single
//! flight (`cache/flight.rs`). Normally these are std's atomics and
//! parking_lot's lock and condition variable, re-exported unchanged; under
//! `RUSTFLAGS="--cfg credchain_loom"` they are loom's, so that `cargo test --lib loom`
//! explores the interleavings of the very code that ships (`scripts/loom`).
//!
//! Under loom, a condition-variable wait whose deadline has already passed
//! times out at once (as parking_lot's does); any other deadline is treated
//! as never expiring, since loom has no clock. tokio's `Notify` (the
//! flight's asynchronous wake-up) is not modelled: loom sees each of its
//! calls as one indivisible step, and explores the interleavings around
//! them. So the models check the condition-variable hand-off fully, but
//! cannot catch a wake-up lost inside tokio's `Notify` (a `notified()`
//! created after the result is checked instead of before is NOT caught:
//! tried as a mutant).

#[cfg(credchain_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};
#[cfg(not(credchain_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};

#[cfg(credchain_loom)]
pub(crate) use self::model::{Condvar, Mutex};
#[cfg(not(credchain_loom))]
pub(crate) use parking_lot::{Condvar, Mutex};

/// parking_lot's API over loom's lock and condition variable: `lock()`
/// without poisoning, `wait_until(&mut guard, deadline)`.
#[cfg(credchain_loom)]
mod model {
    use std::ops::{Deref, DerefMut};
    use std::time::Instant;

    /// A mutex whose `lock` cannot fail.
    #[derive(Debug)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(|e| e.into_inner())))
        }
    }

    /// Holds the lock; the inner guard is lent to the condition variable
    /// while it waits.
    pub struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

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
        pub fn timed_out(&self) -> bool {
            self.0
        }
    }

    /// A condition variable with parking_lot's `wait_until`.
    #[derive(Debug)]
    pub struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        pub fn notify_all(&self) {
            self.0.notify_all();
        }

        pub fn wait_until<T>(&self, guard: &mut MutexGuard<'_, T>, deadline: Instant) -> WaitTimeoutResult {
            if Instant::now() >= deadline {
                return WaitTimeoutResult(true);
            }
            let inner = guard.0.take().expect("guard lent to a wait");
            guard.0 = Some(self.0.wait(inner).unwrap_or_else(|e| e.into_inner()));
            WaitTimeoutResult(false)
        }
    }
}
