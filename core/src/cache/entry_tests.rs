//! The entry's state machine, driven in-process: a scripted resolver stands
//! in for the chain and a hand-moved clock for time, so every window and
//! back-off is reached in milliseconds. The runtime is real (one worker):
//! fetches run on it exactly as in the library.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;

use super::context::{Clock, Context, Resolver, Resolving};
use super::entry::Entry;
use super::flight::Flight;
use super::settings::Settings;
use super::snapshot::Snapshot;
use super::{generation_counter, Cache};
use crate::chain::{Environment, Fingerprint, Resolution};
use crate::support::block;
use crate::support::runtime::RuntimeSlot;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode};
use crate::types::source::SourceName;

/// A clock that moves only when told to.
struct HandClock {
    start: SystemTime,
    start_instant: Instant,
    moved: Mutex<Duration>,
    /// How far the coarse clock lags (a real one: up to a tick).
    coarse_lag: Mutex<Duration>,
}

impl HandClock {
    fn new() -> Arc<HandClock> {
        Arc::new(HandClock {
            start: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            start_instant: Instant::now(),
            moved: Mutex::new(Duration::ZERO),
            coarse_lag: Mutex::new(Duration::ZERO),
        })
    }

    fn advance(&self, by: Duration) {
        *self.moved.lock().unwrap() += by;
    }
}

impl Clock for HandClock {
    fn now(&self) -> SystemTime {
        self.start + *self.moved.lock().unwrap()
    }

    fn instant(&self) -> Instant {
        self.start_instant + *self.moved.lock().unwrap()
    }

    fn coarse_nanos(&self) -> u64 {
        super::timing::unix_nanos(self.now() - *self.coarse_lag.lock().unwrap())
    }
}

/// What the scripted chain answers, in order; the last answer repeats.
#[derive(Clone)]
enum Answer {
    /// Keys that expire this long after the clock's "now" at the fetch.
    Expiring(&'static str, Duration),
    /// Keys that never expire.
    Static(&'static str),
    /// A failure.
    Fails(ErrorCode),
}

/// A resolver that answers from a script, counts its calls and, when gated,
/// waits for a permit before answering.
struct Script {
    clock: Arc<HandClock>,
    answers: Mutex<VecDeque<Answer>>,
    calls: AtomicUsize,
    gate: Option<Arc<Semaphore>>,
}

impl Script {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn next_answer(&self) -> Answer {
        let mut answers = self.answers.lock().unwrap();
        if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers.front().cloned().expect("a script has at least one answer")
        }
    }
}

impl Resolver for Script {
    fn environment(&self) -> Arc<Environment> {
        Arc::new(Environment::of(&[]))
    }

    fn resolve(self: Arc<Self>, _profile: Option<String>, environment: Arc<Environment>) -> Resolving {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.expect("the gate stays open").forget();
            }
            let outcome = match self.next_answer() {
                Answer::Expiring(key, life) => Ok(Credentials::new_static(SourceName::CustomProcess, key, "secret")
                    .with_session_token(Some("token"))
                    .with_expiration(Some(self.clock.now() + life))),
                Answer::Static(key) => Ok(Credentials::new_static(SourceName::SharedCredentialsFile, key, "secret")),
                Answer::Fails(code) => Err(Error::new(code, format!("scripted {}", code.name()))),
            };
            Resolution { outcome, inputs: Fingerprint::over(&environment.vars, &[]) }
        })
    }
}

