//! `alarm_DD`: one row per alarm the manager raised (rule, agent, message, pid), in the table of the day it was
//! inserted. Read by the console: a rule's history over the retained days, and how often each rule fired lately.
//!
//! Times are bounds in milliseconds since the epoch, compared with `gm_create` through `FROM_UNIXTIME` in the
//! session's time zone, the zone in which MySQL's `CURRENT_TIMESTAMP` filled `gm_create` (the column default): so
//! the bounds hold whatever zone the MySQL server and the console each run in. Every query also keeps to its window,
//! so a day table the retention job has not emptied yet (a month-old row of the ring) is never counted.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Value};

/// A span of alarm history: rows with `from_ms <= gm_create < until_ms`, looked for in the day tables `days`
/// (days of the month, newest first, each once). The window is shorter than a month, so each table holds rows of
/// one date of it and the tables' order is the rows' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub days: Vec<u32>,
    pub from_ms: i64,
    pub until_ms: i64,
}

/// One alarm, as the manager stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub agent: String,
    pub message: String,
    pub pid: Option<i64>,
    /// `gm_create` in milliseconds since the epoch.
    pub time_ms: i64,
}

/// One page of a rule's history and the number of alarms in the whole window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub count: u64,
    pub alarms: Vec<Alarm>,
}

const IN_WINDOW: &str = "gm_create >= FROM_UNIXTIME(? / 1000) AND gm_create < FROM_UNIXTIME(? / 1000)";

fn table(day: u32) -> String {
    format!("`alarm_{day:02}`")
}

/// Records one alarm in the day table `alarm_{day}` (`gm_create` is the server's `CURRENT_TIMESTAMP`, as the
/// original). `message` must already fit the column (250 characters).
pub async fn insert(pool: &Pool, day: u32, strategy: u64, agent: &str, message: &str, pid: Option<i64>) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(format!("INSERT INTO {} (strategy, agent, message, pid) VALUES (?, ?, ?, ?)", table(day)), (strategy, agent, message, pid)).await
}

/// The alarms of `strategy` in `window`, newest first, `limit` of them after skipping `offset`. Two queries
/// whatever the window: the count of each day table (one UNION ALL), then the page from only the tables it falls
/// in, each read newest first with its own LIMIT (the `strategy` index carries the primary key, and rows are only
/// ever inserted, so a table's id order is its time order and needs no sort).
pub async fn history(pool: &Pool, strategy: u64, window: &Window, offset: u64, limit: u64) -> Result<Page, mysql_async::Error> {
    if window.days.is_empty() {
        return Ok(Page { count: 0, alarms: Vec::new() });
    }
    let mut conn = pool.get_conn().await?;
    let mut sql = String::new();
    let mut params: Vec<Value> = Vec::new();
    for (part, day) in window.days.iter().enumerate() {
        if part > 0 {
            sql.push_str(" UNION ALL ");
        }
        sql.push_str(&format!("SELECT {part}, COUNT(*) FROM {} WHERE strategy = ? AND {IN_WINDOW}", table(*day)));
        params.extend([strategy.into(), window.from_ms.into(), window.until_ms.into()]);
    }
    let rows: Vec<(usize, u64)> = conn.exec(sql, params).await?;
    let mut counts = vec![0; window.days.len()];
    for (part, count) in rows {
        if let Some(slot) = counts.get_mut(part) {
            *slot = count;
        }
    }
    let count = counts.iter().sum();
    let slices = page_slices(&counts, offset, limit);
    if slices.is_empty() {
        return Ok(Page { count, alarms: Vec::new() });
    }
    let mut sql = String::new();
    let mut params: Vec<Value> = Vec::new();
    for (i, slice) in slices.iter().enumerate() {
        if i > 0 {
            sql.push_str(" UNION ALL ");
        }
        sql.push_str(&format!(
            "(SELECT {} AS part, id, agent, message, pid, CAST(UNIX_TIMESTAMP(gm_create) * 1000 AS SIGNED) AS time_ms \
             FROM {} WHERE strategy = ? AND {IN_WINDOW} ORDER BY id DESC LIMIT ? OFFSET ?)",
            slice.part,
            table(window.days[slice.part]),
        ));
        params.extend([strategy.into(), window.from_ms.into(), window.until_ms.into(), slice.limit.into(), slice.offset.into()]);
    }
    sql.push_str(" ORDER BY part, id DESC");
    let rows: Vec<(usize, u64, String, String, Option<i64>, i64)> = conn.exec(sql, params).await?;
    let alarms = rows.into_iter().map(|(_, _, agent, message, pid, time_ms)| Alarm { agent, message, pid, time_ms }).collect();
    Ok(Page { count, alarms })
}

