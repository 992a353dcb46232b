//! `process_DD`: one row per Node process per minute (and per xprofiler log), the original's columns.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use mysql_async::Pool;

use crate::logs_db::{bound, datetime, number, query_days};

/// The columns the manager inserts, in order: the row's identity, the 70 xprofiler metrics, `response_codes`.
/// Declared once; `db/logs.sql` is held to it by a test.
pub const COLUMNS: [&str; 76] = [
    "app", "agent", "pid", "log_time", "version", "cpu_now", "cpu_15", "cpu_30", "cpu_60", "rss", "heap_used",
    "heap_available", "heap_total", "heap_limit", "heap_executeable", "total_physical_size", "malloced_memory",
    "amount_of_external_allocated_memory", "new_space_size", "new_space_used", "new_space_available",
    "new_space_committed", "old_space_size", "old_space_used", "old_space_available", "old_space_committed",
    "code_space_size", "code_space_used", "code_space_available", "code_space_committed", "map_space_size",
    "map_space_used", "map_space_available", "map_space_committed", "lo_space_size", "lo_space_used",
    "lo_space_available", "lo_space_committed", "read_only_space_size", "read_only_space_used",
    "read_only_space_available", "read_only_space_committed", "new_lo_space_size", "new_lo_space_used",
    "new_lo_space_available", "new_lo_space_committed", "code_lo_space_size", "code_lo_space_used",
    "code_lo_space_available", "code_lo_space_committed", "uptime", "total_gc_times", "total_gc_duration",
    "total_scavange_duration", "total_marksweep_duration", "total_incremental_marking_duration",
    "gc_time_during_last_record", "scavange_duration_last_record", "marksweep_duration_last_record",
    "incremental_marking_duration_last_record", "active_handles", "active_file_handles",
    "active_and_ref_file_handles", "active_tcp_handles", "active_and_ref_tcp_handles", "active_udp_handles",
    "active_and_ref_udp_handles", "active_timer_handles", "active_and_ref_timer_handles", "live_http_request",
    "http_response_close", "http_response_sent", "http_request_timeout", "http_patch_timeout", "http_rt",
    "response_codes",
];

/// The 70 metric columns (`cpu_now` … `http_rt`), in the original's insert order.
pub const METRICS: &[&str] = COLUMNS.split_at(5).1.split_at(70).0;

pub(crate) static COLUMN_LIST: LazyLock<String> = LazyLock::new(|| COLUMNS.join(", "));

/// What the console reads of a `process_DD` row: the figures of its trends and process list. Every metric is an
/// f64 (DECIMAL included); NULL reads as 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    pub pid: i64,
    /// Local wall-clock time, as the manager wrote it.
    pub log_time: NaiveDateTime,
    /// Seconds.
    pub uptime: f64,
    /// Percent.
    pub cpu_now: f64,
    pub cpu_15: f64,
    pub cpu_30: f64,
    pub cpu_60: f64,
    /// Bytes, like every memory figure.
    pub rss: f64,
    pub heap_used: f64,
    pub heap_total: f64,
    pub heap_limit: f64,
    pub amount_of_external_allocated_memory: f64,
    pub new_space_size: f64,
    pub old_space_size: f64,
    pub code_space_size: f64,
    pub map_space_size: f64,
    pub lo_space_size: f64,
    pub read_only_space_size: f64,
    pub new_lo_space_size: f64,
    pub code_lo_space_size: f64,
    /// Milliseconds spent in gc during the last minute.
    pub gc_time_during_last_record: f64,
    /// The schema's spelling.
    pub scavange_duration_last_record: f64,
    pub marksweep_duration_last_record: f64,
    pub active_handles: f64,
    pub active_timer_handles: f64,
    pub active_tcp_handles: f64,
    pub active_udp_handles: f64,
    /// Responses sent during the last minute.
    pub http_response_sent: f64,
}

/// The columns of [`ProcessRow`], in its field order.
const READ: [&str; 28] = [
    "pid", "log_time", "uptime", "cpu_now", "cpu_15", "cpu_30", "cpu_60", "rss", "heap_used", "heap_total",
    "heap_limit", "amount_of_external_allocated_memory", "new_space_size", "old_space_size", "code_space_size",
    "map_space_size", "lo_space_size", "read_only_space_size", "new_lo_space_size", "code_lo_space_size",
    "gc_time_during_last_record", "scavange_duration_last_record", "marksweep_duration_last_record",
    "active_handles", "active_timer_handles", "active_tcp_handles", "active_udp_handles", "http_response_sent",
];

