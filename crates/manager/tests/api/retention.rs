//! Retention: expired day tables are emptied, recent ones kept.

use chrono::{Local, TimeZone};
use mysql_async::prelude::Queryable;

use crate::helpers::TestManager;

#[actix_web::test]
async fn run_once_empties_only_the_day_tables_outside_the_window() {
    let m = TestManager::start().await;
    let mut conn = m.env.logs_db().get_conn().await.unwrap();
    for day in ["10", "03", "01"] {
        conn.query_drop(format!("INSERT INTO osinfo_{day} (app, agent, uptime, log_time, position) VALUES (1, 'vm', 1, NOW(), 0)")).await.unwrap();
        conn.query_drop(format!("INSERT INTO alarm_{day} (strategy, agent, message) VALUES (1, 'vm', 'x')")).await.unwrap();
    }
    // On the 10th with 8 days kept: 3..10 stay, the 1st goes.
    let now = Local.with_ymd_and_hms(2026, 11, 10, 3, 0, 0).unwrap();
    let report = m.state.retention.run_once(now).await.unwrap();
    assert_eq!(report.truncated, vec!["osinfo_01".to_string(), "alarm_01".to_string()]);
    for (table, rows) in [("osinfo_10", 1), ("osinfo_03", 1), ("osinfo_01", 0), ("alarm_01", 0)] {
        assert_eq!(m.count(&format!("SELECT COUNT(*) FROM {table}")).await, rows, "{table}");
    }
    // Idempotent: nothing left to do.
    assert!(m.state.retention.run_once(now).await.unwrap().truncated.is_empty());
    drop(conn);
    m.finish().await;
}

/// True if `table` has the unique sample key.
async fn has_sample_key(m: &TestManager, table: &str) -> bool {
    m.count(&format!(
        "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' \
         AND INDEX_NAME = 'sample' AND NON_UNIQUE = 0"
    ))
    .await
        > 0
}

#[actix_web::test]
async fn a_day_table_with_old_duplicates_gets_its_sample_key_once_retention_empties_it() {
    let m = TestManager::start().await;
    assert!(has_sample_key(&m, "osinfo_01").await && has_sample_key(&m, "process_01").await);
    let mut conn = m.env.logs_db().get_conn().await.unwrap();
    // An original database: no key, and a sample stored twice by an original manager.
    conn.query_drop("ALTER TABLE osinfo_01 DROP INDEX `sample`").await.unwrap();
    for _ in 0..2 {
        conn.query_drop("INSERT INTO osinfo_01 (app, agent, uptime, log_time, position) VALUES (1, 'vm', 1, '2026-11-01 10:00:00', 0)").await.unwrap();
    }
    drop(conn);
    // Start-up cannot add the key (the duplicates are kept: nothing is deleted), and does not fail.
    store::schema::ensure_logs(&m.state.logs_db).await.unwrap();
    assert_eq!(m.count("SELECT COUNT(*) FROM osinfo_01").await, 2);
    assert!(!has_sample_key(&m, "osinfo_01").await);
    let now = Local.with_ymd_and_hms(2026, 11, 10, 3, 0, 0).unwrap();
    m.state.retention.run_once(now).await.unwrap();
    assert!(has_sample_key(&m, "osinfo_01").await, "retention emptied the table and gave it its key");
    m.finish().await;
}

#[actix_web::test]
async fn schema_creation_is_idempotent_and_keeps_data() {
    let m = TestManager::start().await;
    let mut conn = m.env.logs_db().get_conn().await.unwrap();
    conn.query_drop("INSERT INTO osinfo_05 (app, agent, uptime, log_time, position) VALUES (1, 'vm', 1, NOW(), 0)").await.unwrap();
    // An original database: http_rt still DECIMAL(5,2).
    conn.query_drop("ALTER TABLE process_05 MODIFY http_rt DECIMAL(5,2)").await.unwrap();
    drop(conn);
    store::schema::ensure_console(&m.state.console_db).await.unwrap();
    store::schema::ensure_logs(&m.state.logs_db).await.unwrap();
    assert_eq!(m.count("SELECT COUNT(*) FROM osinfo_05").await, 1);
    let precision = m
        .count("SELECT NUMERIC_PRECISION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'process_05' AND COLUMN_NAME = 'http_rt'")
        .await;
    assert_eq!(precision, 10);
    m.finish().await;
}
