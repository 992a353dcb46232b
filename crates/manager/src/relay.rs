//! Console commands relayed to the ws-server that holds the agent (`/xapi/exec_command`).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use protocol::service::ExecCommandRequest;
use protocol::{AppId, ExecCommand};
use serde_json::{json, Value};

use crate::error::ManagerError;
use crate::registry;
use crate::startup::AppState;

/// Runs `command` on the agent and returns what goes into the reply's `data`: the agent's answer
/// (`{ok:true,data:{stdout,stderr}}` or `{ok:false,message}`), or `{ok:false,message}` saying why there is none.
pub async fn exec(state: &AppState, app: &AppId, agent: &str, command: ExecCommand, expired_ms: Option<u64>) -> Result<Value, ManagerError> {
    state.stats.commands.fetch_add(1, Relaxed);
    let Some(client) = registry::live_client(state, app, agent).await? else {
        state.stats.commands_failed.fetch_add(1, Relaxed);
        return Ok(json!({"ok": false, "message": format!("app {app} agent {agent} not connected!")}));
    };
    let expired_ms = expired_ms.unwrap_or(state.settings.manager.command_timeout_ms);
    let body = ExecCommandRequest {
        app_id: app.clone(),
        agent_id: agent.to_owned(),
        client_id: client.client_id,
        command: command.into_string(),
        expired_time: Some(expired_ms),
    };
    // The ws-server answers by `expiredTime` at the latest; allow it a little longer than that.
    let timeout = Duration::from_millis(expired_ms + 2_000);
    match state.client.call::<_, Value>(&client.server, "/xapi/exec_command", &body, Some(timeout)).await {
        Ok(reply) if reply.ok => Ok(reply.data.unwrap_or(Value::Null)),
        Ok(reply) => {
            state.stats.commands_failed.fetch_add(1, Relaxed);
            Ok(json!({"ok": false, "message": reply.message, "code": reply.code}))
        }
        Err(e) => {
            state.stats.commands_failed.fetch_add(1, Relaxed);
            tracing::warn!(server = %client.server, error = %e, "command relay failed");
            Ok(json!({"ok": false, "message": format!("ws-server {} unreachable: {e}", client.server)}))
        }
    }
}
