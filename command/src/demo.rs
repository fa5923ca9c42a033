//! `credchain demo [--seconds N]`: shows the refresher at work on a machine
//! with no AWS account, without a packet leaving it.
//!
//! It builds a throw-away HOME whose config runs credchain itself as the
//! `credential_process` (`credchain __mint-fake`), minting fake credentials
//! that live about 10 seconds; points the library at it through the
//! environment (before the first library call: the library reads the real
//! environment); and has four threads read credentials through the library
//! as fast as a busy driver would. Each rotation is printed as it happens,
//! then a summary and the doctor's report of that configuration.
//!
//! Exit status: 0 when at least three rotations were seen, each new key
//! cost exactly one upstream fetch, and no call failed; 1 otherwise.
//!
//! `credchain __mint-fake --lifetime S --counter-file F` is the fake
//! upstream: it bumps the counter in F (under a lock) and prints
//! `credential_process` JSON with `AccessKeyId` `ASIADEMO` + the counter,
//! a fake secret and token, and `Expiration` S seconds from now.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use credchain_core::log::{LogLevel, LogSink};
use credchain_core::platform;
use credchain_core::SourceName;
use credchain_core::{mask_access_key, rfc3339, Credentials};
use credchain_core::{render, shell};

use crate::args::Args;
use crate::get::process_json;

/// The fake upstream's key prefix; the counter follows, six digits.
const KEY_PREFIX: &str = "ASIADEMO";
/// How long minted credentials live.
const LIFETIME_SECONDS: u64 = 10;
/// Reader threads, as several driver plugins in one process would be.
const READERS: usize = 4;
/// Calls a reader makes between two 1 ms pauses: busy, yet leaving the CPU
/// to the refresher on a small machine.
const CALLS_PER_BATCH: u32 = 200;
/// Rotations the demo must see to call itself a success.
const MIN_ROTATIONS: u64 = 3;
/// The shortest run that can show them: the library renews at 75-80% of
/// the 10 s lifetime, so the third rotation comes at about 24 s.
const MIN_SECONDS: u64 = 26;

/// `credchain __mint-fake`: prints one set of fake credentials.
pub fn mint_fake(mut args: Args) -> Result<i32, String> {
    let lifetime = match args.option("lifetime")? {
        Some(text) => text.parse::<u64>().map_err(|_| format!("--lifetime {text}: not a number of seconds"))?,
        None => LIFETIME_SECONDS,
    };
    let counter = args.option("counter-file")?.ok_or("--counter-file is required")?;
    args.finish()?;
    let number = bump_counter(Path::new(&counter)).map_err(|e| format!("{counter}: {e}"))?;
    let credentials = Credentials::new_static(
        SourceName::CustomProcess,
        &format!("{KEY_PREFIX}{number:06}"),
        &format!("demo-secret-{number:06}-not-a-real-key"),
    )
    .with_session_token(Some(&format!("demo-session-token-{number:06}")))
    .with_expiration(Some(SystemTime::now() + Duration::from_secs(lifetime)));
    println!("{}", process_json(&credentials));
    Ok(0)
}

/// Adds one to the number in `path` under an exclusive lock; returns it.
fn bump_counter(path: &Path) -> std::io::Result<u64> {
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
    // Released when `file` closes.
    platform::lock_exclusively(&file)?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let next = text.trim().parse::<u64>().unwrap_or(0) + 1;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{next}")?;
    Ok(next)
}

/// Reads the fetch counter (0 before the first fetch).
fn read_counter(path: &Path) -> u64 {
    std::fs::read_to_string(path).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

/// The counter value a minted key carries.
fn key_number(access_key_id: &str) -> Option<u64> {
    access_key_id.strip_prefix(KEY_PREFIX)?.parse().ok()
}

/// The throw-away configuration.
struct Sandbox {
    root: PathBuf,
    config: PathBuf,
    counter: PathBuf,
}

/// A new folder under the temporary directory that only this user can
/// enter, with an unpredictable name, created exclusively: another user
/// cannot have prepared it (or a symlink in its place) beforehand.
fn private_directory() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let candidate = base.join(format!("credchain-demo-{:016x}", fastrand::u64(..)));
        match platform::create_private_directory(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create a folder in {}: {e}", base.display())),
        }
    }
    Err(format!("cannot create a fresh folder in {}", base.display()))
}

