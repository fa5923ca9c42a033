//! All of the library's process state in one value, and fork handled once
//! for all of it.
//!
//! An [`Instance`] owns the settings, the runtime, the credentials cache,
//! the chain's kept services (the IMDS provider, the child-process slots),
//! the token cache, the latest capture of the environment and the log
//! subscribers, and wires them together: the cache gets its runtime,
//! resolver and clock from here, and every layer's log messages go to the
//! subscribers it installs.
//! It is created when the library is loaded (or on first use). After `fork()`, the child's first call builds a new instance
//! that carries over the still-valid snapshots (read without taking a lock)
//! and leaks the parent's: no lock, runtime or thread of the parent is ever
//! touched in the child, so a lock that a parent thread held at the moment
//! of the fork cannot hang the child. The `pthread_atfork` child handler
//! only bumps a counter; no handler takes a lock, so `fork()` in the host
//! can never wait on the library (nor on a log callback that the library is
//! running).

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Instant;

use crate::cache::context::Resolving;
use crate::cache::settings::Settings;
use crate::cache::{Cache, Context, Resolver, Snapshot, SystemClock};
use crate::chain::{Environment, LatestEnvironment, Services};
use crate::diagnostics::{self, Report};
use crate::support::block;
use crate::support::log::{self, Subscribers};
use crate::support::runtime::{self, RuntimeSlot};
use crate::token::{self, AuthToken, Signer, TokenCache, TokenRequest};
use crate::types::error::{Error, ErrorCode, Result};

/// The library's process state.
pub struct Instance {
    /// How many forks this process had seen when the instance was made.
    forks_seen: u64,
    /// The tunables, read from the environment once, at load.
    pub settings: Settings,
    /// The internal runtime (shared with the cache and the chain's services).
    pub runtime: Arc<RuntimeSlot>,
    /// The chain as the cache asks it: the environment's capture and what
    /// the sources keep between resolutions.
    pub chain: Arc<ChainResolver>,
    /// The credentials cache.
    pub cache: Cache,
    /// Signed IAM database tokens; a forked child starts with none.
    pub tokens: TokenCache,
    /// Everyone who receives log messages; a forked child keeps its
    /// parent's (subscriptions survive a fork).
    pub log: Arc<Subscribers>,
}

/// The chain, resolved under the latest capture of the environment with
/// the instance's services: the cache's [`Resolver`].
pub struct ChainResolver {
    /// The latest capture of the environment, for work on the runtime.
    pub environment: LatestEnvironment,
    /// What the chain keeps between resolutions.
    pub services: Services,
    /// The limit for one resolution.
    fetch_timeout: std::time::Duration,
}

impl Resolver for ChainResolver {
    fn environment(&self) -> Arc<Environment> {
        self.environment.current()
    }

    fn resolve(self: Arc<Self>, profile: Option<String>, environment: Arc<Environment>) -> Resolving {
        Box::pin(async move {
            crate::chain::resolve(profile.as_deref(), environment, &self.services, self.fetch_timeout).await
        })
    }
}

/// The current instance; never freed (a static destructor or library unload
/// must not join the runtime, and a forked child leaks its parent's).
static CURRENT: AtomicPtr<Instance> = AtomicPtr::new(std::ptr::null_mut());
/// Forks seen by this process; bumped in the child by the atfork handler.
static FORKS: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

/// The current instance, creating it (or, in a forked child, its
/// successor) on first use. Two atomic loads when nothing changed.
#[inline]
pub fn instance() -> &'static Instance {
    let current = CURRENT.load(Ordering::Acquire);
    // SAFETY: non-null values come from Box::into_raw below and are never
    // freed.
    if let Some(instance) = unsafe { current.as_ref() } {
        if instance.forks_seen == FORKS.load(Ordering::Acquire) {
            return instance;
        }
    }
    replace(current)
}

#[cold]
fn replace(current: *mut Instance) -> &'static Instance {
    let forks = FORKS.load(Ordering::Acquire);
    // SAFETY: as in `instance`.
    let fresh = match unsafe { current.as_ref() } {
        Some(parent) => Instance::after_fork(parent, forks),
        None => Instance::new(forks),
    };
    let fresh = Box::into_raw(Box::new(fresh));
    match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            register_fork_handler();
            // SAFETY: just published; never freed.
            let fresh: &'static Instance = unsafe { &*fresh };
            log::install(&fresh.log);
            fresh
        }
        Err(_) => {
            // Another thread installed one first; ours was never shared and
            // has started nothing (the runtime starts on first use).
            // SAFETY: from Box::into_raw above, seen by no one else.
            drop(unsafe { Box::from_raw(fresh) });
            instance()
        }
    }
}

