//! One profile's cache entry: an atomically swapped immutable state, the
//! single fetch in flight, and a wake-up for its refresher.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::sync::Mutex;
use arc_swap::ArcSwap;
use tokio::sync::Notify;

use super::flight::Flight;
use super::settings::settings;
use super::timing::{backoff, schedule, Schedule};
use super::{bump_generation, refresher};
use crate::chain::environment::EnvVars;
use crate::chain::{self, Environment, Fingerprint};
use crate::credentials::{unix_seconds, Snapshot};
use crate::error::{Error, ErrorCode, Result};
use crate::instance::instance;
use crate::{log, runtime};

/// The last failed attempt.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// No new attempt on behalf of callers before this.
    pub retry_after: Instant,
    /// Failures in a row, for the back-off.
    pub attempts: u32,
}

/// What an entry holds; replaced whole, never mutated.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// The credentials being served, if any.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Their refresh schedule, when they expire.
    pub schedule: Option<Schedule>,
    /// What was read to resolve them (or to fail).
    pub inputs: Option<Fingerprint>,
    /// The last failure since the last success.
    pub failure: Option<Failure>,
}

impl State {
    /// The snapshot, if it may be served at `now` without waiting: before
    /// the mandatory window, or at any time for credentials that never
    /// expire.
    pub fn servable(&self, now: SystemTime) -> Option<&Arc<Snapshot>> {
        let snapshot = self.snapshot.as_ref()?;
        match &self.schedule {
            None => Some(snapshot),
            Some(schedule) if now < schedule.mandatory_at => Some(snapshot),
            Some(_) => None,
        }
    }

    /// The error to return at once instead of asking upstream again: a
    /// recent failure whose back-off has not run out, unless the files or
    /// variables it read (compared with `env`) have changed since.
    fn recent_failure(&self, now: Instant, env: &EnvVars) -> Option<&Error> {
        let failure = self.failure.as_ref()?;
        if now >= failure.retry_after {
            return None;
        }
        if let Some(inputs) = &self.inputs {
            if *inputs != inputs.recapture(env) {
                return None;
            }
        }
        Some(&failure.error)
    }

    /// Whether this state shows that the profile names something worth an
    /// entry of its own: credentials, or a failure of a configured source
    /// (whose back-off the entry must remember). "Not found", a bad name or
    /// a broken file do not.
    pub fn names_something(&self) -> bool {
        if self.snapshot.is_some() {
            return true;
        }
        self.failure.as_ref().is_some_and(|f| {
            matches!(
                f.error.code(),
                ErrorCode::NoCredentials | ErrorCode::SourceFailed | ErrorCode::Timeout | ErrorCode::PartialCredentials
            )
        })
    }
}

/// One profile's entry.
pub struct Entry {
    /// The profile as the caller named it (`None`: the ambient profile).
    pub profile: Option<String>,
    state: ArcSwap<State>,
    flight: Mutex<Option<Arc<Flight>>>,
    /// Wakes the refresher when the state changes.
    pub changed: Notify,
    /// The runtime epoch in which this entry's refresher runs (0: none).
    refresher_epoch: AtomicU64,
    /// Bumped by `invalidate`, so a fetch started before it cannot
    /// overwrite the emptied state.
    invalidations: AtomicU64,
    /// Whether the cache holds this entry (and so runs its refresher); a
    /// pending entry for a new name is not held until it names something.
    registered: AtomicBool,
}

impl Entry {
    /// An empty entry for `profile`; `registered` when the cache holds it.
    pub fn new(profile: Option<String>, registered: bool) -> Self {
        Entry {
            profile,
            state: ArcSwap::from_pointee(State::default()),
            flight: Mutex::new(None),
            changed: Notify::new(),
            refresher_epoch: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            registered: AtomicBool::new(registered),
        }
    }

    /// Marks the entry as held by the cache and starts its refresher.
    pub fn register(self: &Arc<Self>) {
        self.registered.store(true, Ordering::Release);
        self.ensure_refresher();
    }

