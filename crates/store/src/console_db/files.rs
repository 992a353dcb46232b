//! `files`: profiles, snapshots and reports taken on agents, through their life: 0 creating → 1 created (the agent
//! reported it done) → 2 transferring (a one-time upload token is set) → 3 transferred (`storage` names the object);
//! 99 when the agent never confirmed it. Browser uploads and saved trends are stored at once (3). The files page
//! ([`page`]) lists these rows and the cores of `coredumps` together.

use std::sync::Arc;

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
    conn.exec_drop("UPDATE files SET status = 3, storage = ?, token = '' WHERE id = ? AND status = 2 AND token = ?", (storage, id, token)).await?;
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
    conn.exec_drop("INSERT INTO files (app, agent, type, file, user, status, storage) VALUES (?, ?, ?, ?, ?, 3, ?)", (app, agent, kind, file, user, storage))
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
    conn.exec_drop("UPDATE files SET status = IF(COALESCE(storage, '') = '', 1, 3), token = '' WHERE id = ? AND status = 2 AND token = ?", (id, token)).await?;
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
/// `hint` is what an earlier call returned for the same app and filter ([`Page::hint`]). With its count, the count
/// and the page are read at once, on two connections (the page planned for the hinted count, and read again in the
/// rare case the real count plans another read); without it, one after the other. A page deep in a long list (one
/// that would skip `seeking.from` index entries or more, counted from the nearer end) starts from the hint's
/// [`SeekPoints`] instead, so it costs what a page near the top costs. The list's [`Signature`], read beside the
/// page, tells whether the list changed since the points were taken: when only above the first point (files
/// arriving), the points move down by as many rows; otherwise they are taken again.
pub async fn page(pool: &Pool, app: u64, filter: &ListFilter, offset: u64, limit: u64, hint: ListHint, seeking: Seeking) -> Result<Page, mysql_async::Error> {
    let seeking = Seeking { every: seeking.every.max(1), ..seeking };
    let query = PageQuery::new(app, filter);
    if let Some(hinted) = hint.count.filter(|h| *h > offset && limit > 0) {
        let plan = Plan::new(hinted, offset, limit);
        if plan.skip >= seeking.from {
            return query.seeked(pool, offset, limit, hint.seeks, seeking).await;
        }
        let (count, rows) = futures_util::future::try_join(query.count(pool), query.keys_page(pool, plan, None)).await?;
        // The rows are the page's when the real count plans the same read (page 1 stays page 1 as files arrive).
        if count > offset && Plan::new(count, offset, limit) == plan {
            return Ok(Page { count, rows, hint: ListHint { count: Some(count), seeks: hint.seeks } });
        }
        return query.planned(pool, count, offset, limit, hint.seeks, seeking).await;
    }
    let count = query.count(pool).await?;
    query.planned(pool, count, offset, limit, hint.seeks, seeking).await
}

/// The seek points of a list ([`SeekPoints`]), taken apart from any page: a console takes them in the background
/// after serving a page of a list long enough to have deep pages, so that its first deep page finds them. `None`
/// where [`page`] would keep none (a list longer than [`MAX_SEEK_ROWS`], or dates this code does not order).
pub async fn seek_points(pool: &Pool, app: u64, filter: &ListFilter, seeking: Seeking) -> Result<Option<Arc<SeekPoints>>, mysql_async::Error> {
    let points = PageQuery::new(app, filter).seek_points(pool, seeking.every.max(1)).await?;
    Ok(points.ok().map(Arc::new))
}

/// Whether a list of `count` rows has pages that [`page`] reads from seek points (its middle page skips
/// `seeking.from` entries or more).
pub fn has_deep_pages(count: u64, seeking: Seeking) -> bool {
    count / 2 >= seeking.from
}

/// A page of the list and what the next call for the same app and filter should be given.
#[derive(Debug)]
pub struct Page {
    pub count: u64,
    pub rows: Vec<Listed>,
    pub hint: ListHint,
}

