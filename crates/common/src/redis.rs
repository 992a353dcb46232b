//! Redis pools (deadpool-redis): one server, or Redis Cluster when `redis.servers` lists several addresses
//! (the reference deployments' `REDIS_SERVER=host:port,host:port` convention). Every key goes through
//! [`RedisPool::key`], which applies the configured prefix.

use std::time::Duration;

use deadpool_redis::redis::aio::ConnectionLike;
use deadpool_redis::redis::{self, Cmd, Pipeline, RedisFuture, Value};
use deadpool_redis::{PoolConfig, Runtime, Timeouts};
use secrecy::ExposeSecret;

use crate::settings::RedisSettings;

#[derive(Clone)]
pub struct RedisPool {
    inner: Inner,
    prefix: String,
}

#[derive(Clone)]
enum Inner {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("redis pool: {0}")]
    Pool(String),
    #[error("redis: {0}")]
    Command(#[from] redis::RedisError),
}

impl RedisPool {
    pub fn new(settings: &RedisSettings) -> Result<Self, RedisError> {
        let urls = urls(settings);
        let pool_config = PoolConfig {
            max_size: settings.pool_max.max(1),
            timeouts: Timeouts { wait: Some(Duration::from_secs(5)), create: Some(Duration::from_secs(5)), recycle: Some(Duration::from_secs(5)) },
            ..Default::default()
        };
        let inner = match urls.len() {
            1 => {
                let mut cfg = deadpool_redis::Config::from_url(urls[0].clone());
                cfg.pool = Some(pool_config);
                Inner::Single(cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| RedisError::Pool(e.to_string()))?)
            }
            _ => {
                let mut cfg = deadpool_redis::cluster::Config::from_urls(urls);
                cfg.pool = Some(pool_config);
                Inner::Cluster(cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| RedisError::Pool(e.to_string()))?)
            }
        };
        Ok(RedisPool { inner, prefix: settings.key_prefix.clone() })
    }

    pub async fn get(&self) -> Result<RedisConn, RedisError> {
        match &self.inner {
            Inner::Single(p) => p.get().await.map(RedisConn::Single).map_err(|e| RedisError::Pool(e.to_string())),
            Inner::Cluster(p) => p.get().await.map(RedisConn::Cluster).map_err(|e| RedisError::Pool(e.to_string())),
        }
    }

    /// The full key name for `name` (prefix applied).
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `PING`, for `/readyz`.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let mut conn = self.get().await?;
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }
}

/// `host:port[,host:port]` → `redis://[:password@]host:port/db`. A missing or bad port means 6379, as the original.
fn urls(settings: &RedisSettings) -> Vec<String> {
    let auth = match settings.password.expose_secret() {
        "" => String::new(),
        p => format!(":{}@", percent_encode(p)),
    };
    settings
        .servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|server| {
            let (host, port) = match server.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().unwrap_or(6379)),
                None => (server, 6379),
            };
            format!("redis://{auth}{host}:{port}/{}", settings.db)
        })
        .collect()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A pooled connection to either kind of deployment; usable wherever redis-rs wants a connection.
pub enum RedisConn {
    Single(deadpool_redis::Connection),
    Cluster(deadpool_redis::cluster::Connection),
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(&'a mut self, cmd: &'a Pipeline, offset: usize, count: usize) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(cmd, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn server_lists_become_urls() {
        let s = RedisSettings { servers: "a:7000, b ,c:x".into(), password: SecretString::from("p@ss"), db: 2, key_prefix: String::new(), pool_max: 1 };
        assert_eq!(urls(&s), ["redis://:p%40ss@a:7000/2", "redis://:p%40ss@b:6379/2", "redis://:p%40ss@c:6379/2"]);
    }
}