impl Sandbox {
    fn create() -> Result<Sandbox, String> {
        let root = private_directory()?;
        let aws = root.join("home").join(".aws");
        std::fs::create_dir_all(&aws).map_err(|e| format!("cannot create {}: {e}", aws.display()))?;
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the credchain executable: {e}"))?;
        let counter = root.join("fetches");
        let command = format!(
            "{} __mint-fake --lifetime {LIFETIME_SECONDS} --counter-file {}",
            shell::quote(&exe.display().to_string()),
            shell::quote(&counter.display().to_string())
        );
        let config = aws.join("config");
        let text = format!("[default]\nregion = us-east-1\ncredential_process = {command}\n");
        std::fs::write(&config, text).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        Ok(Sandbox { root, config, counter })
    }

    /// Points this process's environment at the sandbox. Must run before
    /// the first library call and before any other thread starts: the
    /// library reads the real environment, which is process-wide.
    fn enter(&self) {
        let inherited: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| name.starts_with("AWS_") || name == "BOTO_CONFIG")
            .collect();
        for name in inherited {
            std::env::remove_var(name);
        }
        let home = self.root.join("home");
        std::env::set_var("HOME", &home);
        std::env::set_var("AWS_CONFIG_FILE", &self.config);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws").join("credentials"));
        // Never ask the instance metadata service, and read no Boto2 file
        // from /etc: the demo must not depend on (or touch) the machine.
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("BOTO_CONFIG", self.root.join("no-boto.cfg"));
        // The library read the environment when it was loaded.
        credchain_core::reload_environment();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// What the readers have seen.
struct Seen {
    /// The newest snapshot id seen, so a reader holding an older snapshot
    /// does not announce it as a rotation back.
    last_id: u64,
    /// Distinct sets of credentials seen.
    distinct: u64,
    /// Distinct key numbers seen, to compare with the fetch counter.
    numbers: Vec<u64>,
}

struct Demo {
    started: Instant,
    counter: PathBuf,
    calls: AtomicU64,
    errors: AtomicU64,
    newest_id: AtomicU64,
    seen: Mutex<Seen>,
}

impl Demo {
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// One call through the library, as a driver makes it.
    fn call(&self) {
        match credchain_core::get_credentials(None) {
            Ok(snapshot) => {
                let served = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
                if snapshot.id() > self.newest_id.load(Ordering::Acquire) {
                    self.observe(snapshot.id(), snapshot.credentials(), served);
                }
            }
            Err(error) => {
                let failures = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
                if failures <= 5 {
                    println!("  +{:6.2} s  ERROR {} ({})", self.elapsed(), error.message(), error.code().name());
                }
            }
        }
    }

    /// Records (and prints) new credentials; the lock is taken only when a
    /// snapshot newer than any seen shows up, a few times per run.
    fn observe(&self, id: u64, credentials: &Credentials, served: u64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if id <= seen.last_id {
            return;
        }
        seen.last_id = id;
        self.newest_id.store(id, Ordering::Release);
        seen.distinct += 1;
        if let Some(number) = key_number(&credentials.access_key_id) {
            seen.numbers.push(number);
        }
        let what =
            if seen.distinct == 1 { "first credentials".to_owned() } else { format!("rotation {}", seen.distinct - 1) };
        let expires = credentials
            .expiration
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .map_or_else(|| "never".to_owned(), |left| format!("in {:.1} s", left.as_secs_f64()));
        println!(
            "  +{:6.2} s  {} UTC  {what}: access key {} (expires {expires}); calls served so far: {served}, upstream \
             fetches so far: {}",
            self.elapsed(),
            clock(SystemTime::now()),
            mask_access_key(&credentials.access_key_id),
            read_counter(&self.counter)
        );
    }
}

/// `HH:MM:SS` of an RFC 3339 time.
fn clock(at: SystemTime) -> String {
    let text = rfc3339(at);
    text.get(11..19).unwrap_or(&text).to_owned()
}

/// `credchain demo`.
pub fn run(mut args: Args) -> Result<i32, String> {
    let seconds = match args.option("seconds")? {
        Some(text) => parse_seconds(&text)?,
        None => 35,
    };
    args.finish()?;
    let sandbox = Sandbox::create()?;
    sandbox.enter();

    println!("credchain demo: {READERS} threads read AWS credentials through the library for {seconds} s.");
    println!("Nothing leaves this machine: the \"upstream\" is credchain itself, minting fake credentials that live");
    println!("about {LIFETIME_SECONDS} s, configured as the credential_process of a throw-away profile:\n");
    println!("  {}", sandbox.config.display());
    for line in std::fs::read_to_string(&sandbox.config).unwrap_or_default().lines() {
        println!("    {line}");
    }
    println!("\nThe library refreshes them in the background at about 75-80% of their lifetime, so the readers");
    println!("never wait and never see expired credentials. Rotations as they happen (keys masked):\n");

    let demo = Arc::new(Demo {
        started: Instant::now(),
        counter: sandbox.counter.clone(),
        calls: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        newest_id: AtomicU64::new(0),
        seen: Mutex::new(Seen { last_id: 0, distinct: 0, numbers: Vec::new() }),
    });
    let started = demo.started;
    let sink: LogSink = Arc::new(move |level: LogLevel, message: &str| {
        println!("  +{:6.2} s  library {}: {message}", started.elapsed().as_secs_f64(), level.name());
    });
    credchain_core::set_log_sink(LogLevel::Info, Some(sink));

    let deadline = demo.started + Duration::from_secs(seconds);
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let demo = demo.clone();
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    for _ in 0..CALLS_PER_BATCH {
                        demo.call();
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        })
        .collect();
    for reader in readers {
        let _ = reader.join();
    }
    let fetches = settle(&demo);
    credchain_core::set_log_sink(LogLevel::Off, None);

