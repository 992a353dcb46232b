//! Retention: keep the day tables of the last `retention_days` days and empty the others (TRUNCATE: instant, and it
//! gives the space back, where the original looped `DELETE … LIMIT 200000` + OPTIMIZE). Also forgets agents
//! whose last heartbeat is older than `agent_offline_secs`. Runs at start-up and daily at `retention_hour`.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, Local, TimeZone, Timelike};
use mysql_async::Pool;
use store::logs_db::{self, DAY_TABLE_PREFIXES};

use crate::clients::registry::AgentRegistry;
use crate::error::ManagerError;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub truncated: Vec<String>,
    pub stale_agents: usize,
}

/// Day-of-month suffixes to keep on `now`'s date: today and the `days - 1` days before.
pub fn kept_days(now: DateTime<Local>, days: u32) -> BTreeSet<u32> {
    let today = now.date_naive();
    (0..days.max(1) as u64).filter_map(|back| today.checked_sub_days(Days::new(back))).map(|d| chrono::Datelike::day(&d)).collect()
}

#[derive(Clone)]
pub struct Retention {
    pub logs_db: Pool,
    pub registry: AgentRegistry,
    pub days: u32,
    /// Local hour of the daily run.
    pub hour: u32,
}

impl Retention {
    pub async fn run_once(&self, now: DateTime<Local>) -> Result<Report, ManagerError> {
        let keep = kept_days(now, self.days);
        let mut report = Report::default();
        for prefix in DAY_TABLE_PREFIXES {
            for day in (1..=31).filter(|d| !keep.contains(d)) {
                if logs_db::empty_day_table(&self.logs_db, prefix, day).await? {
                    let table = format!("{prefix}_{day:02}");
                    tracing::info!(table = %table, "emptied an expired day table");
                    report.truncated.push(table);
                }
            }
        }
        report.stale_agents = self.registry.forget_stale(now.timestamp_millis()).await?;
        Ok(report)
    }

    /// Runs `run_once` now and then every day at `hour` local time, until the process stops.
    pub async fn schedule(self) {
        loop {
            match self.run_once(Local::now()).await {
                Ok(report) => tracing::info!(truncated = report.truncated.len(), stale_agents = report.stale_agents, "retention run done"),
                Err(e) => tracing::error!(error = %e, "retention run failed"),
            }
            let now = Local::now();
            let hour = self.hour.min(23);
            let today_at = now.date_naive().and_hms_opt(hour, 0, 0).expect("hour is clamped to 0..=23");
            let next = match now.hour() < hour {
                true => today_at,
                false => today_at + chrono::Duration::days(1),
            };
            let next = Local.from_local_datetime(&next).earliest().unwrap_or(now + chrono::Duration::days(1));
            let wait = (next - now).to_std().unwrap_or(std::time::Duration::from_secs(3600));
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_today_and_the_days_before_across_a_month_boundary() {
        let now = Local.with_ymd_and_hms(2026, 3, 2, 3, 0, 0).unwrap();
        assert_eq!(kept_days(now, 8), BTreeSet::from([2, 1, 28, 27, 26, 25, 24, 23]));
        assert_eq!(kept_days(now, 0), BTreeSet::from([2]));
        assert_eq!(kept_days(now, 40).len(), 31);
    }
}
