//! Which connections stay open when there are too many: at most `limit`
//! are open, and a new one that finds them all taken closes the oldest
//! that has not shown the token. So connections without the token (idle
//! keep-alives after `/health`, heads sent a byte at a time, plain floods)
//! can take every place, yet never keep out a client that has the token:
//! its new connection is the newest, and its first request shows the
//! token before many newer ones could push it out. A connection that has
//! shown the token is never closed for a newcomer; when every open one
//! has, the newcomer is refused.
//!
//! The oldest goes first, not the longest idle: a flood that keeps its
//! connections busy (one `/health` after another) would otherwise push out
//! the quiet new connection of a token holder that is about to ask.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

/// The open connections, shared by the accept loop and every connection's
/// task.
pub struct Connections {
    limit: usize,
    state: Mutex<State>,
}

/// What the lock guards.
struct State {
    /// The id of the next connection: ids only grow, so `open`'s order is
    /// the order of arrival.
    next_id: u64,
    /// Every open connection, oldest first.
    open: BTreeMap<u64, Entry>,
}

/// One open connection.
struct Entry {
    /// Whether a request on it carried the token.
    authenticated: bool,
    /// Dropped to close the connection: its task waits on the other end
    /// ([`Eviction`]).
    _evict: oneshot::Sender<()>,
}

/// A connection's place among the open ones, given up when dropped.
pub struct Admission {
    id: u64,
    connections: Arc<Connections>,
}

/// Resolves once the connection was closed to make room for a newer one.
pub struct Eviction(oneshot::Receiver<()>);

impl Connections {
    /// Room for `limit` open connections.
    pub fn new(limit: usize) -> Arc<Connections> {
        Arc::new(Connections { limit, state: Mutex::new(State { next_id: 0, open: BTreeMap::new() }) })
    }

    /// Admits a new connection; when `limit` are open, closes the oldest
    /// that has not shown the token to make room. `None` (refuse it) when
    /// every open connection has shown the token.
    pub fn admit(self: &Arc<Self>) -> Option<(Admission, Eviction)> {
        let mut state = self.lock();
        if state.open.len() >= self.limit {
            let oldest_without_token = state.open.iter().find(|(_, entry)| !entry.authenticated).map(|(id, _)| *id)?;
            // Dropping its sender is what tells its task to close it.
            state.open.remove(&oldest_without_token);
        }
        let id = state.next_id;
        state.next_id += 1;
        let (evict, evicted) = oneshot::channel();
        state.open.insert(id, Entry { authenticated: false, _evict: evict });
        Some((Admission { id, connections: Arc::clone(self) }, Eviction(evicted)))
    }

    /// The state; one panicking holder cannot leave it half-changed (each
    /// change is one map operation), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Admission {
    /// Records that a request on this connection carried the token: from
    /// now on it is never closed to make room.
    pub fn authenticate(&self) {
        if let Some(entry) = self.connections.lock().open.get_mut(&self.id) {
            entry.authenticated = true;
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.connections.lock().open.remove(&self.id);
    }
}

impl Eviction {
    /// Waits until the connection is closed to make room (never, once it
    /// has shown the token).
    pub async fn evicted(&mut self) {
        // Nothing is ever sent: the sender is dropped to evict.
        let _ = (&mut self.0).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot::error::TryRecvError;

    fn is_evicted(eviction: &mut Eviction) -> bool {
        matches!(eviction.0.try_recv(), Err(TryRecvError::Closed))
    }

    #[test]
    fn the_oldest_connection_without_the_token_makes_room() {
        let connections = Connections::new(3);
        let (a, mut a_evicted) = connections.admit().unwrap();
        let (_b, mut b_evicted) = connections.admit().unwrap();
        let (_c, mut c_evicted) = connections.admit().unwrap();
        a.authenticate();
        let (_d, mut d_evicted) = connections.admit().unwrap();
        assert!(!is_evicted(&mut a_evicted) && is_evicted(&mut b_evicted) && !is_evicted(&mut c_evicted));
        let (_e, _) = connections.admit().unwrap();
        assert!(!is_evicted(&mut a_evicted) && is_evicted(&mut c_evicted) && !is_evicted(&mut d_evicted));
        assert_eq!(connections.lock().open.len(), 3);
    }

    #[test]
    fn a_newcomer_is_refused_when_every_connection_has_the_token() {
        let connections = Connections::new(2);
        let (a, mut a_evicted) = connections.admit().unwrap();
        let (b, mut b_evicted) = connections.admit().unwrap();
        a.authenticate();
        b.authenticate();
        assert!(connections.admit().is_none());
        assert!(!is_evicted(&mut a_evicted) && !is_evicted(&mut b_evicted));
        drop(a);
        let (_c, mut c_evicted) = connections.admit().unwrap();
        assert!(!is_evicted(&mut b_evicted) && !is_evicted(&mut c_evicted));
    }

    #[test]
    fn a_closed_connection_frees_its_place_without_closing_another() {
        let connections = Connections::new(2);
        let (a, _) = connections.admit().unwrap();
        let (_b, mut b_evicted) = connections.admit().unwrap();
        drop(a);
        let (_c, mut c_evicted) = connections.admit().unwrap();
        assert!(!is_evicted(&mut b_evicted) && !is_evicted(&mut c_evicted));
        assert_eq!(connections.lock().open.len(), 2);
    }
}
