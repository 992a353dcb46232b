//! Metrics from MySQL: process and system trends over 24 h, 3 days or 7 days, the system overview, the process list,
//! and the app cards' overview and five eggs. History answers from the day tables whether or not the agent is online;
//! only what needs the agent (which processes are alive, their command lines) asks it, and does without when it is
//! offline.

use std::collections::HashSet;
use std::str::FromStr;

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use chrono::{Local, TimeDelta};
use protocol::lenient;
use protocol::service::{FilesQuery, LogFileKind, ProcessesCommand, Reply};
use protocol::{AgentId, AppId};
use serde::Deserialize;
use serde_json::{json, Value};
use store::console_db::strategies;
use store::logs_db::osinfo::{self, Half, OsinfoRow};
use store::logs_db::process;

use crate::auth;
use crate::cache::{self, CardKey, Columns, SYSTEM_PAGE_FIGURES};
use crate::clients::manager::{self, Outcome};
use crate::domain::metrics::{self, AgentFigures, MainMetricType, RECENT_MINUTES};
use crate::domain::trends::{self, ProcessTrendType, SystemTrendType};
use crate::error::ConsoleError;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// The durations the trend pages offer, in hours (the original accepted any number).
const DURATIONS: [u32; 3] = [24, 72, 168];
const QUICK_MS: u64 = 15_000;
/// Agents whose latest rows `main_metrics` reads at once (each holds a pooled connection meanwhile).
const MAIN_METRICS_PARALLEL: usize = 8;

fn ok(data: impl serde::Serialize) -> Handled {
    Ok(HttpResponse::Ok().json(Reply::ok(data)))
}

fn duration(hours: Option<u64>) -> Result<u32, ConsoleError> {
    let hours = hours.unwrap_or(24);
    DURATIONS.iter().copied().find(|d| u64::from(*d) == hours).ok_or_else(|| ConsoleError::bad(format!("duration must be 24, 72 or 168 (hours), not {hours}")))
}

