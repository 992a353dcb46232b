//! `files`: profiles, snapshots and reports taken on agents, through their life: 0 creating → 1 created (the agent
//! reported it done) → 2 transferring (a one-time upload token is set) → 3 transferred (`storage` names the object);
//! 99 when the agent never confirmed it. Browser uploads and saved trends are stored at once (3). The files page
//! ([`page`]) lists these rows and the cores of `coredumps` together.

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

/// A `files` row as the console's file routes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: u64,
    pub app: u64,
    pub agent: String,
    /// `cpuprofile`, `heapprofile`, `gcprofile`, `heapsnapshot`, `diag` or `trend`.
    pub kind: String,
    /// The path on the agent's host (or the uploaded file's name).
    pub file: String,
    /// The stored object's name; empty until transferred.
    pub storage: String,
    pub user: u64,
    pub status: u8,
    pub favor: u8,
    /// Seconds since the row was created, by the database's clock (the status machine's windows).
    pub age_secs: i64,
    /// Seconds since the row last changed, by the database's clock.
    pub modified_secs: i64,
}

type FileTuple = (u64, u64, String, String, String, String, u64, u8, u8, i64, i64);

const FILE_COLUMNS: &str = "id, app, agent, type, file, COALESCE(storage, ''), user, COALESCE(status, 0), COALESCE(favor, 0), \
     COALESCE(TIMESTAMPDIFF(SECOND, gm_create, NOW()), 0), COALESCE(TIMESTAMPDIFF(SECOND, gm_modified, NOW()), 0)";

fn file_row((id, app, agent, kind, file, storage, user, status, favor, age_secs, modified_secs): FileTuple) -> FileRow {
    FileRow { id, app, agent, kind, file, storage, user, status, favor, age_secs, modified_secs }
}

/// The row `id` of type `kind`.
pub async fn by_id(pool: &Pool, id: u64, kind: &str) -> Result<Option<FileRow>, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    let row: Option<FileTuple> = conn.exec_first(format!("SELECT {FILE_COLUMNS} FROM files WHERE id = ? AND type = ?"), (id, kind)).await?;
    Ok(row.map(file_row))
}

/// Records a file an action is creating on the agent (status 0); returns its id. The same path again (the agent
/// reuses a name only for the same process and day) starts over at status 0 as long as it was never transferred.
pub async fn insert_action(pool: &Pool, app: u64, agent: &str, kind: &str, file: &str, user: u64) -> Result<u64, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "INSERT INTO files (app, agent, type, file, user, status, storage) VALUES (?, ?, ?, ?, ?, 0, '') \
         ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), status = 0, user = VALUES(user), token = '', gm_create = CURRENT_TIMESTAMP",
        (app, agent, kind, file, user),
    )
    .await?;
    Ok(conn.last_insert_id().unwrap_or_default())
}

/// Records a file already in storage (a browser upload, a saved trend): status 3. Returns its id.
pub async fn insert_stored(pool: &Pool, app: u64, agent: &str, kind: &str, file: &str, user: u64, storage: &str) -> Result<u64, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "INSERT INTO files (app, agent, type, file, user, status, storage) VALUES (?, ?, ?, ?, ?, 3, ?)",
        (app, agent, kind, file, user, storage),
    )
    .await?;
    Ok(conn.last_insert_id().unwrap_or_default())
}

/// Moves the row from status `from` to `to`; false if it was not in `from` (someone else moved it).
pub async fn set_status_from(pool: &Pool, id: u64, from: u8, to: u8) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE files SET status = ? WHERE id = ? AND status = ?", (to, id, from)).await?;
    Ok(conn.affected_rows() == 1)
}

/// Starts a transfer: status 2 with the one-time upload `token`. Only a file that exists on the agent (1), is
/// being transferred (2, a retry) or was transferred (3, a new copy) can be; false otherwise.
pub async fn start_transfer(pool: &Pool, id: u64, token: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE files SET status = 2, token = ? WHERE id = ? AND status IN (1, 2, 3)", (token, id)).await?;
    Ok(conn.affected_rows() == 1)
}

/// A transfer with `token` failed: back to 3 when the row still names a stored object, else to 1. Does nothing
/// when the upload was recorded meanwhile (the token is consumed then) or another transfer took over.
pub async fn abort_transfer(pool: &Pool, id: u64, token: &str) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "UPDATE files SET status = IF(COALESCE(storage, '') = '', 1, 3), token = '' WHERE id = ? AND status = 2 AND token = ?",
        (id, token),
    )
    .await?;
    Ok(conn.affected_rows() == 1)
}

