//! Counters exported on `/metrics` in Prometheus text format. Hand-rolled atomics: a handful of counters and one
//! histogram do not justify a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::rows::Row;

/// Upper bounds (seconds) of the ingestion-lag histogram: agent collection time → row committed.
const LAG_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

#[derive(Default)]
pub struct Stats {
    pub process_rows: AtomicU64,
    pub osinfo_rows: AtomicU64,
    pub rows_failed: AtomicU64,
    pub logs_by_kind: [AtomicU64; 6],
    pub logs_duplicate: AtomicU64,
    pub logs_rejected: AtomicU64,
    pub heartbeats: AtomicU64,
    pub commands: AtomicU64,
    pub commands_failed: AtomicU64,
    lag_buckets: [AtomicU64; 10],
    lag_sum_ms: AtomicU64,
    lag_count: AtomicU64,
}

pub const LOG_KINDS: [&str; 6] = ["system_log", "xprofiler_log", "error_log", "package", "core_files", "other"];

impl Stats {
    pub fn rows_stored(&self, rows: &[&Row]) {
        let process = rows.iter().filter(|r| r.table.starts_with("process_")).count() as u64;
        self.process_rows.fetch_add(process, Relaxed);
        self.osinfo_rows.fetch_add(rows.len() as u64 - process, Relaxed);
    }

    pub fn rows_failed(&self, n: usize) {
        self.rows_failed.fetch_add(n as u64, Relaxed);
    }

    pub fn log_received(&self, kind: &str) {
        let i = LOG_KINDS.iter().position(|k| *k == kind).unwrap_or(LOG_KINDS.len() - 1);
        self.logs_by_kind[i].fetch_add(1, Relaxed);
    }

    /// Records how long after the agent collected it a log was stored.
    pub fn observe_lag_ms(&self, lag_ms: i64) {
        let lag_ms = lag_ms.max(0) as u64;
        let secs = lag_ms as f64 / 1000.0;
        let bucket = LAG_BUCKETS.iter().position(|b| secs <= *b).unwrap_or(LAG_BUCKETS.len());
        self.lag_buckets[bucket].fetch_add(1, Relaxed);
        self.lag_sum_ms.fetch_add(lag_ms, Relaxed);
        self.lag_count.fetch_add(1, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        counter("ezm_manager_process_rows_total", "process_DD rows stored", self.process_rows.load(Relaxed));
        counter("ezm_manager_osinfo_rows_total", "osinfo_DD rows stored", self.osinfo_rows.load(Relaxed));
        counter("ezm_manager_rows_failed_total", "metric rows that could not be stored (the request failed)", self.rows_failed.load(Relaxed));
        counter("ezm_manager_logs_duplicate_total", "retried log posts recognised and not stored twice", self.logs_duplicate.load(Relaxed));
        counter("ezm_manager_logs_rejected_total", "log posts refused as malformed", self.logs_rejected.load(Relaxed));
        counter("ezm_manager_heartbeats_total", "update_client calls", self.heartbeats.load(Relaxed));
        counter("ezm_manager_commands_total", "commands relayed to a ws-server", self.commands.load(Relaxed));
        counter("ezm_manager_commands_failed_total", "commands that got no agent answer", self.commands_failed.load(Relaxed));
        let _ = writeln!(out, "# HELP ezm_manager_logs_total log posts by kind\n# TYPE ezm_manager_logs_total counter");
        for (kind, n) in LOG_KINDS.iter().zip(&self.logs_by_kind) {
            let _ = writeln!(out, "ezm_manager_logs_total{{kind=\"{kind}\"}} {}", n.load(Relaxed));
        }
        let name = "ezm_manager_ingest_lag_seconds";
        let _ = writeln!(out, "# HELP {name} agent collection time to metric rows committed\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, n) in self.lag_buckets.iter().enumerate() {
            cumulative += n.load(Relaxed);
            let le = LAG_BUCKETS.get(i).map(|b| b.to_string()).unwrap_or_else(|| "+Inf".into());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_sum {}", self.lag_sum_ms.load(Relaxed) as f64 / 1000.0);
        let _ = writeln!(out, "{name}_count {}", self.lag_count.load(Relaxed));
        out
    }
}
