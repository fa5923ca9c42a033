//! The process-wide credentials cache: one entry per profile key, each with
//! an immutable snapshot served without locks, refreshed in the background.
//!
//! The cache sits apart from the chain: it asks its resolver (the chain, in
//! the process; a script, in unit tests) and decides when. Everything it
//! takes from outside comes in one [`Context`].
//!
//! It never grows with caller input alone: a profile name becomes an entry
//! only once a resolution shows that it names something (credentials, or a
//! configuration that failed for another reason than "not found"), and at
//! most `CREDCHAIN_MAX_PROFILES` names are held. Until then a new name is
//! resolved through a short-lived pending entry that concurrent callers
//! share and that is dropped when its resolution lands.

pub mod context;
pub mod entry;
#[cfg(test)]
mod entry_tests;
mod flight;
mod refresher;
pub mod settings;
pub mod snapshot;
pub mod state;
pub mod timing;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::support::sync::Mutex;
use arc_swap::ArcSwap;
use once_cell::sync::OnceCell;

pub use context::{Context, Resolver, SystemClock};
pub use entry::Entry;
pub use snapshot::Snapshot;

use crate::types::error::{Error, ErrorCode, Result};
use crate::types::text::escape_name;

/// Increases whenever any entry's snapshot changes. Bindings read it from
/// memory to skip calling into the library while nothing changed. A static,
/// not a field of the cache: its address is handed out once and must stay
/// valid when a forked child replaces the cache.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// The most distinct new profile names resolved at the same moment; each
/// costs one pending entry until its resolution lands.
const MAX_PENDING: usize = 64;

/// The counter itself, for the C ABI to hand out its address.
pub fn generation_counter() -> &'static AtomicU64 {
    &GENERATION
}

/// Marks a change visible to bindings.
fn bump_generation() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// All entries. The ambient profile lives outside the map so that the most
/// common call, with no profile, does not even hash a key.
pub struct Cache {
    context: Arc<Context>,
    ambient: OnceCell<Arc<Entry>>,
    named: ArcSwap<HashMap<String, Arc<Entry>>>,
    pending: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Cache {
    /// An empty cache working with `context`.
    pub fn new(context: Context) -> Cache {
        Cache {
            context: Arc::new(context),
            ambient: OnceCell::new(),
            named: ArcSwap::default(),
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn entry(&self, profile: Option<&str>, registered: bool) -> Arc<Entry> {
        Arc::new(Entry::new(profile.map(str::to_owned), registered, self.context.clone()))
    }

    #[inline]
    fn ambient(&self) -> &Arc<Entry> {
        self.ambient.get_or_init(|| self.entry(None, true))
    }

    /// The credentials for `profile` (`None`: the ambient profile).
    pub fn get(&self, profile: Option<&str>) -> Result<Arc<Snapshot>> {
        self.with_current(profile, Arc::clone)
    }

    /// Runs `use_it` on `profile`'s current snapshot while it is held (see
    /// [`Entry::with_current`]). The entry is borrowed, not cloned: every
    /// reference-count change on the hot path is a cache line bouncing
    /// between the cores of busy callers.
    pub fn with_current<R>(&self, profile: Option<&str>, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
        match profile {
            None => self.ambient().with_current(use_it),
            Some(name) => match self.named.load().get(name) {
                Some(entry) => entry.with_current(use_it),
                None => self.first_use(name, use_it),
            },
        }
    }

    /// [`Cache::get`] for a caller on the runtime: waits as a task (see
    /// [`Entry::current`]).
    pub async fn get_async(&self, profile: Option<&str>) -> Result<Arc<Snapshot>> {
        let name = match profile {
            None => return self.ambient().current().await,
            Some(name) => name,
        };
        if let Some(entry) = self.named.load().get(name).cloned() {
            return entry.current().await;
        }
        let entry = self.pending_entry(name)?;
        let result = entry.current().await;
        self.settle(name, &entry);
        result
    }

    /// Resolves a name the cache does not hold yet through a pending entry,
    /// and keeps the entry only if the name turned out to name something.
    fn first_use<R>(&self, name: &str, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
        let entry = self.pending_entry(name)?;
        let result = entry.with_current(use_it);
        self.settle(name, &entry);
        result
    }

    fn pending_entry(&self, name: &str) -> Result<Arc<Entry>> {
        let max_profiles = self.context.settings.max_profiles;
        if self.named.load().len() >= max_profiles {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "credchain already holds {} profiles, its limit (CREDCHAIN_MAX_PROFILES); profile {} was not added",
                    max_profiles,
                    escape_name(name)
                ),
            ));
        }
        let mut pending = self.pending.lock();
        if let Some(entry) = pending.get(name) {
            return Ok(entry.clone());
        }
        if pending.len() >= MAX_PENDING {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{MAX_PENDING} new profile names are being resolved at once; profile {} must wait",
                    escape_name(name)
                ),
            ));
        }
        let entry = self.entry(Some(name), false);
        pending.insert(name.to_owned(), entry.clone());
        Ok(entry)
    }

    /// After a pending entry's first resolution: drop it from the pending
    /// set and, if it names something, hold it (and start its refresher).
    fn settle(&self, name: &str, entry: &Arc<Entry>) {
        {
            let mut pending = self.pending.lock();
            if pending.get(name).is_some_and(|e| Arc::ptr_eq(e, entry)) {
                pending.remove(name);
            }
        }
        if !entry.state().names_something() {
            return;
        }
        let mut kept = false;
        self.named.rcu(|map| {
            let mut map = HashMap::clone(map);
            kept = map.len() < self.context.settings.max_profiles && !map.contains_key(name);
            if kept {
                map.insert(name.to_owned(), entry.clone());
            }
            map
        });
        if kept {
            entry.register();
        }
    }

    /// Drops `profile`'s snapshot so the next call fetches anew. A name the
    /// cache does not hold has nothing to drop.
    pub fn invalidate(&self, profile: Option<&str>) {
        match profile {
            None => self.ambient().invalidate(),
            Some(name) => {
                if let Some(entry) = self.named.load().get(name) {
                    entry.invalidate();
                }
                if let Some(entry) = self.pending.lock().get(name).cloned() {
                    entry.invalidate();
                }
            }
        }
    }

    /// A new cache working with `context` and holding this one's
    /// still-valid credentials, for a forked child. Reads the entries'
    /// states without taking any lock.
    pub fn carry_over(&self, context: Context) -> Cache {
        let carried = Cache::new(context);
        let carry = |entry: &Entry| Arc::new(entry.carry_over(carried.context.clone()));
        if let Some(ambient) = self.ambient.get() {
            let _ = carried.ambient.set(carry(ambient));
        }
        let named = self.named.load().iter().map(|(name, entry)| (name.clone(), carry(entry))).collect();
        carried.named.store(Arc::new(named));
        carried
    }
}
