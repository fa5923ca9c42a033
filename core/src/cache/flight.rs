//! One fetch in progress, shared by everyone who needs its result: the
//! background refresher awaits it, and a caller's thread waits for it with
//! a deadline through `support::block::run_until`, the one way the library
//! blocks a thread on async work.

use std::sync::Arc;

use tokio::sync::Notify;

use super::snapshot::Snapshot;
use crate::support::sync::checked::Mutex;
use crate::types::error::Result;

/// A fetch's eventual result.
pub struct Flight {
    runtime_epoch: u64,
    result: Mutex<Option<Result<Arc<Snapshot>>>>,
    landed: Notify,
}

impl Flight {
    /// A flight whose fetch runs on the runtime of `runtime_epoch`.
    pub fn new(runtime_epoch: u64) -> Self {
        Flight { runtime_epoch, result: Mutex::new(None), landed: Notify::new() }
    }

    /// The runtime the fetch runs on; a flight from an older runtime (the
    /// parent's, after a fork) will never land.
    pub fn runtime_epoch(&self) -> u64 {
        self.runtime_epoch
    }

    /// Delivers the result to every waiter.
    pub fn land(&self, result: Result<Arc<Snapshot>>) {
        *self.result.lock() = Some(result);
        self.landed.notify_waiters();
    }

    /// Waits for the result.
    pub async fn landed(&self) -> Result<Arc<Snapshot>> {
        loop {
            // Registered before the result is checked, so that a landing in
            // between still wakes this waiter.
            let notified = self.landed.notified();
            if let Some(result) = self.result.lock().clone() {
                return result;
            }
            notified.await;
        }
    }
}

/// Model checks of the hand-off (`scripts/loom`): whatever the interleaving
/// of `land` with the waiters, no waiter misses the
/// result (a lost wake-up would hang the model, which loom reports as a
/// deadlock).
#[cfg(all(test, credchain_loom))]
mod loom_tests {
    use super::*;
    use std::time::SystemTime;

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
    fn loom_two_waiters_on_two_threads_both_get_the_result() {
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
            let result = loom::future::block_on(flight.landed());
            assert_eq!(landed_key(&result), "AKIDFLIGHT");
            lander.join().unwrap();
            waiter.join().unwrap();
        });
    }
}
