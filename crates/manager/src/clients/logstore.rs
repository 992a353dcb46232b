//! Error logs and package files, kept in Redis as the original keeps them (reference: xtransit-manager §4.3, §4.4, §5):
//! the per-agent file list `XTRANSIT_LOG_FILE::{app}::{agent}`, capped and expiring error lists, package texts.

use chrono::{Days, Local, NaiveTime, TimeZone};
use deadpool_redis::redis;
use protocol::logs::{ErrorLog, PackageLog};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::redis::RedisPool;
use protocol::service::LogFileKind as FileKind;
use store::keys::Keys;

use crate::error::ManagerError;

/// Error files count as reported for 5 minutes after their last report, package files for a day.
const ERROR_FILE_TTL_MS: i64 = 300_000;
const PACKAGE_FILE_TTL_MS: i64 = 86_400_000;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileEntry {
    app_id: Value,
    agent_id: String,
    #[serde(rename = "type")]
    kind: FileKind,
    timestamp: i64,
}

fn file_entry(app: &str, agent: &str, kind: FileKind) -> String {
    let entry = FileEntry { app_id: json!(app), agent_id: agent.to_owned(), kind, timestamp: now_ms() };
    serde_json::to_string(&entry).expect("a struct of strings and integers serializes")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Local midnight `days` ahead, as a unix timestamp (the original's EXPIREAT for error lists).
fn midnight_in(days: u64) -> i64 {
    let today = Local::now().date_naive();
    let day = today.checked_add_days(Days::new(days)).unwrap_or(today);
    Local
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.timestamp())
        .unwrap_or_else(|| chrono::Utc::now().timestamp() + days as i64 * 86_400)
}

/// How long and how much of the agents' error logs and package files is kept.
#[derive(Debug, Clone, Copy)]
pub struct LogLimits {
    /// Entries kept per error file.
    pub error_log_limit: isize,
    /// Error lists expire at local midnight this many days ahead.
    pub error_log_days: u64,
    pub package_days: u64,
}

#[derive(Clone)]
pub struct LogStore {
    redis: RedisPool,
    keys: Keys,
    limits: LogLimits,
}

impl LogStore {
    pub fn new(redis: RedisPool, limits: LogLimits) -> Self {
        let keys = Keys::new(redis.prefix());
        LogStore { redis, keys, limits }
    }

    /// `error_log`: every reported file stays "alive"; new errors go to the front of the file's list.
    pub async fn store_errors(&self, app: &str, agent: &str, log: &ErrorLog) -> Result<usize, ManagerError> {
        let files_key = self.keys.log_files(app, agent);
        let mut pipe = redis::pipe();
        let mut stored = 0;
        for (path, entries) in &log.files {
            pipe.cmd("SADD").arg(self.keys.log_file_sets()).arg(&files_key).ignore();
            pipe.cmd("HSET").arg(&files_key).arg(path).arg(file_entry(app, agent, FileKind::Error)).ignore();
            if entries.is_empty() {
                continue;
            }
            let list = self.keys.error_log(app, agent, path);
            let texts: Vec<String> = entries.iter().map(|e| serde_json::to_string(e).expect("error entries serialize")).collect();
            pipe.cmd("LPUSH").arg(&list).arg(&texts).ignore();
            pipe.cmd("LTRIM").arg(&list).arg(0).arg(self.limits.error_log_limit - 1).ignore();
            pipe.cmd("EXPIREAT").arg(&list).arg(midnight_in(self.limits.error_log_days)).ignore();
            stored += entries.len();
        }
        let mut conn = self.redis.get().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok(stored)
    }

    /// `package`: the package.json and lock texts of each file, for the module list (and, later, the audit).
    pub async fn store_packages(&self, app: &str, agent: &str, log: &PackageLog) -> Result<(), ManagerError> {
        let files_key = self.keys.log_files(app, agent);
        let ttl = self.limits.package_days * 86_400;
        let mut pipe = redis::pipe();
        for pkg in &log.pkgs {
            let Some(name) = &pkg.name else { continue };
            let value = json!({"pkg": pkg.pkg, "lock": pkg.lock}).to_string();
            pipe.cmd("SADD").arg(self.keys.log_file_sets()).arg(&files_key).ignore();
            pipe.cmd("HSET").arg(&files_key).arg(name).arg(file_entry(app, agent, FileKind::Package)).ignore();
            pipe.cmd("SETEX").arg(self.keys.package(app, name)).arg(ttl).arg(value).ignore();
        }
        let mut conn = self.redis.get().await?;
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Files of `kind` the agent reported recently, in the order Redis returns them.
    pub async fn files(&self, app: &str, agent: &str, kind: FileKind) -> Result<Vec<String>, ManagerError> {
        let mut conn = self.redis.get().await?;
        let all: Vec<(String, String)> = redis::cmd("HGETALL").arg(self.keys.log_files(app, agent)).query_async(&mut conn).await?;
        let ttl = match kind {
            FileKind::Error => ERROR_FILE_TTL_MS,
            FileKind::Package => PACKAGE_FILE_TTL_MS,
        };
        let now = now_ms();
        Ok(all
            .into_iter()
            .filter_map(|(path, raw)| {
                let entry: FileEntry = serde_json::from_str(&raw).ok()?;
                (entry.kind == kind && now - entry.timestamp < ttl).then_some(path)
            })
            .collect())
    }

    /// One page of an error file's list, newest first.
    pub async fn errors(&self, app: &str, agent: &str, file: &str, page: u64, size: u64) -> Result<Value, ManagerError> {
        if !self.files(app, agent, FileKind::Error).await?.iter().any(|f| f == file) {
            return Err(ManagerError::Declined(format!("file {file} not exists on [{app}::{agent}]")));
        }
        let key = self.keys.error_log(app, agent, file);
        let start = page.saturating_sub(1).saturating_mul(size) as isize;
        let stop = (page.max(1).saturating_mul(size) as isize) - 1;
        let mut conn = self.redis.get().await?;
        let (count, items): (u64, Vec<String>) =
            redis::pipe().cmd("LLEN").arg(&key).cmd("LRANGE").arg(&key).arg(start).arg(stop).query_async(&mut conn).await?;
        let errors: Vec<Value> = items.iter().filter_map(|i| serde_json::from_str(i).ok()).collect();
        Ok(json!({"count": count, "errors": errors}))
    }

    /// `/xprofiler/modules`: direct dependencies with the versions the lock file resolved (lockfile v1, v2 and v3).
    pub async fn modules(&self, app: &str, agent: &str, file: &str) -> Result<Value, ManagerError> {
        if !self.files(app, agent, FileKind::Package).await?.iter().any(|f| f == file) {
            return Err(ManagerError::Declined(format!("file {file} not exists on [{app}::{agent}]")));
        }
        let mut conn = self.redis.get().await?;
        let raw: Option<String> = redis::cmd("GET").arg(self.keys.package(app, file)).query_async(&mut conn).await?;
        let Some(raw) = raw else {
            return Err(ManagerError::Declined(format!("package data of {file} has expired, wait for the agent's next report")));
        };
        Ok(crate::domain::modules::resolve(file, &raw))
    }
}
