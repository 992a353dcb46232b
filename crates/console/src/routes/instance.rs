//! An app's instances (agents) and what they tell live: the agent list, agent info, its Node processes, and a
//! process's xprofiler status. Live answers need the agent online; the reply says so when it is not.

use actix_web::{web, HttpResponse};
use chrono::TimeZone;
use protocol::lenient;
use protocol::service::{ProcessCommand, Reply};
use protocol::AgentId;
use serde::Deserialize;
use serde_json::{json, Value};
use store::logs_db::osinfo;

use crate::auth;
use crate::clients::manager::{self, Outcome};
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// How long a quick command may take on the agent.
const QUICK_MS: u64 = 15_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct AgentQuery {
    #[serde(deserialize_with = "lenient::uint")]
    pub app_id: u64,
    #[param(value_type = String)]
    pub agent_id: AgentId,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct PidQuery {
    #[serde(deserialize_with = "lenient::uint")]
    pub app_id: u64,
    #[param(value_type = String)]
    pub agent_id: AgentId,
    #[serde(deserialize_with = "lenient::text")]
    pub pid: String,
}

fn ok(data: Value) -> Handled {
    Ok(HttpResponse::Ok().json(Reply::ok(data)))
}

fn stdout(outcome: Outcome) -> Result<String, ConsoleError> {
    match outcome {
        Outcome::Done(out) => Ok(out),
        Outcome::Failed(refusal) => Err(ConsoleError::Declined(refusal)),
    }
}

/// How far back the instance list looks for agents that are offline now (the day tables keep 8 days).
const OFFLINE_HISTORY_DAYS: i64 = 7;

/// `GET /xapi/agents`: the app's agents online now (`online: true`), then (ours) those that reported in the last
/// 7 days but are offline (`online: false`, `lastSeen` in epoch ms), whose history stays readable.
pub async fn agents(state: State, access: auth::AppMember) -> Handled {
    let app = access.app.id;
    let now = chrono::Local::now().naive_local();
    let since = now - chrono::Duration::days(OFFLINE_HISTORY_DAYS);
    let (online, seen) = futures_util::future::join(
        state.manager.online_agents(app),
        osinfo::agents_between(&state.logs_db, app as i64, since, now + chrono::Duration::minutes(5)),
    )
    .await;
    let online = online?;
    let mut list: Vec<Value> = online.iter().map(|a| json!({"agentId": a, "online": true})).collect();
    for (agent, last) in seen? {
        if online.iter().any(|a| a.as_str() == agent) {
            continue;
        }
        let last_ms = chrono::Local.from_local_datetime(&last).earliest().map(|t| t.timestamp_millis());
        list.push(json!({"agentId": agent, "online": false, "lastSeen": last_ms}));
    }
    ok(json!({"list": list}))
}

/// `GET /xapi/agent`: the agent's `get_os_info`, as the original's table of labels and values.
pub async fn agent(state: State, access: auth::AppMember<AgentQuery>) -> Handled {
    let q = access.params;
    let out = stdout(state.manager.simple_command("/xprofiler/agent_osinfo", q.app_id, &q.agent_id, QUICK_MS).await?)?;
    let info: Value = serde_json::from_str(out.trim()).map_err(|_| ConsoleError::Declined(reasons::AGENT_UNEXPECTED.arg("detail", format!("{out:.200}"))))?;
    ok(json!({"list": os_info_rows(&info)}))
}

/// The rows the original shows for `get_os_info`.
pub fn os_info_rows(info: &Value) -> Vec<Value> {
    let text = |key: &str| info.get(key).and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_number().map(|n| n.to_string())));
    let mut rows = Vec::new();
    if let Some(v) = text("nodeVersion") {
        rows.push(json!({"type": "Node.js 版本", "value": format!("v{}", v.trim_start_matches('v'))}));
    }
    if let Some(v) = text("alinodeVersion") {
        rows.push(json!({"type": "AliNode 版本", "value": format!("v{}", v.trim_start_matches('v'))}));
    }
    if let Some(v) = text("xtransitVersion") {
        rows.push(json!({"type": "Xtransit 版本", "value": format!("xtransit@{v}")}));
    }
    if let Some(v) = text("ulimit") {
        let blocks = v.trim().parse::<u64>().is_ok_and(|n| n > 0);
        rows.push(json!({"type": "核心转储限制", "value": if blocks { format!("{} (blocks)", v.trim()) } else { v.trim().to_owned() }}));
    }
    if let Some(v) = text("osInfo") {
        rows.push(json!({"type": "操作系统信息", "value": v}));
    }
    rows
}

/// `GET /xapi/node_processes`: the agent's `get_node_processes` (`pid\0command` lines).
pub async fn node_processes(state: State, access: auth::AppMember<AgentQuery>) -> Handled {
    let q = access.params;
    let out = stdout(state.manager.simple_command("/xprofiler/agent_node_processes", q.app_id, &q.agent_id, QUICK_MS).await?)?;
    ok(json!({"list": node_process_rows(&out)}))
}

pub fn node_process_rows(out: &str) -> Vec<Value> {
    out.lines()
        .filter_map(|line| {
            let (pid, command) = line.split_once('\u{0}')?;
            let pid: u64 = pid.trim().parse().ok()?;
            Some(json!({"pid": pid, "command": command.trim()}))
        })
        .collect()
}

/// `GET /xapi/xprofiler_status`: the agent's `check_process_status <pid>` (it probes for several seconds).
pub async fn xprofiler_status(state: State, access: auth::AppMember<PidQuery>) -> Handled {
    let q = access.params;
    let body = ProcessCommand { target: manager::target(q.app_id, &q.agent_id, QUICK_MS), pid: q.pid };
    let out = stdout(state.manager.command("/xprofiler/check_process_status", &body, QUICK_MS).await?)?;
    let status: Value = serde_json::from_str(out.trim()).map_err(|_| ConsoleError::Declined(reasons::AGENT_FAILED.arg("detail", out.trim())))?;
    ok(status)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_agents_answers_become_the_originals_rows() {
        let info = json!({"nodeVersion":"20.20.2","xtransitVersion":"3.1.0","ulimit":"unlimited","osInfo":"Linux/vm/linux/x64/6.18"});
        let rows = super::os_info_rows(&info);
        assert_eq!(rows[0], json!({"type": "Node.js 版本", "value": "v20.20.2"}));
        assert_eq!(rows[1]["value"], "xtransit@3.1.0");
        assert_eq!(rows[2]["value"], "unlimited");
        assert_eq!(super::os_info_rows(&json!({"ulimit":"1024"}))[0]["value"], "1024 (blocks)");
        let out = "9983\u{0}/usr/bin/node /app/server.js\n42\u{0}node worker.js\nnoise\n";
        assert_eq!(
            super::node_process_rows(out),
            vec![json!({"pid": 9983, "command": "/usr/bin/node /app/server.js"}), json!({"pid": 42, "command": "node worker.js"})]
        );
    }
}
