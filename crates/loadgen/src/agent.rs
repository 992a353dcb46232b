//! One simulated xtransit 3.1.0 agent: a single lightweight task owning one WebSocket.
//!
//! Behaviour copied from the real agent (reference §1.3–§1.9, §3): heartbeat at once on every (re)connect and then
//! every `heartbeat` period; the log collectors on their own timer (first run at a random offset so that agents
//! spread out) that keeps running while disconnected; messages produced while disconnected are parked, latest per
//! key, and flushed on reconnect before the fresh heartbeat; reconnect after U[0, base) seconds with the same
//! clientId; `exec_command` answered and `shutdown` obeyed (the agent stops for good).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::frame::{build_frame, new_client_id, now_ms, trace_id, Identity};
use crate::net::{connect, Ws};
use crate::payload::{self, Host, Pids};
use crate::stats::{Stats, COMMAND_NAMES};

/// Settings shared by every simulated agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub url: String,
    pub dest: SocketAddr,
    /// Round-robin source addresses; empty lets the kernel choose.
    pub source_ips: Vec<IpAddr>,
    pub secret: Vec<u8>,
    /// appId rendered as JSON: `1` (number) or `"1"` (string).
    pub app_id_json: String,
    pub agent_prefix: String,
    pub id_width: usize,
    pub heartbeat: Duration,
    pub log_interval: Duration,
    pub processes: u32,
    /// `--errors`: the error-log path reported in `error_log`.
    pub error_path: Option<String>,
    pub package: bool,
    /// Reconnect delay is U[0, base); zero disables reconnecting.
    pub reconnect_base: Duration,
    pub connect_timeout: Duration,
    pub close_timeout: Duration,
    /// Simulated run time of a command's child process before its response is sent.
    pub command_latency: Duration,
}

/// What every agent task shares: settings, counters, the source-address cursor.
#[derive(Debug)]
pub struct Shared {
    pub cfg: AgentConfig,
    pub stats: Stats,
    pub running: AtomicU64,
    next_source: AtomicUsize,
}

impl Shared {
    pub fn new(cfg: AgentConfig) -> Self {
        Shared { cfg, stats: Stats::default(), running: AtomicU64::new(0), next_source: AtomicUsize::new(0) }
    }

    fn source(&self) -> Option<IpAddr> {
        match self.cfg.source_ips.len() {
            0 => None,
            n => Some(self.cfg.source_ips[self.next_source.fetch_add(1, Relaxed) % n]),
        }
    }

    pub fn agent_id(&self, index: u64) -> String {
        format!("{}{:0width$}", self.cfg.agent_prefix, index, width = self.cfg.id_width)
    }
}

/// Parking keys of §1.5 (`type` or `type::data.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Heartbeat,
    Response,
    Log(usize),
}

/// A server → agent message; anything but `exec_command` and `shutdown` is ignored, as by the agent.
#[derive(Deserialize)]
struct ServerMsg {
    #[serde(rename = "traceId")]
    trace_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Option<serde_json::Value>,
}

const LOG_SYSTEM: usize = 0;
const LOG_XPROFILER: usize = 1;
const LOG_ERROR: usize = 2;
const LOG_CORE: usize = 3;
const LOG_PACKAGE: usize = 4;
const PACKAGE_PERIOD: Duration = Duration::from_secs(3600);

enum Stop {
    /// The run is over: close cleanly.
    RunOver,
    /// `shutdown` received: the agent is gone for good.
    Shutdown,
    /// Disconnected and reconnecting is disabled.
    GaveUp,
}

struct Agent {
    shared: Arc<Shared>,
    id: Identity,
    pids: Pids,
    host: Host,
    started: Instant,
    conn: Option<Ws>,
    ever_connected: bool,
    parked: Vec<(Key, String)>,
    /// Responses waiting for their simulated child process: (due, traceId, data, command stat index).
    pending: Vec<(Instant, String, String, usize)>,
}

/// Runs one agent until the run stops, it receives `shutdown`, or (without reconnects) it loses its connection.
pub async fn run_agent(shared: Arc<Shared>, index: u64, mut stop: watch::Receiver<bool>) {
    shared.running.fetch_add(1, Relaxed);
    Stats::add(&shared.stats.agents_started, 1);
    let (pids, host, first_log) = {
        let mut rng = rand::thread_rng();
        let offset = rng.gen_range(0.0..1.0) * shared.cfg.log_interval.as_secs_f64();
        (Pids::random(&mut rng, shared.cfg.processes), Host::random(&mut rng), Duration::from_secs_f64(offset))
    };
    let id = Identity { app_id_json: shared.cfg.app_id_json.clone(), agent_id: shared.agent_id(index), client_id: new_client_id() };
    let now = Instant::now();
    let mut agent = Agent { shared: shared.clone(), id, pids, host, started: now, conn: None, ever_connected: false, parked: Vec::new(), pending: Vec::new() };
    let reason = agent.run(&mut stop, now + first_log).await;
    agent.finish(reason).await;
    shared.running.fetch_sub(1, Relaxed);
}

