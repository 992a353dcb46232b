//! Creates the tables the services need, idempotently, at start-up. The SQL lives in `db/`. Nothing of the original's
//! is dropped or rewritten (only our own process charts' indexes, when `manager.process_trend_indexes` is off): an original easy-monitor database is used as it is, except for additive changes: widening
//! `http_rt` (DECIMAL(5,2) capped response times at 999.99 ms), adding the index `(app, agent, log_time)` to the
//! `process` and `osinfo` templates and day tables that lack it (the console's reads), the covering indexes
//! `trend_figures` to `osinfo`'s (the system charts' figures) and `trend_heap_cpu`, `trend_spaces_handles` to
//! `process`'s (the process charts'), and the indexes `(app,
//! gm_create)` and `(app, favor, gm_create)` to `files` and `coredumps`, `(app, type, gm_create)` to `files` (the
//! console's files page), and the unique key of a metric sample (`sample`: app, agent, pid, log time on `process`;
//! app, agent, position, log time on `osinfo`) to the templates and day tables, so that a sample retried after a
//! restart is stored once (a day table that already holds duplicates keeps working without it until retention
//! empties it, and gets it then).
//!
//! The indexes of the day tables that only speed reads up ([`ADDED_INDEXES`]) come with [`add_read_indexes`], which
//! the manager runs behind its start (minutes on an upgraded database of full day tables).
//!
//! The databases themselves are created by `common::mysql::ensure_database` (it needs the connection settings).

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

use crate::logs_db::DAY_TABLE_PREFIXES;

pub(crate) const CONSOLE_SQL: &str = include_str!("../../../db/console.sql");
pub(crate) const LOGS_SQL: &str = include_str!("../../../db/logs.sql");

/// The console tables (`apps`, `user`, `files`, …) in the console database.
pub async fn ensure_console(pool: &Pool) -> Result<(), mysql_async::Error> {
    run_script(pool, CONSOLE_SQL).await?;
    let mut conn = pool.get_conn().await?;
    let wanted: Vec<(String, &str, &[&str])> = CONSOLE_ADDED_INDEXES.iter().map(|(table, name, columns)| (table.to_string(), *name, *columns)).collect();
    // The tables work without the indexes: not even reading what exists may stop a start-up.
    if let Err(e) = add_missing_indexes(&mut conn, &wanted).await {
        tracing::warn!(error = %e, "could not check the console tables' indexes, the files page stays slower");
    }
    Ok(())
}

/// The metric templates and their 31 day tables each in the logs database, with every index: [`ensure_logs_tables`]
/// and then [`add_read_indexes`].
pub async fn ensure_logs(pool: &Pool) -> Result<(), mysql_async::Error> {
    ensure_logs_tables(pool).await?;
    add_read_indexes(pool, true).await
}

/// The indexes of [`ADDED_INDEXES`] on the templates and day tables that lack them, one table after the other.
/// They only make the console's reads faster, so the manager adds them behind its start: on an upgraded database
/// of full day tables that takes minutes (~10 s an index for a day of 1,000 processes), and the tables take writes
/// meanwhile (InnoDB adds an index online). Without `process_trend` (`manager.process_trend_indexes`), the process
/// charts' covering indexes are dropped where they exist instead (they cost the writes of every process row).
pub async fn add_read_indexes(pool: &Pool, process_trend: bool) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let trend = |template: &str, name: &str| template == "process" && PROCESS_TREND_INDEXES.contains(&name);
    let wanted: Vec<(String, &str, &[&str])> = ADDED_INDEXES
        .iter()
        .filter(|(template, name, _)| process_trend || !trend(template, name))
        .flat_map(|(template, name, columns)| template_and_days(template).map(move |table| (table, *name, *columns)))
        .collect();
    add_missing_indexes(&mut conn, &wanted).await?;
    if !process_trend {
        drop_process_trend_indexes(&mut conn).await?;
    }
    Ok(())
}

/// `template` and the names of its 31 day tables.
fn template_and_days(template: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(template.to_owned()).chain((1..=31).map(move |day| format!("{template}_{day:02}")))
}