/// How many alarms each of `strategies` raised in `window`, in one query; rules without alarms are absent.
pub async fn counts(pool: &Pool, strategies: &[u64], window: &Window) -> Result<HashMap<u64, u64>, mysql_async::Error> {
    if strategies.is_empty() || window.days.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; strategies.len()].join(", ");
    let mut parts = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    for day in &window.days {
        parts.push(format!("SELECT strategy FROM {} WHERE strategy IN ({marks}) AND {IN_WINDOW}", table(*day)));
        params.extend(strategies.iter().map(|s| Value::from(*s)));
        params.extend([window.from_ms.into(), window.until_ms.into()]);
    }
    let sql = format!("SELECT strategy, COUNT(*) FROM ({}) a GROUP BY strategy", parts.join(" UNION ALL "));
    let mut conn = pool.get_conn().await?;
    let rows: Vec<(u64, u64)> = conn.exec(sql, params).await?;
    Ok(rows.into_iter().collect())
}

/// True when the logs database or its day tables are not there yet (the manager creates them when it starts).
pub fn is_missing(e: &mysql_async::Error) -> bool {
    // 1049 unknown database, 1146 no such table.
    matches!(e, mysql_async::Error::Server(s) if s.code == 1049 || s.code == 1146)
}

/// The part of one day table a page takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slice {
    /// The table's position in the window (0 is the newest).
    part: usize,
    offset: u64,
    limit: u64,
}

/// Where the rows `offset .. offset + limit` of the whole window lie, given each table's count, newest first.
fn page_slices(counts: &[u64], offset: u64, limit: u64) -> Vec<Slice> {
    let mut slices = Vec::new();
    let mut skip = offset;
    let mut wanted = limit;
    for (part, &count) in counts.iter().enumerate() {
        if wanted == 0 {
            break;
        }
        if skip >= count {
            skip -= count;
            continue;
        }
        let take = (count - skip).min(wanted);
        slices.push(Slice { part, offset: skip, limit: take });
        wanted -= take;
        skip = 0;
    }
    slices
}

#[cfg(test)]
mod tests {
    use super::{page_slices, Slice};

    fn slices(counts: &[u64], offset: u64, limit: u64) -> Vec<(usize, u64, u64)> {
        page_slices(counts, offset, limit).into_iter().map(|Slice { part, offset, limit }| (part, offset, limit)).collect()
    }

    #[test]
    fn a_page_reads_only_the_tables_it_falls_in() {
        assert_eq!(slices(&[3, 0, 2], 0, 2), [(0, 0, 2)]);
        assert_eq!(slices(&[3, 0, 2], 2, 2), [(0, 2, 1), (2, 0, 1)], "across an empty table");
        assert_eq!(slices(&[3, 0, 2], 4, 2), [(2, 1, 1)]);
        assert_eq!(slices(&[3, 0, 2], 5, 2), [], "past the end");
        assert_eq!(slices(&[3, 0, 2], 0, 0), []);
        assert_eq!(slices(&[1, 1, 1, 1], 1, 2), [(1, 0, 1), (2, 0, 1)]);
        assert_eq!(slices(&[], 0, 50), []);
    }

    #[test]
    fn the_day_table_names() {
        assert_eq!(super::table(1), "`alarm_01`");
        assert_eq!(super::table(31), "`alarm_31`");
    }

    #[test]
    fn the_columns_read_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "alarm");
        for column in ["id", "strategy", "agent", "message", "pid", "gm_create"] {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of alarm in db/logs.sql");
        }
    }
}