fn pid_number(pid: &str) -> Result<i64, ConsoleError> {
    pid.trim().parse().map_err(|_| ConsoleError::bad(format!("pid {pid:?} is not a number")))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ProcessTrendQuery {
    #[param(value_type = String)]
    agent_id: AgentId,
    #[serde(deserialize_with = "lenient::text")]
    pid: String,
    trend_type: String,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    duration: Option<u64>,
}

/// `GET /xapi/process_trend`: one of the 9 process charts.
pub async fn process_trend(state: State, access: auth::AppMember<ProcessTrendQuery>) -> Handled {
    let q = access.params;
    let kind = ProcessTrendType::from_str(&q.trend_type).map_err(|e| ConsoleError::bad(format!("unknown trendType {:?}", e.0)))?;
    let hours = duration(q.duration)?;
    let now = Local::now();
    let window = trends::window(&now, hours);
    let (app, pid) = (access.app.id, pid_number(&q.pid)?);
    // The page asks for its 9 charts at once: the first chart of each covering index reads all that index's figures,
    // the other charts of the index draw from that read (two reads a page, at once).
    let reads = &state.trend_reads.process;
    let shared = reads.is_shared().then(|| process::index_figures_of(kind.columns())).flatten();
    let columns: Columns = shared.unwrap_or(kind.columns());
    let (db, agent) = (&state.logs_db, q.agent_id.as_str());
    let read = |from, to| async move { Ok(process::figures_between(db, app as i64, agent, pid, (from, to), columns).await?) };
    let chunks = reads.rows((app, agent.to_owned(), pid, columns), (window.from, window.to), cache::settled_before(&now), read).await?;
    // Whole days and shared reads may hold rows before this window.
    let rows = chunks.iter().flat_map(|c| c.iter()).filter(|r| r.log_time >= window.from);
    ok(trends::process_trend(kind, rows, &now, hours))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SystemTrendQuery {
    #[param(value_type = String)]
    agent_id: AgentId,
    trend_type: String,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    duration: Option<u64>,
}

/// `GET /xapi/system_trend`: one of the 8 system charts.
pub async fn system_trend(state: State, access: auth::AppMember<SystemTrendQuery>) -> Handled {
    let q = access.params;
    let kind = SystemTrendType::from_str(&q.trend_type).map_err(|e| ConsoleError::bad(format!("unknown trendType {:?}", e.0)))?;
    let hours = duration(q.duration)?;
    let now = Local::now();
    let window = trends::window(&now, hours);
    let (app, agent, db) = (access.app.id, q.agent_id.as_str(), &state.logs_db);
    let reads = &state.trend_reads.system;
    let (columns, half): (Columns, Option<Half>) = match kind {
        // The disks are in no index: that chart reads its own half, and the disks of the minutes it draws only.
        SystemTrendType::DiskUsage => match trends::disk_sample(&now, hours) {
            Some(sample) => (kind.columns(), Some(Half::sampled(kind.half(), sample))),
            None => (kind.columns(), Some(Half::all(kind.half()))),
        },
        // The page asks for its 8 charts at once: the first reads every figure (both halves, from the index), the
        // others draw from that read.
        _ if reads.is_shared() => (SYSTEM_PAGE_FIGURES, None),
        _ => (kind.columns(), Some(Half::all(kind.half()))),
    };
    let read = |from, to| async move { Ok(osinfo::figures_between(db, app as i64, agent, (from, to), columns, half).await?) };
    // A sampled read's rows differ by its minutes only: the minutes it reads whole (the last bucket's, in today's
    // rows, which are read again soon) may be older in a kept day, and then more minutes carry disks, which draws the same.
    let kept = half.map(|h| (h.position, h.sampled.map(|s| (s.step, s.phase))));
    let chunks = reads.rows((app, agent.to_owned(), columns, kept), (window.from, window.to), cache::settled_before(&now), read).await?;
    // Whole days and shared reads may hold rows before this window.
    let rows = || chunks.iter().flat_map(|c| c.iter()).filter(|r| r.log_time >= window.from);
    // The mounts come from the newest minute's disks, which a sampled read carries unless the agent stopped
    // reporting before the last bucket: then that row's disks are read, and the row given first (the first row of a
    // minute is the one kept).
    let sampled = half.is_some_and(|h| h.sampled.is_some());
    let needed = if sampled { trends::mounts_row(rows()).filter(|r| r.disks.is_empty()) } else { None };
    let patched = match needed {
        Some(row) => osinfo::disks_at(db, app as i64, agent, row.log_time).await?.map(|disks| OsinfoRow { disks, ..row.clone() }),
        None => None,
    };
    ok(trends::system_trend(kind, patched.iter().chain(rows()), &now, hours))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct AgentOnly {
    #[param(value_type = String)]
    agent_id: AgentId,
}

/// `GET /xapi/system_overview`: the latest system figures of the last minutes (`{}` when there are none).
pub async fn system_overview(state: State, access: auth::AppMember<AgentOnly>) -> Handled {
    let now = Local::now().naive_local();
    let since = now - TimeDelta::minutes(RECENT_MINUTES);
    let rows = osinfo::latest_halves(&state.logs_db, access.app.id as i64, &access.params.agent_id, since, now + TimeDelta::seconds(1)).await?;
    match metrics::system_overview(&rows) {
        Some(overview) => ok(overview),
        None => ok(json!({})),
    }
}

/// `GET /xapi/xprofiler_processes`: the processes of the last 24 h, alive ones first. When the agent is offline the
/// list still shows what it reported, every process marked as no longer alive.
pub async fn xprofiler_processes(state: State, access: auth::AppMember<AgentOnly>) -> Handled {
    let (app, agent) = (access.app.id, access.params.agent_id);
    let now = Local::now();
    let until = now.naive_local() + TimeDelta::seconds(1);
    let since = until - TimeDelta::hours(metrics::HISTORY_HOURS);
    let latest = process::latest_per_pid(&state.logs_db, app as i64, &agent, since, until).await?;
    let pids: Vec<String> = latest.iter().map(|r| r.pid.to_string()).collect();
    let alive = match pids.is_empty() {
        true => HashSet::new(),
        false => alive_pids(&state, app, &agent, pids).await?,
    };
    let running = match state.manager.simple_command("/xprofiler/agent_node_processes", app, &agent, QUICK_MS).await? {
        Outcome::Done(out) => metrics::parse_node_processes(&out),
        Outcome::Failed(_) => Vec::new(),
    };
    ok(metrics::process_list(&latest, &alive, &running, &now))
}

/// The pids the agent reports alive; empty when it cannot be asked.
async fn alive_pids(state: &AppState, app: u64, agent: &AgentId, pids: Vec<String>) -> Result<HashSet<i64>, ConsoleError> {
    let body = ProcessesCommand { target: manager::target(app, agent, QUICK_MS), pids };
    let out = match state.manager.command("/xprofiler/check_processes_alive", &body, QUICK_MS).await? {
        Outcome::Done(out) => out,
        Outcome::Failed(_) => return Ok(HashSet::new()),
    };
    let answer: Value = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
    Ok(answer
        .as_object()
        .map(|o| o.iter().filter(|(_, alive)| alive.as_bool() == Some(true)).filter_map(|(pid, _)| pid.parse().ok()).collect())
        .unwrap_or_default())
}

/// `GET /xapi/overview_metrics`: the app card's counters, served from the card cache (`crate::cache`).
pub async fn overview_metrics(state: State, access: auth::AppMember) -> Handled {
    let app = access.app.id;
    let body = state.cards.get_or_compute(CardKey::Overview(app), async { reply_body(overview(&state, app).await?) }).await?;
    Ok(json_reply(body))
}

async fn overview(state: &AppState, app: u64) -> Result<Value, ConsoleError> {
    let online = state.manager.online_agents(app).await?;
    let instances = match online.len() {
        0 => json!(false),
        n => json!(n),
    };
    // The original counts alarms only when an agent is online; they are counted always here.
    let rules: Vec<u64> = strategies::of_app(&state.console_db, app).await?.iter().map(|s| s.id).collect();
    let alarms: u64 = crate::routes::alarm::recent_counts(state, app, &rules).await.values().sum();
    let (risk, risk_agent) = metrics::riskiest(&agent_risks(state, app, &online).await);
    Ok(json!({"instanceCount": instances, "alarmCount": alarms, "riskCount": risk, "riskCountAgentId": risk_agent}))
}

/// The serialized `{ok: true, data}` reply the card cache keeps.
fn reply_body(data: Value) -> Result<Bytes, ConsoleError> {
    serde_json::to_vec(&Reply::ok(data)).map(Bytes::from).map_err(|e| ConsoleError::Internal(format!("reply: {e}")))
}

/// A cached reply, answered as `HttpResponse::json` answers.
fn json_reply(body: Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(body)
}

/// Each online agent's risk figure from the audits the manager keeps (`manager.audit_registry_url`; none without it),
/// asked a few agents at a time; an agent the manager cannot answer for counts as not audited.
async fn agent_risks(state: &AppState, app: u64, agents: &[AgentId]) -> Vec<(String, Option<u64>)> {
    use futures_util::StreamExt;
    let asks = agents.iter().map(|agent| async move {
        let body = FilesQuery { app_id: AppId::Number(app), agent_id: agent.clone(), kind: LogFileKind::Package };
        let figure = match state.manager.data::<_, Value>("/xprofiler/files", &body).await {
            Ok(files) => metrics::agent_risk(&files),
            Err(e) => {
                tracing::debug!(agent = %agent, error = %e, "no package files for the risk count");
                None
            }
        };
        (agent.to_string(), figure)
    });
    futures_util::stream::iter(asks).buffered(8).collect().await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct MainMetricQuery {
    #[serde(rename = "type")]
    kind: String,
}

/// `GET /xapi/main_metrics`: one egg per online agent, served from the card cache (`crate::cache`). A process
/// counts as alive when it reported in the last minutes (asking every agent which pids live would cost a command per
/// agent per card).
pub async fn main_metrics(state: State, access: auth::AppMember<MainMetricQuery>) -> Handled {
    let kind = MainMetricType::from_str(&access.params.kind).map_err(|e| ConsoleError::bad(format!("unknown type {:?}", e.0)))?;
    let app = access.app.id;
    let body = state.cards.get_or_compute(CardKey::Main(app, kind), async { reply_body(eggs(&state, app, kind).await?) }).await?;
    Ok(json_reply(body))
}

async fn eggs(state: &AppState, app_id: u64, kind: MainMetricType) -> Result<Value, ConsoleError> {
    let app = app_id as i64;
    let now = Local::now().naive_local();
    let (since, until) = (now - TimeDelta::minutes(RECENT_MINUTES), now + TimeDelta::seconds(1));
    use futures_util::StreamExt;
    let agents = state.manager.online_agents(app_id).await?;
    // The agents' reads run MAIN_METRICS_PARALLEL at a time (one query each, in order of the agents): an app with
    // 100 agents answered in a row took 100 round trips.
    let logs_db = &state.logs_db;
    let reads = futures_util::stream::iter(agents.iter().map(|agent| async move {
        match kind.reads_processes() {
            true => process::latest_per_pid(logs_db, app, agent, since, until).await.map(|p| (p, Vec::new())),
            false => osinfo::latest_halves(logs_db, app, agent, since, until).await.map(|s| (Vec::new(), s)),
        }
    }));
    let figures: Vec<_> = reads.buffered(MAIN_METRICS_PARALLEL).collect().await;
    let mut list = Vec::with_capacity(agents.len());
    for (agent, read) in agents.iter().zip(figures) {
        let (processes, system) = read?;
        let alive: HashSet<i64> = processes.iter().map(|r| r.pid).collect();
        let figures = AgentFigures { processes: &processes, alive: &alive, osinfo: &system };
        list.push(metrics::main_metric(kind, agent, &figures, false));
    }
    Ok(json!({"list": list}))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_offered_durations_are_accepted() {
        assert_eq!(super::duration(None).unwrap(), 24);
        assert_eq!(super::duration(Some(168)).unwrap(), 168);
        assert!(super::duration(Some(100000)).is_err());
    }
}
