//! Forwards agent messages to the manager (`update_client`, `log`, `update_action_status`, `remove_client`).
//!
//! Messages from all sockets are gathered into `/xtransit/batch` calls: whatever is waiting when a call can go out
//! goes in it (no added delay), which spares both services an HTTP request per agent message. An original manager
//! has no batch route; on its 404 the forwarder switches to one call per message on the original routes (also
//! forced by `ws_server.forward_batch = false`).
//!
//! Push-back: the queue is bounded (`forward_concurrency`), sessions wait for their own message's outcome, and a
//! waiting session does not read its socket. Transient failures (the manager restarting, or its MySQL or Redis) are
//! retried for up to `forward_max_wait_secs`, so an outage of minutes loses nothing: the agents' messages wait in
//! their sockets, and `ezm_ws_forward_waiting` shows how many. What still fails after that is logged and counted,
//! never dropped silently. A retried item is marked `retry`, and the manager stores a sample once however often it
//! comes (its sample keys), so waiting out an outage never stores anything twice.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use common::batch::Batcher;
use common::client::{CallError, ServiceClient};
use common::retry::Backoff;
use protocol::service::{BatchResults, ItemResult};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::stats::Stats;

/// Most messages in one batch call.
const MAX_ITEMS: usize = 256;
/// A batch stops growing past this many bytes (a single larger message still goes, alone), so that a batch stays
/// well inside the manager's body limit, which is sized for one maximal agent frame.
const MAX_BATCH_BYTES: usize = 8 << 20;
/// Batch calls in flight at once.
const MAX_CALLS: usize = 4;
/// Retries back off from 200 ms, doubling up to 5 s, for as long as `max_wait`.
fn backoff(max_wait: Duration) -> Backoff {
    Backoff::for_duration(Duration::from_millis(200), Duration::from_secs(5), max_wait)
}

struct Pending {
    route: &'static str,
    body: Box<RawValue>,
    done: oneshot::Sender<bool>,
}

pub struct Forwarder {
    queue: mpsc::Sender<Pending>,
}

/// What both ways of calling the manager share.
struct Direct {
    client: ServiceClient,
    manager: String,
    max_wait: Duration,
    stats: Arc<Stats>,
    batch: AtomicBool,
}

impl Forwarder {
    pub fn new(client: ServiceClient, manager: String, concurrency: usize, max_wait: Duration, batch: bool, stats: Arc<Stats>) -> Self {
        let (queue, rx) = mpsc::channel(concurrency.max(1));
        let direct = Arc::new(Direct { client, manager, max_wait, stats, batch: AtomicBool::new(batch) });
        tokio::spawn(run_batches(rx, direct));
        Forwarder { queue }
    }

    /// Sends `body` to the manager's `/xtransit/<route>`; true when the manager accepted it.
    pub async fn send<B: Serialize>(&self, route: &'static str, body: &B) -> bool {
        let text = serde_json::to_string(body).expect("forwarded bodies are made of strings, numbers and raw JSON");
        let body = RawValue::from_string(text).expect("serde_json produced valid JSON");
        let (done, outcome) = oneshot::channel();
        if self.queue.send(Pending { route, body, done }).await.is_err() {
            return false;
        }
        outcome.await.unwrap_or(false)
    }
}

async fn run_batches(rx: mpsc::Receiver<Pending>, direct: Arc<Direct>) {
    let calls = Arc::new(Semaphore::new(MAX_CALLS));
    let mut batches = Batcher::new(rx, MAX_ITEMS, MAX_BATCH_BYTES, |item: &Pending| item.body.get().len());
    loop {
        let permit = calls.clone().acquire_owned().await.expect("the semaphore is never closed");
        let Some(items) = batches.next().await else { return };
        let direct = direct.clone();
        tokio::spawn(async move {
            match direct.batch.load(Relaxed) {
                true => direct.send_batch(items).await,
                false => direct.send_each(items).await,
            }
            drop(permit);
        });
    }
}