/// The names of the process charts' covering indexes in [`ADDED_INDEXES`].
const PROCESS_TREND_INDEXES: [&str; 2] = [crate::logs_db::process::TREND_INDEXES[0].0, crate::logs_db::process::TREND_INDEXES[1].0];

/// Drops [`PROCESS_TREND_INDEXES`] from `process` and its day tables where they exist.
async fn drop_process_trend_indexes(conn: &mut mysql_async::Conn) -> Result<(), mysql_async::Error> {
    let found: Vec<(String, String)> = conn
        .exec(
            "SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND (TABLE_NAME = 'process' OR TABLE_NAME LIKE 'process\\_%') AND INDEX_NAME IN (?, ?)",
            (PROCESS_TREND_INDEXES[0], PROCESS_TREND_INDEXES[1]),
        )
        .await?;
    for (table, index) in found {
        match conn.query_drop(format!("ALTER TABLE `{table}` DROP INDEX `{index}`")).await {
            Ok(()) => tracing::info!(table = %table, index = %index, "dropped index (manager.process_trend_indexes is off)"),
            Err(e) => tracing::warn!(table = %table, index = %index, error = %e, "could not drop index, writes stay slower"),
        }
    }
    Ok(())
}

/// The metric templates and their 31 day tables each, the widened `http_rt` and the sample keys: what the writes
/// need (the indexes that only speed reads up come with [`add_read_indexes`]; a new table has them from its template).
pub async fn ensure_logs_tables(pool: &Pool) -> Result<(), mysql_async::Error> {
    run_script(pool, LOGS_SQL).await?;
    let mut conn = pool.get_conn().await?;
    for prefix in DAY_TABLE_PREFIXES {
        for day in 1..=31 {
            conn.query_drop(format!("CREATE TABLE IF NOT EXISTS `{prefix}_{day:02}` LIKE `{prefix}`")).await?;
        }
    }
    widen_http_rt(&mut conn).await?;
    let tables: Vec<String> = SAMPLE_KEYS.iter().flat_map(|(template, _)| template_and_days(template)).collect();
    let mut without = Vec::new();
    for table in &tables {
        if !add_sample_key(&mut conn, table).await? {
            without.push(table.as_str());
        }
    }
    if !without.is_empty() {
        tracing::warn!(
            tables = %without.join(","),
            "these day tables hold samples stored twice before (by an earlier version): a retried sample may be stored \
             twice there until retention empties the table, which then gets the unique key"
        );
    }
    Ok(())
}

/// The natural key of a metric sample per template: one row per process (pid) or per kind of system row (position)
/// of an agent and a log time. Inserts skip a row whose key is there (`logs_db::insert`).
pub(crate) const SAMPLE_KEYS: [(&str, &[&str]); 2] = [("process", &["app", "agent", "pid", "log_time"]), ("osinfo", &["app", "agent", "position", "log_time"])];

/// The unique index name of [`SAMPLE_KEYS`].
pub(crate) const SAMPLE_KEY_NAME: &str = "sample";

