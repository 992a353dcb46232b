//! Forwards agent messages to the manager (`/xtransit/update_client`, `/log`, `/update_action_status`,
//! `/remove_client`). A global limit on forwards in flight is the push-back: when the manager is slow, sessions
//! wait here, and a waiting session does not read its socket. Transient failures are retried; what still fails is
//! logged and counted, never dropped silently.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use common::client::ServiceClient;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::stats::Stats;

pub struct Forwarder {
    client: ServiceClient,
    manager: String,
    permits: Semaphore,
    retries: u32,
    stats: Arc<Stats>,
}

impl Forwarder {
    pub fn new(client: ServiceClient, manager: String, concurrency: usize, retries: u32, stats: Arc<Stats>) -> Self {
        Forwarder { client, manager, permits: Semaphore::new(concurrency.max(1)), retries, stats }
    }

    /// Sends `body` to the manager's `path`; true when the manager accepted it.
    pub async fn send<B: Serialize>(&self, path: &'static str, body: &B) -> bool {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let mut delay = Duration::from_millis(200);
        for attempt in 0..=self.retries {
            match self.client.call::<_, serde_json::Value>(&self.manager, path, body, None).await {
                Ok(reply) if reply.ok => {
                    self.stats.forwarded.fetch_add(1, Relaxed);
                    return true;
                }
                Ok(reply) => {
                    // The manager understood and refused: retrying would not change its mind.
                    self.stats.forward_refused.fetch_add(1, Relaxed);
                    tracing::warn!(path, message = ?reply.message, code = ?reply.code, "manager refused a forwarded message");
                    return false;
                }
                Err(e) if e.is_transient() && attempt < self.retries => {
                    tracing::debug!(path, attempt, error = %e, "forward failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    self.stats.forward_failed.fetch_add(1, Relaxed);
                    tracing::error!(path, error = %e, "could not forward an agent message to the manager");
                    return false;
                }
            }
        }
        false
    }

    pub fn in_flight(&self, limit: usize) -> usize {
        limit.saturating_sub(self.permits.available_permits())
    }
}
