//! The logs database (`xprofiler_logs`): metric rows in 31 day-of-month tables per kind (`process_01` …
//! `process_31`, likewise `osinfo` and `alarm`), a ring reused every month.

pub mod alarm;
pub mod osinfo;
pub mod process;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Value};

/// A day-table row's figure: its column, and its field in the row type `R`.
pub type Figure<R> = (&'static str, fn(&mut R) -> &mut f64);

/// The SQL of one day table's read: the table's name and how many parts the read has.
type SqlFor<'a> = dyn Fn(&str, usize) -> String + 'a;

/// The template tables that have a ring of day tables.
pub const DAY_TABLE_PREFIXES: [&str; 3] = ["process", "osinfo", "alarm"];

/// `process_DD` / `osinfo_DD`: DD is the day of month of `log_time` (`YYYY-MM-DD hh:mm:ss`).
pub fn day_table(prefix: &str, log_time: &str) -> String {
    format!("{prefix}_{}", &log_time[8..10])
}

/// A cell of a metric row. Numbers are already clamped to what their column holds, so that strict SQL mode never
/// rejects a whole batch because one agent sent a negative or huge value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(i64),
    UInt(u64),
    Dec(f64),
    Text(String),
}

impl Cell {
    fn to_value(&self) -> Value {
        match self {
            Cell::Int(i) => Value::Int(*i),
            Cell::UInt(u) => Value::UInt(*u),
            Cell::Dec(f) => Value::Double(*f),
            Cell::Text(s) => Value::Bytes(s.as_bytes().to_vec()),
        }
    }
}

/// A metric row: the day table it belongs to and its cells in the order of that table's `COLUMNS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub table: String,
    pub cells: Vec<Cell>,
}

/// Rows `insert` skipped because their sample was stored already, by template.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    pub process: u64,
    pub osinfo: u64,
}

/// Inserts `rows` in one transaction, one multi-row INSERT per table, and returns how many were skipped because a
/// row with the same sample key (`schema::SAMPLE_KEYS`) is stored already: a sample sent again after a restart of
/// anything on the way is stored once. `ON DUPLICATE KEY UPDATE id = id` rather than `INSERT IGNORE`, which would
/// also turn other refusals (a value out of range) into warnings.
pub async fn insert(pool: &Pool, rows: &[&Row]) -> Result<Skipped, mysql_async::Error> {
    let mut by_table: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        by_table.entry(row.table.as_str()).or_default().push(row);
    }
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await?;
    let mut skipped = Skipped::default();
    for (table, rows) in by_table {
        let is_process = table.starts_with("process_");
        let columns: &str = match is_process {
            true => &process::COLUMN_LIST,
            false => &osinfo::COLUMN_LIST,
        };
        // Text protocol with values rendered by the driver's own escaping: one round trip, and no prepared
        // statement per distinct batch size.
        let mut sql = format!("INSERT INTO `{table}` ({columns}) VALUES ");
        for (i, row) in rows.iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ",(" });
            for (j, cell) in row.cells.iter().enumerate() {
                if j > 0 {
                    sql.push(',');
                }
                sql.push_str(&cell.to_value().as_sql(false));
            }
            sql.push(')');
        }
        sql.push_str(" ON DUPLICATE KEY UPDATE `id` = `id`");
        tx.query_drop(sql).await?;
        // A row inserted counts 1, a key already there whose update changed nothing 0.
        let n = (rows.len() as u64).saturating_sub(tx.affected_rows());
        match is_process {
            true => skipped.process += n,
            false => skipped.osinfo += n,
        }
    }
    tx.commit().await?;
    Ok(skipped)
}

/// True for failures of the connection (MySQL restarting), worth retrying; false for a refused statement.
pub fn is_transient(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Io(_) | mysql_async::Error::Driver(_))
}

/// Empties the day table `{prefix}_{day:02}` if it has rows; true if it did.
pub async fn empty_day_table(pool: &Pool, prefix: &str, day: u32) -> Result<bool, mysql_async::Error> {
    let table = format!("{prefix}_{day:02}");
    let mut conn = pool.get_conn().await?;
    let has_rows: Option<u8> = conn.query_first(format!("SELECT 1 FROM `{table}` LIMIT 1")).await?;
    if has_rows.is_none() {
        return Ok(false);
    }
    // TRUNCATE: instant, and it gives the space back (the original looped DELETE … LIMIT 200000 + OPTIMIZE).
    conn.query_drop(format!("TRUNCATE TABLE `{table}`")).await?;
    // A table that held duplicated samples (from an earlier version) could not get its key at start-up: now it can.
    crate::schema::add_sample_key(&mut conn, &table).await?;
    Ok(true)
}

