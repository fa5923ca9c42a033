//! What the background refresher decides: one task per entry on the
//! internal runtime (`Entry::refresh_in_background` runs it).
//!
//! It sleeps until the snapshot's refresh moment (or, for static
//! credentials, the next input check), fetches through the entry's single
//! flight so callers and refresher never fetch twice, and after a failure
//! retries with back-off while the old credentials are still valid. Past
//! expiry it stops: callers drive the fetch from then on, bounded by their
//! timeout, so a dead upstream is not hammered by a process nobody uses.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::settings::Settings;
use super::state::State;
use crate::chain::Environment;

/// What the refresher should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing until the state changes.
    Idle,
    /// Fetch after this delay.
    FetchIn(Duration),
    /// Check static inputs after this delay.
    RecheckIn(Duration),
}

/// Decides the next step from the state and the settings alone.
pub fn next_step(state: &State, settings: &Settings, now: SystemTime, now_instant: Instant) -> Next {
    let Some(_) = &state.snapshot else {
        return Next::Idle;
    };
    let Some(schedule) = &state.schedule else {
        return Next::RecheckIn(settings.static_recheck);
    };
    if now >= schedule.expires_at {
        return Next::Idle;
    }
    let due = schedule.refresh_at.duration_since(now).unwrap_or(Duration::ZERO);
    let retry = state.failure.as_ref().map(|f| f.retry_after.saturating_duration_since(now_instant));
    let until_expiry = schedule.expires_at.duration_since(now).unwrap_or(Duration::ZERO);
    Next::FetchIn(retry.map_or(due, |r| r.max(due)).min(until_expiry))
}

/// Whether static credentials should be resolved again: their inputs
/// changed (compared under the latest captured environment), or they are
/// older than the periodic re-resolution interval. The files are `stat`ed
/// on the blocking pool, bounded, never on the runtime's worker.
pub async fn static_inputs_changed(
    state: Arc<State>,
    environment: Arc<Environment>,
    settings: &Settings,
    now: SystemTime,
) -> bool {
    let (Some(snapshot), Some(_)) = (&state.snapshot, &state.inputs) else {
        return false;
    };
    let age = now.duration_since(snapshot.fetched_at()).unwrap_or(Duration::ZERO);
    if age >= settings.static_refresh {
        return true;
    }
    let compare = tokio::task::spawn_blocking(move || {
        state.inputs.as_ref().is_some_and(|inputs| *inputs != inputs.recapture(&environment))
    });
    // A stat that hangs (a dead network mount) counts as "unchanged": the
    // periodic re-resolution still comes.
    matches!(tokio::time::timeout(settings.static_recheck, compare).await, Ok(Ok(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::snapshot::Snapshot;
    use crate::cache::state::Failure;
    use crate::cache::timing::schedule;
    use crate::types::credentials::Credentials;
    use crate::types::error::Error;
    use crate::types::source::SourceName;

    fn settings() -> Settings {
        Settings::default()
    }

    fn expiring_state(fetched: SystemTime, lifetime: Duration) -> State {
        let creds =
            Credentials::new_static(SourceName::CustomProcess, "A", "B").with_expiration(Some(fetched + lifetime));
        State {
            snapshot: Some(Arc::new(Snapshot::new(creds, fetched))),
            schedule: Some(schedule(fetched, fetched + lifetime, 0.0)),
            inputs: None,
            failure: None,
            invalidations: 0,
        }
    }

    #[test]
    fn an_empty_entry_idles() {
        assert_eq!(next_step(&State::default(), &settings(), SystemTime::now(), Instant::now()), Next::Idle);
    }

    #[test]
    fn expiring_credentials_are_fetched_at_their_refresh_moment() {
        let t0 = SystemTime::now();
        let state = expiring_state(t0, Duration::from_secs(20));
        assert_eq!(next_step(&state, &settings(), t0, Instant::now()), Next::FetchIn(Duration::from_secs(15)));
    }

    #[test]
    fn after_a_failure_the_retry_waits_for_the_back_off() {
        let t0 = SystemTime::now();
        let mut state = expiring_state(t0, Duration::from_secs(20));
        let now = Instant::now();
        state.failure =
            Some(Failure { error: Error::no_credentials(), retry_after: now + Duration::from_secs(2), attempts: 0 });
        let at = t0 + Duration::from_secs(16);
        assert_eq!(next_step(&state, &settings(), at, now), Next::FetchIn(Duration::from_secs(2)));
    }

    #[test]
    fn expired_credentials_leave_the_fetch_to_callers() {
        let t0 = SystemTime::now();
        let state = expiring_state(t0, Duration::from_secs(20));
        assert_eq!(next_step(&state, &settings(), t0 + Duration::from_secs(21), Instant::now()), Next::Idle);
    }
}