/// One entry (not held by a cache, so no background refresher runs: the
/// tests drive every step), its script and its clock.
struct Bench {
    entry: Arc<Entry>,
    script: Arc<Script>,
    clock: Arc<HandClock>,
    runtime: Arc<RuntimeSlot>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.runtime.shutdown(Duration::from_secs(1));
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

fn settings() -> Settings {
    Settings {
        call_timeout: Duration::from_millis(400),
        fetch_timeout: Duration::from_millis(350),
        ..Settings::default()
    }
}

fn make_context(answers: &[Answer], gate: Option<Arc<Semaphore>>) -> (Context, Arc<Script>, Arc<HandClock>) {
    let clock = HandClock::new();
    let script = Arc::new(Script {
        clock: clock.clone(),
        answers: Mutex::new(answers.iter().cloned().collect()),
        calls: AtomicUsize::new(0),
        gate,
    });
    let runtime = Arc::new(RuntimeSlot::default());
    let context = Context { settings: settings(), runtime, resolver: script.clone(), clock: clock.clone() };
    (context, script, clock)
}

fn bench_gated(answers: &[Answer], gate: Option<Arc<Semaphore>>) -> Bench {
    let (context, script, clock) = make_context(answers, gate);
    let runtime = context.runtime.clone();
    let entry = Arc::new(Entry::new(Some("test".into()), false, Arc::new(context)));
    Bench { entry, script, clock, runtime }
}

fn bench(answers: &[Answer]) -> Bench {
    bench_gated(answers, None)
}

/// The access key a call hands out, or its error code and message.
fn key(bench: &Bench) -> Result<String, (ErrorCode, String)> {
    bench.entry.with_current(|s| s.credentials().access_key_id.clone()).map_err(|e| (e.code(), e.message().to_owned()))
}

#[test]
fn the_first_call_fetches_and_later_calls_are_served_without_asking_again() {
    let b = bench(&[Answer::Expiring("AKID1", HOUR)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    assert_eq!(key(&b), Ok("AKID1".into()));
    assert_eq!(b.script.calls(), 1);
}

#[test]
fn callers_on_the_runtime_wait_as_tasks_and_share_one_fetch() {
    // 64 waiting tasks on a runtime with 2 blocking threads: none of them
    // holds a thread while it waits, so the fetch still runs.
    let gate = Arc::new(Semaphore::new(0));
    let b = bench_gated(&[Answer::Expiring("AKID1", HOUR)], Some(gate.clone()));
    let (_, handle) = b.runtime.handle().unwrap();
    let waiters: Vec<_> = (0..64)
        .map(|_| {
            let entry = b.entry.clone();
            handle.spawn(async move { entry.current().await.map(|s| s.credentials().access_key_id.clone()) })
        })
        .collect();
    while b.script.calls() == 0 {
        std::thread::yield_now();
    }
    gate.add_permits(1);
    let keys = block::run_until(
        &handle,
        async move {
            let mut keys = Vec::new();
            for waiter in waiters {
                keys.push(waiter.await.expect("the task ran"));
            }
            keys
        },
        Instant::now() + Duration::from_secs(2),
    )
    .expect("every waiter finished");
    assert!(keys.iter().all(|k| k.as_deref() == Ok("AKID1")), "{keys:?}");
    assert_eq!(b.script.calls(), 1);
}

#[test]
fn a_caller_on_the_runtime_gets_the_failure_and_its_back_off() {
    let b = bench(&[Answer::Fails(ErrorCode::NoCredentials), Answer::Static("AKID1")]);
    let (_, handle) = b.runtime.handle().unwrap();
    let ask = |entry: Arc<Entry>| {
        block::run_until(
            &handle,
            async move { entry.current().await.map(|s| s.credentials().access_key_id.clone()).map_err(|e| e.code()) },
            Instant::now() + Duration::from_secs(2),
        )
        .unwrap()
    };
    assert_eq!(ask(b.entry.clone()), Err(ErrorCode::NoCredentials));
    assert_eq!(ask(b.entry.clone()), Err(ErrorCode::NoCredentials), "repeated within the back-off");
    assert_eq!(b.script.calls(), 1);
    b.clock.advance(Duration::from_millis(1001));
    assert_eq!(ask(b.entry.clone()), Ok("AKID1".into()));
}

#[test]
fn concurrent_first_calls_share_one_fetch() {
    let gate = Arc::new(Semaphore::new(0));
    let b = bench_gated(&[Answer::Expiring("AKID1", HOUR)], Some(gate.clone()));
    let keys: Vec<_> = std::thread::scope(|scope| {
        let callers: Vec<_> = (0..8).map(|_| scope.spawn(|| key(&b))).collect();
        while b.script.calls() == 0 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20));
        gate.add_permits(1);
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert!(keys.iter().all(|k| k.as_deref() == Ok("AKID1")), "{keys:?}");
    assert_eq!(b.script.calls(), 1);
}

#[test]
fn inside_the_advisory_window_the_old_credentials_are_still_served() {
    // One hour: advisory window 15 min, mandatory 10 min before expiry.
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Expiring("AKID2", HOUR)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    b.clock.advance(46 * MINUTE);
    assert_eq!(key(&b), Ok("AKID1".into()), "the refresher's job, not the caller's");
    assert_eq!(b.script.calls(), 1);
}

#[test]
fn a_lagging_coarse_clock_never_serves_inside_the_mandatory_window() {
    // One hour: mandatory window from 50 min. The coarse clock lags 10 ms
    // (a slow tick); just past the mandatory moment it still reads "before".
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Expiring("AKID2", HOUR)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    *b.clock.coarse_lag.lock().unwrap() = Duration::from_millis(10);
    b.clock.advance(50 * MINUTE - Duration::from_millis(20));
    assert_eq!(key(&b), Ok("AKID1".into()), "inside the slack: the precise clock decides, and serves");
    b.clock.advance(Duration::from_millis(21));
    assert_eq!(key(&b), Ok("AKID2".into()), "1 ms into the window: fetched, though the coarse clock lags");
    assert_eq!(b.script.calls(), 2);
}

#[test]
fn inside_the_mandatory_window_a_caller_waits_for_new_credentials() {
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Expiring("AKID2", HOUR)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    b.clock.advance(51 * MINUTE);
    assert_eq!(key(&b), Ok("AKID2".into()));
    assert_eq!(b.script.calls(), 2);
}

#[test]
fn a_failed_refresh_in_the_mandatory_window_still_serves_nothing_stale_past_expiry() {
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Fails(ErrorCode::SourceFailed)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    b.clock.advance(61 * MINUTE);
    assert_eq!(key(&b), Err((ErrorCode::SourceFailed, "scripted source-failed".into())));
    assert!(b.entry.state().snapshot.is_none(), "expired credentials are dropped after a failure");
}

#[test]
fn a_failure_before_expiry_keeps_the_old_credentials_for_later_callers() {
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Fails(ErrorCode::Timeout)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    b.clock.advance(51 * MINUTE);
    // The caller in the mandatory window gets the fetch's error...
    assert_eq!(key(&b), Err((ErrorCode::Timeout, "scripted timeout".into())));
    // ...but the state still holds the valid snapshot, with the failure.
    let state = b.entry.state();
    assert_eq!(state.snapshot.as_ref().unwrap().credentials().access_key_id, "AKID1");
    assert_eq!(state.failure.as_ref().unwrap().attempts, 0);
}

#[test]
fn an_advisory_failure_does_not_answer_callers_in_the_mandatory_window() {
    // A background refresh fails just before the mandatory window; its
    // back-off (at least 0.5 s) would reach past the window's start. The
    // first caller in the window must still ask upstream, not get the
    // advisory failure back while the old keys are valid.
    let b = bench(&[
        Answer::Expiring("AKID1", HOUR),
        Answer::Fails(ErrorCode::SourceFailed),
        Answer::Expiring("AKID2", HOUR),
    ]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    let mandatory_at = b.entry.state().schedule.unwrap().mandatory_at;
    let fetched_at = b.clock.now();
    b.clock.advance(mandatory_at.duration_since(fetched_at).unwrap() - Duration::from_millis(200));
    assert_eq!(resolve_again(&b), Err(ErrorCode::SourceFailed));
    assert_eq!(key(&b), Ok("AKID1".into()), "the advisory window serves the old keys");
    b.clock.advance(Duration::from_millis(300));
    assert_eq!(key(&b), Ok("AKID2".into()));
    assert_eq!(b.script.calls(), 3);
}

#[test]
fn within_the_back_off_a_failure_is_repeated_without_asking_upstream() {
    let b = bench(&[Answer::Fails(ErrorCode::NoCredentials), Answer::Static("AKID1")]);
    let first = key(&b);
    assert_eq!(first, Err((ErrorCode::NoCredentials, "scripted no-credentials".into())));
    assert_eq!(key(&b), first);
    assert_eq!(b.script.calls(), 1);
}

#[test]
fn after_the_back_off_the_next_call_asks_again() {
    let b = bench(&[Answer::Fails(ErrorCode::NoCredentials), Answer::Static("AKID1")]);
    assert!(key(&b).is_err());
    // The first back-off is 0.5 to 1 s.
    b.clock.advance(Duration::from_millis(1001));
    assert_eq!(key(&b), Ok("AKID1".into()));
    assert_eq!(b.script.calls(), 2);
}

#[test]
fn failures_in_a_row_count_their_attempts_and_back_off_longer() {
    let b = bench(&[Answer::Fails(ErrorCode::SourceFailed)]);
    let mut back_offs = Vec::new();
    for _ in 0..4 {
        assert!(key(&b).is_err());
        let failure = b.entry.state().failure.clone().unwrap();
        back_offs.push(failure.retry_after.duration_since(b.clock.instant()));
        b.clock.advance(Duration::from_secs(16));
    }
    assert_eq!(b.entry.state().failure.as_ref().unwrap().attempts, 3);
    assert!(back_offs[3] > back_offs[0], "{back_offs:?}");
    assert!(back_offs.iter().all(|d| *d <= Duration::from_secs(15)), "capped at 15 s: {back_offs:?}");
}

/// Waits (at most 2 s) for `flight` to land, as a caller would.
fn wait_for(b: &Bench, flight: Arc<Flight>) -> Result<Arc<Snapshot>, Error> {
    let (_, handle) = b.runtime.handle().unwrap();
    block::run_until(&handle, async move { flight.landed().await }, Instant::now() + Duration::from_secs(2))
        .expect("the fetch lands")
}

/// Re-resolves as the refresher does when static inputs changed, and waits.
fn resolve_again(b: &Bench) -> Result<String, ErrorCode> {
    let flight = b.entry.join_flight(Arc::new(Environment::of(&[]))).unwrap();
    wait_for(b, flight).map(|s| s.credentials().access_key_id.clone()).map_err(|e| e.code())
}

#[test]
fn static_credentials_that_fail_to_resolve_again_are_dropped_at_once() {
    // A removed credentials file must not keep its keys alive.
    let b = bench(&[Answer::Static("AKID1"), Answer::Fails(ErrorCode::PartialCredentials)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    assert_eq!(resolve_again(&b), Err(ErrorCode::PartialCredentials));
    assert!(b.entry.state().snapshot.is_none());
    assert_eq!(key(&b), Err((ErrorCode::PartialCredentials, "scripted partial-credentials".into())));
    assert_eq!(b.script.calls(), 2, "the failure's back-off answers the caller");
}

#[test]
fn the_same_static_credentials_resolved_again_keep_their_snapshot() {
    let b = bench(&[Answer::Static("AKID1")]);
    let first = b.entry.with_current(|s| s.id()).unwrap();
    assert_eq!(resolve_again(&b), Ok("AKID1".into()));
    assert_eq!(b.entry.with_current(|s| s.id()).unwrap(), first, "tokens signed with it stay valid");
    assert_eq!(b.script.calls(), 2);
}

#[test]
fn new_expiring_credentials_replace_the_snapshot_and_move_the_generation() {
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Expiring("AKID2", HOUR)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    let before = generation_counter().load(Ordering::SeqCst);
    b.clock.advance(51 * MINUTE);
    assert_eq!(key(&b), Ok("AKID2".into()));
    assert!(generation_counter().load(Ordering::SeqCst) > before);
}

#[test]
fn an_invalidation_during_a_fetch_keeps_that_fetch_from_being_stored() {
    let gate = Arc::new(Semaphore::new(0));
    let b = bench_gated(&[Answer::Static("AKID1"), Answer::Static("AKID2")], Some(gate.clone()));
    let environment = Arc::new(Environment::of(&[]));
    let flight = b.entry.join_flight(environment).unwrap();
    while b.script.calls() == 0 {
        std::thread::yield_now();
    }
    b.entry.invalidate();
    gate.add_permits(1);
    let landed = wait_for(&b, flight).unwrap();
    assert_eq!(landed.credentials().access_key_id, "AKID1", "its waiters still get their answer");
    assert!(b.entry.state().snapshot.is_none(), "but it must not overwrite the emptied state");
    gate.add_permits(1);
    assert_eq!(key(&b), Ok("AKID2".into()), "the next call fetches anew");
}

#[test]
fn an_invalidation_empties_the_state_and_the_next_call_fetches() {
    let b = bench(&[Answer::Expiring("AKID1", HOUR), Answer::Expiring("AKID2", HOUR)]);
    assert_eq!(key(&b), Ok("AKID1".into()));
    let before = generation_counter().load(Ordering::SeqCst);
    b.entry.invalidate();
    assert!(b.entry.state().snapshot.is_none());
    assert!(generation_counter().load(Ordering::SeqCst) > before);
    assert_eq!(key(&b), Ok("AKID2".into()));
}

#[test]
fn a_fetch_that_never_answers_times_out_with_the_profile_named() {
    let gate = Arc::new(Semaphore::new(0));
    let b = bench_gated(&[Answer::Static("AKID1")], Some(gate));
    let started = Instant::now();
    assert_eq!(
        key(&b),
        Err((ErrorCode::Timeout, "timed out after 400 ms waiting for credentials for profile test".into()))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_forked_childs_copy_keeps_valid_credentials_only() {
    let valid = bench(&[Answer::Expiring("AKID1", HOUR)]);
    assert_eq!(key(&valid), Ok("AKID1".into()));
    let (context, _, _) = make_context(&[Answer::Static("UNUSED")], None);
    let carried = valid.entry.carry_over(Arc::new(context));
    assert_eq!(carried.state().snapshot.as_ref().unwrap().credentials().access_key_id, "AKID1");

    let expired = bench(&[Answer::Expiring("AKID2", MINUTE)]);
    assert_eq!(key(&expired), Ok("AKID2".into()));
    let (context, _, clock) = make_context(&[Answer::Static("UNUSED")], None);
    clock.advance(2 * HOUR);
    assert!(expired.entry.carry_over(Arc::new(context)).state().snapshot.is_none());
}

fn cache(answers: &[Answer], max_profiles: usize) -> (Cache, Arc<Script>) {
    let (mut context, script, _) = make_context(answers, None);
    context.settings.max_profiles = max_profiles;
    (Cache::new(context), script)
}

#[test]
fn a_name_that_names_nothing_is_not_held_by_the_cache() {
    let (cache, script) = cache(&[Answer::Fails(ErrorCode::ProfileNotFound)], 4);
    assert_eq!(cache.get(Some("typo")).unwrap_err().code(), ErrorCode::ProfileNotFound);
    assert!(cache.named.load().is_empty());
    // Not held, so no back-off is remembered: the next call asks again.
    assert!(cache.get(Some("typo")).is_err());
    assert_eq!(script.calls(), 2);
}

#[test]
fn a_name_with_credentials_is_held_and_served_from_the_cache() {
    let (cache, script) = cache(&[Answer::Static("AKID1")], 4);
    assert_eq!(cache.get(Some("dev")).unwrap().credentials().access_key_id, "AKID1");
    assert_eq!(cache.get(Some("dev")).unwrap().credentials().access_key_id, "AKID1");
    assert!(cache.named.load().contains_key("dev"));
    assert_eq!(script.calls(), 1);
}

#[test]
fn past_the_profile_limit_a_new_name_is_refused_with_the_limit_named() {
    let (cache, _) = cache(&[Answer::Static("AKID1")], 1);
    assert!(cache.get(Some("one")).is_ok());
    let refused = cache.get(Some("two")).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidArgument);
    assert_eq!(
        refused.message(),
        "credchain already holds 1 profiles, its limit (CREDCHAIN_MAX_PROFILES); profile two was not added"
    );
}
