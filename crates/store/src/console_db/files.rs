//! `files`: profiles, snapshots and reports taken on agents, through their life: 0 creating → 1 created (the agent
//! reported it done) → 2 transferring (a one-time upload token is set) → 3 transferred (`storage` names the object).

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

/// The agent reported the file of an action done (`/xtransit/update_action_status`): 0 → 1.
pub async fn mark_created(pool: &Pool, app: u64, agent: &str, file: &str) -> Result<(), mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE files SET status = 1 WHERE app = ? AND agent = ? AND file = ? AND status = 0", (app, agent, file)).await
}

/// What an agent upload needs to know about its row.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub agent: String,
    pub file: String,
    pub token: String,
    pub status: u8,
    pub storage: String,
}

/// The row an upload of `id` and `file_type` is for.
pub async fn upload_row(pool: &Pool, id: u64, file_type: &str) -> Result<Option<UploadRow>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    type Row = (String, String, String, u8, String);
    let row: Option<Row> = conn
        .exec_first(
            "SELECT agent, file, COALESCE(token, ''), COALESCE(status, 0), COALESCE(storage, '') \
             FROM files WHERE id = ? AND type = ?",
            (id, file_type),
        )
        .await?;
    Ok(row.map(|(agent, file, token, status, storage)| UploadRow { agent, file, token, status, storage }))
}

/// Marks the row transferred to `storage`, consuming `token`. False if it stopped awaiting the upload meanwhile.
pub async fn record_upload(pool: &Pool, id: u64, token: &str, storage: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE files SET status = 3, storage = ?, token = '' WHERE id = ? AND status = 2 AND token = ?", (storage, id, token))
        .await?;
    Ok(conn.affected_rows() == 1)
}
