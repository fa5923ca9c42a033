//! One profile's cache entry: an atomically swapped immutable state, the
//! single fetch in flight, and a wake-up for its refresher.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;

use super::bump_generation;
use super::context::Context;
use super::flight::Flight;
use super::refresher::{next_step, static_inputs_changed, Next};
use super::snapshot::Snapshot;
use super::state::{invalidate, store_unless_invalidated, Failure, State};
use super::timing::{backoff, schedule, Schedule};
use crate::chain::{Environment, Fingerprint};
use crate::support::block::{self, Abandoned};
use crate::support::log;
use crate::support::sync::{Mutex, SwapCell};
use crate::types::credentials::{describe_time, human_duration, mask_access_key};
use crate::types::error::{Error, ErrorCode, Result};
use crate::types::text::escape_name;

/// What a caller hears when the fetch it waits for will never land.
const ABANDONED: &str = "the credentials fetch was abandoned (a bug, or the runtime stopped)";

/// One profile's entry.
pub struct Entry {
    /// The profile as the caller named it (`None`: the ambient profile).
    pub profile: Option<String>,
    /// The settings, runtime, resolver and clock it works with.
    context: Arc<Context>,
    state: SwapCell<State>,
    flight: Mutex<Option<Arc<Flight>>>,
    /// Wakes the refresher when the state changes.
    pub changed: Notify,
    /// The runtime epoch in which this entry's refresher runs (0: none).
    refresher_epoch: AtomicU64,
    /// Whether the cache holds this entry (and so runs its refresher); a
    /// pending entry for a new name is not held until it names something.
    registered: AtomicBool,
}

impl Entry {
    /// An empty entry for `profile`; `registered` when the cache holds it.
    pub fn new(profile: Option<String>, registered: bool, context: Arc<Context>) -> Self {
        Entry {
            profile,
            context,
            state: SwapCell::new(State::default()),
            flight: Mutex::new(None),
            changed: Notify::new(),
            refresher_epoch: AtomicU64::new(0),
            registered: AtomicBool::new(registered),
        }
    }

    /// Marks the entry as held by the cache and starts its refresher.
    pub fn register(self: &Arc<Self>) {
        self.registered.store(true, Ordering::Release);
        self.ensure_refresher();
    }

    /// A copy for a forked child's new cache (working with `context`): the
    /// still-valid snapshot and its schedule, no flight, no refresher yet.
    /// Reads only the state, which takes no lock.
    pub fn carry_over(&self, context: Arc<Context>) -> Entry {
        let carried = Entry::new(self.profile.clone(), self.registered.load(Ordering::Acquire), context);
        let state = self.state.load();
        let now = carried.context.clock.now();
        let valid = state.schedule.is_none_or(|schedule| now < schedule.expires_at);
        if state.snapshot.is_some() && valid {
            carried.state.store(Arc::new(State {
                snapshot: state.snapshot.clone(),
                schedule: state.schedule,
                inputs: state.inputs.clone(),
                failure: None,
                invalidations: state.invalidations,
            }));
        }
        carried
    }

    /// The profile's name for messages, escaped.
    pub fn display_name(&self) -> String {
        self.profile.as_deref().map_or_else(|| "(default)".to_owned(), escape_name)
    }

    /// The current state.
    pub fn state(&self) -> Arc<State> {
        self.state.load_full()
    }

    /// Runs `use_it` on the snapshot to hand out, while it is held: the hot
    /// path answers from the current snapshot with atomic loads only;
    /// otherwise the caller joins (or starts) the single fetch and waits at
    /// most the call timeout. The C ABI takes a lease here without touching
    /// the `Arc`'s shared count.
    pub fn with_current<R>(self: &Arc<Self>, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
        self.ensure_refresher();
        let current = self.state.load();
        if let Some(snapshot) = self.servable_now(&current) {
            return Ok(use_it(snapshot));
        }
        drop(current);
        let environment = self.must_fetch()?;
        self.fetch_and_wait(environment).map(|snapshot| use_it(&snapshot))
    }