/// What [`page`] learnt about a list, for the next page of it: never needed for a right answer, only to get it faster.
#[derive(Debug, Clone, Default)]
pub struct ListHint {
    /// The list's count.
    pub count: Option<u64>,
    /// Where the list's deep pages start, taken when a deep page was read.
    pub seeks: Option<Arc<SeekPoints>>,
}

/// When a page reads from seek points, and how far apart they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeking {
    /// A page that would skip this many index entries or more (from the nearer end) reads from a seek point.
    pub from: u64,
    /// The points are the keys at every `every`-th position: a page from a point skips fewer than `every` entries.
    pub every: u64,
}

impl Seeking {
    /// Points every 500 rows (a deep page skips at most 499 entries per table instead of up to half the list), used
    /// from 5,000 rows deep: shallower pages cost less than keeping the points fresh.
    pub const DEFAULT: Seeking = Seeking { from: 5_000, every: 500 };
}

/// A `DATETIME` as its parts (year, month, day, hour, minute, second, microsecond), ordered as the database orders it.
type DateKey = (u16, u8, u8, u8, u8, u8, u32);

/// `Some(None)` for NULL; `None` for a value that is not a binary-protocol `DATETIME` (then no points are kept).
fn date_key(value: &mysql_async::Value) -> Option<Option<DateKey>> {
    match *value {
        mysql_async::Value::NULL => Some(None),
        mysql_async::Value::Date(y, m, d, h, i, s, us) => Some(Some((y, m, d, h, i, s, us))),
        _ => None,
    }
}

fn date_value((y, m, d, h, i, s, us): DateKey) -> mysql_async::Value {
    mysql_async::Value::Date(y, m, d, h, i, s, us)
}

/// One table's rows of a list as they were: how many, the XOR of their ids and the sum of their `gm_create`s (as
/// the numbers `YYYYMMDDhhmmss`, in the database's decimal text). A row that comes or goes changes the count and
/// the ids' XOR; as many rows deleted as added at once could leave both as they were, but not the dates' sum, new
/// rows being dated now, after the deleted ones (unless those were dated the same second). A row that moves
/// (`insert_action` renews `gm_create`, only ever forward) raises the dates' sum, however many move at once. So
/// equal signatures mean the same rows in the same order, but for such coincidences and for dates set back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TableSignature {
    count: u64,
    ids_xor: u64,
    dates_sum: String,
}

impl TableSignature {
    fn empty() -> Self {
        TableSignature { count: 0, ids_xor: 0, dates_sum: "0".into() }
    }

    /// This table's rows but those of `part` (a part of them): count, ids' XOR, dates' sum; `None` when `part`
    /// cannot be a part.
    fn without(&self, part: &TableSignature) -> Option<(u64, u64, u128)> {
        let dates = self.dates_sum.parse::<u128>().ok()?.checked_sub(part.dates_sum.parse::<u128>().ok()?)?;
        Some((self.count.checked_sub(part.count)?, self.ids_xor ^ part.ids_xor, dates))
    }
}

/// A list's [`TableSignature`]s, in the order of `PageQuery::tables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(Vec<TableSignature>);

impl Signature {
    fn count(&self) -> u64 {
        self.0.iter().map(|t| t.count).sum()
    }
}

/// The key of the row at a position of the list, in its order (`gm_create`, then `src`, then id, newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeekKey {
    at: DateKey,
    src: u8,
    id: u64,
}

/// The longest list whose seek points are taken: its keys are held in memory meanwhile (24 bytes a row).
const MAX_SEEK_ROWS: u64 = 2_000_000;

/// Where a page read from seek points starts (`from`, then `skip` rows) and the point after it (`to`; `None` at the
/// list's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seek {
    from: SeekKey,
    to: Option<SeekKey>,
    skip: u64,
}

/// The keys of a list at positions `shift`, `shift + every`, `shift + 2 × every`, …, as it was when its
/// [`Signature`] was read; they stop at the first row without a `gm_create` (the end of the list, which a page
/// reaches from the last point). `shift` is 0 when they are taken, and changes as rows are added above the first
/// (files arriving) or removed there.
#[derive(Debug)]
pub struct SeekPoints {
    signature: Signature,
    /// The signature of the rows above the first point.
    above: Signature,
    shift: u64,
    every: u64,
    keys: Vec<SeekKey>,
}

