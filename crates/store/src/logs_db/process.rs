//! `process_DD`: one row per Node process per minute (and per xprofiler log), the original's columns.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use mysql_async::Pool;

use crate::logs_db::{bound, datetime, number, query_days, query_days_through};

/// The columns the manager inserts, in order: the row's identity, the 70 xprofiler metrics, `response_codes`.
/// Declared once; `db/logs.sql` is held to it by a test.
pub const COLUMNS: [&str; 76] = [
    "app",
    "agent",
    "pid",
    "log_time",
    "version",
    "cpu_now",
    "cpu_15",
    "cpu_30",
    "cpu_60",
    "rss",
    "heap_used",
    "heap_available",
    "heap_total",
    "heap_limit",
    "heap_executeable",
    "total_physical_size",
    "malloced_memory",
    "amount_of_external_allocated_memory",
    "new_space_size",
    "new_space_used",
    "new_space_available",
    "new_space_committed",
    "old_space_size",
    "old_space_used",
    "old_space_available",
    "old_space_committed",
    "code_space_size",
    "code_space_used",
    "code_space_available",
    "code_space_committed",
    "map_space_size",
    "map_space_used",
    "map_space_available",
    "map_space_committed",
    "lo_space_size",
    "lo_space_used",
    "lo_space_available",
    "lo_space_committed",
    "read_only_space_size",
    "read_only_space_used",
    "read_only_space_available",
    "read_only_space_committed",
    "new_lo_space_size",
    "new_lo_space_used",
    "new_lo_space_available",
    "new_lo_space_committed",
    "code_lo_space_size",
    "code_lo_space_used",
    "code_lo_space_available",
    "code_lo_space_committed",
    "uptime",
    "total_gc_times",
    "total_gc_duration",
    "total_scavange_duration",
    "total_marksweep_duration",
    "total_incremental_marking_duration",
    "gc_time_during_last_record",
    "scavange_duration_last_record",
    "marksweep_duration_last_record",
    "incremental_marking_duration_last_record",
    "active_handles",
    "active_file_handles",
    "active_and_ref_file_handles",
    "active_tcp_handles",
    "active_and_ref_tcp_handles",
    "active_udp_handles",
    "active_and_ref_udp_handles",
    "active_timer_handles",
    "active_and_ref_timer_handles",
    "live_http_request",
    "http_response_close",
    "http_response_sent",
    "http_request_timeout",
    "http_patch_timeout",
    "http_rt",
    "response_codes",
];

/// The 70 metric columns (`cpu_now` … `http_rt`), in the original's insert order.
pub const METRICS: &[&str] = COLUMNS.split_at(5).1.split_at(70).0;

pub(crate) static COLUMN_LIST: LazyLock<String> = LazyLock::new(|| COLUMNS.join(", "));

/// What the console reads of a `process_DD` row: the figures of its trends and process list. Every metric is an
/// f64 (DECIMAL included); NULL reads as 0, and so does a figure the read did not ask for (see [`FIGURES`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessRow {
    pub pid: i64,
    /// Local wall-clock time, as the manager wrote it.
    pub log_time: NaiveDateTime,
    /// Seconds.
    pub uptime: f64,
    /// Percent.
    pub cpu_now: f64,
    pub cpu_15: f64,
    pub cpu_30: f64,
    pub cpu_60: f64,
    /// Bytes, like every memory figure.
    pub rss: f64,
    pub heap_used: f64,
    pub heap_total: f64,
    pub heap_limit: f64,
    pub amount_of_external_allocated_memory: f64,
    pub new_space_size: f64,
    pub old_space_size: f64,
    pub code_space_size: f64,
    pub map_space_size: f64,
    pub lo_space_size: f64,
    pub read_only_space_size: f64,
    pub new_lo_space_size: f64,
    pub code_lo_space_size: f64,
    /// Milliseconds spent in gc during the last minute.
    pub gc_time_during_last_record: f64,
    /// The schema's spelling.
    pub scavange_duration_last_record: f64,
    pub marksweep_duration_last_record: f64,
    pub active_handles: f64,
    pub active_timer_handles: f64,
    pub active_tcp_handles: f64,
    pub active_udp_handles: f64,
    /// Responses sent during the last minute.
    pub http_response_sent: f64,
}

