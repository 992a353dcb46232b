//! Signed-in sessions and the sign-in failure counters, in Redis through the services' pool (so Redis Cluster
//! works). A session is a random 256-bit token in an HttpOnly cookie; Redis keeps only its SHA-256, so reading
//! Redis does not give anyone a usable session. Idle expiry is the key's TTL, renewed on every request; the absolute
//! expiry is checked against the creation time stored with it.
//!
//! Not actix-session: its Redis store takes its own connection (no Cluster through our pool) and sets the cookie's
//! `Secure` flag once for all requests, where ours follows the request's scheme.

use common::redis::{RedisError, RedisPool};
use deadpool_redis::redis;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::keys::Keys;

pub const COOKIE: &str = "ezm_session";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: u64,
    pub created_ms: i64,
}

#[derive(Clone)]
pub struct Sessions {
    redis: RedisPool,
    keys: Keys,
    idle_secs: u64,
    max_secs: u64,
}

impl Sessions {
    pub fn new(redis: RedisPool, idle_secs: u64, max_secs: u64) -> Self {
        let keys = Keys::new(redis.prefix());
        Sessions { redis, keys, idle_secs, max_secs }
    }

    pub fn idle_secs(&self) -> u64 {
        self.idle_secs
    }

    /// Starts a session for `user`; returns the cookie value.
    pub async fn create(&self, user: u64, now_ms: i64) -> Result<String, RedisError> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let value = serde_json::to_string(&Session { user, created_ms: now_ms }).expect("a struct of integers serializes");
        let mut conn = self.redis.get().await?;
        redis::cmd("SET").arg(self.key(&token)).arg(value).arg("EX").arg(self.idle_secs).query_async::<()>(&mut conn).await?;
        Ok(token)
    }

    /// The live session of `token`, its idle time renewed; `None` when unknown, idle too long or too old.
    pub async fn get(&self, token: &str, now_ms: i64) -> Result<Option<Session>, RedisError> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let key = self.key(token);
        let mut conn = self.redis.get().await?;
        let (raw,): (Option<String>,) = redis::pipe().cmd("GET").arg(&key).cmd("EXPIRE").arg(&key).arg(self.idle_secs).ignore().query_async(&mut conn).await?;
        let Some(session) = raw.and_then(|r| serde_json::from_str::<Session>(&r).ok()) else { return Ok(None) };
        if now_ms - session.created_ms > self.max_secs as i64 * 1000 {
            redis::cmd("DEL").arg(&key).query_async::<()>(&mut conn).await?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Ends the session of `token` (sign-out).
    pub async fn destroy(&self, token: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.get().await?;
        redis::cmd("DEL").arg(self.key(token)).query_async::<()>(&mut conn).await?;
        Ok(())
    }

    fn key(&self, token: &str) -> String {
        self.keys.session(&hex::encode(Sha256::digest(token.as_bytes())))
    }
}

/// Failed sign-ins counted per account and per client address over a fixed window.
#[derive(Clone)]
pub struct SignInLimits {
    redis: RedisPool,
    keys: Keys,
    pub per_account: u32,
    pub per_address: u32,
    pub window_secs: u64,
}

impl SignInLimits {
    pub fn new(redis: RedisPool, per_account: u32, per_address: u32, window_secs: u64) -> Self {
        let keys = Keys::new(redis.prefix());
        SignInLimits { redis, keys, per_account, per_address, window_secs }
    }

    /// Seconds to wait when the account or the address is over its limit, else `None`.
    pub async fn blocked(&self, account: &str, address: &str) -> Result<Option<u64>, RedisError> {
        let (account_key, address_key) = (self.keys.signin_failures("account", account), self.keys.signin_failures("address", address));
        let mut conn = self.redis.get().await?;
        let (a, b, ta, tb): (Option<u32>, Option<u32>, i64, i64) = redis::pipe()
            .cmd("GET")
            .arg(&account_key)
            .cmd("GET")
            .arg(&address_key)
            .cmd("TTL")
            .arg(&account_key)
            .cmd("TTL")
            .arg(&address_key)
            .query_async(&mut conn)
            .await?;
        let mut wait = None;
        if a.unwrap_or(0) >= self.per_account {
            wait = Some(ta.max(1) as u64);
        }
        if b.unwrap_or(0) >= self.per_address {
            wait = Some(wait.unwrap_or(0).max(tb.max(1) as u64));
        }
        Ok(wait)
    }

    pub async fn failed(&self, account: &str, address: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.get().await?;
        let mut pipe = redis::pipe();
        for key in [self.keys.signin_failures("account", account), self.keys.signin_failures("address", address)] {
            // The window starts with the first failure (NX), and the count grows within it.
            pipe.cmd("SET").arg(&key).arg(0).arg("EX").arg(self.window_secs).arg("NX").ignore();
            pipe.cmd("INCR").arg(&key).ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// A successful sign-in clears the account's count (not the address's).
    pub async fn succeeded(&self, account: &str) -> Result<(), RedisError> {
        let mut conn = self.redis.get().await?;
        redis::cmd("DEL").arg(self.keys.signin_failures("account", account)).query_async::<()>(&mut conn).await?;
        Ok(())
    }
}