impl Instance {
    /// The first instance of the process, at load or on a caller's thread:
    /// the environment, the settings, the log configuration and the runtime
    /// builder's defaults are read here, never later (nor in a child).
    fn new(forks_seen: u64) -> Self {
        let log = Arc::new(Subscribers::from_environment());
        runtime::prepare();
        let environment = LatestEnvironment::capture_now();
        Instance::build(forks_seen, Settings::from_environment(), environment, log, None)
    }

    /// A forked child's instance: the parent's settings, still-valid
    /// credentials and environment capture, everything else new.
    fn after_fork(parent: &Instance, forks_seen: u64) -> Self {
        let environment = LatestEnvironment::starting_from(parent.chain.environment.current());
        Instance::build(forks_seen, parent.settings, environment, parent.log.clone(), Some(&parent.cache))
    }

    /// An instance with a new runtime slot, services and token cache; its
    /// cache carries over `parent_cache`'s valid credentials when given.
    fn build(
        forks_seen: u64,
        settings: Settings,
        environment: LatestEnvironment,
        log: Arc<Subscribers>,
        parent_cache: Option<&Cache>,
    ) -> Self {
        let runtime = Arc::new(RuntimeSlot::default());
        let chain = Arc::new(ChainResolver {
            environment,
            services: Services::new(runtime.clone()),
            fetch_timeout: settings.fetch_timeout,
        });
        let context =
            Context { settings, runtime: runtime.clone(), resolver: chain.clone(), clock: Arc::new(SystemClock) };
        let cache = match parent_cache {
            Some(parent) => parent.carry_over(context),
            None => Cache::new(context),
        };
        Instance { forks_seen, settings, runtime, chain, cache, tokens: TokenCache::default(), log }
    }

    /// Runs `use_it` on `profile`'s current snapshot (the hot path).
    pub fn with_credentials<R>(&self, profile: Option<&str>, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
        self.cache.with_current(profile, use_it)
    }

    /// Signs the IAM database token `request` asks for, with this
    /// instance's credentials, environment capture and token cache.
    pub fn auth_token(&self, request: TokenRequest<'_>) -> Result<AuthToken> {
        let environment = self.chain.environment.current();
        let signer = Signer {
            environment: &environment,
            credentials: |profile: Option<&str>| self.cache.get(profile),
            tokens: &self.tokens,
        };
        token::auth_token(signer, request)
    }

    /// Every profile of the shared files and the source each would use
    /// (see `crate::list_profiles`), read on the caller's thread.
    pub fn list_profiles(&self) -> diagnostics::profiles::ProfilesReport {
        diagnostics::profiles::list(&self.chain.environment.refresh())
    }

    /// Diagnoses the chain for `profile` on the instance's runtime (see
    /// `crate::diagnose`). The environment is read again here, on the
    /// caller's thread.
    pub fn diagnose(&self, profile: Option<&str>, verify: bool) -> Result<Report> {
        let call_timeout = self.settings.call_timeout;
        let fetch_timeout = self.settings.fetch_timeout;
        let (_, handle) = self.runtime.handle()?;
        let profile = profile.map(str::to_owned);
        let environment = self.chain.environment.refresh();
        let chain = self.chain.clone();
        // On the library's runtime, not a private one: aws-config's clients
        // must live on the runtime that drives them. Reading the files and
        // the fetch each stay under the fetch timeout; together they may not
        // pass the call timeout.
        let diagnosis = async move {
            let deadline = tokio::time::Instant::now() + fetch_timeout;
            let walk =
                diagnostics::diagnose_async(profile.as_deref(), environment, &chain.services, fetch_timeout, verify);
            tokio::time::timeout_at(deadline, walk).await
        };
        match block::run_until(&handle, diagnosis, Instant::now() + call_timeout) {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(_)) | Err(block::Abandoned::DeadlinePassed) => Err(Error::new(
                ErrorCode::Timeout,
                format!("the diagnosis did not finish within {} ms", call_timeout.as_millis()),
            )),
            Err(block::Abandoned::RuntimeStopped) => {
                Err(Error::internal("the diagnosis stopped before it finished (runtime shut down or a bug)"))
            }
        }
    }
}

// Creates the instance when the library is loaded, so that the
// environment is read before the host has had a chance to start threads
// that write it (see `chain/environment.rs`). Starts no thread.
crate::run_at_load!(create_at_load);

extern "C" fn create_at_load() {
    // A panic must not unwind into the loader.
    let _ = std::panic::catch_unwind(instance);
}

fn register_fork_handler() {
    ATFORK.call_once(|| {
        // The handler only touches atomics.
        crate::platform::on_fork_in_child(after_fork_in_child);
    });
}

extern "C" fn after_fork_in_child() {
    FORKS.fetch_add(1, Ordering::AcqRel);
    log::forget_calls_in_progress();
}
