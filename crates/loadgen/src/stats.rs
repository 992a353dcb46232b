//! Counters shared by all simulated agents (plain atomics: one cache line of traffic per event, no locks on the
//! hot path) and the JSON summary printed at the end of a run.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use serde::Serialize;

/// Log kinds the simulator sends, in the order of the counters below.
pub const LOG_KINDS: [&str; 5] = ["system_log", "xprofiler_log", "error_log", "core_files", "package"];
/// Command names counted separately (anything else is `unknown`).
pub const COMMAND_NAMES: [&str; 4] = ["get_os_info", "check_processes_alive", "get_node_processes", "unknown"];

#[derive(Debug, Default)]
pub struct Stats {
    pub agents_started: AtomicU64,
    /// Agents that completed at least one WebSocket handshake.
    pub agents_connected: AtomicU64,
    pub connected_now: AtomicU64,
    pub connected_peak: AtomicU64,
    pub connect_attempts: AtomicU64,
    pub connect_failures: AtomicU64,
    pub first_connect_error: Mutex<Option<String>>,
    pub reconnects: AtomicU64,
    /// The server closed the socket (close frame, EOF or a read/write error) while we were not stopping.
    pub disconnects_by_server: AtomicU64,
    pub first_disconnect_reason: Mutex<Option<String>>,
    pub send_errors: AtomicU64,
    pub heartbeats_sent: AtomicU64,
    pub logs_sent: [AtomicU64; 5],
    pub responses_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    /// Messages parked while disconnected and dropped because a newer one of the same kind replaced it (§1.5).
    pub parked_replaced: AtomicU64,
    pub frames_received: AtomicU64,
    pub bytes_received: AtomicU64,
    pub unparsable_received: AtomicU64,
    pub commands_received: AtomicU64,
    pub commands_answered: [AtomicU64; 4],
    /// `exec_command` without `data.command`: the real agent sends nothing back.
    pub commands_ignored: AtomicU64,
    pub shutdowns_received: AtomicU64,
    pub closed_cleanly: AtomicU64,
    pub close_timeouts: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn log_sent(&self, kind_index: usize, bytes: usize) {
        self.logs_sent[kind_index].fetch_add(1, Relaxed);
        self.bytes_sent.fetch_add(bytes as u64, Relaxed);
    }

    pub fn connected(&self, first_time: bool) {
        if first_time {
            self.agents_connected.fetch_add(1, Relaxed);
        } else {
            self.reconnects.fetch_add(1, Relaxed);
        }
        let now = self.connected_now.fetch_add(1, Relaxed) + 1;
        self.connected_peak.fetch_max(now, Relaxed);
    }

    pub fn disconnected(&self) {
        self.connected_now.fetch_sub(1, Relaxed);
    }

    pub fn connect_failed(&self, error: &str) {
        self.connect_failures.fetch_add(1, Relaxed);
        remember_first(&self.first_connect_error, error);
    }

    pub fn server_disconnect(&self, reason: &str) {
        self.disconnects_by_server.fetch_add(1, Relaxed);
        remember_first(&self.first_disconnect_reason, reason);
    }
}

fn remember_first(slot: &Mutex<Option<String>>, text: &str) {
    if let Ok(mut first) = slot.lock() {
        if first.is_none() {
            *first = Some(text.to_owned());
        }
    }
}

fn load(c: &AtomicU64) -> u64 {
    c.load(Relaxed)
}

fn first(slot: &Mutex<Option<String>>) -> Option<String> {
    slot.lock().ok().and_then(|s| s.clone())
}

/// The end-of-run report.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub mode: &'static str,
    pub url: String,
    pub app_id: String,
    pub agent_ids: String,
    pub source_ips: Vec<String>,
    pub agents_requested: u64,
    pub agents_started: u64,
    pub agents_connected: u64,
    pub connected_at_end: u64,
    pub connected_peak: u64,
    pub connect_attempts: u64,
    pub connect_failures: u64,
    pub first_connect_error: Option<String>,
    pub reconnects: u64,
    pub disconnects_by_server: u64,
    pub first_disconnect_reason: Option<String>,
    pub send_errors: u64,
    pub frames_sent: FramesSent,
    pub bytes_sent: u64,
    pub parked_replaced: u64,
    pub frames_received: u64,
    pub bytes_received: u64,
    pub unparsable_received: u64,
    pub commands_received: u64,
    pub commands_answered: serde_json::Map<String, serde_json::Value>,
    pub commands_ignored: u64,
    pub shutdowns_received: u64,
    pub closed_cleanly: u64,
    pub close_timeouts: u64,
    /// Agent tasks still closing when the run gave up waiting for them.
    pub agents_not_finished: u64,
    pub processes_per_agent: u32,
    /// One `process_DD` row per pid per `xprofiler_log` (manager §4.2).
    pub expected_process_rows: u64,
    /// One `osinfo_DD` row per `system_log` (position 0) and one per non-empty `xprofiler_log` (position 1).
    pub expected_osinfo_rows: u64,
    pub expected_osinfo_rows_system: u64,
    pub expected_osinfo_rows_xprofiler: u64,
    /// Error entries sent (one per `error_log` when `--errors`).
    pub expected_error_entries: u64,
    pub elapsed_secs: f64,
    pub ramp_secs: f64,
    pub rates: Rates,
    pub peak_rss_bytes: Option<u64>,
    pub nofile_limit: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct FramesSent {
    pub total: u64,
    pub heartbeat: u64,
    pub log: u64,
    pub response: u64,
    pub log_kinds: serde_json::Map<String, serde_json::Value>,
}