/// A transfer that has been running for more than `secs` cannot still be running (the console's own call gives up
/// before): put back like [`abort_transfer`]. For rows a console left at 2 when it stopped mid-transfer.
pub async fn abort_stale_transfer(pool: &Pool, id: u64, secs: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop(
        "UPDATE files SET status = IF(COALESCE(storage, '') = '', 1, 3), token = '' \
         WHERE id = ? AND status = 2 AND gm_modified < NOW() - INTERVAL ? SECOND",
        (id, secs),
    )
    .await?;
    Ok(conn.affected_rows() == 1)
}

/// Sets `favor`; false when it already had that value.
pub async fn set_favor(pool: &Pool, id: u64, favor: u8) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("UPDATE files SET favor = ? WHERE id = ? AND COALESCE(favor, 0) <> ?", (favor, id, favor)).await?;
    Ok(conn.affected_rows() == 1)
}

pub async fn delete(pool: &Pool, id: u64) -> Result<bool, mysql_async::Error> {
    let mut conn = pool.get_conn().await?;
    conn.exec_drop("DELETE FROM files WHERE id = ?", (id,)).await?;
    Ok(conn.affected_rows() == 1)
}

/// Which rows the files page lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListFilter {
    /// Files and cores.
    All,
    /// Favourite files and cores.
    Favor,
    /// Cores only.
    Core,
    /// Files of one type only.
    Type(String),
}

/// Where a listed row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    Core,
}

/// One row of the files page: a `files` row or a `coredumps` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub source: Source,
    pub id: u64,
    /// The file type (`core` for cores).
    pub kind: String,
    pub agent: String,
    pub file: String,
    /// A core's `node` column (JSON, or an uploaded executable's name); empty for files.
    pub node: String,
    /// `status`, or a core's `file_status`.
    pub status: u8,
    /// A core's `node_status`; 0 for files.
    pub node_status: u8,
    pub favor: u8,
    pub user: u64,
    /// `gm_create` as `YYYY-MM-DD HH:MM:SS`.
    pub time: String,
}

type ListedTuple = (u8, u64, String, String, String, String, u8, u8, u8, u64, String);

/// One page of an app's files and cores together, newest first (`gm_create`, then id), and how many rows match.
/// Paginated in SQL: each table gives at most `offset + limit` rows in index order `(app, gm_create)` and the merge
/// keeps the page, so a page costs the index entries before it and never the whole table (the original loaded every
/// row); only the page's own rows are read.
///
/// `count_hint` is the count an earlier call returned for the same app and filter: with it, the count and the page
/// are read at once, on two connections (the page planned for the hinted count, and read again in the rare case the
/// real count plans another read); without it, one after the other.
pub async fn page(
    pool: &Pool,
    app: u64,
    filter: &ListFilter,
    offset: u64,
    limit: u64,
    count_hint: Option<u64>,
) -> Result<(u64, Vec<Listed>), mysql_async::Error> {
    let query = PageQuery::new(app, filter);
    if let Some(hint) = count_hint.filter(|h| *h > offset && limit > 0) {
        let plan = Plan::new(hint, offset, limit);
        let (count, rows) = futures_util::future::try_join(query.count(pool), query.keys_page(pool, plan)).await?;
        // The rows are the page's when the real count plans the same read (page 1 stays page 1 as files arrive).
        if count > offset && Plan::new(count, offset, limit) == plan {
            return Ok((count, rows));
        }
        return query.planned(pool, count, offset, limit).await;
    }
    let count = query.count(pool).await?;
    query.planned(pool, count, offset, limit).await
}

/// Which rows of the page to read: `skip` rows of the list read newest first, or for a page in the second half of
/// the list oldest first (then reversed), so that no page skips more than half of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    from_end: bool,
    skip: u64,
    limit: u64,
}

impl Plan {
    /// `count > offset`.
    fn new(count: u64, offset: u64, limit: u64) -> Self {
        let limit = limit.min(count - offset);
        match offset.saturating_mul(2) > count {
            true => Plan { from_end: true, skip: count - offset - limit, limit },
            false => Plan { from_end: false, skip: offset, limit },
        }
    }
}

/// The statements of one list: the `WHERE` of each table it reads (`None`: not read) and their parameters.
struct PageQuery<'a> {
    app: u64,
    files_where: Option<&'static str>,
    cores_where: Option<&'static str>,
    kind: Option<&'a str>,
}

