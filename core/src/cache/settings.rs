//! The cache's tunables, read once from the environment when the process's
//! instance is made (at load), and handed to the cache as a value.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CREDCHAIN_TIMEOUT_MS` | 10000 | the longest a call waits for a fetch; a fetch is abandoned slightly earlier so its error, naming the source, reaches the caller first |
//! | `CREDCHAIN_STATIC_RECHECK_MS` | 5000 | how often static credentials' files and variables are checked for a change |
//! | `CREDCHAIN_STATIC_REFRESH_MS` | 300000 | static credentials are re-resolved this often even when nothing seems changed |
//! | `CREDCHAIN_MAX_PROFILES` | 1024 | the most named profiles the cache holds; a new name past it is refused |

use std::time::Duration;

/// The effective settings.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The longest any call waits.
    pub call_timeout: Duration,
    /// The limit for one fetch, a little under `call_timeout`.
    pub fetch_timeout: Duration,
    /// How often static inputs are fingerprinted.
    pub static_recheck: Duration,
    /// How often static credentials are re-resolved regardless.
    pub static_refresh: Duration,
    /// The first back-off after "no credentials" or another failure.
    pub failure_backoff_min: Duration,
    /// The longest back-off between failed attempts.
    pub failure_backoff_max: Duration,
    /// The most named profiles held.
    pub max_profiles: usize,
}

impl Settings {
    /// The settings the environment asks for (defaults where it says
    /// nothing or something unreadable).
    pub fn from_environment() -> Settings {
        Settings::from_variables(|name| std::env::var(name).ok())
    }

    /// The settings that `variable` (a lookup of the variables above) asks for.
    pub fn from_variables(variable: impl Fn(&str) -> Option<String>) -> Settings {
        let number = |name: &str, default: u64| number(variable(name), default);
        let millis = |name: &str, default: u64| Duration::from_millis(number(name, default));
        let call_timeout = millis("CREDCHAIN_TIMEOUT_MS", 10_000).max(Duration::from_millis(100));
        // A quarter second (or a tenth, for tiny timeouts) lets the fetch's
        // own, more precise error arrive before the caller gives up.
        let margin = Duration::from_millis(250).min(call_timeout / 10);
        Settings {
            call_timeout,
            fetch_timeout: call_timeout - margin,
            static_recheck: millis("CREDCHAIN_STATIC_RECHECK_MS", 5_000).max(Duration::from_millis(50)),
            static_refresh: millis("CREDCHAIN_STATIC_REFRESH_MS", 300_000).max(Duration::from_millis(100)),
            failure_backoff_min: Duration::from_secs(1),
            failure_backoff_max: Duration::from_secs(15),
            max_profiles: number("CREDCHAIN_MAX_PROFILES", 1024).max(1) as usize,
        }
    }
}

impl Default for Settings {
    /// The documented defaults, whatever the environment says.
    fn default() -> Settings {
        Settings::from_variables(|_| None)
    }
}

fn number(value: Option<String>, default: u64) -> u64 {
    value.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fetch_gives_up_a_quarter_second_before_the_caller() {
        let s = Settings::default();
        assert_eq!((s.call_timeout, s.fetch_timeout), (Duration::from_secs(10), Duration::from_millis(9_750)));
        assert_eq!(s.max_profiles, 1024);
    }

    #[test]
    fn tiny_or_unreadable_values_are_clamped_or_ignored() {
        let s = Settings::from_variables(|name| match name {
            "CREDCHAIN_TIMEOUT_MS" => Some("5".into()),
            "CREDCHAIN_MAX_PROFILES" => Some("0".into()),
            "CREDCHAIN_STATIC_RECHECK_MS" => Some("soon".into()),
            _ => None,
        });
        assert_eq!((s.call_timeout, s.fetch_timeout), (Duration::from_millis(100), Duration::from_millis(90)));
        assert_eq!(s.max_profiles, 1);
        assert_eq!(s.static_recheck, Duration::from_secs(5));
    }
}