    /// [`Entry::with_current`] for a caller on the runtime (`credchain
    /// serve`): waits for the fetch as a task, never blocking a thread, so
    /// that many waiting callers cannot take the blocking threads the fetch
    /// itself needs to read the files.
    pub async fn current(self: &Arc<Self>) -> Result<Arc<Snapshot>> {
        self.ensure_refresher();
        if let Some(snapshot) = self.servable_now(&self.state.load()) {
            return Ok(snapshot.clone());
        }
        let environment = self.must_fetch()?;
        let flight = self.join_flight(environment)?;
        let timeout = self.context.settings.call_timeout;
        match tokio::time::timeout(timeout, flight.landed()).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out(timeout)),
        }
    }

    /// Past the hot path: the environment to fetch under, or the recent
    /// failure to repeat while its back-off runs and nothing is in flight.
    fn must_fetch(&self) -> Result<Arc<Environment>> {
        // The environment of the last capture: reading it again here could
        // race a host thread's `setenv` (see `chain/environment.rs`).
        let environment = self.context.resolver.environment();
        let current = self.state.load();
        if let Some(error) = current.recent_failure(self.context.clock.instant(), &environment) {
            if !self.fetch_in_flight() {
                return Err(error.clone());
            }
        }
        Ok(environment)
    }

    /// The snapshot of `state` if it may be served now. Credentials that
    /// never expire need no clock; others are checked against the coarse
    /// clock first (a few ns cheaper), with a margin of `timing::COARSE_SLACK`
    /// before the mandatory window, and only inside that margin against the
    /// precise clock.
    #[inline]
    fn servable_now<'a>(&self, state: &'a State) -> Option<&'a Arc<Snapshot>> {
        let snapshot = state.snapshot.as_ref()?;
        let Some(schedule) = &state.schedule else {
            return Some(snapshot);
        };
        if self.context.clock.coarse_nanos() < schedule.coarse_deadline_nanos {
            return Some(snapshot);
        }
        state.servable(self.context.clock.now())
    }

    fn fetch_and_wait(self: &Arc<Self>, environment: Arc<Environment>) -> Result<Arc<Snapshot>> {
        let timeout = self.context.settings.call_timeout;
        // The deadline is the real clock's: a test clock moves time for the
        // entry's decisions, not for waiting.
        let deadline = Instant::now() + timeout;
        let flight = self.join_flight(environment)?;
        let (_, handle) = self.context.runtime.handle()?;
        match block::run_until(&handle, async move { flight.landed().await }, deadline) {
            Ok(result) => result,
            Err(Abandoned::DeadlinePassed) => Err(self.timed_out(timeout)),
            Err(Abandoned::RuntimeStopped) => Err(Error::internal(ABANDONED)),
        }
    }

    fn timed_out(&self, timeout: Duration) -> Error {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "timed out after {} ms waiting for credentials for profile {}",
                timeout.as_millis(),
                self.display_name()
            ),
        )
    }

    /// Whether a fetch is running on the live runtime.
    fn fetch_in_flight(&self) -> bool {
        let live = self.context.runtime.live_epoch();
        self.flight.lock().as_ref().is_some_and(|f| f.runtime_epoch() == live)
    }

    /// The fetch in flight, or a new one started on the runtime that
    /// resolves under `environment` (a caller's capture).
    pub fn join_flight(self: &Arc<Self>, environment: Arc<Environment>) -> Result<Arc<Flight>> {
        let (epoch, handle) = self.context.runtime.handle()?;
        let mut slot = self.flight.lock();
        if let Some(flight) = slot.as_ref().filter(|f| f.runtime_epoch() == epoch) {
            return Ok(flight.clone());
        }
        let flight = Arc::new(Flight::new(epoch));
        *slot = Some(flight.clone());
        drop(slot);
        let entry = self.clone();
        let task_flight = flight.clone();
        handle.spawn(async move { entry.run_fetch(task_flight, environment).await });
        Ok(flight)
    }

    /// Resolves the chain, stores the outcome, and lands the flight.
    async fn run_fetch(self: Arc<Self>, flight: Arc<Flight>, environment: Arc<Environment>) {
        let mut landing = Landing { entry: &self, flight: &flight, landed: false };
        let invalidations = self.state.load().invalidations;
        let resolution = self.context.resolver.clone().resolve(self.profile.clone(), environment).await;
        let result = match resolution.outcome {
            Ok(credentials) => Ok(Arc::new(Snapshot::new(credentials, self.context.clock.now()))),
            Err(error) => Err(error),
        };
        self.store(&result, resolution.inputs, invalidations);
        landing.land(result);
    }

    /// Clears the flight slot (if it still holds `flight`) so that the next
    /// caller starts a new fetch.
    fn clear_flight(&self, flight: &Arc<Flight>) {
        let mut slot = self.flight.lock();
        if slot.as_ref().is_some_and(|f| Arc::ptr_eq(f, flight)) {
            *slot = None;
        }
    }

    /// Replaces the state after a fetch that began when the entry had had
    /// `invalidations` invalidations; an outcome fetched before a later
    /// invalidation is dropped. The generation moves only after the new
    /// state is visible: a binding that sees the new generation must also
    /// get the new snapshot, or it would cache the old one under it.
    fn store(&self, result: &Result<Arc<Snapshot>>, inputs: Fingerprint, invalidations: u64) {
        let next = |previous: &State| match result {
            Ok(snapshot) => self.succeeded(previous, snapshot, inputs.clone()),
            Err(error) => self.failed(previous, error, inputs.clone()),
        };
        let Some((previous, next)) = store_unless_invalidated(&self.state, invalidations, next) else {
            return;
        };
        let snapshot_changed = match (&previous.snapshot, &next.snapshot) {
            (Some(old), Some(new)) => !Arc::ptr_eq(old, new),
            (None, None) => false,
            _ => true,
        };
        if snapshot_changed {
            bump_generation();
        }
        self.changed.notify_waiters();
        match result {
            Ok(_) if snapshot_changed => {
                if let Some(snapshot) = &next.snapshot {
                    log_refresh(&self.display_name(), snapshot, next.schedule.as_ref(), self.context.clock.now());
                }
            }
            Ok(_) => {}
            Err(error) => self.log_failure(&next, error),
        }
    }

    fn succeeded(&self, previous: &State, snapshot: &Arc<Snapshot>, inputs: Fingerprint) -> State {
        let schedule = snapshot.expiration().map(|expires| schedule(snapshot.fetched_at(), expires, fastrand::f64()));
        // A re-resolution that found the very same static credentials keeps
        // the old snapshot, so that tokens signed with it stay valid.
        let snapshot = match &previous.snapshot {
            Some(old) if old.credentials().same_as(snapshot.credentials()) => old.clone(),
            _ => snapshot.clone(),
        };
        State {
            snapshot: Some(snapshot),
            schedule,
            inputs: Some(inputs),
            failure: None,
            invalidations: previous.invalidations,
        }
    }

    fn failed(&self, previous: &State, error: &Error, inputs: Fingerprint) -> State {
        let attempts = previous.failure.as_ref().map_or(0, |f| f.attempts + 1);
        let s = &self.context.settings;
        let delay = backoff(attempts, s.failure_backoff_min, s.failure_backoff_max, fastrand::f64());
        let now = self.context.clock.now();
        // Expiring credentials stay while they are valid: in the advisory
        // window they keep being served; past expiry they are dropped.
        // Static credentials are dropped at once: their re-resolution failed
        // because a file or variable changed (a removed credentials file must
        // not keep its keys alive), and reading files has no transient faults
        // worth riding out.
        let keep = previous.schedule.is_some_and(|schedule| now < schedule.expires_at);
        let (snapshot, schedule) = if keep { (previous.snapshot.clone(), previous.schedule) } else { (None, None) };
        // A failure in the advisory window answers no caller there (they are
        // served the old keys), so its back-off must not reach into the
        // mandatory window either: the first caller there asks upstream
        // again instead of getting an older failure while the keys are valid.
        let delay = match schedule.and_then(|s| s.mandatory_at.duration_since(now).ok()) {
            Some(until_mandatory) => delay.min(until_mandatory),
            None => delay,
        };
        State {
            snapshot,
            schedule,
            inputs: Some(inputs),
            failure: Some(Failure {
                error: error.clone(),
                retry_after: self.context.clock.instant() + delay,
                attempts,
            }),
            invalidations: previous.invalidations,
        }
    }

    fn log_failure(&self, state: &State, error: &Error) {
        let serving = state.snapshot.is_some();
        let attempts = state.failure.as_ref().map_or(1, |f| f.attempts + 1);
        log::log(
            if serving { log::LogLevel::Warn } else { log::LogLevel::Error },
            format_args!(
                "fetching credentials for profile {} failed (attempt {attempts}): {error}; {}",
                self.display_name(),
                if serving { "still serving the previous credentials" } else { "no credentials to serve" }
            ),
        );
    }

    /// Drops the snapshot so the next call fetches anew.
    pub fn invalidate(&self) {
        invalidate(&self.state);
        *self.flight.lock() = None;
        bump_generation();
        self.changed.notify_waiters();
        log::info(format_args!("invalidated the credentials of profile {}", self.display_name()));
    }

    /// Starts this entry's refresher on the live runtime if it does not run
    /// there yet (first use, or first use in a forked child).
    #[inline]
    fn ensure_refresher(self: &Arc<Self>) {
        if !self.registered.load(Ordering::Relaxed) {
            return;
        }
        let live = self.context.runtime.live_epoch();
        if live != 0 && self.refresher_epoch.load(Ordering::Acquire) == live {
            return;
        }
        // Out of threads: callers get the error; the refresher starts with
        // the runtime, on a later call.
        let Ok((epoch, handle)) = self.context.runtime.handle() else {
            return;
        };
        if self.refresher_epoch.swap(epoch, Ordering::AcqRel) != epoch {
            handle.spawn(self.clone().refresh_in_background());
        }
    }

    /// The background refresher (see `refresher.rs` for what it decides):
    /// runs for the life of the runtime, fetching through the entry's
    /// single flight so callers and refresher never fetch twice.
    async fn refresh_in_background(self: Arc<Self>) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let state = self.state();
            let step =
                next_step(&state, &self.context.settings, self.context.clock.now(), self.context.clock.instant());
            let delay = match step {
                Next::Idle => {
                    changed.await;
                    continue;
                }
                Next::FetchIn(delay) | Next::RecheckIn(delay) => delay,
            };
            tokio::select! {
                _ = &mut changed => continue,
                _ = tokio::time::sleep(delay) => {}
            }
            // The files are compared under the environment of the last
            // resolution a caller started: the runtime never reads it.
            let environment = self.context.resolver.environment();
            let fetch = match step {
                Next::RecheckIn(_) => {
                    static_inputs_changed(
                        self.state(),
                        environment.clone(),
                        &self.context.settings,
                        self.context.clock.now(),
                    )
                    .await
                }
                _ => true,
            };
            if fetch {
                if let Ok(flight) = self.join_flight(environment) {
                    let _ = flight.landed().await;
                }
            }
        }
    }
}

