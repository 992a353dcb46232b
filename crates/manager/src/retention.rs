//! Retention: keep the day tables of the last `retention_days` days and empty the others with TRUNCATE (instant,
//! and it gives the space back, where the original looped `DELETE … LIMIT 200000` + OPTIMIZE). Also forgets agents
//! whose last heartbeat is older than `agent_offline_secs`. Runs at start-up and daily at `retention_hour`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, Local, TimeZone, Timelike};
use deadpool_redis::redis;
use mysql_async::prelude::Queryable;

use crate::error::ManagerError;
use crate::registry::ClientEntry;
use crate::schema::DAY_TABLE_PREFIXES;
use crate::startup::AppState;
use crate::keys;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub truncated: Vec<String>,
    pub stale_agents: usize,
}

/// Day-of-month suffixes to keep on `now`'s date: today and the `days - 1` days before.
pub fn kept_days(now: DateTime<Local>, days: u32) -> BTreeSet<u32> {
    let today = now.date_naive();
    (0..days.max(1) as u64)
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .map(|d| chrono::Datelike::day(&d))
        .collect()
}

pub async fn run_once(state: &AppState, now: DateTime<Local>) -> Result<Report, ManagerError> {
    let keep = kept_days(now, state.settings.manager.retention_days);
    let mut report = Report::default();
    let mut conn = state.logs_db.get_conn().await?;
    for prefix in DAY_TABLE_PREFIXES {
        for day in (1..=31).filter(|d| !keep.contains(d)) {
            let table = format!("{prefix}_{day:02}");
            let has_rows: Option<u8> = conn.query_first(format!("SELECT 1 FROM `{table}` LIMIT 1")).await?;
            if has_rows.is_some() {
                conn.query_drop(format!("TRUNCATE TABLE `{table}`")).await?;
                tracing::info!(table = %table, "emptied an expired day table");
                report.truncated.push(table);
            }
        }
    }
    report.stale_agents = forget_stale_agents(state, now.timestamp_millis()).await?;
    Ok(report)
}

async fn forget_stale_agents(state: &AppState, now_ms: i64) -> Result<usize, ManagerError> {
    let max_age_ms = state.settings.manager.agent_offline_secs * 1000;
    let mut conn = state.redis.get().await?;
    let apps: Vec<String> = redis::cmd("SMEMBERS").arg(state.redis.key(keys::APPS)).query_async(&mut conn).await?;
    let mut removed = 0;
    for app in apps {
        let key = keys::clients(&state.redis, &app);
        let all: BTreeMap<String, String> = redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await?;
        let stale: Vec<&String> = all
            .iter()
            .filter(|(_, raw)| serde_json::from_str::<ClientEntry>(raw).map(|e| now_ms - e.timestamp > max_age_ms).unwrap_or(true))
            .map(|(agent, _)| agent)
            .collect();
        if !stale.is_empty() {
            redis::cmd("HDEL").arg(&key).arg(&stale).query_async::<()>(&mut conn).await?;
            removed += stale.len();
        }
        if stale.len() == all.len() {
            redis::cmd("SREM").arg(state.redis.key(keys::APPS)).arg(&app).query_async::<()>(&mut conn).await?;
        }
    }
    Ok(removed)
}

/// Runs `run_once` now and then every day at `retention_hour` local time, until the process stops.
pub async fn schedule(state: AppState) {
    loop {
        match run_once(&state, Local::now()).await {
            Ok(report) => tracing::info!(truncated = report.truncated.len(), stale_agents = report.stale_agents, "retention run done"),
            Err(e) => tracing::error!(error = %e, "retention run failed"),
        }
        let now = Local::now();
        let hour = state.settings.manager.retention_hour.min(23);
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
