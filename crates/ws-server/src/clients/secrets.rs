//! App secrets, fetched from the manager's `/xtransit/app_secret` and cached for `app_secret_ttl_secs`, so a
//! heartbeat does not cost a MySQL query. One fetch per app at a time (callers wait for it), and when the manager
//! cannot be reached the last known secret keeps being used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::client::ServiceClient;
use protocol::service::{AppSecret, AppSecretQuery};
use protocol::AppId;

#[derive(Clone)]
struct Cached {
    secret: Option<String>,
    fetched: Instant,
}

pub struct SecretCache {
    entries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
    ttl: Duration,
    client: ServiceClient,
    manager: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("manager unavailable: {0}")]
    Unavailable(String),
}

/// The outcome of a look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    Known(String),
    UnknownApp,
}

impl SecretCache {
    pub fn new(client: ServiceClient, manager: String, ttl: Duration) -> Self {
        SecretCache { entries: Mutex::new(HashMap::new()), ttl, client, manager }
    }

    /// The app's secret. `refresh_older_than` forces a fetch when the cached value is at least that old
    /// (used once after a signature mismatch, in case the secret was just changed).
    pub async fn get(&self, app: &AppId, refresh_older_than: Option<Duration>) -> Result<Secret, LookupError> {
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.entry(app.to_string()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        let max_age = refresh_older_than.map_or(self.ttl, |r| r.min(self.ttl));
        if let Some(cached) = slot.as_ref().filter(|c| c.fetched.elapsed() < max_age) {
            return Ok(to_secret(&cached.secret));
        }
        match self.fetch(app).await {
            Ok(secret) => {
                let result = to_secret(&secret);
                *slot = Some(Cached { secret, fetched: Instant::now() });
                Ok(result)
            }
            Err(e) => match slot.as_ref() {
                Some(stale) => {
                    tracing::warn!(app_id = %app, error = %e, "using the last known app secret");
                    Ok(to_secret(&stale.secret))
                }
                None => Err(e),
            },
        }
    }

    async fn fetch(&self, app: &AppId) -> Result<Option<String>, LookupError> {
        let body = AppSecretQuery { app_id: app.clone() };
        let reply =
            self.client.call::<_, AppSecret>(&self.manager, "/xtransit/app_secret", &body, None).await.map_err(|e| LookupError::Unavailable(e.to_string()))?;
        match reply.ok {
            true => Ok(reply.data.and_then(|d| d.secret).filter(|s| !s.is_empty())),
            // The manager refused us (e.g. a different shared secret): that says nothing about the app.
            false => Err(LookupError::Unavailable(format!("manager refused the look-up: {:?}", reply.message))),
        }
    }
}

fn to_secret(secret: &Option<String>) -> Secret {
    match secret {
        Some(s) => Secret::Known(s.clone()),
        None => Secret::UnknownApp,
    }
}
