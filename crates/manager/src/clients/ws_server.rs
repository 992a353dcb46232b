//! The signed `/xapi/*` calls the manager makes on the ws-server that holds an agent.

use std::collections::BTreeMap;
use std::time::Duration;

use common::client::{CallError, ServiceClient};
use protocol::service::{CheckClientAlive, ClientRef, ExecCommandRequest, Reply, ShutdownRequest};
use serde_json::Value;

#[derive(Clone)]
pub struct WsServers {
    client: ServiceClient,
}

impl WsServers {
    pub fn new(client: ServiceClient) -> Self {
        WsServers { client }
    }

    /// Which of `clients` the ws-server at `server` holds, by position. `None` when it cannot be reached.
    pub async fn check_alive(&self, server: &str, clients: Vec<ClientRef>) -> Option<Vec<bool>> {
        let n = clients.len();
        let body = CheckClientAlive { clients, expired_time: Some(5000) };
        let reply = self.client.call::<_, BTreeMap<String, bool>>(server, "/xapi/check_client_alive", &body, Some(Duration::from_secs(5))).await;
        match reply {
            Ok(r) if r.ok => {
                let data = r.data.unwrap_or_default();
                Some((0..n).map(|i| data.get(&i.to_string()).copied().unwrap_or(false)).collect())
            }
            Ok(r) => {
                tracing::warn!(server, message = ?r.message, "check_client_alive refused");
                None
            }
            Err(e) => {
                tracing::warn!(server, error = %e, "check_client_alive failed");
                None
            }
        }
    }

    /// Tells the ws-server that `body.old_client_id` was replaced (it applies its duplicate-agent policy).
    pub async fn shutdown(&self, server: &str, body: &ShutdownRequest) -> Result<(), CallError> {
        self.client.call::<_, Value>(server, "/xapi/shutdown", body, None).await.map(|_| ())
    }

    /// Runs a command on an agent; the ws-server answers by `expiredTime` at the latest, allowed `timeout` here.
    pub async fn exec(&self, server: &str, body: &ExecCommandRequest, timeout: Duration) -> Result<Reply<Value>, CallError> {
        self.client.call::<_, Value>(server, "/xapi/exec_command", body, Some(timeout)).await
    }
}
