//! What a cache entry holds: an immutable state, replaced whole on every
//! change, and the decisions that read only it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::snapshot::Snapshot;
use super::timing::Schedule;
use crate::chain::environment::Environment;
use crate::chain::Fingerprint;
use crate::support::sync::SwapCell;
use crate::types::error::{Error, ErrorCode};

/// Replaces the state in `cell` with `next(previous)`, unless an
/// invalidation landed since the caller read `seen` (the state's
/// `invalidations` when its fetch started): a fetch begun before an
/// invalidation must not bring back the credentials a driver just dropped.
/// The check and the store are one compare-and-swap, retried when another
/// writer got in between. Returns the replaced and the new state when it
/// stored.
pub fn store_unless_invalidated(
    cell: &SwapCell<State>,
    seen: u64,
    mut next: impl FnMut(&State) -> State,
) -> Option<(Arc<State>, Arc<State>)> {
    let mut previous = cell.load_full();
    loop {
        if previous.invalidations != seen {
            return None;
        }
        let replacement = Arc::new(State { invalidations: seen, ..next(&previous) });
        if cell.compare_and_swap(&previous, replacement.clone()) {
            return Some((previous, replacement));
        }
        previous = cell.load_full();
    }
}

/// Empties the state in `cell`, counting the invalidation, in one swap.
pub fn invalidate(cell: &SwapCell<State>) {
    let mut current = cell.load_full();
    loop {
        let emptied = Arc::new(State { invalidations: current.invalidations + 1, ..State::default() });
        if cell.compare_and_swap(&current, emptied) {
            return;
        }
        current = cell.load_full();
    }
}

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
    /// How many invalidations the entry has had. Kept in the state itself,
    /// so that "no invalidation since the fetch started" and "store the
    /// fetch's outcome" are one compare-and-swap ([`store_unless_invalidated`]).
    pub invalidations: u64,
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
    /// variables it read (compared under `environment`) have changed since.
    pub fn recent_failure(&self, now: Instant, environment: &Environment) -> Option<&Error> {
        let failure = self.failure.as_ref()?;
        if now >= failure.retry_after {
            return None;
        }
        if let Some(inputs) = &self.inputs {
            if *inputs != inputs.recapture(environment) {
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

#[cfg(all(test, credchain_loom))]
mod loom_tests {
    use std::time::SystemTime;

    use super::*;
    use crate::types::credentials::Credentials;
    use crate::types::source::SourceName;

    fn fetched() -> State {
        let credentials = Credentials::new_static(SourceName::CustomProcess, "AKIDFETCHED", "secret");
        State { snapshot: Some(Arc::new(Snapshot::new(credentials, SystemTime::UNIX_EPOCH))), ..State::default() }
    }

    /// A fetch that started before an invalidation never overwrites it: at
    /// the end, the fetched credentials are there only if the fetch began
    /// after the invalidation. (Before the counter moved into the state, a
    /// check of the counter followed by a separate store let an
    /// invalidation land in between and be overwritten.)
    #[test]
    fn loom_a_fetch_begun_before_an_invalidation_never_overwrites_it() {
        loom::model(|| {
            let cell = Arc::new(SwapCell::new(State::default()));
            let fetcher = {
                let cell = cell.clone();
                loom::thread::spawn(move || {
                    let seen = cell.load().invalidations;
                    let stored = store_unless_invalidated(&cell, seen, |_| fetched()).is_some();
                    (seen, stored)
                })
            };
            invalidate(&cell);
            let (seen, stored) = fetcher.join().unwrap();
            let end = cell.load_full();
            assert_eq!(end.snapshot.is_some(), stored && seen == 1, "seen {seen}, stored {stored}");
            assert_eq!(end.invalidations, 1);
        });
    }
}