/// `log_time` as text, the form the original queries and stores it in.
pub const LOG_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// MySQL's "table doesn't exist".
const ER_NO_SUCH_TABLE: u16 = 1146;
/// `FORCE INDEX` of an index the table lacks.
const ER_KEY_DOES_NOT_EXIST: u16 = 1176;

/// The part of a time window that lies in one day table: `log_time` in `[from, to)`, all on day of month `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    pub day: u32,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// Splits `[from, to)` (local wall-clock times, as `log_time` holds them) at each local midnight, earliest first.
/// Unlike the original (which ended a day at `23:59:59` and compared with `<`), the last second of a day is
/// included. A window longer than a month reuses a table number, which is harmless: every query also bounds
/// `log_time`.
pub fn day_spans(from: NaiveDateTime, to: NaiveDateTime) -> Vec<DaySpan> {
    let mut spans = Vec::new();
    let mut start = from;
    while start < to {
        let next_midnight = match start.date().succ_opt() {
            Some(next) => next.and_time(chrono::NaiveTime::MIN),
            // 31 December of chrono's last year: nothing lies beyond
            None => to,
        };
        let end = next_midnight.min(to);
        spans.push(DaySpan { day: start.day(), from: start, to: end });
        start = end;
    }
    spans
}

/// A metric cell as a number: DECIMAL (text on the wire), integers and doubles alike. NULL and anything
/// unparsable read as 0, as the original's `Number(null)` and `|| 0`.
pub(crate) fn number(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Int(i)) => *i as f64,
        Some(Value::UInt(u)) => *u as f64,
        Some(Value::Double(d)) => *d,
        Some(Value::Float(f)) => f64::from(*f),
        Some(Value::Bytes(b)) => std::str::from_utf8(b).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A text cell; NULL reads as empty.
pub(crate) fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// A DATETIME cell (binary protocol: a date value; text protocol: `YYYY-MM-DD hh:mm:ss`). `None` for NULL or a
/// zero date.
pub(crate) fn datetime(value: Option<&Value>) -> Option<NaiveDateTime> {
    match value? {
        Value::Date(y, mo, d, h, mi, s, us) => {
            NaiveDate::from_ymd_opt(i32::from(*y), u32::from(*mo), u32::from(*d))?.and_hms_micro_opt(u32::from(*h), u32::from(*mi), u32::from(*s), *us)
        }
        Value::Bytes(b) => {
            let text = std::str::from_utf8(b).ok()?;
            let seconds = text.get(..19)?;
            NaiveDateTime::parse_from_str(seconds, LOG_TIME_FORMAT).ok()
        }
        _ => None,
    }
}

/// Runs `sql(table)` with `params(span)` against the day table of every span of `[from, to)`, earliest day first,
/// and gathers the rows. A day table that does not exist is skipped (logged at debug), as the original does; any
/// other failure is returned, so that a database outage is not shown as an empty chart.
pub(crate) async fn query_days<P>(
    pool: &Pool,
    prefix: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    sql: impl Fn(&str) -> String,
    params: impl Fn(&DaySpan) -> P,
) -> Result<Vec<mysql_async::Row>, mysql_async::Error>
where
    P: Into<mysql_async::Params> + Send,
{
    read_days(pool, prefix, (from, to), 1, &|table, _| sql(table), None, params).await
}

/// [`query_days`] with `parts` statements a day table, `through(table, part)`, each naming an index (`FORCE
/// INDEX`), run one after the other on the day's connection, their rows gathered in part order; `plain(table,
/// part)` is the same statement without the index, for a day table that lacks it (the manager adds the indexes
/// in the background after an upgrade). Naming the index spares MariaDB its estimates of every other index of the
/// table: on a day not read lately that was most of the read (6 ms of 8 for a process's day, the estimates reading
/// cold pages of five indexes).
pub(crate) async fn query_days_through<P>(
    pool: &Pool,
    prefix: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    parts: usize,
    through: impl Fn(&str, usize) -> String,
    plain: impl Fn(&str, usize) -> String,
    params: impl Fn(&DaySpan) -> P,
) -> Result<Vec<mysql_async::Row>, mysql_async::Error>
where
    P: Into<mysql_async::Params> + Send,
{
    read_days(pool, prefix, (from, to), parts, &through, Some(&plain), params).await
}

