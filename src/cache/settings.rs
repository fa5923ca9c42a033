//! The cache's tunables, read once from the environment at first use.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CREDCHAIN_TIMEOUT_MS` | 10000 | the longest a call waits for a fetch; a fetch is abandoned slightly earlier so its error, naming the source, reaches the caller first |
//! | `CREDCHAIN_STATIC_RECHECK_MS` | 5000 | how often static credentials' files and variables are checked for a change |
//! | `CREDCHAIN_STATIC_REFRESH_MS` | 300000 | static credentials are re-resolved this often even when nothing seems changed |
//! | `CREDCHAIN_MAX_PROFILES` | 1024 | the most named profiles the cache holds; a new name past it is refused |

use std::time::Duration;

use once_cell::sync::Lazy;

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

static SETTINGS: Lazy<Settings> = Lazy::new(Settings::from_env);

/// The process's settings.
pub fn settings() -> &'static Settings {
    &SETTINGS
}

impl Settings {
    fn from_env() -> Settings {
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

fn millis(variable: &str, default: u64) -> Duration {
    Duration::from_millis(number(variable, default))
}

fn number(variable: &str, default: u64) -> u64 {
    std::env::var(variable).ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(default)
}
