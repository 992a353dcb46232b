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
