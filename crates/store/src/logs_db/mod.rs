//! The logs database (`xprofiler_logs`): metric rows in 31 day-of-month tables per kind (`process_01` …
//! `process_31`, likewise `osinfo` and `alarm`), a ring reused every month.

pub mod alarm;
pub mod osinfo;
pub mod process;

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Value};

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

/// Inserts `rows` in one transaction, one multi-row INSERT per table.
pub async fn insert(pool: &Pool, rows: &[&Row]) -> Result<(), mysql_async::Error> {
    let mut by_table: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        by_table.entry(row.table.as_str()).or_default().push(row);
    }
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await?;
    for (table, rows) in by_table {
        let columns: &str = match table.starts_with("process_") {
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
        tx.query_drop(sql).await?;
    }
    tx.commit().await
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
    Ok(true)
}
