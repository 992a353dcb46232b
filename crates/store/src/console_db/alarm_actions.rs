//! `ezm_alarm_actions` (ours): the automatic action of an alarm rule (`cpuprofile`, `heapprofile`, `gcprofile`,
//! `heapsnapshot` or `diag` of the process that fired it). Written by the console with the rule, read by the
//! manager's alarm engine with the app's rules.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

/// Sets (or, with None, removes) the action of `strategy`.
pub async fn set(pool: &Pool, strategy: u64, action: Option<&str>) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    match action {
        Some(action) => {
            conn.exec_drop("INSERT INTO ezm_alarm_actions (strategy, action) VALUES (?, ?) ON DUPLICATE KEY UPDATE action = VALUES(action)", (strategy, action))
                .await
        }
        None => conn.exec_drop("DELETE FROM ezm_alarm_actions WHERE strategy = ?", (strategy,)).await,
    }
}

/// The actions of the rules of `app`, by rule id.
pub async fn of_app(pool: &Pool, app: u64) -> Result<HashMap<u64, String>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<(u64, String)> =
        conn.exec("SELECT a.strategy, a.action FROM ezm_alarm_actions a JOIN strategies s ON s.id = a.strategy WHERE s.app = ?", (app,)).await?;
    Ok(rows.into_iter().collect())
}
