//! `osinfo_DD`: one row per agent per minute at position 0 (the system), and at position 1 the gc and http figures
//! of its Node processes, averaged or summed.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;

use crate::logs_db::{bound, datetime, number, query_days, query_days_through, text};

/// The columns the manager inserts, in order. Declared once; `db/logs.sql` is held to it by a test.
pub const COLUMNS: [&str; 31] = [
    "app",
    "agent",
    "log_time",
    "position",
    "version",
    "total_memory",
    "free_memory",
    "disks",
    "response_codes",
    "uptime",
    "used_cpu",
    "cpu_count",
    "load1",
    "load5",
    "load15",
    "node_count",
    "total_gc_times",
    "total_gc_duration",
    "total_scavange_duration",
    "total_marksweep_duration",
    "total_incremental_marking_duration",
    "gc_time_during_last_record",
    "scavange_duration_last_record",
    "marksweep_duration_last_record",
    "incremental_marking_duration_last_record",
    "live_http_request",
    "http_response_close",
    "http_response_sent",
    "http_request_timeout",
    "http_patch_timeout",
    "http_rt",
];

pub(crate) static COLUMN_LIST: LazyLock<String> = LazyLock::new(|| COLUMNS.join(", "));

/// Position 0: the agent's system figures (the gc and http columns hold 0).
pub const SYSTEM: u8 = 0;
/// Position 1: the gc and http figures of the agent's Node processes (the system columns hold 0).
pub const XPROFILER: u8 = 1;

/// What the console reads of an `osinfo_DD` row (either position). Every metric is an f64 (DECIMAL included);
/// NULL reads as 0, and so does a figure the read did not ask for (see [`FIGURES`]; `disks` then reads as empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OsinfoRow {
    /// [`SYSTEM`] or [`XPROFILER`].
    pub position: u8,
    /// Local wall-clock time, as the manager wrote it.
    pub log_time: NaiveDateTime,
    /// A 0–1 fraction.
    pub used_cpu: f64,
    pub cpu_count: f64,
    /// Bytes.
    pub total_memory: f64,
    pub free_memory: f64,
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    /// JSON `{mount: percent}` as stored.
    pub disks: String,
    pub node_count: f64,
    pub total_gc_times: f64,
    /// The schema's spelling.
    pub total_scavange_duration: f64,
    pub scavange_duration_last_record: f64,
    pub total_marksweep_duration: f64,
    pub marksweep_duration_last_record: f64,
    pub http_response_sent: f64,
    pub http_patch_timeout: f64,
    /// Milliseconds.
    pub http_rt: f64,
}

/// The number figures of [`OsinfoRow`], each with its column and its field. Every read selects `position` and
/// `log_time`; a read may select only some figures (a chart draws a few), the others stay 0.
pub const FIGURES: [super::Figure<OsinfoRow>; 16] = [
    ("used_cpu", |r| &mut r.used_cpu),
    ("cpu_count", |r| &mut r.cpu_count),
    ("total_memory", |r| &mut r.total_memory),
    ("free_memory", |r| &mut r.free_memory),
    ("load1", |r| &mut r.load1),
    ("load5", |r| &mut r.load5),
    ("load15", |r| &mut r.load15),
    ("node_count", |r| &mut r.node_count),
    ("total_gc_times", |r| &mut r.total_gc_times),
    ("total_scavange_duration", |r| &mut r.total_scavange_duration),
    ("scavange_duration_last_record", |r| &mut r.scavange_duration_last_record),
    ("total_marksweep_duration", |r| &mut r.total_marksweep_duration),
    ("marksweep_duration_last_record", |r| &mut r.marksweep_duration_last_record),
    ("http_response_sent", |r| &mut r.http_response_sent),
    ("http_patch_timeout", |r| &mut r.http_patch_timeout),
    ("http_rt", |r| &mut r.http_rt),
];

/// The one text column: `{mount: percent}`.
pub const DISKS: &str = "disks";

/// Every figure and [`DISKS`]: what the eggs and the system overview read.
pub const ALL_COLUMNS: [&str; 17] = {
    let mut names = [DISKS; 17];
    let mut i = 0;
    while i < FIGURES.len() {
        names[i] = FIGURES[i].0;
        i += 1;
    }
    names
};

