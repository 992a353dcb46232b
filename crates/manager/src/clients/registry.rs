//! The registry of online agents, in Redis exactly as the original keeps it (`XTRANSIT_APP`,
//! `XTRANSIT_CLIENT::{appId}` → agentId → `{clientId, server, timestamp}`), and the liveness checks through the
//! ws-server that holds each agent.

use std::collections::BTreeMap;

use common::redis::RedisPool;
use deadpool_redis::redis::{self, Script};
use protocol::service::{ClientRef, ShutdownRequest};
use protocol::{AgentId, AppId, ClientId};
use serde::{Deserialize, Serialize};
use store::keys::Keys;

use super::ws_server::WsServers;
use crate::error::ManagerError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientEntry {
    pub client_id: ClientId,
    pub server: String,
    pub timestamp: i64,
}

/// Deletes an agent's entry only while it still names `clientId` (atomic: no race with a newer heartbeat).
const DELETE_IF_CLIENT: &str = r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  local ok, entry = pcall(cjson.decode, v)
  if (not ok) or entry['clientId'] == ARGV[2] then
    return redis.call('HDEL', KEYS[1], ARGV[1])
  end
end
return 0
"#;

#[derive(Clone)]
pub struct AgentRegistry {
    redis: RedisPool,
    keys: Keys,
    ws: WsServers,
    /// An entry whose last heartbeat is older than this counts as offline.
    offline_after_ms: i64,
}

impl AgentRegistry {
    pub fn new(redis: RedisPool, ws: WsServers, offline_after_secs: i64) -> Self {
        let keys = Keys::new(redis.prefix());
        AgentRegistry { redis, keys, ws, offline_after_ms: offline_after_secs * 1000 }
    }

    /// A heartbeat: register the client; when another clientId held this appId+agentId, tell its ws-server
    /// (which applies its duplicate-agent policy).
    pub async fn update_client(&self, app: &AppId, agent: &AgentId, entry: ClientEntry) -> Result<(), ManagerError> {
        let app_text = app.to_string();
        let key = self.keys.clients(&app_text);
        let mut conn = self.redis.get().await?;
        let value = serde_json::to_string(&entry).expect("a struct of strings and integers serializes");
        let (old,): (Option<String>,) = redis::pipe()
            .cmd("HGET")
            .arg(&key)
            .arg(agent.as_str())
            .cmd("SADD")
            .arg(self.keys.apps())
            .arg(&app_text)
            .ignore()
            .cmd("HSET")
            .arg(&key)
            .arg(agent.as_str())
            .arg(&value)
            .ignore()
            .query_async(&mut conn)
            .await?;
        let old: Option<ClientEntry> = old.and_then(|o| serde_json::from_str(&o).ok());
        if let Some(old) = old.filter(|o| o.client_id != entry.client_id) {
            let ws = self.ws.clone();
            let body = ShutdownRequest { app_id: app.clone(), agent_id: agent.clone(), old_client_id: old.client_id.clone() };
            tokio::spawn(async move {
                tracing::info!(app_id = %body.app_id, agent_id = %body.agent_id, old_client_id = %body.old_client_id, "agent reconnected with a new clientId, notifying the old ws-server");
                if let Err(e) = ws.shutdown(&old.server, &body).await {
                    tracing::warn!(server = %old.server, error = %e, "old client notification failed");
                }
            });
        }
        Ok(())
    }

    /// A closed socket: forget the client if it is still the registered one. A missing entry is fine.
    pub async fn remove_client(&self, app: &AppId, agent: &AgentId, client_id: &ClientId) -> Result<bool, ManagerError> {
        let mut conn = self.redis.get().await?;
        let removed: i64 =
            Script::new(DELETE_IF_CLIENT).key(self.keys.clients(&app.to_string())).arg(agent.as_str()).arg(client_id.as_str()).invoke_async(&mut conn).await?;
        Ok(removed > 0)
    }

