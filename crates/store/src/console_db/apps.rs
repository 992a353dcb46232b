//! `apps`: one row per application, with the secret its agents sign with.

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

/// The secret of app `id`, if the app exists.
pub async fn secret(pool: &Pool, id: u64) -> Result<Option<String>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_first("SELECT secret FROM apps WHERE id = ?", (id,)).await
}

/// Adds an app with a given id (tests, demo set-up).
pub async fn insert(pool: &Pool, id: u64, name: &str, owner: u64, secret: &str) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("INSERT INTO apps (id, name, owner, secret) VALUES (?, ?, ?, ?)", (id, name, owner, secret)).await
}
