//! The logging hook: subscribers, each with its own level, called from any
//! thread, including the runtime's. Messages say what was refreshed, from
//! which source and when the next refresh is due; they never contain a
//! secret.
//!
//! Several hosts share a process (a Python plugin, a JVM, a C driver), so
//! each subscribes on its own and unsubscribing one silences only that one.
//! Beside the subscriptions there is one replaceable sink, the older
//! `credchain_set_log_callback`'s; setting `CREDCHAIN_LOG=error|warn|info|
//! debug|trace` before the first call fills it with standard error.
//!
//! The subscriber list is a static rather than a field of the instance:
//! every layer logs, and a forked child logs before its new instance exists.

use std::fmt;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
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

/// One subscriber: a sink and the most verbose level it wants.
struct Subscriber {
    id: u64,
    level: LogLevel,
    sink: LogSink,
}

/// The id of the replaceable sink of [`set_sink`]; subscriptions get ids
/// from 1 up.
const REPLACEABLE: u64 = 0;

static SUBSCRIBERS: Lazy<ArcSwap<Vec<Arc<Subscriber>>>> = Lazy::new(|| {
    let from_env = std::env::var("CREDCHAIN_LOG").ok().and_then(|v| LogLevel::parse(&v));
    let subscribers = match from_env {
        Some(level) if level != LogLevel::Off => {
            MAX_LEVEL.store(level as u32, Ordering::Release);
            let sink: LogSink = Arc::new(|level, message| eprintln!("credchain {}: {message}", level.name()));
            vec![Arc::new(Subscriber { id: REPLACEABLE, level, sink })]
        }
        _ => Vec::new(),
    };
    ArcSwap::from_pointee(subscribers)
});
/// The most verbose level any subscriber wants: the one check a message
/// nobody wants costs.
static MAX_LEVEL: AtomicU32 = AtomicU32::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Calls into a sink in progress, so that removing a sink can wait for
/// them: a host tearing down its logging (a Python interpreter at exit)
/// must not be called afterwards.
static IN_SINK: AtomicUsize = AtomicUsize::new(0);
/// How long removing a sink waits for calls in progress; sinks must be quick.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// Replaces the replaceable sink with `sink` for messages up to
/// `max_level`; `None` removes it. Subscriptions are not touched. Returns
/// once calls into the previous sink have finished (waiting at most a
/// second), so that a host may tear its logging down afterwards. Must not
/// be called from inside a sink.
pub fn set_sink(max_level: LogLevel, sink: Option<LogSink>) {
    let replacement = sink.filter(|_| max_level != LogLevel::Off);
    update(|subscribers| {
        subscribers.retain(|s| s.id != REPLACEABLE);
        if let Some(sink) = &replacement {
            subscribers.insert(0, Arc::new(Subscriber { id: REPLACEABLE, level: max_level, sink: sink.clone() }));
        }
    });
    drain();
}

/// Adds `sink` for messages up to `max_level`; returns the subscription's
/// id for [`unsubscribe`].
pub fn subscribe(max_level: LogLevel, sink: LogSink) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let subscriber = Arc::new(Subscriber { id, level: max_level, sink });
    update(|subscribers| subscribers.push(subscriber.clone()));
    id
}

/// Removes subscription `id`; false when there is none (never subscribed,
/// or already removed). Returns once calls into its sink have finished
/// (waiting at most a second). Must not be called from inside a sink.
pub fn unsubscribe(id: u64) -> bool {
    if id == REPLACEABLE {
        return false;
    }
    let found = std::cell::Cell::new(false);
    update(|subscribers| {
        let before = subscribers.len();
        subscribers.retain(|s| s.id != id);
        found.set(subscribers.len() != before);
    });
    drain();
    found.get()
}

/// Applies `change` to the list (lock-free: retried if another thread
/// changed it meanwhile) and recomputes the most verbose level wanted.
fn update(change: impl Fn(&mut Vec<Arc<Subscriber>>)) {
    let updated = SUBSCRIBERS.rcu(|current| {
        let mut next = Vec::clone(current);
        change(&mut next);
        next
    });
    drop(updated);
    let max = SUBSCRIBERS.load().iter().map(|s| s.level as u32).max().unwrap_or(0);
    MAX_LEVEL.store(max, Ordering::Release);
}

/// Waits (at most [`DRAIN_LIMIT`]) until no call into any sink is in
/// progress, so that a removed sink is not called after its removal
/// returned.
fn drain() {
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
    Lazy::force(&SUBSCRIBERS);
    level != LogLevel::Off && (level as u32) <= MAX_LEVEL.load(Ordering::Acquire)
}

/// Sends a message at `level` to every subscriber that wants it.
pub fn log(level: LogLevel, message: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    IN_SINK.fetch_add(1, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    let subscribers = SUBSCRIBERS.load_full();
    let mut text = None;
    for subscriber in subscribers.iter().filter(|s| level <= s.level) {
        let text = text.get_or_insert_with(|| message.to_string());
        (subscriber.sink)(level, text);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The subscriber list is process-wide: these tests take turns.
    static TURN: Mutex<()> = Mutex::new(());

    /// Records this module's test messages only (other unit tests log
    /// concurrently).
    fn recorder() -> (LogSink, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let sink: LogSink = Arc::new(move |level, message| {
            if let Some(text) = message.strip_prefix("log-test: ") {
                into.lock().unwrap().push(format!("{}: {text}", level.name()));
            }
        });
        (sink, seen)
    }

    #[test]
    fn each_subscriber_gets_the_messages_of_its_own_level() {
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let (info_sink, info_seen) = recorder();
        let (error_sink, error_seen) = recorder();
        let info = subscribe(LogLevel::Info, info_sink);
        let error = subscribe(LogLevel::Error, error_sink);
        log(LogLevel::Info, format_args!("log-test: refreshed"));
        log(LogLevel::Error, format_args!("log-test: failed"));
        log(LogLevel::Debug, format_args!("log-test: detail"));
        assert_eq!(*info_seen.lock().unwrap(), ["info: refreshed", "error: failed"]);
        assert_eq!(*error_seen.lock().unwrap(), ["error: failed"]);
        assert!(unsubscribe(info) && unsubscribe(error));
    }

    #[test]
    fn unsubscribing_one_leaves_the_others_and_the_replaceable_sink_receiving() {
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let (a_sink, a_seen) = recorder();
        let (b_sink, b_seen) = recorder();
        let (c_sink, c_seen) = recorder();
        let a = subscribe(LogLevel::Info, a_sink);
        let b = subscribe(LogLevel::Info, b_sink);
        set_sink(LogLevel::Info, Some(c_sink));
        assert!(unsubscribe(a));
        assert!(!unsubscribe(a), "a second unsubscribe finds nothing");
        log(LogLevel::Info, format_args!("log-test: rotated"));
        assert!(a_seen.lock().unwrap().is_empty());
        assert_eq!(*b_seen.lock().unwrap(), ["info: rotated"]);
        assert_eq!(*c_seen.lock().unwrap(), ["info: rotated"]);
        // Turning the replaceable sink off leaves subscriptions alone.
        set_sink(LogLevel::Off, None);
        log(LogLevel::Info, format_args!("log-test: again"));
        assert_eq!(*b_seen.lock().unwrap(), ["info: rotated", "info: again"]);
        assert_eq!(c_seen.lock().unwrap().len(), 1);
        assert!(unsubscribe(b));
    }
}