    pub async fn get_entry(&self, app: &AppId, agent: &AgentId) -> Result<Option<ClientEntry>, ManagerError> {
        let mut conn = self.redis.get().await?;
        let raw: Option<String> = redis::cmd("HGET").arg(self.keys.clients(&app.to_string())).arg(agent.as_str()).query_async(&mut conn).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// The client entry if its ws-server confirms the socket is open (`/xprofiler/client`, every command).
    pub async fn live_client(&self, app: &AppId, agent: &AgentId) -> Result<Option<ClientEntry>, ManagerError> {
        let Some(entry) = self.get_entry(app, agent).await? else { return Ok(None) };
        let client = ClientRef { app_id: app.clone(), agent_id: agent.clone(), client_id: entry.client_id.clone() };
        let alive = self.ws.check_alive(&entry.server, vec![client]).await;
        Ok(match alive.and_then(|a| a.first().copied()) {
            Some(true) => Some(entry),
            _ => None,
        })
    }

    /// `/xprofiler/clients`: recent heartbeats, confirmed by their ws-servers; confirmed-dead entries are removed.
    pub async fn live_clients(&self, app: &AppId, now_ms: i64) -> Result<Option<Vec<ClientRef>>, ManagerError> {
        let mut conn = self.redis.get().await?;
        let all: BTreeMap<String, String> = redis::cmd("HGETALL").arg(self.keys.clients(&app.to_string())).query_async(&mut conn).await?;
        drop(conn);
        if all.is_empty() {
            return Ok(None);
        }
        let mut by_server: BTreeMap<String, Vec<ClientRef>> = BTreeMap::new();
        for (agent, raw) in all {
            let Ok(entry) = serde_json::from_str::<ClientEntry>(&raw) else { continue };
            if now_ms - entry.timestamp > self.offline_after_ms {
                continue;
            }
            let client = ClientRef { app_id: app.clone(), agent_id: AgentId::new(agent), client_id: entry.client_id };
            by_server.entry(entry.server).or_default().push(client);
        }
        let checks = by_server.into_iter().map(|(server, clients)| async move {
            let alive = self.ws.check_alive(&server, clients.clone()).await;
            (clients, alive)
        });
        let mut live = Vec::new();
        for (clients, alive) in futures_util::future::join_all(checks).await {
            let Some(alive) = alive else { continue };
            for (client, is_alive) in clients.into_iter().zip(alive) {
                match is_alive {
                    true => live.push(client),
                    false => {
                        self.remove_client(app, &client.agent_id, &client.client_id).await?;
                    }
                }
            }
        }
        Ok(Some(live))
    }

    /// `(app, agent, entry)` of the registered agents whose last heartbeat is older than the offline age but at
    /// most `horizon_ms` old (for the offline alarm; the entries stay until `forget_stale`).
    pub async fn stale_entries(&self, now_ms: i64, horizon_ms: i64) -> Result<Vec<(String, String, ClientEntry)>, ManagerError> {
        let mut conn = self.redis.get().await?;
        let apps: Vec<String> = redis::cmd("SMEMBERS").arg(self.keys.apps()).query_async(&mut conn).await?;
        let mut out = Vec::new();
        for app in apps {
            let all: BTreeMap<String, String> = redis::cmd("HGETALL").arg(self.keys.clients(&app)).query_async(&mut conn).await?;
            for (agent, raw) in all {
                let Ok(entry) = serde_json::from_str::<ClientEntry>(&raw) else { continue };
                let age = now_ms - entry.timestamp;
                if age > self.offline_after_ms && age <= horizon_ms {
                    out.push((app.clone(), agent, entry));
                }
            }
        }
        Ok(out)
    }

    /// Forgets agents whose last heartbeat is older than the offline age (and apps left without agents).
    pub async fn forget_stale(&self, now_ms: i64) -> Result<usize, ManagerError> {
        let mut conn = self.redis.get().await?;
        let apps: Vec<String> = redis::cmd("SMEMBERS").arg(self.keys.apps()).query_async(&mut conn).await?;
        let mut removed = 0;
        for app in apps {
            let key = self.keys.clients(&app);
            let all: BTreeMap<String, String> = redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await?;
            let stale: Vec<&String> = all
                .iter()
                .filter(|(_, raw)| serde_json::from_str::<ClientEntry>(raw).map(|e| now_ms - e.timestamp > self.offline_after_ms).unwrap_or(true))
                .map(|(agent, _)| agent)
                .collect();
            if !stale.is_empty() {
                redis::cmd("HDEL").arg(&key).arg(&stale).query_async::<()>(&mut conn).await?;
                removed += stale.len();
            }
            if stale.len() == all.len() {
                redis::cmd("SREM").arg(self.keys.apps()).arg(&app).query_async::<()>(&mut conn).await?;
            }
        }
        Ok(removed)
    }
}
