//! The manager's counters, exported on `/metrics` (OpenMetrics text, rendered by `prometheus-client`).

use common::metrics::{Counter, Family, Histogram, MetricRegistry};
use store::logs_db::{Row, Skipped};

/// Upper bounds (seconds) of the ingestion-lag histogram: agent collection time → row committed.
const LAG_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

pub const LOG_KINDS: [&str; 6] = ["system_log", "xprofiler_log", "error_log", "package", "core_files", "other"];

type KindLabel = [(&'static str, &'static str); 1];

pub struct Stats {
    pub process_rows: Counter,
    pub osinfo_rows: Counter,
    pub rows_failed: Counter,
    pub rows_duplicate: Counter,
    logs: Family<KindLabel, Counter>,
    pub logs_duplicate: Counter,
    pub logs_rejected: Counter,
    pub heartbeats: Counter,
    pub commands: Counter,
    pub commands_failed: Counter,
    lag: Histogram,
    pub alarm_events_dropped: Counter,
    pub alarm_rules_invalid: Counter,
    pub alarms_fired: Counter,
    pub alarms_held: Counter,
    pub alarms_capped: Counter,
    pub alarm_history_failed: Counter,
    pub alarm_actions: Counter,
    pub alarm_actions_limited: Counter,
    pub alarm_actions_failed: Counter,
    notifications_sent: Family<ChannelLabel, Counter>,
    notifications_failed: Family<ChannelLabel, Counter>,
    registry: MetricRegistry,
}

type ChannelLabel = [(&'static str, &'static str); 1];

/// The alarm channels, as labels.
pub const CHANNELS: [&str; 6] = ["mailer", "dingtalk", "qywx", "feishu", "slack", "webhook"];

impl Default for Stats {
    fn default() -> Self {
        let mut s = Stats {
            process_rows: Counter::default(),
            osinfo_rows: Counter::default(),
            rows_failed: Counter::default(),
            rows_duplicate: Counter::default(),
            logs: Family::default(),
            logs_duplicate: Counter::default(),
            logs_rejected: Counter::default(),
            heartbeats: Counter::default(),
            commands: Counter::default(),
            commands_failed: Counter::default(),
            lag: Histogram::new(LAG_BUCKETS),
            alarm_events_dropped: Counter::default(),
            alarm_rules_invalid: Counter::default(),
            alarms_fired: Counter::default(),
            alarms_held: Counter::default(),
            alarms_capped: Counter::default(),
            alarm_history_failed: Counter::default(),
            alarm_actions: Counter::default(),
            alarm_actions_limited: Counter::default(),
            alarm_actions_failed: Counter::default(),
            notifications_sent: Family::default(),
            notifications_failed: Family::default(),
            registry: MetricRegistry::default(),
        };
        let r = &mut s.registry;
        r.register("ezm_manager_process_rows", "process_DD rows stored", s.process_rows.clone());
        r.register("ezm_manager_osinfo_rows", "osinfo_DD rows stored", s.osinfo_rows.clone());
        r.register("ezm_manager_rows_failed", "metric rows that could not be stored (the request failed)", s.rows_failed.clone());
        r.register(
            "ezm_manager_rows_duplicate",
            "metric rows not stored because their sample (app, agent, pid or position, log time) is stored already",
            s.rows_duplicate.clone(),
        );
        r.register("ezm_manager_logs_duplicate", "retried log posts recognised and not stored twice", s.logs_duplicate.clone());
        r.register("ezm_manager_logs_rejected", "log posts refused as malformed", s.logs_rejected.clone());
        r.register("ezm_manager_heartbeats", "update_client calls", s.heartbeats.clone());
        r.register("ezm_manager_commands", "commands relayed to a ws-server", s.commands.clone());
        r.register("ezm_manager_commands_failed", "commands that got no agent answer", s.commands_failed.clone());
        r.register("ezm_manager_logs", "log posts by kind", s.logs.clone());
        r.register("ezm_manager_ingest_lag_seconds", "agent collection time to metric rows committed", s.lag.clone());
        r.register(
            "ezm_manager_alarm_events_dropped",
            "logs or alarms not evaluated or delivered because the alarm queue was full",
            s.alarm_events_dropped.clone(),
        );
        r.register(
            "ezm_manager_alarm_rules_invalid",
            "alarm rules in the database whose expression or template does not parse (each once)",
            s.alarm_rules_invalid.clone(),
        );
        r.register("ezm_manager_alarms_fired", "alarm rules that fired (one history row each)", s.alarms_fired.clone());
        r.register("ezm_manager_alarms_held", "alarm messages held back by the debounce window (sent later as a summary)", s.alarms_held.clone());
        r.register("ezm_manager_alarms_capped", "alarm messages not sent because the channel's daily limit was reached", s.alarms_capped.clone());
        r.register("ezm_manager_alarm_history_failed", "alarms whose alarm_DD row could not be written", s.alarm_history_failed.clone());
        r.register("ezm_manager_alarm_actions", "automatic profiles taken by alarm rules", s.alarm_actions.clone());
        r.register(
            "ezm_manager_alarm_actions_limited",
            "automatic profiles not taken: the process had one within alarm.action_interval_secs",
            s.alarm_actions_limited.clone(),
        );
        r.register("ezm_manager_alarm_actions_failed", "automatic profiles that failed (agent offline or refused)", s.alarm_actions_failed.clone());
        r.register("ezm_manager_notifications_sent", "alarm messages delivered, by channel", s.notifications_sent.clone());
        r.register("ezm_manager_notifications_failed", "alarm messages that failed after their retries, by channel", s.notifications_failed.clone());
        for channel in CHANNELS {
            let _ = s.notifications_sent.get_or_create(&[("channel", channel)]);
            let _ = s.notifications_failed.get_or_create(&[("channel", channel)]);
        }
        for kind in LOG_KINDS {
            let _ = s.logs.get_or_create(&[("kind", kind)]);
        }
        s
    }
}

