//! Error logs and package files, kept in Redis as the original keeps them (reference: xtransit-manager §4.3, §4.4, §5):
//! the per-agent file list `XTRANSIT_LOG_FILE::{app}::{agent}`, capped and expiring error lists, package texts.

use std::collections::BTreeMap;

use chrono::{Days, Local, NaiveTime, TimeZone};
use deadpool_redis::redis;
use protocol::logs::{ErrorLog, PackageLog};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::ManagerError;
use crate::keys;
use crate::startup::AppState;

/// Error files count as reported for 5 minutes after their last report, package files for a day.
const ERROR_FILE_TTL_MS: i64 = 300_000;
const PACKAGE_FILE_TTL_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Error,
    Package,
}

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

/// `error_log`: every reported file stays "alive"; new errors go to the front of the file's list.
pub async fn store_errors(state: &AppState, app: &str, agent: &str, log: &ErrorLog) -> Result<usize, ManagerError> {
    let files_key = keys::log_files(&state.redis, app, agent);
    let mut pipe = redis::pipe();
    let mut stored = 0;
    for (path, entries) in &log.files {
        pipe.cmd("SADD").arg(state.redis.key(keys::LOG_FILES)).arg(&files_key).ignore();
        pipe.cmd("HSET").arg(&files_key).arg(path).arg(file_entry(app, agent, FileKind::Error)).ignore();
        if entries.is_empty() {
            continue;
        }
        let list = keys::error_log(&state.redis, app, agent, path);
        let texts: Vec<String> = entries.iter().map(|e| serde_json::to_string(e).expect("error entries serialize")).collect();
        pipe.cmd("LPUSH").arg(&list).arg(&texts).ignore();
        pipe.cmd("LTRIM").arg(&list).arg(0).arg(state.settings.manager.error_log_limit - 1).ignore();
        pipe.cmd("EXPIREAT").arg(&list).arg(midnight_in(state.settings.manager.error_log_days as u64)).ignore();
        stored += entries.len();
    }
    let mut conn = state.redis.get().await?;
    pipe.query_async::<()>(&mut conn).await?;
    Ok(stored)
}

/// `package`: the package.json and lock texts of each file, for the module list (and, later, the audit).
pub async fn store_packages(state: &AppState, app: &str, agent: &str, log: &PackageLog) -> Result<(), ManagerError> {
    let files_key = keys::log_files(&state.redis, app, agent);
    let ttl = state.settings.manager.package_days * 86_400;
    let mut pipe = redis::pipe();
    for pkg in &log.pkgs {
        let Some(name) = &pkg.name else { continue };
        let value = json!({"pkg": pkg.pkg, "lock": pkg.lock}).to_string();
        pipe.cmd("SADD").arg(state.redis.key(keys::LOG_FILES)).arg(&files_key).ignore();
        pipe.cmd("HSET").arg(&files_key).arg(name).arg(file_entry(app, agent, FileKind::Package)).ignore();
        pipe.cmd("SETEX").arg(keys::package(&state.redis, app, name)).arg(ttl).arg(value).ignore();
    }
    let mut conn = state.redis.get().await?;
    pipe.query_async::<()>(&mut conn).await?;
    Ok(())
}

/// Files of `kind` the agent reported recently, in the order Redis returns them.
pub async fn files(state: &AppState, app: &str, agent: &str, kind: FileKind) -> Result<Vec<String>, ManagerError> {
    let mut conn = state.redis.get().await?;
    let all: Vec<(String, String)> = redis::cmd("HGETALL").arg(keys::log_files(&state.redis, app, agent)).query_async(&mut conn).await?;
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
pub async fn errors(state: &AppState, app: &str, agent: &str, file: &str, page: u64, size: u64) -> Result<Value, ManagerError> {
    if !files(state, app, agent, FileKind::Error).await?.iter().any(|f| f == file) {
        return Err(ManagerError::Business(format!("file {file} not exists on [{app}::{agent}]")));
    }
    let key = keys::error_log(&state.redis, app, agent, file);
    let start = page.saturating_sub(1).saturating_mul(size) as isize;
    let stop = (page.max(1).saturating_mul(size) as isize) - 1;
    let mut conn = state.redis.get().await?;
    let (count, items): (u64, Vec<String>) = redis::pipe()
        .cmd("LLEN").arg(&key)
        .cmd("LRANGE").arg(&key).arg(start).arg(stop)
        .query_async(&mut conn)
        .await?;
    let errors: Vec<Value> = items.iter().filter_map(|i| serde_json::from_str(i).ok()).collect();
    Ok(json!({"count": count, "errors": errors}))
}

/// `/xprofiler/modules`: direct dependencies with the versions the lock file resolved (lockfile v1, v2 and v3).
pub async fn modules(state: &AppState, app: &str, agent: &str, file: &str) -> Result<Value, ManagerError> {
    if !files(state, app, agent, FileKind::Package).await?.iter().any(|f| f == file) {
        return Err(ManagerError::Business(format!("file {file} not exists on [{app}::{agent}]")));
    }
    let mut conn = state.redis.get().await?;
    let raw: Option<String> = redis::cmd("GET").arg(keys::package(&state.redis, app, file)).query_async(&mut conn).await?;
    let Some(raw) = raw else {
        return Err(ManagerError::Business(format!("package data of {file} has expired, wait for the agent's next report")));
    };
    let stored: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let parse = |field: &str| -> Value {
        stored.get(field).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| json!({"dependencies": {}, "devDependencies": {}}))
    };
    let pkg = parse("pkg");
    let lock = parse("lock");
    let deps = pkg.get("dependencies").cloned().unwrap_or_else(|| json!({}));
    let dev = pkg.get("devDependencies").cloned().unwrap_or_else(|| json!({}));
    let mut lock_module = Map::new();
    let names = deps.as_object().into_iter().chain(dev.as_object()).flat_map(|m| m.keys());
    for name in names {
        let locked = lock
            .get("dependencies")
            .and_then(|d| d.get(name))
            .or_else(|| lock.get("packages").and_then(|p| p.get(format!("node_modules/{name}"))));
        if let Some(locked) = locked {
            let picked: BTreeMap<&str, Value> = ["version", "resolved"]
                .into_iter()
                .filter_map(|k| locked.get(k).map(|v| (k, v.clone())))
                .collect();
            lock_module.insert(name.clone(), json!(picked));
        }
    }
    Ok(json!({"dependencies": deps, "devDependencies": dev, "lockModule": lock_module, "file": file}))
}