impl ProcessRow {
    /// A row selected with [`READ`]; `None` without a readable `log_time`.
    fn decode(row: &mysql_async::Row) -> Option<ProcessRow> {
        let n = |i: usize| number(row.as_ref(i));
        Some(ProcessRow {
            pid: n(0) as i64,
            log_time: datetime(row.as_ref(1))?,
            uptime: n(2),
            cpu_now: n(3),
            cpu_15: n(4),
            cpu_30: n(5),
            cpu_60: n(6),
            rss: n(7),
            heap_used: n(8),
            heap_total: n(9),
            heap_limit: n(10),
            amount_of_external_allocated_memory: n(11),
            new_space_size: n(12),
            old_space_size: n(13),
            code_space_size: n(14),
            map_space_size: n(15),
            lo_space_size: n(16),
            read_only_space_size: n(17),
            new_lo_space_size: n(18),
            code_lo_space_size: n(19),
            gc_time_during_last_record: n(20),
            scavange_duration_last_record: n(21),
            marksweep_duration_last_record: n(22),
            active_handles: n(23),
            active_timer_handles: n(24),
            active_tcp_handles: n(25),
            active_udp_handles: n(26),
            http_response_sent: n(27),
        })
    }
}

fn read_list(alias: &str) -> String {
    READ.iter().map(|c| format!("{alias}`{c}`")).collect::<Vec<_>>().join(", ")
}

/// The rows of process `pid` of (`app`, `agent`) with `log_time` in `[from, to)` (local times), one query per day
/// table, oldest first.
pub async fn rows_between(
    pool: &Pool,
    app: i64,
    agent: &str,
    pid: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<ProcessRow>, mysql_async::Error> {
    let columns = read_list("");
    let rows = query_days(
        pool,
        "process",
        from,
        to,
        |table| {
            format!(
                "SELECT {columns} FROM `{table}` WHERE app = ? AND agent = ? AND pid = ? AND log_time >= ? AND log_time < ? \
                 ORDER BY log_time, id"
            )
        },
        |span| (app, agent, pid, bound(span.from), bound(span.to)),
    )
    .await?;
    Ok(rows.iter().filter_map(ProcessRow::decode).collect())
}

/// The latest row of every pid of (`app`, `agent`) with `log_time` in `[since, until)`, by pid ascending.
pub async fn latest_per_pid(
    pool: &Pool,
    app: i64,
    agent: &str,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Vec<ProcessRow>, mysql_async::Error> {
    let columns = read_list("p.");
    let rows = query_days(
        pool,
        "process",
        since,
        until,
        |table| {
            format!(
                "SELECT {columns} FROM `{table}` AS p JOIN (\
                   SELECT pid, MAX(log_time) AS latest FROM `{table}` \
                   WHERE app = ? AND agent = ? AND log_time >= ? AND log_time < ? GROUP BY pid\
                 ) AS l ON p.pid = l.pid AND p.log_time = l.latest \
                 WHERE p.app = ? AND p.agent = ? ORDER BY p.pid, p.id"
            )
        },
        |span| (app, agent, bound(span.from), bound(span.to), app, agent),
    )
    .await?;
    // Days come oldest first and rows of one time by id, so the last row seen of a pid is its latest.
    let mut latest: std::collections::BTreeMap<i64, ProcessRow> = std::collections::BTreeMap::new();
    for row in rows.iter().filter_map(ProcessRow::decode) {
        match latest.get(&row.pid) {
            Some(seen) if seen.log_time > row.log_time => {}
            _ => {
                latest.insert(row.pid, row);
            }
        }
    }
    Ok(latest.into_values().collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "process");
        for column in super::COLUMNS {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of process in db/logs.sql");
        }
        // Every schema column but the generated ones is written.
        let written: Vec<&String> = schema.iter().filter(|c| !["id", "gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), super::COLUMNS.len(), "{written:?}");
        assert_eq!((super::METRICS[0], super::METRICS[69]), ("cpu_now", "http_rt"));
    }

    #[test]
    fn the_console_reads_columns_of_the_schema() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "process");
        for column in super::READ {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of process in db/logs.sql");
        }
    }
}
