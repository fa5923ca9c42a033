//! What the cache needs from the rest of the process, handed to it when it
//! is made: the settings, the runtime its fetches and refreshers run on, the
//! resolver that asks the chain, and the clock. The process layer gives the
//! real ones (`process/instance.rs`); unit tests give a scripted resolver
//! and a clock they move by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::settings::Settings;
use super::timing::unix_nanos;
use crate::chain::{Environment, Resolution};
use crate::platform;
use crate::support::runtime::RuntimeSlot;

/// A resolution in progress, as the cache awaits it.
pub type Resolving = Pin<Box<dyn Future<Output = Resolution> + Send>>;

/// Asks the chain for credentials.
pub trait Resolver: Send + Sync + 'static {
    /// The environment that a fetch a caller starts resolves under: the
    /// latest capture, never a fresh read (see `chain/environment.rs`).
    fn environment(&self) -> Arc<Environment>;

    /// Resolves the chain for `profile` (`None`: the ambient profile) under
    /// `environment`, bounded by the fetch timeout.
    fn resolve(self: Arc<Self>, profile: Option<String>, environment: Arc<Environment>) -> Resolving;
}

/// The time, as the cache reads it.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time: expiry and refresh moments are wall-clock.
    fn now(&self) -> SystemTime;
    /// Wall-clock time as of the last clock tick, in nanoseconds since the
    /// Unix epoch: cheaper than [`Clock::now`] and never ahead of it, behind
    /// it by at most a tick (a few ms). The hot path checks against it with
    /// a margin (`timing::COARSE_SLACK`).
    fn coarse_nanos(&self) -> u64 {
        unix_nanos(self.now())
    }
    /// Monotonic time: back-off and call deadlines.
    fn instant(&self) -> Instant;
}

/// The system's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn coarse_nanos(&self) -> u64 {
        platform::coarse_unix_nanos().unwrap_or_else(|| unix_nanos(SystemTime::now()))
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// Everything the cache takes from outside.
#[derive(Clone)]
pub struct Context {
    /// The tunables, read once by the process layer.
    pub settings: Settings,
    /// The runtime that fetches and refreshers run on.
    pub runtime: Arc<RuntimeSlot>,
    /// How credentials are resolved.
    pub resolver: Arc<dyn Resolver>,
    /// How time is read.
    pub clock: Arc<dyn Clock>,
}
