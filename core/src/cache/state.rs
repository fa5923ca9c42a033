//! What a cache entry holds: an immutable state, replaced whole on every
//! change, and the decisions that read only it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::snapshot::Snapshot;
use super::timing::Schedule;
use crate::chain::environment::Environment;
use crate::chain::Fingerprint;
use crate::types::error::{Error, ErrorCode};

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
