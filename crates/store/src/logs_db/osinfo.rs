//! `osinfo_DD`: one row per agent per minute at position 0 (the system), and at position 1 the gc and http figures
//! of its Node processes, averaged or summed.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use mysql_async::Pool;

use crate::logs_db::{bound, datetime, number, query_days, text};

/// The columns the manager inserts, in order. Declared once; `db/logs.sql` is held to it by a test.
pub const COLUMNS: [&str; 31] = [
    "app", "agent", "log_time", "position", "version", "total_memory", "free_memory", "disks", "response_codes",
    "uptime", "used_cpu", "cpu_count", "load1", "load5", "load15", "node_count", "total_gc_times",
    "total_gc_duration", "total_scavange_duration", "total_marksweep_duration", "total_incremental_marking_duration",
    "gc_time_during_last_record", "scavange_duration_last_record", "marksweep_duration_last_record",
    "incremental_marking_duration_last_record", "live_http_request", "http_response_close", "http_response_sent",
    "http_request_timeout", "http_patch_timeout", "http_rt",
];

pub(crate) static COLUMN_LIST: LazyLock<String> = LazyLock::new(|| COLUMNS.join(", "));

/// Position 0: the agent's system figures (the gc and http columns hold 0).
pub const SYSTEM: u8 = 0;
/// Position 1: the gc and http figures of the agent's Node processes (the system columns hold 0).
pub const XPROFILER: u8 = 1;

/// What the console reads of an `osinfo_DD` row (either position). Every metric is an f64 (DECIMAL included);
/// NULL reads as 0.
#[derive(Debug, Clone, PartialEq)]
pub struct OsinfoRow {
    /// [`SYSTEM`] or [`XPROFILER`].
    pub position: u8,
    /// Local wall-clock time, as the manager wrote it.
    pub log_time: NaiveDateTime,
    /// A 0–1 fraction.
    pub used_cpu: f64,
    pub cpu_count: f64,
    /// Bytes.
    pub total_memory: f64,
    pub free_memory: f64,
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    /// JSON `{mount: percent}` as stored.
    pub disks: String,
    pub node_count: f64,
    pub total_gc_times: f64,
    /// The schema's spelling.
    pub total_scavange_duration: f64,
    pub scavange_duration_last_record: f64,
    pub total_marksweep_duration: f64,
    pub marksweep_duration_last_record: f64,
    pub http_response_sent: f64,
    pub http_patch_timeout: f64,
    /// Milliseconds.
    pub http_rt: f64,
}

/// The columns of [`OsinfoRow`], in its field order.
const READ: [&str; 19] = [
    "position", "log_time", "used_cpu", "cpu_count", "total_memory", "free_memory", "load1", "load5", "load15",
    "disks", "node_count", "total_gc_times", "total_scavange_duration", "scavange_duration_last_record",
    "total_marksweep_duration", "marksweep_duration_last_record", "http_response_sent", "http_patch_timeout",
    "http_rt",
];

impl OsinfoRow {
    /// A row selected with [`READ`]; `None` without a readable `log_time`.
    fn decode(row: &mysql_async::Row) -> Option<OsinfoRow> {
        let n = |i: usize| number(row.as_ref(i));
        Some(OsinfoRow {
            position: n(0) as u8,
            log_time: datetime(row.as_ref(1))?,
            used_cpu: n(2),
            cpu_count: n(3),
            total_memory: n(4),
            free_memory: n(5),
            load1: n(6),
            load5: n(7),
            load15: n(8),
            disks: text(row.as_ref(9)),
            node_count: n(10),
            total_gc_times: n(11),
            total_scavange_duration: n(12),
            scavange_duration_last_record: n(13),
            total_marksweep_duration: n(14),
            marksweep_duration_last_record: n(15),
            http_response_sent: n(16),
            http_patch_timeout: n(17),
            http_rt: n(18),
        })
    }
}

fn read_list() -> String {
    READ.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// The rows of both positions of (`app`, `agent`) with `log_time` in `[from, to)` (local times), one query per
/// day table, oldest first.
pub async fn rows_between(
    pool: &Pool,
    app: i64,
    agent: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<OsinfoRow>, mysql_async::Error> {
    let columns = read_list();
    let rows = query_days(
        pool,
        "osinfo",
        from,
        to,
        |table| {
            format!(
                "SELECT {columns} FROM `{table}` WHERE app = ? AND agent = ? AND log_time >= ? AND log_time < ? \
                 ORDER BY log_time, id"
            )
        },
        |span| (app, agent, bound(span.from), bound(span.to)),
    )
    .await?;
    Ok(rows.iter().filter_map(OsinfoRow::decode).collect())
}

/// The latest row of each position of (`app`, `agent`) with `log_time` in `[since, until)`: at most two rows,
/// [`SYSTEM`] first. The halves may come from different minutes.
pub async fn latest_halves(
    pool: &Pool,
    app: i64,
    agent: &str,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Vec<OsinfoRow>, mysql_async::Error> {
    let columns = read_list();
    let rows = query_days(
        pool,
        "osinfo",
        since,
        until,
        |table| {
            let half = |position: u8| {
                format!(
                    "(SELECT {columns} FROM `{table}` WHERE app = ? AND agent = ? AND position = {position} \
                     AND log_time >= ? AND log_time < ? ORDER BY log_time DESC, id DESC LIMIT 1)"
                )
            };
            format!("{} UNION ALL {}", half(SYSTEM), half(XPROFILER))
        },
        |span| {
            let (from, to) = (bound(span.from), bound(span.to));
            (app, agent, from.clone(), to.clone(), app, agent, from, to)
        },
    )
    .await?;
    let mut halves: [Option<OsinfoRow>; 2] = [None, None];
    for row in rows.iter().filter_map(OsinfoRow::decode) {
        let Some(slot) = halves.get_mut(usize::from(row.position)) else { continue };
        // Days come oldest first: a later day's row replaces an earlier one.
        if slot.as_ref().is_none_or(|seen| seen.log_time <= row.log_time) {
            *slot = Some(row);
        }
    }
    Ok(halves.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "osinfo");
        for column in super::COLUMNS {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of osinfo in db/logs.sql");
        }
        let written: Vec<&String> = schema.iter().filter(|c| !["id", "gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), super::COLUMNS.len(), "{written:?}");
    }

    #[test]
    fn the_console_reads_columns_of_the_schema() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "osinfo");
        for column in super::READ {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of osinfo in db/logs.sql");
        }
    }
}

/// The agents of `app` that reported with `log_time` in `[since, until)`, each with its latest `log_time` (the
/// instance list shows agents that are offline now but have history). One grouped query per day table over the
/// `(app, agent, log_time)` index.
pub async fn agents_between(
    pool: &Pool,
    app: i64,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Vec<(String, NaiveDateTime)>, mysql_async::Error> {
    let rows = query_days(
        pool,
        "osinfo",
        since,
        until,
        |table| format!("SELECT agent, MAX(log_time) FROM `{table}` WHERE app = ? AND log_time >= ? AND log_time < ? GROUP BY agent"),
        |span| (app, bound(span.from), bound(span.to)),
    )
    .await?;
    let mut latest: std::collections::BTreeMap<String, NaiveDateTime> = std::collections::BTreeMap::new();
    for row in rows {
        let (Some(agent), Some(time)) = (row.get_opt::<String, _>(0).and_then(Result::ok), datetime(row.as_ref(1))) else {
            continue;
        };
        let slot = latest.entry(agent).or_insert(time);
        if time > *slot {
            *slot = time;
        }
    }
    Ok(latest.into_iter().collect())
}
