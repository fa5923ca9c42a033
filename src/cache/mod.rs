//! The process-wide credentials cache: one entry per profile key, each with
//! an immutable snapshot served without locks, refreshed in the background.
//!
//! The cache sits apart from the chain: it only calls [`crate::chain::resolve`]
//! and decides when.

mod entry;
mod flight;
mod refresher;
pub mod settings;
pub mod timing;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use once_cell::sync::{Lazy, OnceCell};

pub use entry::{Entry, State};

use crate::credentials::Snapshot;
use crate::error::Result;

/// Increases whenever any entry's snapshot changes. Bindings read it from
/// memory to skip calling into the library while nothing changed.
static GENERATION: AtomicU64 = AtomicU64::new(1);

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
#[derive(Default)]
pub struct Cache {
    ambient: OnceCell<Arc<Entry>>,
    named: ArcSwap<HashMap<String, Arc<Entry>>>,
}

static CACHE: Lazy<Cache> = Lazy::new(Cache::default);

/// The process-wide cache.
pub fn global() -> &'static Cache {
    &CACHE
}

impl Cache {
    /// The entry for `profile`, created on first use.
    pub fn entry(&self, profile: Option<&str>) -> Arc<Entry> {
        let Some(name) = profile else {
            return self.ambient.get_or_init(|| Arc::new(Entry::new(None))).clone();
        };
        if let Some(entry) = self.named.load().get(name) {
            return entry.clone();
        }
        let mut created = None;
        self.named.rcu(|map| {
            let mut map = HashMap::clone(map);
            let entry = map.entry(name.to_owned()).or_insert_with(|| Arc::new(Entry::new(Some(name.to_owned()))));
            created = Some(entry.clone());
            map
        });
        created.expect("rcu runs its closure at least once")
    }

    /// The credentials for `profile` (`None`: the ambient profile). The
    /// entry is borrowed, not cloned: every reference-count change on the
    /// hot path is a cache line bouncing between the cores of busy callers.
    pub fn get(&self, profile: Option<&str>) -> Result<Arc<Snapshot>> {
        self.with_current(profile, Arc::clone)
    }

    /// Runs `use_it` on `profile`'s current snapshot while it is held (see
    /// [`Entry::with_current`]).
    pub fn with_current<R>(&self, profile: Option<&str>, use_it: impl FnOnce(&Arc<Snapshot>) -> R) -> Result<R> {
        match profile {
            None => self.ambient.get_or_init(|| Arc::new(Entry::new(None))).with_current(use_it),
            Some(name) => match self.named.load().get(name) {
                Some(entry) => entry.with_current(use_it),
                None => self.entry(Some(name)).with_current(use_it),
            },
        }
    }

    /// Drops `profile`'s snapshot so the next call fetches anew.
    pub fn invalidate(&self, profile: Option<&str>) {
        self.entry(profile).invalidate();
    }
}
