//! One fetch in progress, shared by everyone who needs its result: callers
//! on any thread wait on a condition variable with a deadline, the
//! background refresher awaits it asynchronously.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};
use tokio::sync::Notify;

use crate::credentials::Snapshot;
use crate::error::Result;

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
