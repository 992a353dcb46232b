//! `apps`: one row per application, with the secret its agents sign with.

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: u64,
    pub name: String,
    pub owner: u64,
    pub secret: String,
    /// `gm_create` as milliseconds since the epoch (the owner's join time on the team page); `None` only for a row
    /// written without it.
    pub created_ms: Option<i64>,
}

type Row = (u64, String, u64, String, Option<i64>);

/// The columns of [`Row`], for every `SELECT` of apps (`a.` prefixed where a join needs it).
const COLUMNS: &str = "id, name, owner, secret, CAST(UNIX_TIMESTAMP(gm_create) * 1000 AS SIGNED)";
const COLUMNS_A: &str = "a.id, a.name, a.owner, a.secret, CAST(UNIX_TIMESTAMP(a.gm_create) * 1000 AS SIGNED)";

fn app((id, name, owner, secret, created_ms): Row) -> App {
    App { id, name, owner, secret, created_ms }
}

/// The secret of app `id`, if the app exists.
pub async fn secret(pool: &Pool, id: u64) -> Result<Option<String>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_first("SELECT secret FROM apps WHERE id = ?", (id,)).await
}

pub async fn by_id(pool: &Pool, id: u64) -> Result<Option<App>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<Row> = conn.exec_first(format!("SELECT {COLUMNS} FROM apps WHERE id = ?"), (id,)).await?;
    Ok(row.map(app))
}

/// Apps `user` owns, oldest change first (as the original lists them).
pub async fn owned_by(pool: &Pool, user: u64) -> Result<Vec<App>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn.exec(format!("SELECT {COLUMNS} FROM apps WHERE owner = ? ORDER BY gm_modified, id"), (user,)).await?;
    Ok(rows.into_iter().map(app).collect())
}

/// Apps where `user` has a members row of `status`.
pub async fn with_member(pool: &Pool, user: u64, status: u8) -> Result<Vec<App>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT {COLUMNS_A} FROM apps a JOIN members m ON m.app = a.id \
                 WHERE m.user = ? AND m.status = ? ORDER BY a.gm_modified, a.id"
            ),
            (user, status),
        )
        .await?;
    Ok(rows.into_iter().map(app).collect())
}

/// Every app (administrators).
pub async fn all(pool: &Pool) -> Result<Vec<App>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn.query(format!("SELECT {COLUMNS} FROM apps ORDER BY gm_modified, id")).await?;
    Ok(rows.into_iter().map(app).collect())
}

/// Every app, oldest first (the administration page).
pub async fn all_by_id(pool: &Pool) -> Result<Vec<App>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<Row> = conn.query(format!("SELECT {COLUMNS} FROM apps ORDER BY id")).await?;
    Ok(rows.into_iter().map(app).collect())
}

/// Adds an app with a given id (tests, demo set-up).
pub async fn insert(pool: &Pool, id: u64, name: &str, owner: u64, secret: &str) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("INSERT INTO apps (id, name, owner, secret) VALUES (?, ?, ?, ?)", (id, name, owner, secret)).await
}

/// Creates an app; `None` when `owner` already has an app of that name.
pub async fn create(pool: &Pool, name: &str, owner: u64, secret: &str) -> Result<Option<u64>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    match conn.exec_drop("INSERT INTO apps (name, owner, secret) VALUES (?, ?, ?)", (name, owner, secret)).await {
        Ok(()) => Ok(conn.last_insert_id()),
        Err(e) if super::is_duplicate(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Renames; false when the owner already has an app of that name.
pub async fn rename(pool: &Pool, id: u64, name: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    match conn.exec_drop("UPDATE apps SET name = ? WHERE id = ?", (name, id)).await {
        Ok(()) => Ok(true),
        Err(e) if super::is_duplicate(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn set_secret(pool: &Pool, id: u64, secret: &str) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE apps SET secret = ? WHERE id = ?", (secret, id)).await
}

/// Hands the app to `new_owner` (who must be a joined member): their members row goes, the old owner becomes a
/// joined member. False when `new_owner` is not a joined member (the original did not check).
pub async fn transfer(pool: &Pool, id: u64, old_owner: u64, new_owner: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    tx.exec_drop("DELETE FROM members WHERE app = ? AND user = ? AND status = ?", (id, new_owner, super::members::JOINED)).await?;
    if tx.affected_rows() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.exec_drop("UPDATE apps SET owner = ? WHERE id = ? AND owner = ?", (new_owner, id, old_owner)).await?;
    if tx.affected_rows() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.exec_drop(
        "INSERT INTO members (app, user, status) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE status = VALUES(status)",
        (id, old_owner, super::members::JOINED),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The storage objects of an app's files and cores (to delete them with the app).
pub async fn stored_objects(pool: &Pool, id: u64) -> Result<Vec<String>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let mut names: Vec<String> = conn.exec("SELECT storage FROM files WHERE app = ? AND storage IS NOT NULL AND storage <> ''", (id,)).await?;
    let cores: Vec<(Option<String>, Option<String>)> = conn.exec("SELECT file_storage, node_storage FROM coredumps WHERE app = ?", (id,)).await?;
    names.extend(cores.into_iter().flat_map(|(a, b)| [a, b]).flatten().filter(|n| !n.is_empty()));
    Ok(names)
}

/// Deletes the app and everything that hangs off it in the console database (members, files, cores, strategies and
/// their contacts: the original left strategies and contacts behind), in one transaction. Stored objects are the
/// caller's (see [`stored_objects`]).
pub async fn delete(pool: &Pool, id: u64) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    tx.exec_drop("DELETE c FROM contacts c JOIN strategies s ON c.strategy = s.id WHERE s.app = ?", (id,)).await?;
    for table in ["strategies", "files", "coredumps", "members"] {
        tx.exec_drop(format!("DELETE FROM {table} WHERE app = ?"), (id,)).await?;
    }
    tx.exec_drop("DELETE FROM apps WHERE id = ?", (id,)).await?;
    tx.commit().await
}
