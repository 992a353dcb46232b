//! Which agent sockets this ws-server holds, and the commands waiting for an agent's `response`. In memory only, no
//! IO.
//! Both maps are small critical sections behind std mutexes: nothing awaits while holding them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use protocol::{AgentId, AppId, ClientId};
use tokio::sync::oneshot;

/// appId + agentId + clientId: the original server's client key (`AppId` compares by its canonical text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub app: AppId,
    pub agent: AgentId,
    pub client: ClientId,
}

/// An agent socket in the registry: which connection, and the sending half of its WebSocket. Commands go straight
/// into actix-ws's session (its one channel to the socket's writer): a socket has no second channel of ours.
#[derive(Clone)]
struct Entry {
    conn_id: u64,
    session: actix_ws::Session,
}

#[derive(Default)]
pub struct Registry {
    sessions: Mutex<HashMap<ClientKey, Entry>>,
    pending: Mutex<HashMap<String, oneshot::Sender<String>>>,
    next_conn: AtomicU64,
}

impl Registry {
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers the socket `conn_id` for `key`; a socket of the same client that reconnected replaces the old one,
    /// whose session is returned for the caller to close (it is dead or half-open).
    pub fn register(&self, key: ClientKey, conn_id: u64, session: actix_ws::Session) -> Option<actix_ws::Session> {
        let old = self.lock_sessions().insert(key, Entry { conn_id, session });
        old.filter(|o| o.conn_id != conn_id).map(|o| o.session)
    }

    /// Forgets `key` if it still belongs to socket `conn_id`.
    pub fn unregister(&self, key: &ClientKey, conn_id: u64) -> bool {
        let mut sessions = self.lock_sessions();
        match sessions.get(key) {
            Some(s) if s.conn_id == conn_id => sessions.remove(key).is_some(),
            _ => false,
        }
    }

    /// The session of `key`'s socket, to send it a frame or close it.
    pub fn session(&self, key: &ClientKey) -> Option<actix_ws::Session> {
        self.lock_sessions().get(key).map(|s| s.session.clone())
    }

    pub fn contains(&self, key: &ClientKey) -> bool {
        self.lock_sessions().contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.lock_sessions().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the `response` to `trace_id`.
    pub fn expect_response(&self, trace_id: &str) -> oneshot::Receiver<String> {
        let (tx, rx) = oneshot::channel();
        self.lock_pending().insert(trace_id.to_owned(), tx);
        rx
    }

    pub fn forget_response(&self, trace_id: &str) {
        self.lock_pending().remove(trace_id);
    }

    /// Delivers a `response`'s data; false if nobody waits for it (late, or unknown traceId).
    pub fn resolve(&self, trace_id: &str, data: String) -> bool {
        match self.lock_pending().remove(trace_id) {
            Some(tx) => tx.send(data).is_ok(),
            None => false,
        }
    }

    pub fn pending_len(&self) -> usize {
        self.lock_pending().len()
    }

    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<ClientKey, Entry>> {
        // A panic while holding this lock cannot leave the map half-updated (single insert/remove calls).
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<String>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}
