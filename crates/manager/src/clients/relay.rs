//! Console commands relayed to the ws-server that holds the agent (`/xapi/exec_command`).

use std::sync::Arc;
use std::time::Duration;

use protocol::service::{CommandTarget, ExecCommandRequest};
use protocol::ExecCommand;
use serde_json::{json, Value};

use super::registry::AgentRegistry;
use super::ws_server::WsServers;
use crate::error::ManagerError;
use crate::stats::Stats;

#[derive(Clone)]
pub struct Relay {
    registry: AgentRegistry,
    ws: WsServers,
    stats: Arc<Stats>,
    /// `expiredTime` of commands whose request names none.
    default_timeout_ms: u64,
}

impl Relay {
    pub fn new(registry: AgentRegistry, ws: WsServers, stats: Arc<Stats>, default_timeout_ms: u64) -> Self {
        Relay { registry, ws, stats, default_timeout_ms }
    }

    /// Runs `command` on the agent and returns what goes into the reply's `data`: the agent's answer
    /// (`{ok:true,data:{stdout,stderr}}` or `{ok:false,message}`), or `{ok:false,message}` saying why there is none.
    pub async fn exec(&self, target: &CommandTarget, command: ExecCommand) -> Result<Value, ManagerError> {
        let (app, agent) = (&target.app_id, &target.agent_id);
        self.stats.commands.inc();
        let Some(client) = self.registry.live_client(app, agent).await? else {
            self.stats.commands_failed.inc();
            return Ok(json!({"ok": false, "message": format!("app {app} agent {agent} not connected!"), "code": "XPROFILER_NO_CLIENT"}));
        };
        let expired_ms = target.expired_time.unwrap_or(self.default_timeout_ms);
        let body = ExecCommandRequest {
            app_id: app.clone(),
            agent_id: agent.clone(),
            client_id: client.client_id,
            command: command.into_string(),
            expired_time: Some(expired_ms),
        };
        // The ws-server answers by `expiredTime` at the latest; allow it a little longer than that.
        let timeout = Duration::from_millis(expired_ms + 2_000);
        match self.ws.exec(&client.server, &body, timeout).await {
            Ok(reply) if reply.ok => Ok(reply.data.unwrap_or(Value::Null)),
            Ok(reply) => {
                self.stats.commands_failed.inc();
                Ok(json!({"ok": false, "message": reply.message, "code": reply.code}))
            }
            Err(e) => {
                self.stats.commands_failed.inc();
                tracing::warn!(server = %client.server, error = %e, "command relay failed");
                Ok(json!({"ok": false, "message": "the agent's ws-server is unreachable"}))
            }
        }
    }
}
