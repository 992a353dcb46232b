//! `members`: who besides the owner belongs to an app. Status 1 = invited, 2 = joined (the owner has no row).

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

pub const INVITED: u8 = 1;
pub const JOINED: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: u64,
    pub status: u8,
    /// When the row took its status, in milliseconds since the epoch: the invitation for an invitee, the
    /// acceptance (or the ownership hand-over that made them a member) for a member. Accepting is the only update
    /// a row sees, so it is `gm_modified`; `gm_create` where a row has none.
    pub since_ms: Option<i64>,
}

/// The status of `user` in `app`, if they have a row.
pub async fn status(pool: &Pool, app: u64, user: u64) -> Result<Option<u8>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_first("SELECT status FROM members WHERE app = ? AND user = ?", (app, user)).await
}

pub async fn of_app(pool: &Pool, app: u64) -> Result<Vec<Member>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let rows: Vec<(u64, u8, Option<i64>)> = conn
        .exec(
            "SELECT user, status, CAST(UNIX_TIMESTAMP(COALESCE(gm_modified, gm_create)) * 1000 AS SIGNED) FROM members \
             WHERE app = ? ORDER BY status, gm_create",
            (app,),
        )
        .await?;
    Ok(rows.into_iter().map(|(user, status, since_ms)| Member { user, status, since_ms }).collect())
}

/// Invites `user`; false if they already have a row (invited or joined).
pub async fn invite(pool: &Pool, app: u64, user: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("INSERT IGNORE INTO members (app, user, status) VALUES (?, ?, ?)", (app, user, INVITED)).await?;
    Ok(conn.affected_rows() == 1)
}

/// Accepts an invitation; false if there was none.
pub async fn accept(pool: &Pool, app: u64, user: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE members SET status = ? WHERE app = ? AND user = ? AND status = ?", (JOINED, app, user, INVITED)).await?;
    Ok(conn.affected_rows() == 1)
}

/// Removes `user`'s row (declined or withdrawn invitation, removed member, left team) and makes them no longer an
/// alarm contact of the app's rules (the original kept mailing people who had left); false if there was no row.
pub async fn remove(pool: &Pool, app: u64, user: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await?;
    tx.exec_drop("DELETE FROM members WHERE app = ? AND user = ?", (app, user)).await?;
    let removed = tx.affected_rows() == 1;
    tx.exec_drop("DELETE c FROM contacts c JOIN strategies s ON c.strategy = s.id WHERE s.app = ? AND c.user = ?", (app, user)).await?;
    tx.commit().await?;
    Ok(removed)
}
