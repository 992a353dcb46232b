//! Creates the tables the services need, idempotently, at start-up. The SQL lives in `db/`. Nothing that exists is
//! dropped or rewritten: an original easy-monitor database is used as it is, except for one additive change,
//! widening `http_rt` (DECIMAL(5,2) capped response times at 999.99 ms).
//!
//! The databases themselves are created by `common::mysql::ensure_database` (it needs the connection settings).

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

use crate::logs_db::DAY_TABLE_PREFIXES;

pub(crate) const CONSOLE_SQL: &str = include_str!("../../../db/console.sql");
pub(crate) const LOGS_SQL: &str = include_str!("../../../db/logs.sql");

/// The console tables (`apps`, `user`, `files`, …) in the console database.
pub async fn ensure_console(pool: &Pool) -> Result<(), mysql_async::Error> {
    run_script(pool, CONSOLE_SQL).await
}

/// The metric templates and their 31 day tables each in the logs database.
pub async fn ensure_logs(pool: &Pool) -> Result<(), mysql_async::Error> {
    run_script(pool, LOGS_SQL).await?;
    let mut conn = pool.get_conn().await?;
    for prefix in DAY_TABLE_PREFIXES {
        for day in 1..=31 {
            conn.query_drop(format!("CREATE TABLE IF NOT EXISTS `{prefix}_{day:02}` LIKE `{prefix}`")).await?;
        }
    }
    widen_http_rt(&mut conn).await
}

async fn run_script(pool: &Pool, script: &str) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    for statement in statements(script) {
        conn.query_drop(statement).await?;
    }
    Ok(())
}

/// Splits a script on `;` at line ends, dropping `--` comment lines.
pub(crate) fn statements(script: &str) -> Vec<String> {
    let text: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    text.split(";\n").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

async fn widen_http_rt(conn: &mut mysql_async::Conn) -> Result<(), mysql_async::Error> {
    let narrow: Vec<String> = conn
        .query(
            "SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             AND COLUMN_NAME = 'http_rt' AND NUMERIC_PRECISION < 10",
        )
        .await?;
    for table in narrow {
        tracing::info!(table = %table, "widening http_rt to DECIMAL(10,2)");
        conn.query_drop(format!("ALTER TABLE `{table}` MODIFY `http_rt` DECIMAL(10,2) DEFAULT NULL")).await?;
    }
    Ok(())
}

/// The column names of `table` as the script creates it (for tests that hold code to the schema).
#[cfg(test)]
pub(crate) fn columns_of(script: &str, table: &str) -> Vec<String> {
    let head = format!("CREATE TABLE IF NOT EXISTS `{table}` (");
    let statement = statements(script).into_iter().find(|s| s.starts_with(&head)).expect("the table is in the script");
    statement
        .lines()
        .skip(1)
        .filter_map(|l| l.trim().strip_prefix('`'))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_split_into_create_statements() {
        let console = super::statements(super::CONSOLE_SQL);
        assert_eq!(console.len(), 8);
        assert!(console.iter().all(|s| s.starts_with("CREATE TABLE IF NOT EXISTS")));
        assert_eq!(super::statements(super::LOGS_SQL).len(), 3);
    }
}
