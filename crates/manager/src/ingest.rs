//! `/xtransit/log`: one agent log → MySQL rows and Redis entries (reference: xtransit-manager §4).

use std::sync::Arc;

use common::redis::RedisPool;
use deadpool_redis::redis;
use protocol::logs::{AgentLog, CoreFilesLog};
use protocol::{AgentId, AppId};
use serde_json::json;
use store::console_db::coredumps::{self, ReportedCore};
use store::keys::Keys;

use crate::clients::logstore::LogStore;
use crate::domain::rows;
use crate::error::ManagerError;
use crate::jobs::alarms::{Alarms, Event};
use crate::jobs::writer::MetricWriter;
use crate::stats::Stats;

/// How long a stored log's traceId is remembered to recognise a retried post.
const DEDUP_TTL_SECS: u64 = 900;

#[derive(Clone)]
pub struct Ingest {
    pub writer: MetricWriter,
    pub logs: LogStore,
    pub console_db: mysql_async::Pool,
    pub redis: RedisPool,
    pub keys: Keys,
    pub stats: Arc<Stats>,
    /// The alarm engine's queue: each stored log is evaluated there, off the request path.
    pub alarms: Alarms,
}

impl Ingest {
    /// Stores one log collected at `now_ms` or before. With a `trace_id`, the log is remembered once stored, and
    /// when `maybe_seen` a log already stored under that traceId is acknowledged without storing it again.
    pub async fn ingest(&self, app: &AppId, agent: &AgentId, log: &str, trace_id: Option<&str>, maybe_seen: bool, now_ms: i64) -> Result<(), ManagerError> {
        let app_num = app.as_u64().ok_or_else(|| ManagerError::bad(format!("appId {:?} is not a number", app.to_string())))?;
        let log = AgentLog::parse(log).map_err(|e| {
            self.stats.logs_rejected.inc();
            ManagerError::bad(e.to_string())
        })?;
        self.stats.log_received(log.kind());
        if writes_nothing(&log) {
            // Half of an agent's minute is empty error_log / core_files reports: no need for the dedup round trips.
            return Ok(());
        }
        if let Some(trace_id) = trace_id.filter(|_| maybe_seen) {
            let mut conn = self.redis.get().await?;
            let seen: bool = redis::cmd("EXISTS").arg(self.keys.ingested(trace_id)).query_async(&mut conn).await?;
            if seen {
                self.stats.logs_duplicate.inc();
                return Ok(());
            }
        }
        let (app_text, agent_text) = (app.to_string(), agent.as_str());
        match &log {
            AgentLog::System(system) => {
                let row = rows::system_row(app_num as i64, agent_text, system).ok_or_else(|| ManagerError::bad("system_log has no log_time"))?;
                self.writer.write(vec![row]).await?;
                self.observe_lag(system.log_timestamp, now_ms);
            }
            AgentLog::Xprofiler(xlog) => {
                self.writer.write(rows::xprofiler_rows(app_num as i64, agent_text, xlog)).await?;
                if !xlog.logs.is_empty() {
                    self.observe_lag(xlog.log_timestamp, now_ms);
                }
            }
            AgentLog::Error(errors) => {
                self.logs.store_errors(&app_text, agent_text, errors).await?;
            }
            AgentLog::Package(packages) => self.logs.store_packages(&app_text, agent_text, packages).await?,
            AgentLog::CoreFiles(cores) => self.store_cores(app_num, agent_text, cores).await?,
            AgentLog::Other(kind) => unreachable!("{kind}: unknown kinds write nothing and returned above"),
        }
        if let Some(trace_id) = trace_id {
            let mut conn = self.redis.get().await?;
            redis::cmd("SET").arg(self.keys.ingested(trace_id)).arg(1).arg("EX").arg(DEDUP_TTL_SECS).query_async::<()>(&mut conn).await?;
        }
        self.alarms.submit(Event::Log { app: app_num, agent: agent_text.to_owned(), log });
        Ok(())
    }

    fn observe_lag(&self, log_timestamp: Option<f64>, now_ms: i64) {
        if let Some(ts) = log_timestamp {
            self.stats.observe_lag_ms(now_ms - ts as i64);
        }
    }

    /// `core_files` → `coredumps` rows owned by the System user.
    async fn store_cores(&self, app: u64, agent: &str, cores: &CoreFilesLog) -> Result<(), ManagerError> {
        let reported: Vec<ReportedCore<'_>> = cores
            .list
            .iter()
            .map(|core| ReportedCore {
                path: &core.core_path,
                node: json!({
                    "executable_path": core.executable_path,
                    "alinode": core.alinode_version.is_some(),
                    "version": core.alinode_version.clone().or_else(|| core.node_version.clone()),
                })
                .to_string(),
            })
            .collect();
        coredumps::insert_reported(&self.console_db, app, agent, &reported).await?;
        Ok(())
    }
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