/// The figures of [`ProcessRow`] (every field after `pid` and `log_time`, which every read selects), each with its
/// column and its field. A read may select only some of them (a chart draws a few): the others stay 0.
pub const FIGURES: [super::Figure<ProcessRow>; 26] = [
    ("uptime", |r| &mut r.uptime),
    ("cpu_now", |r| &mut r.cpu_now),
    ("cpu_15", |r| &mut r.cpu_15),
    ("cpu_30", |r| &mut r.cpu_30),
    ("cpu_60", |r| &mut r.cpu_60),
    ("rss", |r| &mut r.rss),
    ("heap_used", |r| &mut r.heap_used),
    ("heap_total", |r| &mut r.heap_total),
    ("heap_limit", |r| &mut r.heap_limit),
    ("amount_of_external_allocated_memory", |r| &mut r.amount_of_external_allocated_memory),
    ("new_space_size", |r| &mut r.new_space_size),
    ("old_space_size", |r| &mut r.old_space_size),
    ("code_space_size", |r| &mut r.code_space_size),
    ("map_space_size", |r| &mut r.map_space_size),
    ("lo_space_size", |r| &mut r.lo_space_size),
    ("read_only_space_size", |r| &mut r.read_only_space_size),
    ("new_lo_space_size", |r| &mut r.new_lo_space_size),
    ("code_lo_space_size", |r| &mut r.code_lo_space_size),
    ("gc_time_during_last_record", |r| &mut r.gc_time_during_last_record),
    ("scavange_duration_last_record", |r| &mut r.scavange_duration_last_record),
    ("marksweep_duration_last_record", |r| &mut r.marksweep_duration_last_record),
    ("active_handles", |r| &mut r.active_handles),
    ("active_timer_handles", |r| &mut r.active_timer_handles),
    ("active_tcp_handles", |r| &mut r.active_tcp_handles),
    ("active_udp_handles", |r| &mut r.active_udp_handles),
    ("http_response_sent", |r| &mut r.http_response_sent),
];

/// Every figure: what the process list and the eggs read.
pub const ALL_FIGURES: [&str; 26] = {
    let mut names = [""; 26];
    let mut i = 0;
    while i < FIGURES.len() {
        names[i] = FIGURES[i].0;
        i += 1;
    }
    names
};

/// The indexes in [`FIGURES`] of `columns`, in their order; a name that is no figure is left out (the tests hold
/// the callers' lists to [`FIGURES`]).
fn figure_indexes(columns: &[&str]) -> Vec<usize> {
    columns.iter().filter_map(|c| FIGURES.iter().position(|(name, _)| name == c)).collect()
}

impl ProcessRow {
    /// A row selected as `pid, log_time` and then the figures `figures` (indexes in [`FIGURES`]); `None` without a
    /// readable `log_time`.
    fn decode(row: &mysql_async::Row, figures: &[usize]) -> Option<ProcessRow> {
        ProcessRow::decode_at(row, 0, figures)
    }

    /// [`ProcessRow::decode`] of the columns from `first` on.
    fn decode_at(row: &mysql_async::Row, first: usize, figures: &[usize]) -> Option<ProcessRow> {
        let mut out = ProcessRow { pid: number(row.as_ref(first)) as i64, log_time: datetime(row.as_ref(first + 1))?, ..ProcessRow::default() };
        for (i, figure) in figures.iter().enumerate() {
            *(FIGURES[*figure].1)(&mut out) = number(row.as_ref(first + 2 + i));
        }
        Some(out)
    }

    /// This row as a read of only `columns` would give it: the other figures 0 (for tests of what a chart reads).
    pub fn only(&self, columns: &[&str]) -> ProcessRow {
        let (mut source, mut out) = (self.clone(), ProcessRow { pid: self.pid, log_time: self.log_time, ..ProcessRow::default() });
        for figure in figure_indexes(columns) {
            let field = FIGURES[figure].1;
            *field(&mut out) = *field(&mut source);
        }
        out
    }
}

fn read_list(alias: &str, figures: &[usize]) -> String {
    let mut columns = vec![format!("{alias}`pid`"), format!("{alias}`log_time`")];
    columns.extend(figures.iter().map(|f| format!("{alias}`{}`", FIGURES[*f].0)));
    columns.join(", ")
}

