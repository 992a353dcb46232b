//! `/xtransit/log`: one agent log → MySQL rows and Redis entries (reference: xtransit-manager §4).

use deadpool_redis::redis;
use mysql_async::prelude::Queryable;
use protocol::logs::{AgentLog, CoreFilesLog};
use serde_json::json;

use crate::error::ManagerError;
use crate::startup::AppState;
use crate::{keys, logstore, rows};

/// How long a stored log's traceId is remembered to recognise a retried post.
const DEDUP_TTL_SECS: u64 = 900;

/// Stores one log. With a `trace_id`, the log is remembered once stored, and when `maybe_seen` a log already stored
/// under that traceId is acknowledged without storing it again.
pub async fn ingest(state: &AppState, app: &str, agent: &str, log: &str, trace_id: Option<&str>, maybe_seen: bool) -> Result<(), ManagerError> {
    let app_num: i64 = app
        .trim()
        .parse()
        .map_err(|_| ManagerError::bad(format!("appId {app:?} is not a number")))?;
    let log = AgentLog::parse(log).map_err(|e| {
        state.stats.logs_rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ManagerError::bad(e.to_string())
    })?;
    state.stats.log_received(log.kind());
    if writes_nothing(&log) {
        // Half of an agent's minute is empty error_log / core_files reports: no need for the dedup round trips.
        return Ok(());
    }
    if let Some(trace_id) = trace_id.filter(|_| maybe_seen) {
        let mut conn = state.redis.get().await?;
        let seen: bool = redis::cmd("EXISTS").arg(keys::ingested(&state.redis, trace_id)).query_async(&mut conn).await?;
        if seen {
            state.stats.logs_duplicate.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        }
    }
    match &log {
        AgentLog::System(system) => {
            let row = rows::system_row(app_num, agent, system).ok_or_else(|| ManagerError::bad("system_log has no log_time"))?;
            state.writer.write(vec![row]).await?;
            observe_lag(state, system.log_timestamp);
        }
        AgentLog::Xprofiler(xlog) => {
            state.writer.write(rows::xprofiler_rows(app_num, agent, xlog)).await?;
            if !xlog.logs.is_empty() {
                observe_lag(state, xlog.log_timestamp);
            }
        }
        AgentLog::Error(errors) => {
            logstore::store_errors(state, app, agent, errors).await?;
        }
        AgentLog::Package(packages) => logstore::store_packages(state, app, agent, packages).await?,
        AgentLog::CoreFiles(cores) => store_cores(state, app_num, agent, cores).await?,
        AgentLog::Other(kind) => unreachable!("{kind}: unknown kinds write nothing and returned above"),
    }
    if let Some(trace_id) = trace_id {
        let mut conn = state.redis.get().await?;
        redis::cmd("SET").arg(keys::ingested(&state.redis, trace_id)).arg(1).arg("EX").arg(DEDUP_TTL_SECS).query_async::<()>(&mut conn).await?;
    }
    Ok(())
}

/// True for reports that store nothing (the agent sends every kind even when empty).
fn writes_nothing(log: &AgentLog) -> bool {
    match log {
        AgentLog::Xprofiler(x) => x.logs.is_empty(),
        AgentLog::Error(e) => e.files.is_empty(),
        AgentLog::Package(p) => p.pkgs.iter().all(|p| p.name.is_none()),
        AgentLog::CoreFiles(c) => c.list.is_empty(),
        AgentLog::System(_) => false,
        AgentLog::Other(_) => true,
    }
}

fn observe_lag(state: &AppState, log_timestamp: Option<f64>) {
    if let Some(ts) = log_timestamp {
        state.stats.observe_lag_ms(chrono::Utc::now().timestamp_millis() - ts as i64);
    }
}

/// `core_files` → `coredumps` rows owned by the System user. A core reported twice is stored once (the original
/// failed the whole request on the unique key).
async fn store_cores(state: &AppState, app: i64, agent: &str, cores: &CoreFilesLog) -> Result<(), ManagerError> {
    if cores.list.is_empty() {
        return Ok(());
    }
    let mut conn = state.console_db.get_conn().await?;
    for core in &cores.list {
        let node = json!({
            "executable_path": core.executable_path,
            "alinode": core.alinode_version.is_some(),
            "version": core.alinode_version.clone().or_else(|| core.node_version.clone()),
        });
        conn.exec_drop(
            "INSERT IGNORE INTO coredumps (app, agent, file, node, user, file_status, file_storage, node_status, node_storage) \
             VALUES (?, ?, ?, ?, 999999, 1, '', 1, '')",
            (app, agent, &core.core_path, node.to_string()),
        )
        .await?;
    }
    Ok(())
}
