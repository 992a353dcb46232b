//! `coredumps`: core files the agents report, each with the node executable that produced it. Both parts go
//! through the same statuses as `files` (`file_status`, `node_status`).

use mysql_async::prelude::Queryable;
use mysql_async::Pool;

/// The System user, owner of the cores agents report by themselves.
pub const SYSTEM_USER: u32 = 999_999;

/// A core an agent reported (`core_files` log). `node` is the JSON `{executable_path, alinode, version}`.
#[derive(Debug, Clone)]
pub struct ReportedCore<'a> {
    pub path: &'a str,
    pub node: String,
}

/// Records reported cores, owned by the System user. A core reported twice is stored once (the original failed the
/// whole request on the unique key).
pub async fn insert_reported(pool: &Pool, app: u64, agent: &str, cores: &[ReportedCore<'_>]) -> Result<(), mysql_async::Error> {
    if cores.is_empty() {
        return Ok(());
    }
    let mut conn = pool.get_conn().await?;
    for core in cores {
        conn.exec_drop(
            "INSERT IGNORE INTO coredumps (app, agent, file, node, user, file_status, file_storage, node_status, node_storage) \
             VALUES (?, ?, ?, ?, ?, 1, '', 1, '')",
            (app, agent, core.path, &core.node, SYSTEM_USER),
        )
        .await?;
    }
    Ok(())
}

/// What an agent upload needs to know about a core's row.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub agent: String,
    pub file: String,
    pub node: String,
    pub token: String,
    pub file_status: u8,
    pub file_storage: String,
    pub node_storage: String,
}

pub async fn upload_row(pool: &Pool, id: u64) -> Result<Option<UploadRow>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    type Row = (String, String, String, String, u8, String, String);
    let row: Option<Row> = conn
        .exec_first(
            "SELECT agent, file, node, COALESCE(token, ''), COALESCE(file_status, 0), COALESCE(file_storage, ''), \
             COALESCE(node_storage, '') FROM coredumps WHERE id = ?",
            (id,),
        )
        .await?;
    Ok(row.map(|(agent, file, node, token, file_status, file_storage, node_storage)| UploadRow {
        agent,
        file,
        node,
        token,
        file_status,
        file_storage,
        node_storage,
    }))
}

/// Marks both parts transferred, consuming `token`. False if the row stopped awaiting the upload meanwhile.
pub async fn record_upload(pool: &Pool, id: u64, token: &str, file_storage: &str, node_storage: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "UPDATE coredumps SET file_status = 3, file_storage = ?, node_status = 3, node_storage = ?, token = '' \
         WHERE id = ? AND file_status = 2 AND token = ?",
        (file_storage, node_storage, id, token),
    )
    .await?;
    Ok(conn.affected_rows() == 1)
}

/// The agent name of cores uploaded from the browser (they have no agent to transfer from).
pub const UPLOAD_AGENT: &str = "upload";

/// A `coredumps` row as the console's file routes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreRow {
    pub id: u64,
    pub app: u64,
    pub agent: String,
    /// The core's path on the agent's host (or the uploaded core's name).
    pub file: String,
    /// JSON `{executable_path, alinode, version}`, or an uploaded executable's plain file name.
    pub node: String,
    pub file_storage: String,
    pub node_storage: String,
    pub user: u64,
    pub file_status: u8,
    pub node_status: u8,
    pub favor: u8,
    /// Seconds since the row was created, by the database's clock.
    pub age_secs: i64,
    /// Seconds since the row last changed, by the database's clock.
    pub modified_secs: i64,
}

const CORE_COLUMNS: &str = "id, app, agent, file, node, COALESCE(file_storage, ''), COALESCE(node_storage, ''), user, \
     COALESCE(file_status, 0), COALESCE(node_status, 0), COALESCE(favor, 0), \
     COALESCE(TIMESTAMPDIFF(SECOND, gm_create, NOW()), 0), COALESCE(TIMESTAMPDIFF(SECOND, gm_modified, NOW()), 0)";

/// A row of [`CORE_COLUMNS`] (13 columns: more than a tuple takes).
fn core_row(mut row: mysql_async::Row) -> Result<CoreRow, mysql_async::FromRowError> {
    fn take<T: mysql_async::prelude::FromValue>(row: &mut mysql_async::Row, i: usize) -> Option<T> {
        row.take_opt(i).and_then(Result::ok)
    }
    let core = (|| {
        Some(CoreRow {
            id: take(&mut row, 0)?,
            app: take(&mut row, 1)?,
            agent: take(&mut row, 2)?,
            file: take(&mut row, 3)?,
            node: take(&mut row, 4)?,
            file_storage: take(&mut row, 5)?,
            node_storage: take(&mut row, 6)?,
            user: take(&mut row, 7)?,
            file_status: take(&mut row, 8)?,
            node_status: take(&mut row, 9)?,
            favor: take(&mut row, 10)?,
            age_secs: take(&mut row, 11)?,
            modified_secs: take(&mut row, 12)?,
        })
    })();
    core.ok_or(mysql_async::FromRowError(row))
}