impl Agent {
    async fn run(&mut self, stop: &mut watch::Receiver<bool>, first_log: Instant) -> Stop {
        let cfg = self.shared.cfg.clone_timers();
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        let mut next_connect = Some(Instant::now());
        let mut next_hb = Instant::now() + cfg.heartbeat;
        let mut next_log = first_log;
        let mut next_package = if cfg.package { first_log } else { far };
        loop {
            if *stop.borrow() {
                return Stop::RunOver;
            }
            let now = Instant::now();
            if self.conn.is_none() {
                match next_connect {
                    None => return Stop::GaveUp,
                    Some(at) if at <= now => {
                        let attempt = tokio::select! {
                            r = self.connect() => r,
                            _ = stop.changed() => return Stop::RunOver,
                        };
                        next_connect = match attempt {
                            true => {
                                next_hb = Instant::now() + cfg.heartbeat;
                                None
                            }
                            false => self.reconnect_at(),
                        };
                        continue;
                    }
                    Some(_) => {}
                }
            }
            let mut wake = next_hb.min(next_log).min(next_package);
            if self.conn.is_none() {
                wake = wake.min(next_connect.unwrap_or(far));
            }
            if let Some(due) = self.pending.iter().map(|p| p.0).min() {
                wake = wake.min(due);
            }
            tokio::select! {
                biased;
                _ = stop.changed() => return Stop::RunOver,
                msg = next_message(&mut self.conn) => {
                    match msg {
                        Some(Ok(Message::Text(text))) => {
                            if self.on_server_text(&text).await {
                                return Stop::Shutdown;
                            }
                        }
                        Some(Ok(Message::Binary(bytes))) => {
                            let text = String::from_utf8_lossy(&bytes).into_owned();
                            if self.on_server_text(&text).await {
                                return Stop::Shutdown;
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let reason = frame.map(|f| format!("close frame {} {}", u16::from(f.code), f.reason)).unwrap_or_else(|| "close frame".into());
                            self.lost(&reason);
                            next_connect = self.reconnect_at();
                        }
                        Some(Ok(_)) => {} // ping/pong: tungstenite answers pings itself
                        Some(Err(e)) => {
                            self.lost(&format!("read: {e}"));
                            next_connect = self.reconnect_at();
                        }
                        None => {
                            self.lost("connection closed");
                            next_connect = self.reconnect_at();
                        }
                    }
                }
                _ = sleep_until(wake) => {
                    let now = Instant::now();
                    if next_hb <= now {
                        next_hb = now + cfg.heartbeat;
                        let frame = self.frame("heartbeat", "{}");
                        self.send(Key::Heartbeat, frame).await;
                    }
                    if next_log <= now {
                        next_log = now + cfg.log_interval;
                        self.send_logs().await;
                    }
                    if next_package <= now {
                        next_package = now + PACKAGE_PERIOD;
                        let frame = self.frame("log", &payload::package());
                        self.send(Key::Log(LOG_PACKAGE), frame).await;
                    }
                    self.send_due_responses(now).await;
                }
            }
        }
    }

    /// One connection attempt; on success flushes parked messages, then sends the fresh heartbeat.
    async fn connect(&mut self) -> bool {
        let stats = &self.shared.stats;
        Stats::add(&stats.connect_attempts, 1);
        let cfg = &self.shared.cfg;
        match connect(&cfg.url, cfg.dest, self.shared.source(), cfg.connect_timeout).await {
            Ok(ws) => {
                stats.connected(!self.ever_connected);
                self.ever_connected = true;
                self.conn = Some(ws);
                // The reconnect heartbeat replaces a parked one and goes out last (§1.5).
                let parked = std::mem::take(&mut self.parked);
                for (key, frame) in parked.into_iter().filter(|(k, _)| *k != Key::Heartbeat) {
                    self.send(key, frame).await;
                }
                let frame = self.frame("heartbeat", "{}");
                self.send(Key::Heartbeat, frame).await;
                self.conn.is_some()
            }
            Err(e) => {
                stats.connect_failed(&e);
                false
            }
        }
    }

    fn reconnect_at(&self) -> Option<Instant> {
        let base = self.shared.cfg.reconnect_base;
        if base.is_zero() {
            return None;
        }
        // U[0, base) rounded to 2 decimals, as the agent.
        let secs = (rand::thread_rng().gen_range(0.0..base.as_secs_f64()) * 100.0).floor() / 100.0;
        Some(Instant::now() + Duration::from_secs_f64(secs))
    }

    fn lost(&mut self, reason: &str) {
        if self.conn.take().is_some() {
            self.shared.stats.disconnected();
            self.shared.stats.server_disconnect(reason);
        }
    }

    fn frame(&self, kind: &str, data: &str) -> String {
        build_frame(&self.shared.cfg.secret, &self.id, &trace_id(), now_ms(), kind, data)
    }

    /// Sends a frame, or parks it (latest per key) while disconnected.
    async fn send(&mut self, key: Key, frame: String) {
        let Some(ws) = self.conn.as_mut() else {
            if let Some(pos) = self.parked.iter().position(|(k, _)| *k == key) {
                self.parked.remove(pos);
                Stats::add(&self.shared.stats.parked_replaced, 1);
            }
            self.parked.push((key, frame));
            return;
        };
        let len = frame.len();
        match ws.send(Message::Text(frame)).await {
            Ok(()) => {
                let stats = &self.shared.stats;
                match key {
                    Key::Heartbeat => {
                        Stats::add(&stats.heartbeats_sent, 1);
                        Stats::add(&stats.bytes_sent, len as u64);
                    }
                    Key::Response => {
                        Stats::add(&stats.responses_sent, 1);
                        Stats::add(&stats.bytes_sent, len as u64);
                    }
                    Key::Log(kind) => stats.log_sent(kind, len),
                }
            }
            Err(e) => {
                Stats::add(&self.shared.stats.send_errors, 1);
                self.lost(&format!("send: {e}"));
            }
        }
    }

    /// One collector round: error_log, xprofiler_log, system_log, core_files (the agent's usual arrival order).
    async fn send_logs(&mut self) {
        let cfg = &self.shared.cfg;
        let uptime = self.started.elapsed();
        let first_pid = self.pids.apps().next().unwrap_or(self.pids.base);
        let error = payload::error_log(cfg.error_path.as_deref(), first_pid, now_ms());
        let xprofiler = {
            let mut rng = rand::thread_rng();
            payload::xprofiler_log(&mut rng, self.pids, uptime.as_secs() + 5, cfg.log_interval.as_secs().max(1), now_ms())
        };
        let system = {
            let mut rng = rand::thread_rng();
            payload::system_log(&mut rng, self.host, uptime.as_secs_f64(), self.pids.count + 1, now_ms())
        };
        for (kind, data) in [(LOG_ERROR, error.as_str()), (LOG_XPROFILER, xprofiler.as_str()), (LOG_SYSTEM, system.as_str()), (LOG_CORE, payload::core_files())]
        {
            let frame = self.frame("log", data);
            self.send(Key::Log(kind), frame).await;
        }
    }

    /// Handles one server message. Returns true on `shutdown`.
    async fn on_server_text(&mut self, text: &str) -> bool {
        let stats = &self.shared.stats;
        Stats::add(&stats.frames_received, 1);
        Stats::add(&stats.bytes_received, text.len() as u64);
        let Ok(msg) = serde_json::from_str::<ServerMsg>(text) else {
            Stats::add(&stats.unparsable_received, 1);
            return false;
        };
        match msg.kind.as_deref() {
            Some("shutdown") => {
                Stats::add(&stats.shutdowns_received, 1);
                true
            }
            Some("exec_command") => {
                Stats::add(&stats.commands_received, 1);
                let command = msg.data.as_ref().and_then(|d| d.get("command")).and_then(|c| c.as_str());
                let Some(command) = command else {
                    Stats::add(&stats.commands_ignored, 1);
                    return false;
                };
                let answer = payload::answer_command(command, &self.id.agent_id, self.pids);
                let stat = COMMAND_NAMES.iter().position(|n| *n == answer.stat_name).unwrap_or(COMMAND_NAMES.len() - 1);
                // No traceId: the agent makes one up (correlation is lost).
                let trace = msg.trace_id.unwrap_or_else(trace_id);
                let latency = self.shared.cfg.command_latency;
                self.pending.push((Instant::now() + latency, trace, answer.data, stat));
                if latency.is_zero() {
                    self.send_due_responses(Instant::now()).await;
                }
                false
            }
            _ => false,
        }
    }

    async fn send_due_responses(&mut self, now: Instant) {
        while let Some(pos) = self.pending.iter().position(|p| p.0 <= now) {
            let (_, trace, data, stat) = self.pending.swap_remove(pos);
            let frame = build_frame(&self.shared.cfg.secret, &self.id, &trace, now_ms(), "response", &data);
            Stats::add(&self.shared.stats.commands_answered[stat], 1);
            self.send(Key::Response, frame).await;
        }
    }

    /// Closes the socket: a close handshake bounded by `close_timeout`.
    async fn finish(&mut self, reason: Stop) {
        let Some(mut ws) = self.conn.take() else {
            return;
        };
        let stats = &self.shared.stats;
        stats.disconnected();
        let close = async {
            ws.close(None).await.ok()?;
            // Wait for the server's close frame / EOF.
            while let Some(Ok(_)) = ws.next().await {}
            Some(())
        };
        match tokio::time::timeout(self.shared.cfg.close_timeout, close).await {
            Ok(_) => Stats::add(&stats.closed_cleanly, 1),
            Err(_) => Stats::add(&stats.close_timeouts, 1),
        }
        let _ = reason;
    }
}

impl AgentConfig {
    /// The timer settings, copied so the loop does not hold a borrow of the shared config.
    fn clone_timers(&self) -> Timers {
        Timers { heartbeat: self.heartbeat, log_interval: self.log_interval, package: self.package }
    }
}

struct Timers {
    heartbeat: Duration,
    log_interval: Duration,
    package: bool,
}

/// The next message of the connection, or never when disconnected.
async fn next_message(conn: &mut Option<Ws>) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    match conn {
        Some(ws) => ws.next().await,
        None => std::future::pending().await,
    }
}
