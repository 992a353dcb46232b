//! The ws-server's counters, exported on `/metrics` (OpenMetrics text, rendered by `prometheus-client`).

use common::metrics::{Counter, Gauge, MetricRegistry};

pub struct Stats {
    pub connections_opened: Counter,
    pub connections_closed: Counter,
    pub frames: Counter,
    pub frames_stale: Counter,
    pub frames_rejected: Counter,
    pub frames_unverifiable: Counter,
    pub forwarded: Counter,
    pub empty_reports: Counter,
    pub forward_refused: Counter,
    pub forward_failed: Counter,
    pub commands: Counter,
    pub commands_expired: Counter,
    pub shutdowns_sent: Counter,
    pub pings_timed_out: Counter,
    pub forward_retries: Counter,
    /// Messages waiting to be sent again (the manager unreachable or failing).
    pub forward_waiting: Gauge,
    /// Set when scraped.
    connections: Gauge,
    pending_commands: Gauge,
    registry: MetricRegistry,
}

impl Default for Stats {
    fn default() -> Self {
        let mut s = Stats {
            connections_opened: Counter::default(),
            connections_closed: Counter::default(),
            frames: Counter::default(),
            frames_stale: Counter::default(),
            frames_rejected: Counter::default(),
            frames_unverifiable: Counter::default(),
            forwarded: Counter::default(),
            empty_reports: Counter::default(),
            forward_refused: Counter::default(),
            forward_failed: Counter::default(),
            commands: Counter::default(),
            commands_expired: Counter::default(),
            shutdowns_sent: Counter::default(),
            pings_timed_out: Counter::default(),
            forward_retries: Counter::default(),
            forward_waiting: Gauge::default(),
            connections: Gauge::default(),
            pending_commands: Gauge::default(),
            registry: MetricRegistry::default(),
        };
        let r = &mut s.registry;
        r.register("ezm_ws_connections", "agent sockets open now", s.connections.clone());
        r.register("ezm_ws_pending_commands", "commands waiting for an agent's answer", s.pending_commands.clone());
        r.register(
            "ezm_ws_forward_waiting",
            "agent messages waiting to be forwarded again (the manager unreachable or failing); their sockets are not read meanwhile",
            s.forward_waiting.clone(),
        );
        let counters: [(&str, &Counter, &str); 15] = [
            ("ezm_ws_connections_opened", &s.connections_opened, "agent sockets accepted"),
            ("ezm_ws_connections_closed", &s.connections_closed, "agent sockets closed"),
            ("ezm_ws_frames", &s.frames, "agent frames received"),
            ("ezm_ws_frames_stale", &s.frames_stale, "frames dropped for a timestamp outside the window"),
            ("ezm_ws_frames_rejected", &s.frames_rejected, "frames refused (bad signature, unknown app, malformed); the socket is closed"),
            ("ezm_ws_frames_unverifiable", &s.frames_unverifiable, "frames dropped because no app secret could be fetched"),
            ("ezm_ws_forwarded", &s.forwarded, "messages the manager accepted"),
            ("ezm_ws_empty_reports", &s.empty_reports, "empty error_log/core_files reports, not forwarded (they store nothing)"),
            ("ezm_ws_forward_refused", &s.forward_refused, "messages the manager refused"),
            ("ezm_ws_forward_failed", &s.forward_failed, "messages that could not reach the manager within forward_max_wait_secs"),
            ("ezm_ws_forward_retries", &s.forward_retries, "forwards sent again after a transient failure (one per message and attempt)"),
            ("ezm_ws_commands", &s.commands, "exec_command requests"),
            ("ezm_ws_commands_expired", &s.commands_expired, "exec_command requests without an answer in time"),
            ("ezm_ws_shutdowns_sent", &s.shutdowns_sent, "shutdown frames sent (duplicate-agent policy)"),
            ("ezm_ws_pings_timed_out", &s.pings_timed_out, "sockets closed for not answering pings"),
        ];
        for (name, counter, help) in counters {
            r.register(name, help, counter.clone());
        }
        s
    }
}

impl Stats {
    /// The registry, with the gauges set to `connections` and `pending` commands.
    pub fn registry(&self, connections: usize, pending: usize) -> &MetricRegistry {
        self.connections.set(connections as i64);
        self.pending_commands.set(pending as i64);
        &self.registry
    }
}