pub async fn by_id(pool: &Pool, id: u64) -> Result<Option<CoreRow>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<mysql_async::Row> = conn.exec_first(format!("SELECT {CORE_COLUMNS} FROM coredumps WHERE id = ?"), (id,)).await?;
    match row.map(core_row) {
        None => Ok(None),
        Some(Ok(core)) => Ok(Some(core)),
        Some(Err(e)) => Err(mysql_async::Error::Other(Box::new(e))),
    }
}

/// Records a core an action wrote on the agent (both parts status 1: the agent wrote it synchronously); returns its
/// id. The same path again keeps its row.
pub async fn insert_action(pool: &Pool, app: u64, agent: &str, file: &str, node: &str, user: u64) -> Result<u64, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "INSERT INTO coredumps (app, agent, file, node, user, file_status, file_storage, node_status, node_storage) \
         VALUES (?, ?, ?, ?, ?, 1, '', 1, '') ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
        (app, agent, file, node, user),
    )
    .await?;
    Ok(conn.last_insert_id().unwrap_or_default())
}

/// Records a core and its executable uploaded from the browser, both stored (status 3). Returns its id.
pub async fn insert_uploaded(
    pool: &Pool,
    app: u64,
    file: &str,
    node: &str,
    user: u64,
    file_storage: &str,
    node_storage: &str,
) -> Result<u64, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "INSERT INTO coredumps (app, agent, file, node, user, file_status, file_storage, node_status, node_storage) \
         VALUES (?, ?, ?, ?, ?, 3, ?, 3, ?)",
        (app, UPLOAD_AGENT, file, node, user, file_storage, node_storage),
    )
    .await?;
    Ok(conn.last_insert_id().unwrap_or_default())
}

/// Moves `file_status` from `from` to `to`; false if it was not in `from`.
pub async fn set_status_from(pool: &Pool, id: u64, from: u8, to: u8) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE coredumps SET file_status = ? WHERE id = ? AND file_status = ?", (to, id, from)).await?;
    Ok(conn.affected_rows() == 1)
}

/// Starts a transfer of both parts: status 2 with the one-time upload `token` (from 1, 2 or 3, as for files).
pub async fn start_transfer(pool: &Pool, id: u64, token: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE coredumps SET file_status = 2, node_status = 2, token = ? WHERE id = ? AND file_status IN (1, 2, 3)", (token, id)).await?;
    Ok(conn.affected_rows() == 1)
}

/// A transfer with `token` failed: each part back to 3 when it names a stored object, else to 1 (see
/// `files::abort_transfer`).
pub async fn abort_transfer(pool: &Pool, id: u64, token: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "UPDATE coredumps SET file_status = IF(COALESCE(file_storage, '') = '', 1, 3), \
         node_status = IF(COALESCE(node_storage, '') = '', 1, 3), token = '' WHERE id = ? AND file_status = 2 AND token = ?",
        (id, token),
    )
    .await?;
    Ok(conn.affected_rows() == 1)
}

/// A transfer running for more than `secs` cannot still be running: put back like [`abort_transfer`].
pub async fn abort_stale_transfer(pool: &Pool, id: u64, secs: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "UPDATE coredumps SET file_status = IF(COALESCE(file_storage, '') = '', 1, 3), \
         node_status = IF(COALESCE(node_storage, '') = '', 1, 3), token = '' \
         WHERE id = ? AND file_status = 2 AND gm_modified < NOW() - INTERVAL ? SECOND",
        (id, secs),
    )
    .await?;
    Ok(conn.affected_rows() == 1)
}

/// Sets `favor`; false when it already had that value.
pub async fn set_favor(pool: &Pool, id: u64, favor: u8) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE coredumps SET favor = ? WHERE id = ? AND COALESCE(favor, 0) <> ?", (favor, id, favor)).await?;
    Ok(conn.affected_rows() == 1)
}

pub async fn delete(pool: &Pool, id: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("DELETE FROM coredumps WHERE id = ?", (id,)).await?;
    Ok(conn.affected_rows() == 1)
}
