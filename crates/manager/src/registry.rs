//! The registry of online agents, in Redis exactly as the original keeps it (`XTRANSIT_APP`,
//! `XTRANSIT_CLIENT::{appId}` → agentId → `{clientId, server, timestamp}`), and the liveness checks through the
//! ws-server that holds each agent.

use std::collections::BTreeMap;
use std::time::Duration;

use deadpool_redis::redis::{self, Script};
use protocol::service::{CheckClientAlive, ClientRef, ShutdownRequest};
use protocol::AppId;
use serde::{Deserialize, Serialize};

use crate::error::ManagerError;
use crate::keys;
use crate::startup::AppState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientEntry {
    pub client_id: String,
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

/// A heartbeat: register the client; when another clientId held this appId+agentId, tell its ws-server
/// (which applies its duplicate-agent policy).
pub async fn update_client(state: &AppState, app: &AppId, agent: &str, entry: ClientEntry) -> Result<(), ManagerError> {
    let app_text = app.to_string();
    let key = keys::clients(&state.redis, &app_text);
    let mut conn = state.redis.get().await?;
    let value = serde_json::to_string(&entry).expect("a struct of strings and integers serializes");
    let (old,): (Option<String>,) = redis::pipe()
        .cmd("HGET").arg(&key).arg(agent)
        .cmd("SADD").arg(state.redis.key(keys::APPS)).arg(&app_text).ignore()
        .cmd("HSET").arg(&key).arg(agent).arg(&value).ignore()
        .query_async(&mut conn)
        .await?;
    let old: Option<ClientEntry> = old.and_then(|o| serde_json::from_str(&o).ok());
    if let Some(old) = old.filter(|o| o.client_id != entry.client_id) {
        let state = state.clone();
        let body = ShutdownRequest { app_id: app.clone(), agent_id: agent.to_owned(), old_client_id: old.client_id.clone() };
        tokio::spawn(async move {
            tracing::info!(app_id = %body.app_id, agent_id = %body.agent_id, old_client_id = %body.old_client_id, "agent reconnected with a new clientId, notifying the old ws-server");
            if let Err(e) = state.client.call::<_, serde_json::Value>(&old.server, "/xapi/shutdown", &body, None).await {
                tracing::warn!(server = %old.server, error = %e, "old client notification failed");
            }
        });
    }
    Ok(())
}

/// A closed socket: forget the client if it is still the registered one. A missing entry is fine.
pub async fn remove_client(state: &AppState, app: &str, agent: &str, client_id: &str) -> Result<bool, ManagerError> {
    let mut conn = state.redis.get().await?;
    let removed: i64 = Script::new(DELETE_IF_CLIENT)
        .key(keys::clients(&state.redis, app))
        .arg(agent)
        .arg(client_id)
        .invoke_async(&mut conn)
        .await?;
    Ok(removed > 0)
}

pub async fn get_entry(state: &AppState, app: &str, agent: &str) -> Result<Option<ClientEntry>, ManagerError> {
    let mut conn = state.redis.get().await?;
    let raw: Option<String> = redis::cmd("HGET").arg(keys::clients(&state.redis, app)).arg(agent).query_async(&mut conn).await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// The client entry if its ws-server confirms the socket is open (`/xprofiler/client`, every command).
pub async fn live_client(state: &AppState, app: &AppId, agent: &str) -> Result<Option<ClientEntry>, ManagerError> {
    let Some(entry) = get_entry(state, &app.to_string(), agent).await? else { return Ok(None) };
    let client = ClientRef { app_id: app.clone(), agent_id: agent.to_owned(), client_id: entry.client_id.clone() };
    let alive = check_alive(state, &entry.server, vec![client]).await;
    Ok(match alive.and_then(|a| a.first().copied()) {
        Some(true) => Some(entry),
        _ => None,
    })
}

/// Asks one ws-server which of `clients` it holds. `None` when it cannot be reached.
async fn check_alive(state: &AppState, server: &str, clients: Vec<ClientRef>) -> Option<Vec<bool>> {
    let n = clients.len();
    let body = CheckClientAlive { clients, expired_time: Some(5000) };
    let reply = state
        .client
        .call::<_, BTreeMap<String, bool>>(server, "/xapi/check_client_alive", &body, Some(Duration::from_secs(5)))
        .await;
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

/// `/xprofiler/clients`: recent heartbeats, confirmed by their ws-servers; confirmed-dead entries are removed.
pub async fn live_clients(state: &AppState, app: &AppId) -> Result<Option<Vec<ClientRef>>, ManagerError> {
    let app_text = app.to_string();
    let mut conn = state.redis.get().await?;
    let all: BTreeMap<String, String> = redis::cmd("HGETALL").arg(keys::clients(&state.redis, &app_text)).query_async(&mut conn).await?;
    drop(conn);
    if all.is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let max_age_ms = state.settings.manager.agent_offline_secs * 1000;
    let mut by_server: BTreeMap<String, Vec<ClientRef>> = BTreeMap::new();
    for (agent, raw) in all {
        let Ok(entry) = serde_json::from_str::<ClientEntry>(&raw) else { continue };
        if now - entry.timestamp > max_age_ms {
            continue;
        }
        by_server.entry(entry.server).or_default().push(ClientRef { app_id: app.clone(), agent_id: agent, client_id: entry.client_id });
    }
    let checks = by_server.into_iter().map(|(server, clients)| async move {
        let alive = check_alive(state, &server, clients.clone()).await;
        (clients, alive)
    });
    let mut live = Vec::new();
    for (clients, alive) in futures_util::future::join_all(checks).await {
        let Some(alive) = alive else { continue };
        for (client, is_alive) in clients.into_iter().zip(alive) {
            match is_alive {
                true => live.push(client),
                false => {
                    remove_client(state, &app_text, &client.agent_id, &client.client_id).await?;
                }
            }
        }
    }
    Ok(Some(live))
}