/// The rows of process `pid` of (`app`, `agent`) with `log_time` in `[from, to)` (local times), one query per day
/// table, oldest first, with every figure.
pub async fn rows_between(pool: &Pool, app: i64, agent: &str, pid: i64, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<ProcessRow>, mysql_async::Error> {
    figures_between(pool, app, agent, pid, (from, to), &ALL_FIGURES).await
}

/// [`rows_between`] with only the figures `columns` (names in [`FIGURES`]; the others read as 0): a chart reads
/// only what it draws.
///
/// Figures all in the [`TREND_INDEXES`] are read from those indexes alone, no table row looked up (a process's rows
/// of a day lie ~1,000 rows apart in the table, as the agents' minutes interleave them, so a row lookup is a page
/// each): from one index when it holds them all (every chart), else one statement per index, joined here by row (a
/// process page's shared read). Other figures read every row, `ORDER BY log_time, id`.
pub async fn figures_between(
    pool: &Pool,
    app: i64,
    agent: &str,
    pid: i64,
    (from, to): (NaiveDateTime, NaiveDateTime),
    columns: &[&str],
) -> Result<Vec<ProcessRow>, mysql_async::Error> {
    let figures = figure_indexes(columns);
    let span = "app = ? AND agent = ? AND pid = ? AND log_time >= ? AND log_time < ?";
    let params = |span: &crate::logs_db::DaySpan| (app, agent, pid, bound(span.from), bound(span.to));
    let Some(parts) = index_parts(&figures) else {
        let columns = read_list("", &figures);
        let statement = format!("SELECT {columns} FROM `{{table}}` WHERE {span} ORDER BY log_time, id");
        let rows = query_days(pool, "process", from, to, |table| statement.replace("{table}", table), params).await?;
        return Ok(rows.iter().filter_map(|row| ProcessRow::decode(row, &figures)).collect());
    };
    // One statement a part, each through its index; `part` says whose figures a row holds.
    let statement = |table: &str, k: usize, forced: bool| {
        let (index, part) = &parts[k];
        let mut list = vec![format!("{k} AS part"), "id".to_owned(), "`pid`".to_owned(), "`log_time`".to_owned()];
        list.extend(part.iter().map(|f| format!("`{}`", FIGURES[*f].0)));
        let through = if forced { format!(" FORCE INDEX (`{index}`)") } else { String::new() };
        format!("SELECT {} FROM `{table}`{through} WHERE {span}", list.join(", "))
    };
    let rows =
        query_days_through(pool, "process", (from, to), parts.len(), |table, k| statement(table, k, true), |table, k| statement(table, k, false), params)
            .await?;
    let mut read: Vec<Vec<(NaiveDateTime, u64, ProcessRow)>> = vec![Vec::new(); parts.len()];
    for row in &rows {
        let k = number(row.as_ref(0)) as usize;
        let Some(decoded) = parts.get(k).and_then(|(_, part)| ProcessRow::decode_at(row, 2, part)) else { continue };
        read[k].push((decoded.log_time, number(row.as_ref(1)) as u64, decoded));
    }
    for part in &mut read {
        // Index order within a second is by figures; a second holds one row where the `sample` key exists.
        part.sort_by_key(|(log_time, id, _)| (*log_time, *id));
    }
    let mut parts_read = parts.iter().zip(read);
    let Some((_, mut joined)) = parts_read.next() else { return Ok(Vec::new()) };
    // A row written between the parts' reads (today's table) is in the later part only: it is left out.
    for ((_, figures), part) in parts_read {
        let mut others = part.into_iter().peekable();
        joined.retain_mut(|(log_time, id, row)| {
            while others.next_if(|(t, i, _)| (t, i) < (&*log_time, &*id)).is_some() {}
            match others.next_if(|(t, i, _)| (t, i) == (&*log_time, &*id)) {
                Some((_, _, other)) => {
                    let mut other = other;
                    for f in figures {
                        let field = FIGURES[*f].1;
                        *field(row) = *field(&mut other);
                    }
                    true
                }
                None => false,
            }
        });
    }
    Ok(joined.into_iter().map(|(_, _, row)| row).collect())
}

/// The covering indexes of the process charts (`schema::ADDED_INDEXES`): the `sample` key, then twelve figures each
/// (MySQL allows 16 columns to an index), so that a chart's read is answered from one of them alone. Every chart's
/// figures (`console::domain::trends`) are in one: the heap, cpu, gc and handles charts in the first, the heap
/// spaces, qps, timer, tcp and udp charts in the second.
pub const TREND_INDEXES: [(&str, [&str; 16]); 2] = [
    (
        "trend_heap_cpu",
        [
            "app",
            "agent",
            "pid",
            "log_time",
            "heap_total",
            "heap_used",
            "rss",
            "amount_of_external_allocated_memory",
            "heap_limit",
            "cpu_now",
            "cpu_15",
            "cpu_30",
            "cpu_60",
            "scavange_duration_last_record",
            "marksweep_duration_last_record",
            "active_handles",
        ],
    ),
    (
        "trend_spaces_handles",
        [
            "app",
            "agent",
            "pid",
            "log_time",
            "new_space_size",
            "old_space_size",
            "code_space_size",
            "map_space_size",
            "lo_space_size",
            "read_only_space_size",
            "new_lo_space_size",
            "code_lo_space_size",
            "active_timer_handles",
            "active_tcp_handles",
            "active_udp_handles",
            "http_response_sent",
        ],
    ),
];

/// The figures of the [`TREND_INDEXES`] (each after the 4 columns of the key): what a process page's charts draw.
pub const TREND_FIGURES: [&str; 24] = {
    let mut names = [""; 24];
    let mut i = 0;
    while i < 24 {
        names[i] = TREND_INDEXES[i / 12].1[4 + i % 12];
        i += 1;
    }
    names
};

/// The figures of each of the [`TREND_INDEXES`], in its order. When a page's charts share their reads, a chart reads
/// every figure of the index that holds its own ([`index_figures_of`]), and the other charts of that index draw
/// from that read: a page costs one read per index, and a chart alone one.
pub const INDEX_FIGURES: [&[&str]; 2] = {
    let (heap_cpu, spaces_handles) = TREND_FIGURES.split_at(12);
    [heap_cpu, spaces_handles]
};

/// The figures of the first of the [`TREND_INDEXES`] that holds all of `columns`, if one does.
pub fn index_figures_of(columns: &[&str]) -> Option<&'static [&'static str]> {
    INDEX_FIGURES.into_iter().find(|figures| columns.iter().all(|c| figures.contains(c)))
}