impl SeekPoints {
    /// How many points there are (a cache's weight).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The list's count when the points were taken (moved since).
    pub fn list_count(&self) -> u64 {
        self.signature.count()
    }

    /// How many rows lie above the first point (added since the points were taken).
    pub fn rows_above(&self) -> u64 {
        self.shift
    }

    /// Where the page at `offset` of `limit` rows starts: the nearest point at or before it, how many rows lie
    /// between them (fewer than `every` but at the list's end, past its last dated row), and the first point after
    /// the page, which bounds each table's range so that the database reads it as one (without it MariaDB may
    /// prefer walking the index from the top).
    fn seek(&self, offset: u64, limit: u64) -> Option<Seek> {
        let from_first = offset.checked_sub(self.shift)?;
        let n = (from_first / self.every).min(self.keys.len().checked_sub(1)? as u64);
        let skip = from_first - n * self.every;
        let after = n.saturating_add(skip.saturating_add(limit).div_ceil(self.every));
        let to = usize::try_from(after).ok().and_then(|i| self.keys.get(i)).copied();
        Some(Seek { from: self.keys[n as usize], to, skip })
    }

    /// The same points after the list changed to `signature`, if it changed above the first point only, `above`
    /// being the signature of the rows there now: each table's rows below the first point are then the same.
    fn moved(&self, signature: Signature, above: Signature) -> Option<SeekPoints> {
        let tables = self.signature.0.iter().zip(&self.above.0).zip(signature.0.iter().zip(&above.0));
        let mut same_below = self.signature.0.len() == signature.0.len() && signature.0.len() == above.0.len();
        for ((old, old_above), (new, new_above)) in tables {
            same_below &= matches!((old.without(old_above), new.without(new_above)), (Some(a), Some(b)) if a == b);
        }
        let shift = above.count();
        same_below.then(|| SeekPoints { signature, above, shift, every: self.every, keys: self.keys.clone() })
    }
}

/// Which side of a seek point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The rows before the point in the list's order (newer).
    Above,
    /// The point's row and the rows after it, with or without those without a date (the list's end).
    AtOrBelow { undated: bool },
}