    /// A copy for a forked child's new cache: the still-valid snapshot and
    /// its schedule, no flight, no refresher yet. Reads only the state,
    /// which takes no lock.
    pub fn carry_over(&self) -> Entry {
        let carried = Entry::new(self.profile.clone(), self.registered.load(Ordering::Acquire));
        let state = self.state.load();
        let valid = state.schedule.is_none_or(|schedule| SystemTime::now() < schedule.expires_at);
        if state.snapshot.is_some() && valid {
            carried.state.store(Arc::new(State {
                snapshot: state.snapshot.clone(),
                schedule: state.schedule,
                inputs: state.inputs.clone(),
                failure: None,
            }));
        }
        carried
    }

    /// The profile's name for messages, escaped.
    pub fn display_name(&self) -> String {
        self.profile.as_deref().map_or_else(|| "(default)".to_owned(), crate::text::escape_name)
    }

    /// The current state.
    pub fn state(&self) -> Arc<State> {
        self.state.load_full()
    }

    /// The credentials to hand out now: the hot path answers from the
    /// current snapshot with atomic loads only; otherwise the caller joins
    /// (or starts) the single fetch and waits at most the call timeout.
    pub fn get(self: &Arc<Self>) -> Result<Arc<Snapshot>> {
        self.with_current(Arc::clone)
    }

    /// Runs `use_it` on the snapshot to hand out, while it is held: the C
    /// ABI takes a lease here without touching the `Arc`'s shared count.
    pub fn with_current<R>(self: &Arc<Self>, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
        self.ensure_refresher();
        let now = SystemTime::now();
        let current = self.state.load();
        if let Some(snapshot) = current.servable(now) {
            return Ok(use_it(snapshot));
        }
        // The environment of the last capture: reading it again here could
        // race a host thread's `setenv` (see `chain/environment.rs`).
        let environment = instance().environment.current();
        if let Some(error) = current.recent_failure(Instant::now(), &environment.vars) {
            if !self.fetch_in_flight() {
                return Err(error.clone());
            }
        }
        drop(current);
        self.fetch_and_wait(environment).map(|snapshot| use_it(&snapshot))
    }

