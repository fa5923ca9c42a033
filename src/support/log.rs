//! The logging hook: one process-wide sink, called from any thread,
//! including the runtime's. Messages say what was refreshed, from which
//! source and when the next refresh is due; they never contain a secret.
//!
//! Setting `CREDCHAIN_LOG=error|warn|info|debug|trace` before the first
//! call sends messages to standard error when no sink has been installed.

use std::fmt;
use std::sync::atomic::{fence, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use once_cell::sync::Lazy;

/// Message levels, most severe first. Stable numbers: they cross the C ABI.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Logging off (only meaningful as a maximum level).
    Off = 0,
    /// A failure a caller will see.
    Error = 1,
    /// A failure that is being absorbed (old credentials still served).
    Warn = 2,
    /// Refreshes, rotations, invalidations.
    Info = 3,
    /// Scheduling detail.
    Debug = 4,
    /// Everything.
    Trace = 5,
}

impl LogLevel {
    /// The level for a number; numbers above `Trace` mean `Trace`.
    pub fn from_u32(value: u32) -> LogLevel {
        match value {
            0 => LogLevel::Off,
            1 => LogLevel::Error,
            2 => LogLevel::Warn,
            3 => LogLevel::Info,
            4 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    fn parse(name: &str) -> Option<LogLevel> {
        Some(match name.to_ascii_lowercase().as_str() {
            "off" => LogLevel::Off,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Where messages go.
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

static SINK: Lazy<ArcSwapOption<LogSink>> = Lazy::new(|| {
    let from_env = std::env::var("CREDCHAIN_LOG").ok().and_then(|v| LogLevel::parse(&v));
    match from_env {
        Some(level) if level != LogLevel::Off => {
            MAX_LEVEL.store(level as u32, Ordering::Release);
            let sink: LogSink = Arc::new(|level, message| eprintln!("credchain {}: {message}", level.name()));
            ArcSwapOption::from_pointee(sink)
        }
        _ => ArcSwapOption::empty(),
    }
});
static MAX_LEVEL: AtomicU32 = AtomicU32::new(0);
/// Calls into a sink in progress, so that replacing the sink can wait for
/// them: a host tearing down its logging (a Python interpreter at exit)
/// must not be called afterwards.
static IN_SINK: AtomicUsize = AtomicUsize::new(0);
/// How long `set_sink` waits for calls in progress; sinks must be quick.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// Installs `sink` for messages up to `max_level`; `None` turns logging off.
/// Returns once calls into the previous sink have finished (waiting at most
/// a second), so that a host may tear its logging down afterwards. Must not
/// be called from inside a sink.
pub fn set_sink(max_level: LogLevel, sink: Option<LogSink>) {
    let level = if sink.is_some() { max_level } else { LogLevel::Off };
    SINK.store(sink.map(Arc::new));
    MAX_LEVEL.store(level as u32, Ordering::Release);
    fence(Ordering::SeqCst);
    let deadline = Instant::now() + DRAIN_LIMIT;
    while IN_SINK.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Called in a forked child, where the threads that were inside the sink at
/// the fork do not exist: nothing is in progress there.
pub(crate) fn forget_calls_in_progress() {
    IN_SINK.store(0, Ordering::SeqCst);
}

/// Whether a message at `level` would go anywhere.
pub fn enabled(level: LogLevel) -> bool {
    Lazy::force(&SINK);
    level != LogLevel::Off && (level as u32) <= MAX_LEVEL.load(Ordering::Acquire)
}

/// Sends a message at `level`.
pub fn log(level: LogLevel, message: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    IN_SINK.fetch_add(1, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    if let Some(sink) = SINK.load_full() {
        sink(level, &message.to_string());
    }
    IN_SINK.fetch_sub(1, Ordering::SeqCst);
}

/// An error message.
pub fn error(message: fmt::Arguments<'_>) {
    log(LogLevel::Error, message)
}

/// A warning.
pub fn warn(message: fmt::Arguments<'_>) {
    log(LogLevel::Warn, message)
}

/// An informational message.
pub fn info(message: fmt::Arguments<'_>) {
    log(LogLevel::Info, message)
}

/// A debug message.
pub fn debug(message: fmt::Arguments<'_>) {
    log(LogLevel::Debug, message)
}