/// Lands a flight exactly once: with the fetch's result, or, if the fetch
/// task panics or is dropped (runtime shutdown), with an error, so that no
/// caller ever waits on a flight that will not come.
struct Landing<'a> {
    entry: &'a Entry,
    flight: &'a Arc<Flight>,
    landed: bool,
}

impl Landing<'_> {
    fn land(&mut self, result: Result<Arc<Snapshot>>) {
        self.landed = true;
        self.entry.clear_flight(self.flight);
        self.flight.land(result);
    }
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        if !self.landed {
            self.entry.clear_flight(self.flight);
            self.flight.land(Err(Error::internal(ABANDONED)));
        }
    }
}

fn log_refresh(profile: &str, snapshot: &Snapshot, schedule: Option<&Schedule>, now: SystemTime) {
    if !log::enabled(log::LogLevel::Info) {
        return;
    }
    let when = match (snapshot.expiration(), schedule) {
        (Some(expires), Some(s)) => {
            let next = s.refresh_at.duration_since(now).unwrap_or_default();
            format!(
                "expire at {}, next refresh in {}",
                describe_time(expires, now),
                human_duration(next.as_secs() as i64)
            )
        }
        _ => "never expire; re-checked when their files or variables change".to_owned(),
    };
    log::info(format_args!(
        "credentials for profile {profile} now come from {} (access key {}); they {when}",
        snapshot.source(),
        mask_access_key(&snapshot.credentials().access_key_id),
    ));
}
