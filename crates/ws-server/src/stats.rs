//! Counters exported on `/metrics` in Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct Stats {
    pub connections_opened: AtomicU64,
    pub connections_closed: AtomicU64,
    pub frames: AtomicU64,
    pub frames_stale: AtomicU64,
    pub frames_rejected: AtomicU64,
    pub frames_unverifiable: AtomicU64,
    pub forwarded: AtomicU64,
    pub empty_reports: AtomicU64,
    pub forward_refused: AtomicU64,
    pub forward_failed: AtomicU64,
    pub commands: AtomicU64,
    pub commands_expired: AtomicU64,
    pub shutdowns_sent: AtomicU64,
    pub pings_timed_out: AtomicU64,
}

impl Stats {
    pub fn render(&self, connections: usize, pending: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE ezm_ws_connections gauge\nezm_ws_connections {connections}");
        let _ = writeln!(out, "# TYPE ezm_ws_pending_commands gauge\nezm_ws_pending_commands {pending}");
        let counters: [(&str, &AtomicU64, &str); 14] = [
            ("ezm_ws_connections_opened_total", &self.connections_opened, "agent sockets accepted"),
            ("ezm_ws_connections_closed_total", &self.connections_closed, "agent sockets closed"),
            ("ezm_ws_frames_total", &self.frames, "agent frames received"),
            ("ezm_ws_frames_stale_total", &self.frames_stale, "frames dropped for a timestamp outside the window"),
            ("ezm_ws_frames_rejected_total", &self.frames_rejected, "frames refused (bad signature, unknown app, malformed); the socket is closed"),
            ("ezm_ws_frames_unverifiable_total", &self.frames_unverifiable, "frames dropped because no app secret could be fetched"),
            ("ezm_ws_forwarded_total", &self.forwarded, "messages the manager accepted"),
            ("ezm_ws_empty_reports_total", &self.empty_reports, "empty error_log/core_files reports, not forwarded (they store nothing)"),
            ("ezm_ws_forward_refused_total", &self.forward_refused, "messages the manager refused"),
            ("ezm_ws_forward_failed_total", &self.forward_failed, "messages that could not reach the manager after retries"),
            ("ezm_ws_commands_total", &self.commands, "exec_command requests"),
            ("ezm_ws_commands_expired_total", &self.commands_expired, "exec_command requests without an answer in time"),
            ("ezm_ws_shutdowns_sent_total", &self.shutdowns_sent, "shutdown frames sent (duplicate-agent policy)"),
            ("ezm_ws_pings_timed_out_total", &self.pings_timed_out, "sockets closed for not answering pings"),
        ];
        for (name, value, help) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Relaxed));
        }
        out
    }
}