/// Average send rates over the whole run, and over the time after the ramp (the steady state).
#[derive(Debug, Serialize)]
pub struct Rates {
    pub frames_per_sec: f64,
    pub logs_per_sec: f64,
    pub heartbeats_per_sec: f64,
    pub bytes_per_sec: f64,
    pub connects_per_sec_during_ramp: f64,
}

pub struct RunInfo {
    pub url: String,
    pub app_id: String,
    pub agent_ids: String,
    pub source_ips: Vec<String>,
    pub agents_requested: u64,
    pub processes: u32,
    pub errors: bool,
    pub elapsed_secs: f64,
    pub ramp_secs: f64,
    pub connected_at_end: u64,
    pub nofile_limit: Option<u64>,
}

impl Stats {
    pub fn summary(&self, info: RunInfo) -> Summary {
        let logs: Vec<u64> = self.logs_sent.iter().map(load).collect();
        let log_total: u64 = logs.iter().sum();
        let heartbeat = load(&self.heartbeats_sent);
        let response = load(&self.responses_sent);
        let total = heartbeat + log_total + response;
        let mut log_kinds = serde_json::Map::new();
        for (kind, n) in LOG_KINDS.iter().zip(&logs) {
            log_kinds.insert(kind.to_string(), (*n).into());
        }
        let mut commands_answered = serde_json::Map::new();
        for (name, c) in COMMAND_NAMES.iter().zip(&self.commands_answered) {
            commands_answered.insert(name.to_string(), load(c).into());
        }
        let system = logs[0];
        let xprofiler = logs[1];
        let xprofiler_rows = if info.processes > 0 { xprofiler } else { 0 };
        let elapsed = info.elapsed_secs.max(1e-9);
        let bytes = load(&self.bytes_sent);
        Summary {
            mode: "agents",
            url: info.url,
            app_id: info.app_id,
            agent_ids: info.agent_ids,
            source_ips: info.source_ips,
            agents_requested: info.agents_requested,
            agents_started: load(&self.agents_started),
            agents_connected: load(&self.agents_connected),
            connected_at_end: info.connected_at_end,
            connected_peak: load(&self.connected_peak),
            connect_attempts: load(&self.connect_attempts),
            connect_failures: load(&self.connect_failures),
            first_connect_error: first(&self.first_connect_error),
            reconnects: load(&self.reconnects),
            disconnects_by_server: load(&self.disconnects_by_server),
            first_disconnect_reason: first(&self.first_disconnect_reason),
            send_errors: load(&self.send_errors),
            frames_sent: FramesSent { total, heartbeat, log: log_total, response, log_kinds },
            bytes_sent: bytes,
            parked_replaced: load(&self.parked_replaced),
            frames_received: load(&self.frames_received),
            bytes_received: load(&self.bytes_received),
            unparsable_received: load(&self.unparsable_received),
            commands_received: load(&self.commands_received),
            commands_answered,
            commands_ignored: load(&self.commands_ignored),
            shutdowns_received: load(&self.shutdowns_received),
            closed_cleanly: load(&self.closed_cleanly),
            close_timeouts: load(&self.close_timeouts),
            agents_not_finished: 0,
            processes_per_agent: info.processes,
            expected_process_rows: xprofiler * info.processes as u64,
            expected_osinfo_rows: system + xprofiler_rows,
            expected_osinfo_rows_system: system,
            expected_osinfo_rows_xprofiler: xprofiler_rows,
            expected_error_entries: if info.errors { logs[2] } else { 0 },
            elapsed_secs: round3(info.elapsed_secs),
            ramp_secs: round3(info.ramp_secs),
            rates: Rates {
                frames_per_sec: round3(total as f64 / elapsed),
                logs_per_sec: round3(log_total as f64 / elapsed),
                heartbeats_per_sec: round3(heartbeat as f64 / elapsed),
                bytes_per_sec: round3(bytes as f64 / elapsed),
                connects_per_sec_during_ramp: round3(load(&self.agents_connected) as f64 / info.ramp_secs.max(1e-3)),
            },
            peak_rss_bytes: peak_rss_bytes(),
            nofile_limit: info.nofile_limit,
        }
    }
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// `VmHWM` of this process (Linux), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
