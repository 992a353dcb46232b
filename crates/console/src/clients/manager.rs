//! The manager's `/xprofiler/*` routes, as the console calls them (signed with the shared secret): the live agent
//! registry, error logs and modules in Redis, and commands relayed to agents.

use std::time::Duration;

use common::client::{CallError, ServiceClient};
use protocol::service::{AgentCommand, AppQuery, ClientQuery, CommandTarget, Reply};
use protocol::{AgentId, AppId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ConsoleError;
use crate::reasons::{self, Refusal};

#[derive(Clone)]
pub struct Manager {
    client: ServiceClient,
    base: String,
}

/// What a command relayed to an agent gave.
#[derive(Debug)]
pub enum Outcome {
    /// The agent ran it; its stdout.
    Done(String),
    /// The agent is not connected, did not answer in time, or answered with an error (the refusal says which).
    Failed(Refusal),
}

#[derive(Deserialize)]
struct AgentAnswer {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    message: Option<Value>,
    /// Why there is no answer: `XPROFILER_NO_CLIENT` (not connected), `XPROFILER_EXPIRED` (no answer in time).
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    data: Option<Output>,
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
}

impl Manager {
    pub fn new(client: ServiceClient, base: String) -> Self {
        Manager { client, base }
    }

    /// POSTs `body` to the manager's `path`; a command may name a longer `timeout` than the default.
    pub async fn call<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B, timeout: Option<Duration>) -> Result<Reply<R>, CallError> {
        self.client.call(&self.base, path, body, timeout).await
    }

    /// `data` of a reply, or the manager's refusal as a console error.
    pub async fn data<B: Serialize, R: DeserializeOwned + Default>(&self, path: &str, body: &B) -> Result<R, ConsoleError> {
        let reply: Reply<R> = self.call(path, body, None).await?;
        match reply.ok {
            true => Ok(reply.data.unwrap_or_default()),
            false => Err(ConsoleError::Declined(reasons::MANAGER_REFUSED.arg("detail", reply.message.unwrap_or_else(|| path.to_owned())))),
        }
    }

    /// The agents of `app` the manager sees online now.
    pub async fn online_agents(&self, app: u64) -> Result<Vec<AgentId>, ConsoleError> {
        #[derive(Deserialize, Default)]
        struct Clients {
            #[serde(default)]
            clients: Vec<Client>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Client {
            agent_id: AgentId,
        }
        let clients: Clients = self.data("/xprofiler/clients", &AppQuery { app_id: AppId::Number(app) }).await?;
        let mut agents: Vec<AgentId> = clients.clients.into_iter().map(|c| c.agent_id).collect();
        agents.sort();
        agents.dedup();
        Ok(agents)
    }

    /// True when the agent's socket is open now (its ws-server confirms it).
    pub async fn is_online(&self, app: u64, agent: &AgentId) -> Result<bool, ConsoleError> {
        let data: Value = self.data("/xprofiler/client", &ClientQuery { app_id: AppId::Number(app), agent_id: agent.clone() }).await?;
        Ok(data["client"]["server"].as_str().is_some_and(|s| !s.is_empty()))
    }

    /// Runs a command route (`/xprofiler/agent_osinfo`, …) with `body` and returns the agent's stdout or why not.
    pub async fn command<B: Serialize>(&self, path: &str, body: &B, expired_ms: u64) -> Result<Outcome, ConsoleError> {
        let timeout = Duration::from_millis(expired_ms + 5_000);
        let reply: Reply<AgentAnswer> = self.call(path, body, Some(timeout)).await?;
        let Some(answer) = reply.data.filter(|_| reply.ok) else {
            return Ok(Outcome::Failed(reasons::MANAGER_REFUSED.arg("detail", reply.message.unwrap_or_else(|| path.to_owned()))));
        };
        if !answer.ok {
            let message = match answer.message {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => "the agent answered with an error".into(),
            };
            let reason = match answer.code.as_ref().and_then(Value::as_str) {
                Some("XPROFILER_NO_CLIENT") => &reasons::AGENT_OFFLINE,
                Some("XPROFILER_EXPIRED") => &reasons::AGENT_TIMEOUT,
                _ => &reasons::AGENT_FAILED,
            };
            return Ok(Outcome::Failed(reason.arg("detail", message)));
        }
        let output = answer.data.unwrap_or(Output { stdout: String::new(), stderr: String::new() });
        if output.stdout.trim().is_empty() && !output.stderr.trim().is_empty() {
            return Ok(Outcome::Failed(reasons::AGENT_FAILED.arg("detail", output.stderr.trim())));
        }
        Ok(Outcome::Done(output.stdout))
    }

    /// A command without arguments for `agent`.
    pub async fn simple_command(&self, path: &str, app: u64, agent: &AgentId, expired_ms: u64) -> Result<Outcome, ConsoleError> {
        let body = AgentCommand { target: target(app, agent, expired_ms) };
        self.command(path, &body, expired_ms).await
    }
}

pub fn target(app: u64, agent: &AgentId, expired_ms: u64) -> CommandTarget {
    CommandTarget { app_id: AppId::Number(app), agent_id: agent.clone(), expired_time: Some(expired_ms) }
}
