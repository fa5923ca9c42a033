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
//! The instance owns the subscribers ([`Subscribers`]) and installs them
//! here, so that every layer logs without knowing the instance.

use std::fmt;
use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

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

    /// The level named `name` (`off`, `error`, `warn` or `warning`, `info`,
    /// `debug`, `trace`; any case), as `CREDCHAIN_LOG` takes it.
    pub fn parse(name: &str) -> Option<LogLevel> {
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

/// The id of the replaceable sink of [`Subscribers::set_sink`];
/// subscriptions get ids from 1 up.
const REPLACEABLE: u64 = 0;

/// How long removing a sink waits for calls in progress; sinks must be quick.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// Everyone who receives log messages: the process's instance owns one
/// (`process/instance.rs`) and installs it here, so that every layer can
/// log without knowing the instance; a forked child's instance shares its
/// parent's, so subscriptions survive the fork.
#[derive(Default)]
pub struct Subscribers {
    list: ArcSwap<Vec<Arc<Subscriber>>>,
    /// The most verbose level any subscriber wants: the one check a message
    /// nobody wants costs.
    max_level: AtomicU32,
    next_id: AtomicU64,
    /// Calls into a sink in progress, so that removing a sink can wait for
    /// them: a host tearing down its logging (a Python interpreter at exit)
    /// must not be called afterwards.
    in_sink: AtomicUsize,
}

impl Subscribers {
    /// The subscribers the environment asks for: standard error at the
    /// level of `CREDCHAIN_LOG=error|warn|info|debug|trace`, as the
    /// replaceable sink, or nobody. Standard error is the file descriptor 2
    /// is now (at load): if the host closes it later, lines stop rather than
    /// land in whatever file takes its number; if it is closed now, there
    /// is no such sink.
    pub fn from_environment() -> Subscribers {
        let subscribers = Subscribers::default();
        let from_env = std::env::var("CREDCHAIN_LOG").ok().and_then(|v| LogLevel::parse(&v));
        let stderr = crate::platform::StandardError::capture();
        if let (Some(level), Some(stderr)) = (from_env.filter(|&level| level != LogLevel::Off), stderr) {
            let sink: LogSink = Arc::new(move |level, message| {
                stderr.write(format!("credchain {}: {message}\n", level.name()).as_bytes())
            });
            subscribers.update(|list| list.push(Arc::new(Subscriber { id: REPLACEABLE, level, sink: sink.clone() })));
        }
        subscribers
    }

    /// Replaces the replaceable sink with `sink` for messages up to
    /// `max_level`; `None` removes it. Subscriptions are not touched.
    /// Returns once calls into the previous sink have finished (waiting at
    /// most a second), so that a host may tear its logging down
    /// afterwards. Must not be called from inside a sink.
    pub fn set_sink(&self, max_level: LogLevel, sink: Option<LogSink>) {
        let replacement = sink.filter(|_| max_level != LogLevel::Off);
        self.update(|list| {
            list.retain(|s| s.id != REPLACEABLE);
            if let Some(sink) = &replacement {
                list.insert(0, Arc::new(Subscriber { id: REPLACEABLE, level: max_level, sink: sink.clone() }));
            }
        });
        self.drain();
    }

    /// Adds `sink` for messages up to `max_level`; returns the
    /// subscription's id for [`Subscribers::unsubscribe`].
    pub fn subscribe(&self, max_level: LogLevel, sink: LogSink) -> u64 {
        // Ids start at 1: 0 is the replaceable sink's.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let subscriber = Arc::new(Subscriber { id, level: max_level, sink });
        self.update(|list| list.push(subscriber.clone()));
        id
    }

    /// Removes subscription `id`; false when there is none (never
    /// subscribed, or already removed). Returns once calls into its sink
    /// have finished (waiting at most a second). Must not be called from
    /// inside a sink.
    pub fn unsubscribe(&self, id: u64) -> bool {
        if id == REPLACEABLE {
            return false;
        }
        let found = std::cell::Cell::new(false);
        self.update(|list| {
            let before = list.len();
            list.retain(|s| s.id != id);
            found.set(list.len() != before);
        });
        self.drain();
        found.get()
    }

    /// Applies `change` to the list (lock-free: retried if another thread
    /// changed it meanwhile) and recomputes the most verbose level wanted.
    fn update(&self, change: impl Fn(&mut Vec<Arc<Subscriber>>)) {
        drop(self.list.rcu(|current| {
            let mut next = Vec::clone(current);
            change(&mut next);
            next
        }));
        let max = self.list.load().iter().map(|s| s.level as u32).max().unwrap_or(0);
        self.max_level.store(max, Ordering::Release);
    }

    /// Waits (at most [`DRAIN_LIMIT`]) until no call into any sink is in
    /// progress, so that a removed sink is not called after its removal
    /// returned.
    fn drain(&self) {
        fence(Ordering::SeqCst);
        let deadline = Instant::now() + DRAIN_LIMIT;
        while self.in_sink.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Whether a message at `level` would go anywhere.
    pub fn enabled(&self, level: LogLevel) -> bool {
        level != LogLevel::Off && (level as u32) <= self.max_level.load(Ordering::Acquire)
    }

    /// Sends a message at `level` to every subscriber that wants it.
    pub fn log(&self, level: LogLevel, message: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        self.in_sink.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let list = self.list.load_full();
        let mut text = None;
        for subscriber in list.iter().filter(|s| level <= s.level) {
            let text = text.get_or_insert_with(|| message.to_string());
            (subscriber.sink)(level, text);
        }
        self.in_sink.fetch_sub(1, Ordering::SeqCst);
    }

    /// Called in a forked child, where the threads that were inside a sink
    /// at the fork do not exist: nothing is in progress there.
    pub(crate) fn forget_calls_in_progress(&self) {
        self.in_sink.store(0, Ordering::SeqCst);
    }
}

/// The installed subscribers: the current instance's.
static INSTALLED: AtomicPtr<Subscribers> = AtomicPtr::new(std::ptr::null_mut());

/// Makes `subscribers` the ones every layer's messages go to.
pub fn install(subscribers: &'static Subscribers) {
    INSTALLED.store((subscribers as *const Subscribers).cast_mut(), Ordering::Release);
}

/// The installed subscribers, if an instance exists yet.
pub fn installed() -> Option<&'static Subscribers> {
    // SAFETY: only `install` stores here, and only 'static references.
    unsafe { INSTALLED.load(Ordering::Acquire).as_ref() }
}

/// Whether a message at `level` would go anywhere.
pub fn enabled(level: LogLevel) -> bool {
    installed().is_some_and(|s| s.enabled(level))
}

/// In a forked child (from the atfork handler): see
/// [`Subscribers::forget_calls_in_progress`].
pub(crate) fn forget_calls_in_progress() {
    if let Some(subscribers) = installed() {
        subscribers.forget_calls_in_progress();
    }
}

/// Sends a message at `level` to every subscriber that wants it.
pub fn log(level: LogLevel, message: fmt::Arguments<'_>) {
    if let Some(subscribers) = installed() {
        subscribers.log(level, message);
    }
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

    fn recorder() -> (LogSink, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let sink: LogSink =
            Arc::new(move |level, message| into.lock().unwrap().push(format!("{}: {message}", level.name())));
        (sink, seen)
    }

    #[test]
    fn each_subscriber_gets_the_messages_of_its_own_level() {
        let subscribers = Subscribers::default();
        let (info_sink, info_seen) = recorder();
        let (error_sink, error_seen) = recorder();
        let info = subscribers.subscribe(LogLevel::Info, info_sink);
        let error = subscribers.subscribe(LogLevel::Error, error_sink);
        assert_ne!(info, error);
        subscribers.log(LogLevel::Info, format_args!("refreshed"));
        subscribers.log(LogLevel::Error, format_args!("failed"));
        subscribers.log(LogLevel::Debug, format_args!("detail"));
        assert_eq!(*info_seen.lock().unwrap(), ["info: refreshed", "error: failed"]);
        assert_eq!(*error_seen.lock().unwrap(), ["error: failed"]);
    }

    #[test]
    fn unsubscribing_one_leaves_the_others_and_the_replaceable_sink_receiving() {
        let subscribers = Subscribers::default();
        let (a_sink, a_seen) = recorder();
        let (b_sink, b_seen) = recorder();
        let (c_sink, c_seen) = recorder();
        let a = subscribers.subscribe(LogLevel::Info, a_sink);
        let b = subscribers.subscribe(LogLevel::Info, b_sink);
        subscribers.set_sink(LogLevel::Info, Some(c_sink));
        assert!(subscribers.unsubscribe(a));
        assert!(!subscribers.unsubscribe(a), "a second unsubscribe finds nothing");
        subscribers.log(LogLevel::Info, format_args!("rotated"));
        assert!(a_seen.lock().unwrap().is_empty());
        assert_eq!(*b_seen.lock().unwrap(), ["info: rotated"]);
        assert_eq!(*c_seen.lock().unwrap(), ["info: rotated"]);
        // Turning the replaceable sink off leaves subscriptions alone.
        subscribers.set_sink(LogLevel::Off, None);
        subscribers.log(LogLevel::Info, format_args!("again"));
        assert_eq!(*b_seen.lock().unwrap(), ["info: rotated", "info: again"]);
        assert_eq!(c_seen.lock().unwrap().len(), 1);
        assert!(subscribers.unsubscribe(b));
        assert!(!subscribers.enabled(LogLevel::Error), "nobody left: nothing is even formatted");
    }
}
