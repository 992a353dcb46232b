//! What the routes and sessions can reach. Cheap to clone.

use std::sync::Arc;

use common::settings::{DuplicateAgentPolicy, WsServerSettings};

use crate::clients::forward::Forwarder;
use crate::clients::secrets::SecretCache;
use crate::domain::registry::Registry;
use crate::stats::Stats;

#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub secrets: Arc<SecretCache>,
    pub forwarder: Arc<Forwarder>,
    pub stats: Arc<Stats>,
    pub sessions: SessionLimits,
    pub duplicate_agent_policy: DuplicateAgentPolicy,
    /// `host:port` of this server's `/xapi/*`, as registered with the manager.
    pub advertise: String,
    /// The manager's base URL, for `/readyz`.
    pub manager: String,
    pub http: reqwest::Client,
    /// Turns true when the server starts stopping: sessions then close their sockets ("going away") and drain.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// What one agent socket is allowed and how it is watched.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub max_message_bytes: usize,
    pub ping_interval_secs: u64,
    pub client_timeout_secs: u64,
    pub future_skew_ms: i64,
}

impl From<&WsServerSettings> for SessionLimits {
    fn from(ws: &WsServerSettings) -> Self {
        SessionLimits {
            max_message_bytes: ws.max_message_bytes,
            ping_interval_secs: ws.ping_interval_secs,
            client_timeout_secs: ws.client_timeout_secs,
            future_skew_ms: ws.future_skew_ms,
        }
    }
}