/// What a read selects after `position, log_time`: figures (indexes in [`FIGURES`]), then `disks` if asked.
struct Selection {
    figures: Vec<usize>,
    disks: bool,
}

impl Selection {
    /// `columns` as names in [`FIGURES`] or [`DISKS`]; another name is left out (the tests hold the callers' lists
    /// to these).
    fn of(columns: &[&str]) -> Selection {
        let figures = columns.iter().filter_map(|c| FIGURES.iter().position(|(name, _)| name == c)).collect();
        Selection { figures, disks: columns.contains(&DISKS) }
    }

    fn list(&self) -> String {
        let mut columns = vec!["`position`".to_owned(), "`log_time`".to_owned()];
        columns.extend(self.figures.iter().map(|f| format!("`{}`", FIGURES[*f].0)));
        if self.disks {
            columns.push(format!("`{DISKS}`"));
        }
        columns.join(", ")
    }

    /// As many placeholders as [`Selection::list`] has columns after `position, log_time`, each after a comma: the
    /// other half of a one-half read (a UNION needs the same columns on both sides).
    fn blanks(&self) -> String {
        let mut blanks = ", 0".repeat(self.figures.len());
        if self.disks {
            blanks.push_str(", ''");
        }
        blanks
    }
}

/// The columns of `osinfo`'s `trend_figures` index (`schema::ADDED_INDEXES`): the sample key, then every figure a
/// system chart draws but the disks, so that a chart's read is answered from the index alone.
pub const TREND_FIGURES: [&str; 16] = [
    "app",
    "agent",
    "position",
    "log_time",
    "used_cpu",
    "cpu_count",
    "total_memory",
    "free_memory",
    "load1",
    "load5",
    "load15",
    "node_count",
    "scavange_duration_last_record",
    "marksweep_duration_last_record",
    "http_response_sent",
    "http_rt",
];

impl OsinfoRow {
    /// A row selected with `selection`; `None` without a readable `log_time`.
    fn decode(row: &mysql_async::Row, selection: &Selection) -> Option<OsinfoRow> {
        let mut out = OsinfoRow { position: number(row.as_ref(0)) as u8, log_time: datetime(row.as_ref(1))?, ..OsinfoRow::default() };
        for (i, figure) in selection.figures.iter().enumerate() {
            *(FIGURES[*figure].1)(&mut out) = number(row.as_ref(2 + i));
        }
        if selection.disks {
            out.disks = text(row.as_ref(2 + selection.figures.len()));
        }
        Some(out)
    }

    /// This row as a read of only `columns` would give it: the other figures 0 (for tests of what a chart reads).
    pub fn only(&self, columns: &[&str]) -> OsinfoRow {
        let selection = Selection::of(columns);
        let (mut source, mut out) = (self.clone(), OsinfoRow { position: self.position, log_time: self.log_time, ..OsinfoRow::default() });
        for figure in selection.figures {
            let field = FIGURES[figure].1;
            *field(&mut out) = *field(&mut source);
        }
        if selection.disks {
            out.disks = self.disks.clone();
        }
        out
    }
}

/// The position of a one-half read ([`figures_between`]) whose rows carry the columns; of the other position only
/// `position` and `log_time` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Half {
    pub position: u8,
    /// Only the rows of these minutes carry the columns (the others of `position` are read as the other position's).
    pub sampled: Option<Sample>,
}

impl Half {
    /// Every row of `position` carries the columns.
    pub fn all(position: u8) -> Half {
        Half { position, sampled: None }
    }

    /// Only the rows of `position` in the minutes of `sample` carry the columns.
    pub fn sampled(position: u8, sample: Sample) -> Half {
        Half { position, sampled: Some(sample) }
    }
}

/// One minute in `step`, those whose number (whole minutes of the local `log_time` since 1970-01-01 00:00) is
/// `phase` modulo `step`, the minute after one of those that lacks a row of either position, and every minute from
/// `whole_from` on. The disks chart draws the disks of each bucket's first minute (one minute in 14 for a week), of
/// the next when that one is missing (a lone gap takes its later neighbour's row), and the last bucket, still
/// filling, from its first minute with data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sample {
    pub step: u32,
    pub phase: u32,
    pub whole_from: NaiveDateTime,
}

