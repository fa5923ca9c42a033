//! When to refresh expiring credentials.
//!
//! botocore refreshes in an advisory window (15 min before expiry) and
//! blocks callers in a mandatory one (10 min). For a 15-minute role session
//! that means "refresh on every call". credchain scales both windows to the
//! credentials' lifetime (a quarter and a sixth of it, capped at botocore's
//! values) so that any lifetime is refreshed about once, and picks the
//! refresh moment at random in the first half of the advisory window so a
//! fleet started together does not call STS together.

use std::time::{Duration, SystemTime};

/// botocore's advisory window.
pub const ADVISORY_WINDOW_MAX: Duration = Duration::from_secs(15 * 60);
/// botocore's mandatory window.
pub const MANDATORY_WINDOW_MAX: Duration = Duration::from_secs(10 * 60);

/// The refresh schedule of one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// When the background refresher should fetch new credentials.
    pub refresh_at: SystemTime,
    /// From here on callers wait for the refresh instead of being served.
    pub mandatory_at: SystemTime,
    /// The credentials' expiry: never served at or after it.
    pub expires_at: SystemTime,
    /// `mandatory_at` less [`COARSE_SLACK`], in nanoseconds since the Unix
    /// epoch: the hot path compares the coarse clock with it, no arithmetic.
    pub coarse_deadline_nanos: u64,
}

/// How far before the mandatory moment the hot path stops trusting the
/// coarse clock: far more than a clock tick (1 to 10 ms), so that whatever
/// it serves, the precise clock would serve too.
pub const COARSE_SLACK: Duration = Duration::from_millis(50);

/// `at` in nanoseconds since the Unix epoch (0 before it, saturated far
/// after it).
pub fn unix_nanos(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The windows for credentials that live `lifetime`.
pub fn windows(lifetime: Duration) -> (Duration, Duration) {
    (ADVISORY_WINDOW_MAX.min(lifetime / 4), MANDATORY_WINDOW_MAX.min(lifetime / 6))
}

/// Plans the refresh of credentials fetched at `fetched_at` expiring at
/// `expires_at`; `jitter` in `[0, 1)` places the refresh in the first half
/// of the advisory window.
pub fn schedule(fetched_at: SystemTime, expires_at: SystemTime, jitter: f64) -> Schedule {
    let lifetime = expires_at.duration_since(fetched_at).unwrap_or(Duration::ZERO);
    let (advisory, mandatory) = windows(lifetime);
    let advisory_at = expires_at - advisory;
    let mandatory_at = expires_at - mandatory;
    let spread = (advisory - mandatory) / 2;
    let refresh_at = advisory_at + spread.mul_f64(jitter.clamp(0.0, 1.0));
    let coarse_deadline_nanos = unix_nanos(mandatory_at).saturating_sub(COARSE_SLACK.as_nanos() as u64);
    Schedule { refresh_at, mandatory_at, expires_at, coarse_deadline_nanos }
}

/// The delay before retry number `attempt` (0-based) after a failure,
/// exponential from `min` to `max`, with "equal jitter" (half fixed, half
/// random) so retries from many processes spread out.
pub fn backoff(attempt: u32, min: Duration, max: Duration, jitter: f64) -> Duration {
    let exponential = min.saturating_mul(1u32 << attempt.min(16)).min(max);
    let half = exponential / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    #[test]
    fn an_hour_long_session_uses_botocores_windows() {
        let s = schedule(T0, T0 + Duration::from_secs(3600), 0.0);
        assert_eq!(s.refresh_at, T0 + Duration::from_secs(45 * 60));
        assert_eq!(s.mandatory_at, T0 + Duration::from_secs(50 * 60));
        let late = schedule(T0, T0 + Duration::from_secs(3600), 0.999_999);
        assert!(late.refresh_at < T0 + Duration::from_secs(47 * 60 + 31));
        assert!(late.refresh_at > T0 + Duration::from_secs(47 * 60 + 29));
    }

    #[test]
    fn a_fifteen_minute_session_is_refreshed_once_not_on_every_call() {
        let s = schedule(T0, T0 + Duration::from_secs(900), 0.0);
        // botocore would already be inside its 15-minute advisory window at
        // t=0; here the refresh waits three quarters of the lifetime.
        assert_eq!(s.refresh_at, T0 + Duration::from_secs(675));
        assert_eq!(s.mandatory_at, T0 + Duration::from_secs(750));
    }

    #[test]
    fn twenty_second_credentials_refresh_between_15_and_16_seconds() {
        let early = schedule(T0, T0 + Duration::from_secs(20), 0.0);
        let late = schedule(T0, T0 + Duration::from_secs(20), 0.999);
        assert_eq!(early.refresh_at, T0 + Duration::from_secs(15));
        assert!(late.refresh_at < T0 + Duration::from_millis(15_834));
        assert!(late.refresh_at < late.mandatory_at);
        assert_eq!(late.mandatory_at, T0 + Duration::from_millis(16_666) + Duration::from_nanos(666_667));
    }

    #[test]
    fn already_expired_credentials_are_due_at_once() {
        let s = schedule(T0 + Duration::from_secs(10), T0, 0.5);
        assert_eq!((s.refresh_at, s.mandatory_at, s.expires_at), (T0, T0, T0));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_equal_jitter() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(15));
        assert_eq!(backoff(0, min, max, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(0, min, max, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(2, min, max, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(10, min, max, 1.0), Duration::from_secs(15));
        assert_eq!(backoff(40, min, max, 0.0), Duration::from_millis(7500));
    }
}
