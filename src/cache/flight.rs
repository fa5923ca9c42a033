//! One fetch in progress, shared by everyone who needs its result: callers
//! on any thread wait on a condition variable with a deadline, the
//! background refresher awaits it asynchronously.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::snapshot::Snapshot;
use crate::support::sync::checked::{Condvar, Mutex};
use crate::types::error::Result;

/// A fetch's eventual result.
pub struct Flight {
    runtime_epoch: u64,
    result: Mutex<Option<Result<Arc<Snapshot>>>>,
    landed: Condvar,
    landed_async: Notify,
}

impl Flight {
    /// A flight whose fetch runs on the runtime of `runtime_epoch`.
    pub fn new(runtime_epoch: u64) -> Self {
        Flight { runtime_epoch, result: Mutex::new(None), landed: Condvar::new(), landed_async: Notify::new() }
    }

    /// The runtime the fetch runs on; a flight from an older runtime (the
    /// parent's, after a fork) will never land.
    pub fn runtime_epoch(&self) -> u64 {
        self.runtime_epoch
    }

    /// Delivers the result to every waiter.
    pub fn land(&self, result: Result<Arc<Snapshot>>) {
        *self.result.lock() = Some(result);
        self.landed.notify_all();
        self.landed_async.notify_waiters();
    }

    /// Blocks until the result lands or `deadline` passes (`None`).
    pub fn wait_until(&self, deadline: Instant) -> Option<Result<Arc<Snapshot>>> {
        let mut result = self.result.lock();
        while result.is_none() {
            if self.landed.wait_until(&mut result, deadline).timed_out() {
                return result.clone();
            }
        }
        result.clone()
    }

    /// Waits asynchronously for the result (used on the runtime).
    pub async fn landed(&self) -> Result<Arc<Snapshot>> {
        loop {
            let notified = self.landed_async.notified();
            if let Some(result) = self.result.lock().clone() {
                return result;
            }
            notified.await;
        }
    }
}

/// Model checks of the hand-off (`scripts/loom`): whatever the interleaving
/// of `land` with a blocking or an asynchronous waiter, no waiter misses the
/// result (a lost wake-up would hang the model, which loom reports as a
/// deadlock).
#[cfg(all(test, credchain_loom))]
mod loom_tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    use loom::thread;

    use crate::chain::SourceName;
    use crate::types::credentials::Credentials;

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    fn landed_key(result: &Result<Arc<Snapshot>>) -> String {
        result.as_ref().expect("the landed result").credentials().access_key_id.clone()
    }

    fn land_on_another_thread(flight: &Arc<Flight>) -> thread::JoinHandle<()> {
        let flight = flight.clone();
        thread::spawn(move || {
            let credentials = Credentials::new_static(SourceName::Env, "AKIDFLIGHT", "secret");
            flight.land(Ok(Arc::new(Snapshot::new(credentials, SystemTime::now()))));
        })
    }

    #[test]
    fn loom_a_blocking_waiter_gets_the_result() {
        model(|| {
            let flight = Arc::new(Flight::new(1));
            let lander = land_on_another_thread(&flight);
            let far = Instant::now() + Duration::from_secs(3600);
            let result = flight.wait_until(far).expect("a wait with a far deadline ends with the result");
            assert_eq!(landed_key(&result), "AKIDFLIGHT");
            lander.join().unwrap();
        });
    }

    #[test]
    fn loom_an_async_waiter_gets_the_result() {
        model(|| {
            let flight = Arc::new(Flight::new(1));
            let lander = land_on_another_thread(&flight);
            let result = loom::future::block_on(flight.landed());
            assert_eq!(landed_key(&result), "AKIDFLIGHT");
            lander.join().unwrap();
        });
    }

    #[test]
    fn loom_blocking_and_async_waiters_together() {
        model(|| {
            let flight = Arc::new(Flight::new(1));
            let waiter = {
                let flight = flight.clone();
                thread::spawn(move || {
                    let result = loom::future::block_on(flight.landed());
                    assert_eq!(landed_key(&result), "AKIDFLIGHT");
                })
            };
            let lander = land_on_another_thread(&flight);
            let result = flight.wait_until(Instant::now() + Duration::from_secs(3600)).expect("the result");
            assert_eq!(landed_key(&result), "AKIDFLIGHT");
            lander.join().unwrap();
            waiter.join().unwrap();
        });
    }

    /// A deadline already past: the waiter gives up at once, with the
    /// result if it has landed, and never blocks.
    #[test]
    fn loom_a_passed_deadline_returns_whatever_is_there() {
        model(|| {
            let flight = Arc::new(Flight::new(1));
            let lander = land_on_another_thread(&flight);
            if let Some(result) = flight.wait_until(Instant::now()) {
                assert_eq!(landed_key(&result), "AKIDFLIGHT");
            }
            lander.join().unwrap();
        });
    }
}