/// The rows of both positions of (`app`, `agent`) with `log_time` in `[from, to)` (local times), one query per
/// day table, oldest first, with every column.
pub async fn rows_between(pool: &Pool, app: i64, agent: &str, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<OsinfoRow>, mysql_async::Error> {
    figures_between(pool, app, agent, (from, to), &ALL_COLUMNS, None).await
}

/// [`rows_between`] with only `columns` (names in [`FIGURES`] or [`DISKS`]; the others read as 0 or empty): a
/// chart reads only what it draws. Rows of both positions are read whatever the columns (a chart keeps only the
/// minutes that have both halves).
///
/// How, fastest first:
/// - columns all in [`TREND_FIGURES`]: both positions from that index alone, named in the statement (no table row is
///   looked up, and no other index estimated), in its
///   order (`position, log_time`; two rows of one position and second, which the `sample` key rules out, come in
///   the order of their figures);
/// - else with `half`: only that position's rows carry the columns (with [`Half::sampled`], only those of its
///   sampled minutes), and of the others only `position` and `log_time` are read, from the `sample` key alone (the
///   disks chart of a week: 720 row lookups, and rarely a few more, instead of 10,080);
/// - else every row of both positions, `ORDER BY log_time, id`.
pub async fn figures_between(
    pool: &Pool,
    app: i64,
    agent: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    columns: &[&str],
    half: Option<Half>,
) -> Result<Vec<OsinfoRow>, mysql_async::Error> {
    let selection = Selection::of(columns);
    let columns = selection.list();
    let span = "app = ? AND agent = ? AND log_time >= ? AND log_time < ?";
    let covered = !selection.disks && selection.figures.iter().all(|f| TREND_FIGURES.contains(&FIGURES[*f].0));
    // `{table}` is put in per day table; `reads` is how many times the statement binds the span's values (and the
    // sample's).
    let (statement, reads) = match half {
        _ if covered => (format!("SELECT {columns} FROM `{{table}}` WHERE {span} AND position IN ({SYSTEM}, {XPROFILER}) ORDER BY position, log_time"), 1),
        Some(Half { position, sampled }) => {
            let other = if position == SYSTEM { XPROFILER } else { SYSTEM };
            let blanks = selection.blanks();
            let (carry, bare) = match sampled {
                None => (format!("position = {position}"), format!("position = {other}")),
                Some(_) => {
                    // The local minute number of `log_time` (`NaiveDateTime` minutes since 1970), as the console's;
                    // bound (step, phase, whole_from), so that the statement's text stays the same minute after minute.
                    let on = "(MOD(TIMESTAMPDIFF(MINUTE, '1970-01-01 00:00:00', log_time), ?) = ? OR log_time >= ?)";
                    let both = format!("position IN ({SYSTEM}, {XPROFILER})");
                    (format!("position = {position} AND {on}"), format!("{both} AND NOT (position = {position} AND {on})"))
                }
            };
            let statement = format!(
                "(SELECT {columns}, id FROM `{{table}}` WHERE {span} AND {carry}) UNION ALL \
                 (SELECT `position`, `log_time`{blanks}, id FROM `{{table}}` WHERE {span} AND {bare}) ORDER BY log_time, id"
            );
            (statement, 2)
        }
        None => (format!("SELECT {columns} FROM `{{table}}` WHERE {span} ORDER BY log_time, id"), 1),
    };
    // A covered read and a one-half read name their index (`query_days_through`): estimating the table's five
    // indexes cost more than the read on a day not read lately. A day table still without it is read without.
    let index = match half {
        _ if covered => Some("trend_figures"),
        Some(_) => Some("sample"),
        None => None,
    };
    let through = match index {
        Some(index) => statement.replace("FROM `{table}`", &format!("FROM `{{table}}` FORCE INDEX (`{index}`)")),
        None => statement.clone(),
    };
    let rows = query_days_through(
        pool,
        "osinfo",
        (from, to),
        1,
        |table, _| through.replace("{table}", table),
        |table, _| statement.replace("{table}", table),
        |span| {
            let mut values: Vec<mysql_async::Value> = vec![app.into(), agent.into(), bound(span.from).into(), bound(span.to).into()];
            if let Some(Half { sampled: Some(sample), .. }) = half {
                values.extend([sample.step.into(), sample.phase.into(), bound(sample.whole_from).into()]);
            }
            let n = values.len();
            mysql_async::Params::Positional(values.into_iter().cycle().take(n * reads).collect())
        },
    )
    .await?;
    let Some(Half { position, sampled: Some(sample) }) = half else {
        return Ok(rows.iter().filter_map(|row| OsinfoRow::decode(row, &selection)).collect());
    };
    // The rows with their ids (the last column of a one-half read).
    let mut read: Vec<(OsinfoRow, u64)> =
        rows.iter().filter_map(|row| Some((OsinfoRow::decode(row, &selection)?, row.get_opt::<u64, _>(row.len() - 1)?.ok()?))).collect();
    carry_after_gaps(pool, &mut read, position, sample, from, &selection).await?;
    Ok(read.into_iter().map(|(row, _)| row).collect())
}

/// A sampled read's second step: where a sampled minute lacks a row of either position (or lies before the read), the
/// console fills it from the minute after (a lone gap takes the later neighbour's row), so that minute's `position`
/// row gets its columns too, read by id. Rarely any row: a minute missing just at a bucket's start.
async fn carry_after_gaps(
    pool: &Pool,
    read: &mut [(OsinfoRow, u64)],
    position: u8,
    sample: Sample,
    from: NaiveDateTime,
    selection: &Selection,
) -> Result<(), mysql_async::Error> {
    let minute = |t: NaiveDateTime| t.and_utc().timestamp().div_euclid(60);
    let step = i64::from(sample.step.max(1));
    let sampled = |m: i64| m.rem_euclid(step) == i64::from(sample.phase);
    let carried = |r: &OsinfoRow| r.position == position && (sampled(minute(r.log_time)) || r.log_time >= sample.whole_from);
    // Minutes with a row of `position`, and with one of the other (when the read has any: an agent without the other
    // half has only incomplete minutes, which the chart keeps).
    let have = |p: u8| read.iter().filter(|(r, _)| r.position == p).map(|(r, _)| minute(r.log_time)).collect::<std::collections::HashSet<_>>();
    let (mine, others) = (have(position), have(if position == SYSTEM { XPROFILER } else { SYSTEM }));
    let whole = |m: i64| mine.contains(&m) && (others.is_empty() || others.contains(&m));
    let first = minute(from);
    let wanted: Vec<usize> = (0..read.len())
        .filter(|i| {
            let (row, _) = &read[*i];
            let m = minute(row.log_time);
            row.position == position && !carried(row) && sampled(m - 1) && (m - 1 < first || !whole(m - 1))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // By day table, the columns of those rows by id.
    let mut tables: std::collections::BTreeMap<String, Vec<usize>> = std::collections::BTreeMap::new();
    for i in wanted {
        tables.entry(crate::logs_db::day_table("osinfo", &bound(read[i].0.log_time))).or_default().push(i);
    }
    let mut conn = pool.get_conn().await?;
    for (table, at) in tables {
        let marks = vec!["?"; at.len()].join(", ");
        let sql = format!("SELECT {}, id FROM `{table}` WHERE id IN ({marks})", selection.list());
        let ids: Vec<u64> = at.iter().map(|i| read[*i].1).collect();
        let rows: Vec<mysql_async::Row> = conn.exec(sql, ids).await?;
        for row in &rows {
            let (Some(full), Some(Ok(id))) = (OsinfoRow::decode(row, selection), row.get_opt::<u64, _>(row.len() - 1)) else { continue };
            if let Some(i) = at.iter().find(|i| read[**i].1 == id) {
                read[*i].0 = full;
            }
        }
    }
    Ok(())
}

/// The `disks` of the system row of (`app`, `agent`) written at `log_time` (the first, if two were), if there is one:
/// what a sampled read ([`Half::sampled`]) left out of a row the disks chart turns out to need.
pub async fn disks_at(pool: &Pool, app: i64, agent: &str, log_time: NaiveDateTime) -> Result<Option<String>, mysql_async::Error> {
    let rows = query_days(
        pool,
        "osinfo",
        log_time,
        log_time + chrono::TimeDelta::seconds(1),
        |table| format!("SELECT disks FROM `{table}` WHERE app = ? AND agent = ? AND position = {SYSTEM} AND log_time = ? ORDER BY id LIMIT 1"),
        |_| (app, agent, bound(log_time)),
    )
    .await?;
    Ok(rows.first().map(|row| text(row.as_ref(0))))
}

/// The latest row of each position of (`app`, `agent`) with `log_time` in `[since, until)`: at most two rows,
/// [`SYSTEM`] first. The halves may come from different minutes.
pub async fn latest_halves(pool: &Pool, app: i64, agent: &str, since: NaiveDateTime, until: NaiveDateTime) -> Result<Vec<OsinfoRow>, mysql_async::Error> {
    let selection = Selection::of(&ALL_COLUMNS);
    let columns = selection.list();
    let rows = query_days(
        pool,
        "osinfo",
        since,
        until,
        |table| {
            let half = |position: u8| {
                format!(
                    "(SELECT {columns} FROM `{table}` WHERE app = ? AND agent = ? AND position = {position} \
                     AND log_time >= ? AND log_time < ? ORDER BY log_time DESC, id DESC LIMIT 1)"
                )
            };
            format!("{} UNION ALL {}", half(SYSTEM), half(XPROFILER))
        },
        |span| {
            let (from, to) = (bound(span.from), bound(span.to));
            (app, agent, from.clone(), to.clone(), app, agent, from, to)
        },
    )
    .await?;
    let mut halves: [Option<OsinfoRow>; 2] = [None, None];
    for row in rows.iter().filter_map(|row| OsinfoRow::decode(row, &selection)) {
        let Some(slot) = halves.get_mut(usize::from(row.position)) else { continue };
        // Days come oldest first: a later day's row replaces an earlier one.
        if slot.as_ref().is_none_or(|seen| seen.log_time <= row.log_time) {
            *slot = Some(row);
        }
    }
    Ok(halves.into_iter().flatten().collect())
}

/// The agents of `app` that reported with `log_time` in `[since, until)`, each with its latest `log_time` (the
/// instance list shows agents that are offline now but have history). One grouped query per day table over the
/// `(app, agent, log_time)` index.
pub async fn agents_between(pool: &Pool, app: i64, since: NaiveDateTime, until: NaiveDateTime) -> Result<Vec<(String, NaiveDateTime)>, mysql_async::Error> {
    let rows = query_days(
        pool,
        "osinfo",
        since,
        until,
        |table| format!("SELECT agent, MAX(log_time) FROM `{table}` WHERE app = ? AND log_time >= ? AND log_time < ? GROUP BY agent"),
        |span| (app, bound(span.from), bound(span.to)),
    )
    .await?;
    let mut latest: std::collections::BTreeMap<String, NaiveDateTime> = std::collections::BTreeMap::new();
    for row in rows {
        let (Some(agent), Some(time)) = (row.get_opt::<String, _>(0).and_then(Result::ok), datetime(row.as_ref(1))) else {
            continue;
        };
        let slot = latest.entry(agent).or_insert(time);
        if time > *slot {
            *slot = time;
        }
    }
    Ok(latest.into_iter().collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_schemas() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "osinfo");
        for column in super::COLUMNS {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of osinfo in db/logs.sql");
        }
        let written: Vec<&String> = schema.iter().filter(|c| !["id", "gm_create", "gm_modified"].contains(&c.as_str())).collect();
        assert_eq!(written.len(), super::COLUMNS.len(), "{written:?}");
    }

    #[test]
    fn the_console_reads_columns_of_the_schema() {
        let schema = crate::schema::columns_of(crate::schema::LOGS_SQL, "osinfo");
        for column in ["position", "log_time"].into_iter().chain(super::ALL_COLUMNS) {
            assert!(schema.iter().any(|c| c == column), "{column} is not a column of osinfo in db/logs.sql");
        }
    }

    #[test]
    fn a_row_read_with_some_columns_holds_only_those() {
        let mut full = super::OsinfoRow { disks: r#"{"/":40}"#.into(), ..Default::default() };
        for (i, (_, field)) in super::FIGURES.iter().enumerate() {
            *field(&mut full) = i as f64 + 1.0;
        }
        // every field is a figure of its own: none was set twice
        for (i, (name, field)) in super::FIGURES.iter().enumerate() {
            assert_eq!(*field(&mut full.clone()), i as f64 + 1.0, "{name}");
        }
        assert_eq!(full.only(&super::ALL_COLUMNS), full);
        let some = full.only(&["load1", "http_rt"]);
        assert_eq!(some, super::OsinfoRow { load1: full.load1, http_rt: full.http_rt, ..Default::default() });
    }
}
