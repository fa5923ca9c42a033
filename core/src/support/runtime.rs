//! The internal tokio runtime, started lazily and never dropped by a static
//! destructor.
//!
//! Callers never need a runtime: they hand work to this one and wait with a
//! deadline. The runtime has one worker thread (not one per core) plus
//! tokio's blocking pool, whose idle threads exit after a few seconds.
//! Each library instance (`process/instance.rs`) owns one [`RuntimeSlot`]; a
//! forked child gets a new instance and so a new slot, and never touches the
//! parent's runtime or its lock (tokio does not survive `fork()`,
//! tokio#4301).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::support::sync::Mutex;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::types::error::{Error, ErrorCode, Result};

/// Runtime epochs, unique in the process: a flight or refresher tagged with
/// an epoch belongs to that runtime only.
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

/// One instance's runtime, or none yet.
#[derive(Default)]
pub struct RuntimeSlot {
    runtime: Mutex<Option<(u64, Runtime)>>,
    /// The epoch of the live runtime; 0 when there is none.
    live: AtomicU64,
}

impl RuntimeSlot {
    /// The epoch of the runtime that is live now, or 0. One atomic load:
    /// the hot path uses it.
    #[inline]
    pub fn live_epoch(&self) -> u64 {
        self.live.load(Ordering::Acquire)
    }

    /// The runtime's handle and epoch, starting the runtime when needed;
    /// [`ErrorCode::Exhausted`] when the process is out of threads or
    /// descriptors for it (the next call tries again). Nothing foreign (no
    /// log callback) runs while the lock is held.
    pub fn handle(&self) -> Result<(u64, Handle)> {
        let started = {
            let mut slot = self.runtime.lock();
            if let Some((epoch, runtime)) = slot.as_ref() {
                return Ok((*epoch, runtime.handle().clone()));
            }
            let runtime = build_runtime()?;
            let epoch = NEXT_EPOCH.fetch_add(1, Ordering::AcqRel);
            let handle = runtime.handle().clone();
            *slot = Some((epoch, runtime));
            self.live.store(epoch, Ordering::Release);
            (epoch, handle)
        };
        crate::support::log::debug(format_args!("started the internal runtime (epoch {})", started.0));
        Ok(started)
    }

    /// Stops the runtime, waiting up to `grace` for its tasks. A later call
    /// starts a new one.
    pub fn shutdown(&self, grace: Duration) {
        let taken = self.runtime.lock().take();
        self.live.store(0, Ordering::Release);
        if let Some((_, runtime)) = taken {
            runtime.shutdown_timeout(grace);
        }
    }
}

/// The one runtime builder, configured once, from the first instance (at
/// load, on a caller's thread), and reused for every runtime after it, a
/// forked child's included: `Builder::new` reads the environment
/// (`TOKIO_UNSTABLE_SHARDED_BLOCKING_QUEUE`), and a child forked while a host
/// thread was inside `setenv` has an environment that cannot be read safely
/// (AddressSanitizer showed such children crashing in `getenv` there).
static BUILDER: OnceLock<Mutex<Builder>> = OnceLock::new();

/// Configures the runtime builder now (see [`BUILDER`]).
pub fn prepare() {
    BUILDER.get_or_init(|| Mutex::new(configured_builder()));
}

fn configured_builder() -> Builder {
    let mut builder = Builder::new_multi_thread();
    builder
        .worker_threads(1)
        .max_blocking_threads(2)
        .thread_keep_alive(Duration::from_secs(5))
        .thread_name("credchain-runtime")
        .enable_all();
    builder
}

fn build_runtime() -> Result<Runtime> {
    let built = match BUILDER.get().and_then(|builder| builder.try_lock()) {
        Some(mut builder) => builder.build(),
        // Not prepared, or held by a parent thread at the moment of a fork
        // (it would stay held here): a fresh builder, reading the
        // environment once more.
        None => configured_builder().build(),
    };
    built.map_err(|e| {
        let code = if crate::platform::is_exhaustion(&e) { ErrorCode::Exhausted } else { ErrorCode::Internal };
        Error::new(
            code,
            format!("the library's runtime (one thread, an epoll and an event descriptor) could not start: {e}"),
        )
    })
}

impl std::fmt::Debug for RuntimeSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeSlot").field("live_epoch", &self.live_epoch()).finish()
    }
}