impl<'a> PageQuery<'a> {
    fn new(app: u64, filter: &'a ListFilter) -> Self {
        let (files_where, cores_where) = match filter {
            ListFilter::All => (Some(""), Some("")),
            ListFilter::Favor => (Some(" AND favor = 1"), Some(" AND favor = 1")),
            ListFilter::Core => (None, Some("")),
            ListFilter::Type(_) => (Some(" AND type = ?"), None),
        };
        let kind = match filter {
            ListFilter::Type(kind) => Some(kind.as_str()),
            _ => None,
        };
        PageQuery { app, files_where, cores_where, kind }
    }

    /// (table, its condition, its parameters) for every table the list reads; `src` 0 is files, 1 cores.
    fn tables(&self) -> Vec<(u8, &'static str, &'static str, Vec<mysql_async::Value>)> {
        let mut out = Vec::new();
        if let Some(cond) = self.files_where {
            let mut params = vec![self.app.into()];
            params.extend(self.kind.map(Into::into));
            out.push((0, "files", cond, params));
        }
        if let Some(cond) = self.cores_where {
            out.push((1, "coredumps", cond, vec![self.app.into()]));
        }
        out
    }

    async fn count(&self, pool: &Pool) -> Result<u64, mysql_async::Error> {
        let (mut parts, mut params) = (Vec::new(), Vec::new());
        for (_, table, cond, values) in self.tables() {
            parts.push(format!("(SELECT COUNT(*) FROM {table} WHERE app = ?{cond})"));
            params.extend(values);
        }
        let mut conn = pool.get_conn().await?;
        Ok(conn.exec_first(format!("SELECT CAST({} AS UNSIGNED)", parts.join(" + ")), params).await?.unwrap_or(0))
    }

    /// The page at `offset` of a list of `count` rows.
    async fn planned(&self, pool: &Pool, count: u64, offset: u64, limit: u64) -> Result<(u64, Vec<Listed>), mysql_async::Error> {
        if count <= offset || limit == 0 {
            return Ok((count, Vec::new()));
        }
        Ok((count, self.keys_page(pool, Plan::new(count, offset, limit)).await?))
    }

    /// Deferred join: the branches and their merge read only (src, id, gm_create), which the indexes (app[, type |
    /// favor], gm_create) hold with the primary key, so the rows a page skips are index entries, never rows; only
    /// the page's own rows are then read from their tables.
    async fn keys_page(&self, pool: &Pool, plan: Plan) -> Result<Vec<Listed>, mysql_async::Error> {
        let order = if plan.from_end { "ASC" } else { "DESC" };
        let wanted = plan.skip.saturating_add(plan.limit);
        let (mut branches, mut params) = (Vec::new(), Vec::<mysql_async::Value>::new());
        for (src, table, cond, values) in self.tables() {
            branches.push(format!("(SELECT {src} AS src, id, gm_create FROM {table} WHERE app = ?{cond} ORDER BY gm_create {order}, id {order} LIMIT ?)"));
            params.extend(values);
            params.push(wanted.into());
        }
        params.push(plan.limit.into());
        params.push(plan.skip.into());
        let sql = format!(
            "SELECT p.src, p.id, IF(p.src = 0, COALESCE(f.type, ''), 'core'), COALESCE(f.agent, c.agent, ''), COALESCE(f.file, c.file, ''), \
             IF(p.src = 0, '', COALESCE(c.node, '')), IF(p.src = 0, COALESCE(f.status, 0), COALESCE(c.file_status, 0)), \
             IF(p.src = 0, 0, COALESCE(c.node_status, 0)), COALESCE(f.favor, c.favor, 0), COALESCE(f.user, c.user, 0), \
             COALESCE(DATE_FORMAT(p.gm_create, '%Y-%m-%d %H:%i:%s'), '') \
             FROM (SELECT src, id, gm_create FROM ({}) AS keyed ORDER BY gm_create {order}, src {order}, id {order} LIMIT ? OFFSET ?) AS p \
             LEFT JOIN files f ON p.src = 0 AND f.id = p.id LEFT JOIN coredumps c ON p.src = 1 AND c.id = p.id \
             ORDER BY p.gm_create {order}, p.src {order}, p.id {order}",
            branches.join(" UNION ALL ")
        );
        let mut conn = pool.get_conn().await?;
        let mut rows: Vec<ListedTuple> = conn.exec(sql, params).await?;
        if plan.from_end {
            rows.reverse();
        }
        let listed = rows
            .into_iter()
            .map(|(src, id, kind, agent, file, node, status, node_status, favor, user, time)| Listed {
                source: if src == 1 { Source::Core } else { Source::File },
                id,
                kind,
                agent,
                file,
                node,
                status,
                node_status,
                favor,
                user,
                time,
            })
            .collect();
        Ok(listed)
    }
}