    let seen = demo.seen.lock().unwrap_or_else(|p| p.into_inner());
    let rotations = seen.distinct.saturating_sub(1);
    let calls = demo.calls.load(Ordering::Relaxed);
    let errors = demo.errors.load(Ordering::Relaxed);
    let every_fetch_served = fetches > 0 && seen.numbers == (1..=fetches).collect::<Vec<_>>();
    let passed = rotations >= MIN_ROTATIONS && fetches == rotations + 1 && every_fetch_served && errors == 0;
    let elapsed = demo.elapsed();
    println!("\nsummary after {elapsed:.1} s:");
    println!("  calls served      {calls} ({:.0} per second, from {READERS} threads)", calls as f64 / elapsed);
    println!("  rotations seen    {rotations}");
    println!(
        "  upstream fetches  {fetches} (one per set of credentials: {})",
        if every_fetch_served { "yes" } else { "NO" }
    );
    println!("  errors            {errors}");
    println!(
        "  verdict           {}",
        if passed {
            format!("OK: at least {MIN_ROTATIONS} rotations, one fetch each, no caller ever waited on an error")
        } else {
            format!("FAILED: expected at least {MIN_ROTATIONS} rotations, one fetch each, and no errors")
        }
    );
    drop(seen);

    println!("\nWhat `credchain doctor` says about this configuration (it runs the process once more; its");
    println!("result is about the configuration, the demo's own is the last line):\n");
    match credchain_core::diagnose(None) {
        Ok(report) => print!("{}", render::to_table(&report)),
        Err(error) => println!("the doctor could not run: {}", error.message()),
    }
    let code = if passed { 0 } else { 1 };
    println!("\ndemo result: {} (exit {code})", if passed { "OK" } else { "FAILED" });
    Ok(code)
}

/// `--seconds`: a whole number, long enough to show the rotations.
fn parse_seconds(text: &str) -> Result<u64, String> {
    let seconds = text.parse::<u64>().map_err(|_| format!("--seconds {text}: not a whole number of seconds"))?;
    if seconds < MIN_SECONDS {
        return Err(format!(
            "--seconds {text}: the demo needs at least {MIN_SECONDS} s to show {MIN_ROTATIONS} rotations of \
             credentials that live {LIFETIME_SECONDS} s"
        ));
    }
    Ok(seconds)
}

/// Waits (briefly) until the fetch counter and the newest credentials
/// agree, so that a refresh still in flight when the readers stopped is
/// neither missed nor miscounted; returns the number of fetches.
fn settle(demo: &Demo) -> u64 {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let before = read_counter(&demo.counter);
        demo.call();
        let newest = demo.seen.lock().unwrap_or_else(|p| p.into_inner()).numbers.last().copied().unwrap_or(0);
        let after = read_counter(&demo.counter);
        if (before == after && newest == after) || Instant::now() >= until {
            return after;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_allow_the_rotations_the_verdict_needs() {
        assert_eq!(parse_seconds("26"), Ok(26));
        assert_eq!(
            parse_seconds("25"),
            Err("--seconds 25: the demo needs at least 26 s to show 3 rotations of credentials that live 10 s"
                .to_owned())
        );
        assert_eq!(parse_seconds("-1"), Err("--seconds -1: not a whole number of seconds".to_owned()));
    }

    #[test]
    fn the_sandbox_folder_is_private_and_unpredictable() {
        let a = private_directory().unwrap();
        let b = private_directory().unwrap();
        assert_ne!(a, b);
        for dir in [&a, &b] {
            assert_eq!(platform::permission_bits(&std::fs::metadata(dir).unwrap()), 0o700);
            assert!(dir.file_name().unwrap().to_str().unwrap().starts_with("credchain-demo-"));
            std::fs::remove_dir(dir).unwrap();
        }
    }
}
