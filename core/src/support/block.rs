//! Waiting on async work from a caller's thread, bounded: the one way the
//! library blocks a thread on a future. Callers never get a runtime of their
//! own, and `Handle::block_on` is never used (it panics inside a tokio
//! context and waits without a limit).

use std::future::Future;
use std::sync::mpsc;
use std::time::Instant;

use tokio::runtime::Handle;

/// Why [`run_until`] returned without the future's output.
#[derive(Debug, PartialEq, Eq)]
pub enum Abandoned {
    /// The deadline passed first; the future keeps running on the runtime
    /// until it finishes or the runtime stops.
    DeadlinePassed,
    /// The runtime dropped the future (it was shut down).
    RuntimeStopped,
}

/// Runs `future` on the runtime behind `handle` and waits for its output on
/// this thread until `deadline`.
pub fn run_until<T: Send + 'static>(
    handle: &Handle,
    future: impl Future<Output = T> + Send + 'static,
    deadline: Instant,
) -> Result<T, Abandoned> {
    let (sender, receiver) = mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = sender.send(future.await);
    });
    match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(output) => Ok(output),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Abandoned::DeadlinePassed),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Abandoned::RuntimeStopped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn run_until_returns_the_output_or_gives_up_at_the_deadline() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(run_until(runtime.handle(), async { 3 }, soon), Ok(3));
        let started = Instant::now();
        let never =
            run_until(runtime.handle(), std::future::pending::<()>(), Instant::now() + Duration::from_millis(50));
        assert_eq!(never, Err(Abandoned::DeadlinePassed));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
