//! What makes a file: a profiling action on a process of an agent (`POST /xapi/action`: the agent's xprofiler
//! writes a profile, snapshot, report or core and the row waits for it), and saving a process's trends of the last
//! 24 hours as a `trend` file (`POST /xapi/process_trend`, computed here from the metric tables).

use actix_web::{web, HttpResponse};
use chrono::Local;
use protocol::lenient;
use protocol::service::{Reply, TakeAction};
use protocol::AgentId;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use store::console_db::{coredumps, files};
use store::logs_db::process;

use crate::auth;
use crate::clients::manager::{self, Outcome};
use crate::clients::storage::{gzip, Storage};
use crate::domain::files as rules;
use crate::domain::trends::{self, ProcessTrendType};
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// How long the agent may take to start an action (xprofiler answers within seconds; a heap dump is written after).
const ACTION_MS: u64 = 15_000;
/// The hours a saved trend covers.
const SAVED_TREND_HOURS: u32 = 24;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ActionBody {
    #[param(value_type = String)]
    agent_id: AgentId,
    #[serde(deserialize_with = "lenient::text")]
    pid: String,
    /// cpuprofile, heapprofile, gcprofile, heapsnapshot, diag or core.
    action: String,
    /// 0 start, 1 stop (sampling actions only).
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    status: Option<u64>,
    /// Ours: how long a sampling action profiles, in ms (1 000 to the original's fixed 180 000, the default).
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    profiling_time: Option<u64>,
}

/// `POST /xapi/action`: runs `xprofctl <pid> <command> <options>` on the agent and records the file it is writing:
/// a `files` row at status 0 (a core: a `coredumps` row at 1, written synchronously); stopping a sampling action
/// marks its file created. The agent's refusal (`… is running`) is passed through in `message`, which the
/// front-end reads to offer stopping.
pub async fn take(state: State, access: auth::AppMember<ActionBody>) -> Handled {
    let (app, user, body) = (access.app, access.user, access.params);
    let stop = match body.status.unwrap_or(0) {
        0 => false,
        1 => true,
        other => return Err(ConsoleError::bad(format!("status must be 0 (start) or 1 (stop), not {other}"))),
    };
    let action = rules::action(&body.action, stop).map_err(|e| ConsoleError::Declined(e.refusal()))?;
    let options = rules::action_options(action, stop, body.profiling_time).map_err(|e| ConsoleError::Invalid(e.refusal()))?;
    let pid = body.pid.trim().to_owned();
    if pid.parse::<u32>().is_err() {
        return Err(ConsoleError::bad(format!("pid {pid:?} is not a process id")));
    }
    let request = TakeAction { target: manager::target(app.id, &body.agent_id, ACTION_MS), pid: pid.clone(), command: action.command.into(), options };
    let out = match state.manager.command("/xprofiler/take_action", &request, ACTION_MS).await? {
        Outcome::Done(out) => out,
        Outcome::Failed(refusal) => return Err(ConsoleError::Declined(refusal)),
    };
    let answer: Value = serde_json::from_str(out.trim()).map_err(|_| ConsoleError::Declined(reasons::AGENT_UNEXPECTED.arg("detail", format!("{out:.200}"))))?;
    let Some(path) = answer.get("filepath").and_then(Value::as_str).filter(|p| !p.is_empty()) else {
        return Err(ConsoleError::Declined(reasons::AGENT_UNEXPECTED.arg("detail", format!("{out:.200}"))));
    };
    let agent = body.agent_id.as_str();
    let db = &state.console_db;
    let id = match (action.core, stop) {
        (true, _) => coredumps::insert_action(db, app.id, agent, path, &rules::core_node_info(&answer), user.id).await?,
        (false, false) => files::insert_action(db, app.id, agent, &body.action, path, user.id).await?,
        (false, true) => {
            files::mark_created(db, app.id, agent, path).await?;
            0
        }
    };
    tracing::info!(app_id = app.id, agent_id = %agent, pid = %pid, command = action.command, file_id = id, file = path, "action taken");
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"file": path}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct PidBody {
    #[param(value_type = String)]
    agent_id: AgentId,
    #[serde(deserialize_with = "lenient::text")]
    pid: String,
}

/// `POST /xapi/process_trend` ("save trend data"): all 9 process trends of the last 24 hours as one gzip JSON map
/// `{heapTrend: {list, limit, extra}, cpuTrend: …}`, stored as a `trend` file (status 3). Read from the day tables,
/// so the agent need not be online.
pub async fn save_trend(state: State, access: auth::AppMember<PidBody>) -> Handled {
    let (app, user, body) = (access.app, access.user, access.params);
    let pid: i64 = body.pid.trim().parse().map_err(|_| ConsoleError::bad(format!("pid {:?} is not a number", body.pid)))?;
    let now = Local::now();
    let window = trends::window(&now, SAVED_TREND_HOURS);
    let rows = process::rows_between(&state.logs_db, app.id as i64, &body.agent_id, pid, window.from, window.to).await?;
    let compressed = tokio::task::spawn_blocking(move || {
        let map: Map<String, Value> = ProcessTrendType::ALL
            .iter()
            .map(|(name, kind)| {
                let trend = trends::process_trend(*kind, &rows, &now, SAVED_TREND_HOURS);
                // A trend is plain data (numbers, strings): it always serializes.
                (name.to_string(), serde_json::to_value(trend).unwrap_or(Value::Null))
            })
            .collect();
        gzip::gzip(Value::Object(map).to_string().as_bytes())
    })
    .await
    .map_err(|e| ConsoleError::Internal(format!("trend computation: {e}")))??;
    let file = rules::trend_file_name(pid, &now.format("%Y%m%d").to_string(), rand::random::<u32>() % 1_000_000);
    let name = Storage::new_name(&file);
    let mut object = state.storage.create(&name).await?;
    object.write(&compressed).await?;
    object.commit().await?;
    if let Err(e) = files::insert_stored(&state.console_db, app.id, body.agent_id.as_str(), "trend", &file, user.id, &name).await {
        discard(&state.storage, &name).await;
        return Err(e.into());
    }
    tracing::info!(app_id = app.id, agent_id = %body.agent_id, pid, file = %file, bytes = compressed.len(), "trend saved");
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"file": file}))))
}

async fn discard(storage: &Storage, name: &str) {
    if let Err(e) = storage.delete(name).await {
        tracing::warn!(name, error = %e, "could not delete a storage object");
    }
}