impl Direct {
    async fn send_batch(&self, mut items: Vec<Pending>) {
        let mut backoff = backoff(self.max_wait);
        let mut sent_before = false;
        loop {
            let body = batch_body(&items, sent_before);
            sent_before = true;
            let call = self.client.post_signed::<BatchResults>(&self.manager, "/xtransit/batch", self.client.sign_text(&body), None).await;
            let results = match call {
                Ok(reply) if reply.ok => reply.data.map(|d| d.results).unwrap_or_default(),
                Err(CallError::Status { status: 404, .. }) => {
                    tracing::warn!(manager = %self.manager, "the manager has no /xtransit/batch (an original manager?): forwarding one message per call");
                    self.batch.store(false, Relaxed);
                    return self.send_each(items).await;
                }
                Ok(reply) => {
                    self.refused(items, &format!("{:?}", reply.message));
                    return;
                }
                Err(e) if e.is_transient() && backoff.can_retry() => {
                    tracing::debug!(error = %e, "batch forward failed, retrying");
                    self.wait(&mut backoff, items.len()).await;
                    continue;
                }
                Err(e) => {
                    self.failed(items, &e.to_string());
                    return;
                }
            };
            if results.len() != items.len() {
                self.failed(items, "the manager answered a different number of results");
                return;
            }
            let mut again = Vec::new();
            for (item, result) in items.into_iter().zip(results) {
                match result {
                    ItemResult { ok: true, .. } => {
                        self.stats.forwarded.inc();
                        let _ = item.done.send(true);
                    }
                    ItemResult { retry: true, .. } if backoff.can_retry() => again.push(item),
                    ItemResult { retry: true, message, .. } => self.failed(vec![item], message.as_deref().unwrap_or("")),
                    ItemResult { message, .. } => self.refused(vec![item], message.as_deref().unwrap_or("")),
                }
            }
            if again.is_empty() {
                return;
            }
            items = again;
            self.wait(&mut backoff, items.len()).await;
        }
    }

    /// The original routes, one call per message, a bounded number at a time.
    async fn send_each(&self, items: Vec<Pending>) {
        use futures_util::StreamExt;
        futures_util::stream::iter(items).for_each_concurrent(64, |item| self.send_one(item)).await;
    }

    async fn send_one(&self, item: Pending) {
        let path = match item.route {
            "update_client" => "/xtransit/update_client",
            "log" => "/xtransit/log",
            "update_action_status" => "/xtransit/update_action_status",
            _ => "/xtransit/remove_client",
        };
        let mut backoff = backoff(self.max_wait);
        loop {
            match self.client.call::<_, serde_json::Value>(&self.manager, path, &item.body, None).await {
                Ok(reply) if reply.ok => {
                    self.stats.forwarded.inc();
                    let _ = item.done.send(true);
                    return;
                }
                Ok(reply) => return self.refused(vec![item], &format!("{:?}", reply.message)),
                Err(e) if e.is_transient() && backoff.can_retry() => {
                    self.wait(&mut backoff, 1).await;
                }
                Err(e) => return self.failed(vec![item], &e.to_string()),
            }
        }
    }

    /// Waits before retrying `messages`, counted meanwhile in `ezm_ws_forward_waiting`.
    async fn wait(&self, backoff: &mut Backoff, messages: usize) {
        self.stats.forward_retries.inc_by(messages as u64);
        self.stats.forward_waiting.inc_by(messages as i64);
        backoff.wait().await;
        self.stats.forward_waiting.dec_by(messages as i64);
    }

    /// The manager understood and refused: retrying would not change its mind.
    fn refused(&self, items: Vec<Pending>, message: &str) {
        self.stats.forward_refused.inc_by(items.len() as u64);
        for item in items {
            tracing::warn!(route = item.route, message, "manager refused a forwarded message");
            let _ = item.done.send(false);
        }
    }

    fn failed(&self, items: Vec<Pending>, error: &str) {
        self.stats.forward_failed.inc_by(items.len() as u64);
        tracing::error!(messages = items.len(), error, "could not forward agent messages to the manager");
        for item in items {
            let _ = item.done.send(false);
        }
    }
}

/// `{"items":[{"route":…,"body":…},…]}`, with the bodies as they were serialized; `"retry":true` on items sent before.
fn batch_body(items: &[Pending], retry: bool) -> String {
    let size: usize = items.iter().map(|i| i.body.get().len() + 40).sum();
    let mut out = String::with_capacity(size + 16);
    out.push_str("{\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"route\":\"");
        out.push_str(item.route);
        out.push_str("\",\"body\":");
        out.push_str(item.body.get());
        out.push_str(if retry { ",\"retry\":true}" } else { "}" });
    }
    out.push_str("]}");
    out
}