    fn fetch_and_wait(self: &Arc<Self>, environment: Arc<Environment>) -> Result<Arc<Snapshot>> {
        let timeout = settings().call_timeout;
        let deadline = Instant::now() + timeout;
        match self.join_flight(environment).wait_until(deadline) {
            Some(result) => result,
            None => Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "timed out after {} ms waiting for credentials for profile {}",
                    timeout.as_millis(),
                    self.display_name()
                ),
            )),
        }
    }

    /// Whether a fetch is running on the live runtime.
    fn fetch_in_flight(&self) -> bool {
        let live = runtime::live_epoch();
        self.flight.lock().as_ref().is_some_and(|f| f.runtime_epoch() == live)
    }

    /// The fetch in flight, or a new one started on the runtime that
    /// resolves under `environment` (a caller's capture).
    pub fn join_flight(self: &Arc<Self>, environment: Arc<Environment>) -> Arc<Flight> {
        let (epoch, handle) = runtime::handle();
        let mut slot = self.flight.lock();
        if let Some(flight) = slot.as_ref().filter(|f| f.runtime_epoch() == epoch) {
            return flight.clone();
        }
        let flight = Arc::new(Flight::new(epoch));
        *slot = Some(flight.clone());
        drop(slot);
        let entry = self.clone();
        let task_flight = flight.clone();
        handle.spawn(async move { entry.run_fetch(task_flight, environment).await });
        flight
    }

    /// Resolves the chain, stores the outcome, and lands the flight.
    async fn run_fetch(self: Arc<Self>, flight: Arc<Flight>, environment: Arc<Environment>) {
        let mut landing = Landing { entry: &self, flight: &flight, landed: false };
        let invalidations = self.invalidations.load(Ordering::Acquire);
        let services = &instance().services;
        let resolution = chain::resolve(self.profile.as_deref(), environment, services, settings().fetch_timeout).await;
        let result = match resolution.outcome {
            Ok(credentials) => Ok(Arc::new(Snapshot::new(credentials, SystemTime::now()))),
            Err(error) => Err(error),
        };
        if self.invalidations.load(Ordering::Acquire) == invalidations {
            self.store(&result, resolution.inputs);
        }
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

    /// Replaces the state after a fetch. The generation moves only after the
    /// new state is visible: a binding that sees the new generation must
    /// also get the new snapshot, or it would cache the old one under it.
    fn store(&self, result: &Result<Arc<Snapshot>>, inputs: Fingerprint) {
        let previous = self.state.load_full();
        let next = match result {
            Ok(snapshot) => self.succeeded(&previous, snapshot, inputs),
            Err(error) => self.failed(&previous, error, inputs),
        };
        let snapshot_changed = match (&previous.snapshot, &next.snapshot) {
            (Some(old), Some(new)) => !Arc::ptr_eq(old, new),
            (None, None) => false,
            _ => true,
        };
        let next = Arc::new(next);
        self.state.store(next.clone());
        if snapshot_changed {
            bump_generation();
        }
        self.changed.notify_waiters();
        match result {
            Ok(_) if snapshot_changed => {
                if let Some(snapshot) = &next.snapshot {
                    log_refresh(&self.display_name(), snapshot, next.schedule.as_ref());
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
        State { snapshot: Some(snapshot), schedule, inputs: Some(inputs), failure: None }
    }

    fn failed(&self, previous: &State, error: &Error, inputs: Fingerprint) -> State {
        let attempts = previous.failure.as_ref().map_or(0, |f| f.attempts + 1);
        let s = settings();
        let delay = backoff(attempts, s.failure_backoff_min, s.failure_backoff_max, fastrand::f64());
        let now = SystemTime::now();
        // Expiring credentials stay while they are valid: in the advisory
        // window they keep being served; past expiry they are dropped.
        // Static credentials are dropped at once: their re-resolution failed
        // because a file or variable changed (a removed credentials file must
        // not keep its keys alive), and reading files has no transient faults
        // worth riding out.
        let keep = previous.schedule.is_some_and(|schedule| now < schedule.expires_at);
        let (snapshot, schedule) = if keep { (previous.snapshot.clone(), previous.schedule) } else { (None, None) };
        State {
            snapshot,
            schedule,
            inputs: Some(inputs),
            failure: Some(Failure { error: error.clone(), retry_after: Instant::now() + delay, attempts }),
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
        self.invalidations.fetch_add(1, Ordering::AcqRel);
        *self.flight.lock() = None;
        self.state.store(Arc::new(State::default()));
        bump_generation();
        self.changed.notify_waiters();
        log::info(format_args!("invalidated the credentials of profile {}", self.display_name()));
    }

    /// Starts this entry's refresher on the live runtime if it does not run
    /// there yet (first use, or first use in a forked child).
    fn ensure_refresher(self: &Arc<Self>) {
        if !self.registered.load(Ordering::Relaxed) {
            return;
        }
        let live = runtime::live_epoch();
        if live != 0 && self.refresher_epoch.load(Ordering::Acquire) == live {
            return;
        }
        let (epoch, handle) = runtime::handle();
        if self.refresher_epoch.swap(epoch, Ordering::AcqRel) != epoch {
            handle.spawn(refresher::run(self.clone()));
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
            self.flight
                .land(Err(Error::internal("the credentials fetch was abandoned (a bug, or the runtime stopped)")));
        }
    }
}

fn log_refresh(profile: &str, snapshot: &Snapshot, schedule: Option<&Schedule>) {
    if !log::enabled(log::LogLevel::Info) {
        return;
    }
    let when = match (snapshot.expiration(), schedule) {
        (Some(expires), Some(s)) => {
            let next = s.refresh_at.duration_since(SystemTime::now()).unwrap_or_default();
            format!("expire at {} (Unix), next refresh in {:.1} s", unix_seconds(expires), next.as_secs_f64())
        }
        _ => "never expire; re-checked when their files or variables change".to_owned(),
    };
    log::info(format_args!(
        "credentials for profile {profile} now come from {} (access key {}); they {when}",
        snapshot.source(),
        crate::credentials::mask_access_key(&snapshot.credentials().access_key_id),
    ));
}