/// `figures` (indexes in [`FIGURES`]) split by the [`TREND_INDEXES`] that hold them (the first that does): the
/// index's name and its part, one part per index used; `None` when one of them is in no index.
fn index_parts(figures: &[usize]) -> Option<Vec<(&'static str, Vec<usize>)>> {
    let mut parts: Vec<(&'static str, Vec<usize>)> = TREND_INDEXES.iter().map(|(name, _)| (*name, Vec::new())).collect();
    for f in figures {
        let k = TREND_INDEXES.iter().position(|(_, columns)| columns[4..].contains(&FIGURES[*f].0))?;
        parts[k].1.push(*f);
    }
    let first = parts[0].0;
    parts.retain(|(_, part)| !part.is_empty());
    if parts.is_empty() {
        parts.push((first, Vec::new()));
    }
    Some(parts)
}

/// The latest row of every pid of (`app`, `agent`) with `log_time` in `[since, until)`, by pid ascending.
pub async fn latest_per_pid(pool: &Pool, app: i64, agent: &str, since: NaiveDateTime, until: NaiveDateTime) -> Result<Vec<ProcessRow>, mysql_async::Error> {
    let figures: Vec<usize> = (0..FIGURES.len()).collect();
    let columns = read_list("p.", &figures);
    let rows = query_days(
        pool,
        "process",
        since,
        until,
        |table| {
            format!(
                "SELECT {columns} FROM `{table}` AS p JOIN (\
                   SELECT pid, MAX(log_time) AS latest FROM `{table}` \
                   WHERE app = ? AND agent = ? AND log_time >= ? AND log_time < ? GROUP BY pid\
                 ) AS l ON p.pid = l.pid AND p.log_time = l.latest \
                 WHERE p.app = ? AND p.agent = ? ORDER BY p.pid, p.id"
            )
        },
        |span| (app, agent, bound(span.from), bound(span.to), app, agent),
    )
    .await?;
    // Days come oldest first and rows of one time by id, so the last row seen of a pid is its latest.
    let mut latest: std::collections::BTreeMap<i64, ProcessRow> = std::collections::BTreeMap::new();
    for row in rows.iter().filter_map(|row| ProcessRow::decode(row, &figures)) {
        match latest.get(&row.pid) {
            Some(seen) if seen.log_time > row.log_time => {}
            _ => {
                latest.insert(row.pid, row);
            }
        }
    }
    Ok(latest.into_values().collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "process");
        for column in super::COLUMNS {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of process in db/logs.sql");
        }
        // Every schema column but the generated ones is written.
        let written: Vec<&String> = schema.iter().filter(|c| !["id", "gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), super::COLUMNS.len(), "{written:?}");
        assert_eq!((super::METRICS[0], super::METRICS[69]), ("cpu_now", "http_rt"));
    }

    #[test]
    fn the_console_reads_columns_of_the_schema() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "process");
        for column in ["pid", "log_time"].into_iter().chain(super::ALL_FIGURES) {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of process in db/logs.sql");
        }
    }

    #[test]
    fn a_row_read_with_some_figures_holds_only_those() {
        let mut full = super::ProcessRow::default();
        for (i, (_, field)) in super::FIGURES.iter().enumerate() {
            *field(&mut full) = i as f64 + 1.0;
        }
        // every field is a figure of its own: none was set twice
        for (i, (name, field)) in super::FIGURES.iter().enumerate() {
            assert_eq!(*field(&mut full.clone()), i as f64 + 1.0, "{name}");
        }
        let all = full.only(&super::ALL_FIGURES);
        assert_eq!(all, full);
        let some = full.only(&["rss", "http_response_sent"]);
        let expected = super::ProcessRow { rss: full.rss, http_response_sent: full.http_response_sent, ..Default::default() };
        assert_eq!(some, expected);
    }
}
