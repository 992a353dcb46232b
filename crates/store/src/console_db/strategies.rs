//! `strategies`: an app's alarm rules (a boolex `expression` over one log context, the message template `content`,
//! a push level, an optional webhook), written by the console and read by the manager's alarm engine.

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    pub id: u64,
    pub app: u64,
    pub context: String,
    pub push: String,
    pub webhook: bool,
    pub wtype: String,
    pub waddress: String,
    pub wsign: String,
    pub expression: String,
    pub content: String,
    /// 0 disabled, 1 enabled.
    pub status: u8,
}

/// What a rule says, as stored: the webhook columns are all '' when there is no webhook (the original's way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<'a> {
    pub context: &'a str,
    pub push: &'a str,
    pub expression: &'a str,
    pub content: &'a str,
    pub webhook: Option<Webhook<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook<'a> {
    pub kind: &'a str,
    pub address: &'a str,
    pub sign: &'a str,
}

impl Rule<'_> {
    /// `webhook, wtype, waddress, wsign`.
    fn webhook_columns(&self) -> (u8, &str, &str, &str) {
        match &self.webhook {
            Some(w) => (1, w.kind, w.address, w.sign),
            None => (0, "", "", ""),
        }
    }
}

const COLUMNS: &str = "id, app, context, push, COALESCE(webhook, 0), COALESCE(wtype, ''), COALESCE(waddress, ''), \
                       COALESCE(wsign, ''), expression, content, COALESCE(status, 1)";

type Row = (u64, u64, String, String, u8, String, String, String, String, String, u8);

fn strategy(row: Row) -> Strategy {
    let (id, app, context, push, webhook, wtype, waddress, wsign, expression, content, status) = row;
    Strategy { id, app, context, push, webhook: webhook != 0, wtype, waddress, wsign, expression, content, status }
}

pub async fn by_id(pool: &Pool, id: u64) -> Result<Option<Strategy>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<Row> = conn.exec_first(format!("SELECT {COLUMNS} FROM strategies WHERE id = ?"), (id,)).await?;
    Ok(row.map(strategy))
}

/// The rules of `app`, newest first (as the original lists them).
pub async fn of_app(pool: &Pool, app: u64) -> Result<Vec<Strategy>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn.exec(format!("SELECT {COLUMNS} FROM strategies WHERE app = ? ORDER BY gm_create DESC, id DESC"), (app,)).await?;
    Ok(rows.into_iter().map(strategy).collect())
}

/// The enabled rules of `app` (the manager's alarm engine caches them per app).
pub async fn enabled_of_app(pool: &Pool, app: u64) -> Result<Vec<Strategy>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn.exec(format!("SELECT {COLUMNS} FROM strategies WHERE app = ? AND COALESCE(status, 1) = 1 ORDER BY id"), (app,)).await?;
    Ok(rows.into_iter().map(strategy).collect())
}

/// Adds an enabled rule to `app`; its id.
pub async fn insert(pool: &Pool, app: u64, rule: &Rule<'_>) -> Result<u64, mysql_async::Error> {
    let (webhook, wtype, waddress, wsign) = rule.webhook_columns();
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "INSERT INTO strategies (app, context, push, webhook, wtype, waddress, wsign, expression, content) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (app, rule.context, rule.push, webhook, wtype, waddress, wsign, rule.expression, rule.content),
    )
    .await?;
    conn.last_insert_id().ok_or_else(|| mysql_async::Error::Other("INSERT INTO strategies gave no id".into()))
}

/// Rewrites what rule `id` says (its app and status stay).
pub async fn update(pool: &Pool, id: u64, rule: &Rule<'_>) -> Result<(), mysql_async::Error> {
    let (webhook, wtype, waddress, wsign) = rule.webhook_columns();
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "UPDATE strategies SET context = ?, push = ?, expression = ?, content = ?, webhook = ?, wtype = ?, waddress = ?, \
         wsign = ? WHERE id = ?",
        (rule.context, rule.push, rule.expression, rule.content, webhook, wtype, waddress, wsign, id),
    )
    .await
}

/// Sets the status; false when it already was `status` (or the rule is gone), decided by the one UPDATE.
pub async fn set_status(pool: &Pool, id: u64, status: u8) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE strategies SET status = ? WHERE id = ? AND COALESCE(status, 1) <> ?", (status, id, status)).await?;
    Ok(conn.affected_rows() == 1)
}

/// Deletes rule `id` and its contacts in one transaction (the original left the contacts behind); false when there
/// was no such rule. Its alarm history stays in the logs database until the day tables are emptied.
pub async fn delete(pool: &Pool, id: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    tx.exec_drop("DELETE FROM contacts WHERE strategy = ?", (id,)).await?;
    tx.exec_drop("DELETE FROM ezm_alarm_actions WHERE strategy = ?", (id,)).await?;
    tx.exec_drop("DELETE FROM strategies WHERE id = ?", (id,)).await?;
    let deleted = tx.affected_rows() == 1;
    tx.commit().await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_read_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::CONSOLE_SQL, "strategies");
        let written: Vec<&String> = schema.iter().filter(|c| !["gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), 11, "every column is read, one per member of `Row`: {written:?}");
        for column in written {
            assert!(super::COLUMNS.contains(column.as_str()), "{column} is not read");
        }
    }
}