async fn read_days<P>(
    pool: &Pool,
    prefix: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    parts: usize,
    sql: &SqlFor<'_>,
    without_index: Option<&SqlFor<'_>>,
    params: impl Fn(&DaySpan) -> P,
) -> Result<Vec<mysql_async::Row>, mysql_async::Error>
where
    P: Into<mysql_async::Params> + Send,
{
    let spans = day_spans(from, to);
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    // The day tables are read at once, each on its own pooled connection (a week is 8 tables: 8 round trips one
    // after the other were most of a trend's time); the rows are gathered in day order.
    let params = &params;
    let reads = spans.iter().map(|span| async move {
        let table = format!("{prefix}_{:02}", span.day);
        let mut conn = pool.get_conn().await?;
        let mut rows = Vec::new();
        for part in 0..parts {
            let mut found = conn.exec::<mysql_async::Row, _, _>(sql(&table, part), params(span)).await;
            if let (Err(mysql_async::Error::Server(e)), Some(plain)) = (&found, without_index) {
                if e.code == ER_KEY_DOES_NOT_EXIST {
                    tracing::debug!(table = %table, "day table without the index its read names, read without");
                    found = conn.exec(plain(&table, part), params(span)).await;
                }
            }
            match found {
                Ok(found) => rows.extend(found),
                Err(mysql_async::Error::Server(e)) if e.code == ER_NO_SUCH_TABLE => {
                    tracing::debug!(table = %table, "day table missing, skipped");
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(rows)
    });
    let mut rows = Vec::new();
    for found in futures_util::future::try_join_all(reads).await? {
        rows.extend(found);
    }
    Ok(rows)
}

/// A time bound as the text the original compares `log_time` with.
pub(crate) fn bound(t: NaiveDateTime) -> String {
    t.format(LOG_TIME_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, LOG_TIME_FORMAT).expect("a test time")
    }

    #[test]
    fn windows_split_at_local_midnights() {
        /// (from, to, expected (day, from, to) spans)
        type Case = (&'static str, &'static str, &'static [(u32, &'static str, &'static str)]);
        let cases: &[Case] = &[
            ("2026-03-10 08:00:00", "2026-03-10 09:00:00", &[(10, "2026-03-10 08:00:00", "2026-03-10 09:00:00")]),
            (
                "2026-01-31 12:30:15",
                "2026-02-01 12:30:15",
                &[(31, "2026-01-31 12:30:15", "2026-02-01 00:00:00"), (1, "2026-02-01 00:00:00", "2026-02-01 12:30:15")],
            ),
            (
                "2026-02-27 23:00:00",
                "2026-03-01 00:00:00",
                &[(27, "2026-02-27 23:00:00", "2026-02-28 00:00:00"), (28, "2026-02-28 00:00:00", "2026-03-01 00:00:00")],
            ),
            (
                "2026-12-31 23:59:59",
                "2027-01-01 00:00:01",
                &[(31, "2026-12-31 23:59:59", "2027-01-01 00:00:00"), (1, "2027-01-01 00:00:00", "2027-01-01 00:00:01")],
            ),
            ("2026-03-10 08:00:00", "2026-03-10 08:00:00", &[]),
            ("2026-03-10 09:00:00", "2026-03-10 08:00:00", &[]),
        ];
        for (from, to, expected) in cases {
            let spans = day_spans(at(from), at(to));
            let expected: Vec<DaySpan> = expected.iter().map(|(day, f, t)| DaySpan { day: *day, from: at(f), to: at(t) }).collect();
            assert_eq!(spans, expected, "{from} .. {to}");
        }
    }

    #[test]
    fn a_week_spans_eight_day_tables() {
        let to = at("2026-03-10 08:00:00");
        let spans = day_spans(to - Duration::hours(168), to);
        assert_eq!(spans.iter().map(|s| s.day).collect::<Vec<_>>(), [3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(spans.windows(2).all(|w| w[0].to == w[1].from), "contiguous");
    }

    #[test]
    fn cells_decode_like_the_original() {
        let cases: &[(Option<Value>, f64)] = &[
            (Some(Value::Bytes(b"12.50".to_vec())), 12.5),
            (Some(Value::Int(-3)), -3.0),
            (Some(Value::UInt(4_345_298_944)), 4_345_298_944.0),
            (Some(Value::Double(0.25)), 0.25),
            (Some(Value::NULL), 0.0),
            (Some(Value::Bytes(b"x".to_vec())), 0.0),
            (None, 0.0),
        ];
        for (value, expected) in cases {
            assert_eq!(number(value.as_ref()), *expected, "{value:?}");
        }
        let binary = Value::Date(2026, 11, 25, 17, 38, 15, 0);
        let text = Value::Bytes(b"2026-11-25 17:38:15".to_vec());
        for v in [binary, text] {
            assert_eq!(datetime(Some(&v)), Some(at("2026-11-25 17:38:15")));
        }
        assert_eq!(datetime(Some(&Value::Date(0, 0, 0, 0, 0, 0, 0))), None);
        assert_eq!(datetime(Some(&Value::NULL)), None);
    }
}