impl Stats {
    /// `rows` went through the insert; `skipped` of them were stored already (counted apart, not as stored).
    pub fn rows_stored(&self, rows: &[&Row], skipped: Skipped) {
        let process = rows.iter().filter(|r| r.table.starts_with("process_")).count() as u64;
        let osinfo = rows.len() as u64 - process;
        self.process_rows.inc_by(process.saturating_sub(skipped.process));
        self.osinfo_rows.inc_by(osinfo.saturating_sub(skipped.osinfo));
        self.rows_duplicate.inc_by(skipped.process + skipped.osinfo);
    }

    pub fn rows_failed(&self, n: usize) {
        self.rows_failed.inc_by(n as u64);
    }

    pub fn log_received(&self, kind: &str) {
        let kind = LOG_KINDS.iter().find(|k| **k == kind).unwrap_or(&"other");
        self.logs.get_or_create(&[("kind", kind)]).inc();
    }

    /// Records how long after the agent collected it a log was stored.
    pub fn observe_lag_ms(&self, lag_ms: i64) {
        self.lag.observe(lag_ms.max(0) as f64 / 1000.0);
    }

    pub fn notification_sent(&self, channel: &str) {
        let channel = CHANNELS.iter().find(|c| **c == channel).unwrap_or(&"webhook");
        self.notifications_sent.get_or_create(&[("channel", channel)]).inc();
    }

    pub fn notification_failed(&self, channel: &str) {
        let channel = CHANNELS.iter().find(|c| **c == channel).unwrap_or(&"webhook");
        self.notifications_failed.get_or_create(&[("channel", channel)]).inc();
    }

    /// Alarm messages delivered on `channel` so far (tests).
    pub fn notifications_sent_on(&self, channel: &str) -> u64 {
        self.notifications_sent.get_or_create(&[("channel", CHANNELS.iter().find(|c| **c == channel).unwrap_or(&"webhook"))]).get()
    }

    pub fn registry(&self) -> &MetricRegistry {
        &self.registry
    }
}
