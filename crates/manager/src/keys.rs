//! Redis key names: the original manager's, so both can share one Redis, behind the configured prefix.

use common::redis::RedisPool;

pub const APPS: &str = "XTRANSIT_APP";
pub const LOG_FILES: &str = "XTRANSIT_LOG";

pub fn clients(redis: &RedisPool, app: &str) -> String {
    redis.key(&format!("XTRANSIT_CLIENT::{app}"))
}

pub fn log_files(redis: &RedisPool, app: &str, agent: &str) -> String {
    redis.key(&format!("XTRANSIT_LOG_FILE::{app}::{agent}"))
}

pub fn error_log(redis: &RedisPool, app: &str, agent: &str, file: &str) -> String {
    redis.key(&format!("XTRANSIT_ERROR_LOG::{app}::{agent}::{file}"))
}

pub fn package(redis: &RedisPool, app: &str, file: &str) -> String {
    redis.key(&format!("XTRANSIT_PKG_LOG::{app}::{file}"))
}

/// Ours: marks a forwarded log (by the agent frame's traceId) as stored, so a retried post is not stored twice.
pub fn ingested(redis: &RedisPool, trace_id: &str) -> String {
    redis.key(&format!("EZM_INGESTED::{trace_id}"))
}