/// Gives `table` (a template or a day table of `process` or `osinfo`) its sample key unless it has one; false when
/// the table refuses because it already holds duplicated samples. Other refusals (a missing privilege) are logged:
/// the table works without the key, only retried samples are not recognised there.
pub async fn add_sample_key(conn: &mut mysql_async::Conn, table: &str) -> Result<bool, mysql_async::Error> {
    let template = table.split('_').next().unwrap_or(table);
    let Some((_, columns)) = SAMPLE_KEYS.iter().find(|(t, _)| *t == template) else { return Ok(true) };
    let unique: Vec<(String, String)> = conn
        .exec(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            (table,),
        )
        .await?;
    let mut indexes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (index, column) in unique {
        indexes.entry(index).or_default().push(column);
    }
    if indexes.values().any(|cols| cols.iter().map(String::as_str).eq(columns.iter().copied())) {
        return Ok(true);
    }
    let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    match conn.query_drop(format!("ALTER TABLE `{table}` ADD UNIQUE INDEX `{SAMPLE_KEY_NAME}` ({list})")).await {
        Ok(()) => {
            tracing::info!(table, "added the unique sample key");
            Ok(true)
        }
        // ER_DUP_ENTRY: rows stored twice before.
        Err(mysql_async::Error::Server(e)) if e.code == 1062 => Ok(false),
        Err(mysql_async::Error::Server(e)) => {
            tracing::warn!(table, error = %e, "could not add the unique sample key: retried samples may be stored twice there");
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Indexes `db/logs.sql` declares beyond the original's: (template, index name, columns). Each reaches the template
/// and its 31 day tables.
///
/// `trend_figures` holds every figure the system charts draw but the disks (`console::domain::trends`), so a chart's
/// read of a day is answered from the index alone: both halves of an agent's day touch 21 pages instead of ~4,300
/// for one half (a row lookup for each of its 1,440 minutes), 1.5-2.0 ms instead of 3.0 ms per day table
/// (BENCHMARKS.md "System trend: profiled, a covering index, …"). It has 16 columns, MySQL's most for an index.
///
/// `trend_heap_cpu` and `trend_spaces_handles` do the same for the process charts (`logs_db::process::TREND_INDEXES`):
/// the agents' minutes interleave the processes' rows, so a process's day is 1,440 row lookups on as many pages
/// without them (BENCHMARKS.md "Trends on day tables as agents write them; …").
pub(crate) const ADDED_INDEXES: [(&str, &str, &[&str]); 5] = [
    ("process", "app_agent_log_time", &["app", "agent", "log_time"]),
    ("process", crate::logs_db::process::TREND_INDEXES[0].0, &crate::logs_db::process::TREND_INDEXES[0].1),
    ("process", crate::logs_db::process::TREND_INDEXES[1].0, &crate::logs_db::process::TREND_INDEXES[1].1),
    ("osinfo", "app_agent_log_time", &["app", "agent", "log_time"]),
    ("osinfo", "trend_figures", &crate::logs_db::osinfo::TREND_FIGURES),
];

/// Indexes `db/console.sql` declares beyond the original's: (table, index name, columns).
/// `(app, gm_create)` orders the files page; the filtered pages (one file type, favourites) count and read their
/// rows in index order through `(app, type | favor, gm_create)` instead of looking up every row of the app
/// (`crates/console/bench/files.py`, BENCHMARKS.md "Console files").
pub(crate) const CONSOLE_ADDED_INDEXES: [(&str, &str, &[&str]); 5] = [
    ("files", "app_gm_create", &["app", "gm_create"]),
    ("coredumps", "app_gm_create", &["app", "gm_create"]),
    ("files", "app_type_gm_create", &["app", "type", "gm_create"]),
    ("files", "app_favor_gm_create", &["app", "favor", "gm_create"]),
    ("coredumps", "app_favor_gm_create", &["app", "favor", "gm_create"]),
];

/// Adds each `(table, index name, columns)` of `wanted` to its table when the table has no index starting with those
/// columns (whatever its name: an operator may have added one already). A table that refuses (a missing privilege,
/// say) is logged and left as it is: the index makes reads faster, the tables work without it.
async fn add_missing_indexes(conn: &mut mysql_async::Conn, wanted: &[(String, &str, &[&str])]) -> Result<(), mysql_async::Error> {
    let stats: Vec<(String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        )
        .await?;
    let existing = index_columns(stats);
    for (table, name, columns) in wanted {
        if has_index_on(&existing, table, columns) {
            continue;
        }
        let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        tracing::info!(table = %table, index = name, "adding index");
        let started = std::time::Instant::now();
        match conn.query_drop(format!("ALTER TABLE `{table}` ADD INDEX `{name}` ({list})")).await {
            Ok(()) => tracing::info!(table = %table, index = name, secs = started.elapsed().as_secs_f64(), "added index"),
            // ER_DUP_KEYNAME: another replica added it meanwhile.
            Err(mysql_async::Error::Server(e)) if e.code == 1061 => tracing::debug!(table = %table, index = name, "index added by another"),
            Err(e) => tracing::warn!(table = %table, index = name, error = %e, "could not add index, reads stay slower"),
        }
    }
    Ok(())
}

/// (table, index) → its columns in order, from `information_schema.STATISTICS` rows sorted by position.
fn index_columns(stats: Vec<(String, String, String)>) -> BTreeMap<(String, String), Vec<String>> {
    let mut indexes: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (table, index, column) in stats {
        indexes.entry((table, index)).or_default().push(column);
    }
    indexes
}

/// True if `table` has an index whose leading columns are `columns`.
fn has_index_on(indexes: &BTreeMap<(String, String), Vec<String>>, table: &str, columns: &[&str]) -> bool {
    indexes.iter().any(|((t, _), cols)| t == table && cols.len() >= columns.len() && cols.iter().zip(columns).all(|(a, b)| a == b))
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
    let text: String = script.lines().filter(|l| !l.trim_start().starts_with("--")).map(|l| format!("{l}\n")).collect();
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
    statement.lines().skip(1).filter_map(|l| l.trim().strip_prefix('`')).filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned())).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_split_into_create_statements() {
        let console = super::statements(super::CONSOLE_SQL);
        assert_eq!(console.len(), 9);
        assert!(console.iter().all(|s| s.starts_with("CREATE TABLE IF NOT EXISTS")));
        assert_eq!(super::statements(super::LOGS_SQL).len(), 3);
    }

    #[test]
    fn the_added_indexes_are_in_the_templates() {
        for (template, name, columns) in super::ADDED_INDEXES {
            let head = format!("CREATE TABLE IF NOT EXISTS `{template}` (");
            let statement = super::statements(super::LOGS_SQL).into_iter().find(|s| s.starts_with(&head)).expect("template");
            let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            assert!(statement.contains(&format!("INDEX `{name}` ({list})")), "{template} lacks {name}");
        }
    }

    #[test]
    fn the_sample_keys_are_in_the_templates() {
        for (template, columns) in super::SAMPLE_KEYS {
            let head = format!("CREATE TABLE IF NOT EXISTS `{template}` (");
            let statement = super::statements(super::LOGS_SQL).into_iter().find(|s| s.starts_with(&head)).expect("template");
            let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            assert!(statement.contains(&format!("UNIQUE INDEX `{}` ({list})", super::SAMPLE_KEY_NAME)), "{template} lacks its sample key");
        }
    }

    #[test]
    fn the_added_console_indexes_are_in_the_script() {
        for (table, name, columns) in super::CONSOLE_ADDED_INDEXES {
            let head = format!("CREATE TABLE IF NOT EXISTS `{table}` (");
            let statement = super::statements(super::CONSOLE_SQL).into_iter().find(|s| s.starts_with(&head)).expect("table");
            let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
            assert!(statement.contains(&format!("INDEX `{name}` ({list})")), "{table} lacks {name}");
        }
    }

    #[test]
    fn an_index_counts_when_it_starts_with_the_columns() {
        let stats = |rows: &[(&str, &str, &str)]| super::index_columns(rows.iter().map(|(t, i, c)| (t.to_string(), i.to_string(), c.to_string())).collect());
        let wanted: &[&str] = &["app", "agent", "log_time"];
        /// (index rows (table, index, column) of the database, expected)
        type Case = (&'static [(&'static str, &'static str, &'static str)], bool);
        let cases: &[Case] = &[
            (&[("osinfo_01", "app", "app"), ("osinfo_01", "app", "agent")], false),
            (&[("osinfo_01", "x", "app"), ("osinfo_01", "x", "agent"), ("osinfo_01", "x", "log_time")], true),
            (&[("osinfo_01", "x", "app"), ("osinfo_01", "x", "agent"), ("osinfo_01", "x", "log_time"), ("osinfo_01", "x", "id")], true),
            (&[("osinfo_01", "x", "agent"), ("osinfo_01", "x", "app"), ("osinfo_01", "x", "log_time")], false),
            (&[("osinfo_02", "x", "app"), ("osinfo_02", "x", "agent"), ("osinfo_02", "x", "log_time")], false),
        ];
        for (rows, expected) in cases {
            assert_eq!(super::has_index_on(&stats(rows), "osinfo_01", wanted), *expected, "{rows:?}");
        }
    }
}
