//! The dependency audit against an npm-compatible registry (`manager.audit_registry_url`): the bulk advisory
//! endpoint, called off the request path by the alarm engine when a package file is reported and its last result
//! (kept `manager.audit_cache_secs` under the original's `XTRANSIT_PKG_AUDIT` key) has expired.

use std::time::Duration;

use common::redis::RedisPool;
use deadpool_redis::redis;
use protocol::logs::PackageEntry;
use serde_json::{json, Value};
use store::keys::Keys;

use crate::domain::audit;
use crate::error::ManagerError;

#[derive(Clone)]
pub struct Auditor {
    http: reqwest::Client,
    endpoint: String,
    cache_secs: u64,
    redis: RedisPool,
    keys: Keys,
}

impl Auditor {
    /// None when no registry is configured.
    pub fn new(base_url: &str, cache_secs: u64, timeout: Duration, redis: RedisPool) -> anyhow::Result<Option<Auditor>> {
        let base = base_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return Ok(None);
        }
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        let keys = Keys::new(redis.prefix());
        Ok(Some(Auditor { http, endpoint: format!("{base}/-/npm/v1/security/advisories/bulk"), cache_secs: cache_secs.max(1), redis, keys }))
    }

    /// Audits the package file unless its last result is still kept; the fresh `risk`, or None.
    pub async fn audit(&self, app: &str, agent: &str, pkg: &PackageEntry, scan_time: &str) -> Result<Option<Value>, ManagerError> {
        let (Some(name), Some(lock)) = (&pkg.name, &pkg.lock) else { return Ok(None) };
        let key = self.keys.package_audit(app, agent, name);
        let mut conn = self.redis.get().await?;
        let kept: bool = redis::cmd("EXISTS").arg(&key).query_async(&mut conn).await?;
        drop(conn);
        if kept {
            return Ok(None);
        }
        let Some(inventory) = audit::inventory(lock) else { return Ok(None) };
        let reply = self.http.post(&self.endpoint).json(&inventory.request()).send().await;
        let answer: Value = match reply {
            Ok(r) if r.status().is_success() => match r.json().await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "dependency audit answer unreadable");
                    return Ok(None);
                }
            },
            Ok(r) => {
                tracing::warn!(file = %name, status = r.status().as_u16(), "dependency audit refused");
                return Ok(None);
            }
            Err(e) => {
                tracing::warn!(file = %name, timeout = e.is_timeout(), "dependency audit failed");
                return Ok(None);
            }
        };
        let (risk, modules) = audit::summarize(&inventory, &answer, scan_time);
        let mut conn = self.redis.get().await?;
        let value = json!({"risk": risk, "riskModules": modules}).to_string();
        redis::cmd("SETEX").arg(&key).arg(self.cache_secs).arg(value).query_async::<()>(&mut conn).await?;
        Ok(Some(risk))
    }

    /// The kept `{risk, riskModules}` of a package file, if any.
    pub async fn kept(redis: &RedisPool, app: &str, agent: &str, file: &str) -> Result<Option<Value>, ManagerError> {
        let keys = Keys::new(redis.prefix());
        let mut conn = redis.get().await?;
        let raw: Option<String> = redis::cmd("GET").arg(keys.package_audit(app, agent, file)).query_async(&mut conn).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }
}