/// The condition on table `src`'s rows that keeps one side of `point` in the list's order, `(gm_create, src, id)`
/// newest first, this table's `src` being fixed; its parameters are pushed on `params`. Each is a range of the
/// `(app[, type | favor], gm_create)` index, whose entries end with the id.
fn seek_condition(src: u8, point: SeekKey, side: Side, params: &mut Vec<mysql_async::Value>) -> &'static str {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let at = date_value(point.at);
    let (sql, tie) = match (side, src.cmp(&point.src)) {
        (Side::Above, Less) => (" AND gm_create > ?", false),
        (Side::Above, Greater) => (" AND gm_create >= ?", false),
        (Side::Above, Equal) => (" AND gm_create >= ? AND (gm_create > ? OR id > ?)", true),
        (Side::AtOrBelow { undated: false }, Less) => (" AND gm_create <= ?", false),
        (Side::AtOrBelow { undated: false }, Greater) => (" AND gm_create < ?", false),
        (Side::AtOrBelow { undated: false }, Equal) => (" AND gm_create <= ? AND (gm_create < ? OR id <= ?)", true),
        (Side::AtOrBelow { undated: true }, Less) => (" AND (gm_create <= ? OR gm_create IS NULL)", false),
        (Side::AtOrBelow { undated: true }, Greater) => (" AND (gm_create < ? OR gm_create IS NULL)", false),
        (Side::AtOrBelow { undated: true }, Equal) => (" AND (gm_create < ? OR gm_create IS NULL OR (gm_create = ? AND id <= ?))", true),
    };
    match tie {
        true => params.extend([at.clone(), at, point.id.into()]),
        false => params.push(at),
    }
    sql
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
    async fn planned(
        &self,
        pool: &Pool,
        count: u64,
        offset: u64,
        limit: u64,
        seeks: Option<Arc<SeekPoints>>,
        seeking: Seeking,
    ) -> Result<Page, mysql_async::Error> {
        if count > offset && limit > 0 && Plan::new(count, offset, limit).skip >= seeking.from {
            return self.seeked(pool, offset, limit, seeks, seeking).await;
        }
        let rows = self.by_offset(pool, count, offset, limit).await?;
        Ok(Page { count, rows, hint: ListHint { count: Some(count), seeks } })
    }

    /// The rows of the page at `offset` of a list of `count` rows, read by offset (none past the end).
    async fn by_offset(&self, pool: &Pool, count: u64, offset: u64, limit: u64) -> Result<Vec<Listed>, mysql_async::Error> {
        match count > offset && limit > 0 {
            true => self.keys_page(pool, Plan::new(count, offset, limit), None).await,
            false => Ok(Vec::new()),
        }
    }

    /// A deep page, read from the nearest seek point: the page's rows and the list's signature at once; when the
    /// list has changed since the points were taken, moved points (a change above the first point only) or new
    /// points, and then the page again.
    async fn seeked(&self, pool: &Pool, offset: u64, limit: u64, seeks: Option<Arc<SeekPoints>>, seeking: Seeking) -> Result<Page, mysql_async::Error> {
        if let Some(points) = seeks.filter(|p| p.every == seeking.every) {
            if let Some(seek) = points.seek(offset, limit) {
                let (signature, rows) = futures_util::future::try_join(self.signature(pool, None), self.seek_page(pool, seek, limit)).await?;
                if signature == points.signature {
                    let count = signature.count();
                    return Ok(Page { count, rows, hint: ListHint { count: Some(count), seeks: Some(points) } });
                }
                // Rows came (or went) above the first point only: the points moved down, the page is read again.
                let above = self.signature(pool, points.keys.first().copied()).await?;
                if let Some(moved) = points.moved(signature, above) {
                    if let Some(seek) = moved.seek(offset, limit) {
                        let count = moved.signature.count();
                        let rows = self.seek_page(pool, seek, limit).await?;
                        return Ok(Page { count, rows, hint: ListHint { count: Some(count), seeks: Some(Arc::new(moved)) } });
                    }
                }
            }
        }
        let points = match self.seek_points(pool, seeking.every).await? {
            Ok(points) => points,
            Err(count) => {
                let rows = self.by_offset(pool, count, offset, limit).await?;
                return Ok(Page { count, rows, hint: ListHint { count: Some(count), seeks: None } });
            }
        };
        let count = points.signature.count();
        let rows = match points.seek(offset, limit) {
            Some(seek) if count > offset && limit > 0 => self.seek_page(pool, seek, limit).await?,
            _ => self.by_offset(pool, count, offset, limit).await?,
        };
        Ok(Page { count, rows, hint: ListHint { count: Some(count), seeks: Some(Arc::new(points)) } })
    }

    /// Each table's [`TableSignature`], from the same index entries the count reads; with `above`, of the rows
    /// above that point only.
    async fn signature(&self, pool: &Pool, above: Option<SeekKey>) -> Result<Signature, mysql_async::Error> {
        self.signature_on(&mut pool.get_conn().await?, above).await
    }

    async fn signature_on(&self, conn: &mut impl Queryable, above: Option<SeekKey>) -> Result<Signature, mysql_async::Error> {
        let (mut parts, mut params) = (Vec::new(), Vec::new());
        for (src, table, cond, values) in self.tables() {
            params.extend(values);
            let cut = above.map_or("", |point| seek_condition(src, point, Side::Above, &mut params));
            parts.push(format!(
                "(SELECT {src}, COUNT(*), COALESCE(BIT_XOR(id), 0), CAST(COALESCE(SUM(gm_create + 0), 0) AS CHAR) \
                 FROM {table} WHERE app = ?{cond}{cut})"
            ));
        }
        let mut tables: Vec<(u8, u64, u64, String)> = conn.exec(parts.join(" UNION ALL "), params).await?;
        tables.sort_by_key(|(src, ..)| *src);
        Ok(Signature(tables.into_iter().map(|(_, count, ids_xor, dates_sum)| TableSignature { count, ids_xor, dates_sum }).collect()))
    }

    /// The list's seek points and its signature, read in one snapshot: the signature, then every key of each table
    /// (`Err` with the list's count when a `gm_create` came back in a form this code does not order, or for a list
    /// longer than [`MAX_SEEK_ROWS`]).
    async fn seek_points(&self, pool: &Pool, every: u64) -> Result<Result<SeekPoints, u64>, mysql_async::Error> {
        let mut conn = pool.get_conn().await?;
        let mut options = mysql_async::TxOpts::default();
        options.with_consistent_snapshot(true).with_readonly(true).with_isolation_level(mysql_async::IsolationLevel::RepeatableRead);
        let mut tx = conn.start_transaction(options).await?;
        let signature = self.signature_on(&mut tx, None).await?;
        if signature.count() > MAX_SEEK_ROWS {
            return Ok(Err(signature.count()));
        }
        let mut tables = Vec::new();
        for (src, table, cond, values) in self.tables() {
            let sql = format!("SELECT id, gm_create FROM {table} WHERE app = ?{cond} ORDER BY gm_create DESC, id DESC");
            // Row by row, letting the other tasks of this thread run every 1,000 rows: the console takes points in the
            // background while it serves pages on the same thread, and 100,000 rows decode in tens of milliseconds.
            let mut result = tx.exec_iter(sql, values).await?;
            let mut keys = Vec::new();
            while let Some(row) = result.next().await? {
                let (Some(Ok(id)), Some(at)) = (row.get_opt::<u64, _>(0), row.as_ref(1).and_then(date_key)) else {
                    return Ok(Err(signature.count()));
                };
                keys.push((at, id));
                if keys.len() % 1000 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            drop(result);
            tables.push((src, keys.into_iter().peekable()));
        }
        tx.commit().await?;
        // Merge the tables in the list's order, keeping every `every`-th key, until the rows without a date.
        let mut points = Vec::new();
        for position in 0u64.. {
            let next =
                tables.iter_mut().enumerate().filter_map(|(i, (src, keys))| keys.peek().map(|(at, id)| ((*at, *src, *id), i))).max_by_key(|(key, _)| *key);
            let Some(((Some(at), src, id), table)) = next else { break };
            tables[table].1.next();
            if position % every == 0 {
                points.push(SeekKey { at, src, id });
            }
        }
        let above = Signature(signature.0.iter().map(|_| TableSignature::empty()).collect());
        Ok(Ok(SeekPoints { signature, above, shift: 0, every, keys: points }))
    }

    /// The page at `seek`: its rows from the point on.
    async fn seek_page(&self, pool: &Pool, seek: Seek, limit: u64) -> Result<Vec<Listed>, mysql_async::Error> {
        self.keys_page(pool, Plan { from_end: false, skip: seek.skip, limit }, Some(seek)).await
    }

    /// Deferred join: the branches and their merge read only (src, id, gm_create), which the indexes (app[, type |
    /// favor], gm_create) hold with the primary key, so the rows a page skips are index entries, never rows; only
    /// the page's own rows are then read from their tables.
    ///
    /// With `seek` (then `plan` reads newest first), each table's keys are those from the seek's point to the point after the page.
    async fn keys_page(&self, pool: &Pool, plan: Plan, seek: Option<Seek>) -> Result<Vec<Listed>, mysql_async::Error> {
        let order = if plan.from_end { "ASC" } else { "DESC" };
        let wanted = plan.skip.saturating_add(plan.limit);
        let (mut branches, mut params) = (Vec::new(), Vec::<mysql_async::Value>::new());
        for (src, table, cond, values) in self.tables() {
            params.extend(values);
            let (mut from, mut to) = ("", "");
            if let Some(seek) = seek {
                from = seek_condition(src, seek.from, Side::AtOrBelow { undated: seek.to.is_none() }, &mut params);
                to = seek.to.map_or("", |point| seek_condition(src, point, Side::Above, &mut params));
            }
            branches.push(format!(
                "(SELECT {src} AS src, id, gm_create FROM {table} WHERE app = ?{cond}{from}{to} ORDER BY gm_create {order}, id {order} LIMIT ?)"
            ));
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
