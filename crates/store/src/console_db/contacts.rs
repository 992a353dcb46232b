//! `contacts`: who is told when a rule fires (by e-mail, for push levels p1 to p3), one row per rule and user.

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

/// The users who are contacts of `strategy`, by id.
pub async fn of_strategy(pool: &Pool, strategy: u64) -> Result<Vec<u64>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec("SELECT user FROM contacts WHERE strategy = ? ORDER BY user", (strategy,)).await
}

/// The non-empty mail addresses of the contacts of `strategy` (where the alarm engine mails).
pub async fn mails_of_strategy(pool: &Pool, strategy: u64) -> Result<Vec<String>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec("SELECT u.mail FROM contacts c JOIN user u ON u.id = c.user WHERE c.strategy = ? AND COALESCE(u.mail, '') <> '' ORDER BY u.id", (strategy,)).await
}

/// Adds `user` to the contacts of `strategy`; false when they already are one.
pub async fn add(pool: &Pool, strategy: u64, user: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    match conn.exec_drop("INSERT INTO contacts (strategy, user) VALUES (?, ?)", (strategy, user)).await {
        Ok(()) => Ok(true),
        Err(e) if super::is_duplicate(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes `user` from the contacts of `strategy`; false when they were not one.
pub async fn remove(pool: &Pool, strategy: u64, user: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("DELETE FROM contacts WHERE strategy = ? AND user = ?", (strategy, user)).await?;
    Ok(conn.affected_rows() == 1)
}
