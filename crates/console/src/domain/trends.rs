//! The process and system trend charts (`/xapi/process_trend`, `/xapi/system_trend`) computed from metric rows,
//! as the original does it (reference: xprofiler-console §1.16): 720 points over the window, rows keyed by minute,
//! a missing minute between two present ones filled from the later one, and each point averaging the minutes of
//! its bucket when the bucket's first minute has data (empty minutes count in the divisor); ours: the last bucket,
//! still filling, shows whatever minutes it has (a new process is drawn within a minute). Pure: the rows and `now`
//! come in.

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike};
use serde::Serialize;
use serde_json::{Map, Value};
use store::logs_db::osinfo::{OsinfoRow, Sample, SYSTEM, XPROFILER};
use store::logs_db::process::ProcessRow;
use store::logs_db::{day_spans, DaySpan};

use crate::domain::metrics::{format_size, js_number, js_text, parse_disks, round2};

/// Points of every trend, whatever its duration.
pub const POINTS: i64 = 720;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The rows a trend reads: `log_time` in `[from, to)`, local wall-clock times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// `[now − duration_hours, now)` in `now`'s time zone, in whole seconds: `log_time` has no fraction, and the SQL
/// compares it with these bounds as text without one.
pub fn window<Tz: TimeZone>(now: &DateTime<Tz>, duration_hours: u32) -> Window {
    let whole = |t: NaiveDateTime| t - TimeDelta::nanoseconds(i64::from(t.nanosecond()));
    let from = now.clone() - TimeDelta::hours(i64::from(duration_hours));
    Window { from: whole(from.naive_local()), to: whole(now.naive_local()) }
}

/// The window split per local calendar day: (day of month, from, to) of each day table to read, earliest first.
/// The store's trend queries split their bounds the same way.
pub fn periods<Tz: TimeZone>(now: &DateTime<Tz>, duration_hours: u32) -> Vec<DaySpan> {
    let w = window(now, duration_hours);
    day_spans(w.from, w.to)
}

/// The minutes whose disks the disks chart of `[now − duration_hours, now)` draws ([`disk_points`]): the first of
/// each bucket (and where that one is missing the next, which `buckets` fills a lone gap from: the store reads it
/// after), and every minute of the last bucket (still filling, it shows its first minute with data). `None` when
/// that would not save a read (buckets of 2 minutes, the 24 h chart), or is not one minute in a whole number of
/// minutes (the zone's offset changes in the window, or a bucket is not a whole number of minutes long): then
/// every minute's disks are read.
pub fn disk_sample<Tz: TimeZone>(now: &DateTime<Tz>, duration_hours: u32) -> Option<Sample> {
    let interval = i64::from(duration_hours) * HOUR_MS / POINTS;
    if duration_hours == 0 || interval % MINUTE_MS != 0 {
        return None;
    }
    let end = now.timestamp_millis();
    let start = end - i64::from(duration_hours) * HOUR_MS;
    let tz = now.timezone();
    let clock = LocalClock::new(&tz, start - MINUTE_MS, end + MINUTE_MS);
    let LocalClock::Fixed(_) = clock else { return None };
    let step = interval / MINUTE_MS;
    if step <= 2 {
        return None;
    }
    let phase = clock.minute(start)?.rem_euclid(step);
    let last = DateTime::from_timestamp_millis(start + (POINTS - 1) * interval)?.with_timezone(&tz).naive_local();
    Some(Sample { step: u32::try_from(step).ok()?, phase: u32::try_from(phase).ok()?, whole_from: minute_of(last) })
}

/// A trend type the console does not know; the route refuses it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown trend type: {0}")]
pub struct UnknownTrendType(pub String);

/// One bucket of a trend: its time (ms) and, when its first minute has data, the record of each of its minutes
/// (`None` for an empty one).
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket<'a, R> {
    pub time: i64,
    pub slots: Option<Vec<Option<&'a R>>>,
}

/// `t` without its seconds.
fn minute_of(t: NaiveDateTime) -> NaiveDateTime {
    t - TimeDelta::seconds(i64::from(t.second())) - TimeDelta::nanoseconds(i64::from(t.nanosecond()))
}

/// A local wall-clock time as a number of minutes (the time read as if it were UTC, in whole minutes): consecutive
/// local minutes are consecutive numbers, so a trend's minutes index an array instead of a hash map.
fn minute_number(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(60)
}

/// Turns instants (ms) into local [`minute_number`]s over one span of instants. A trend asks this ~30,000 times
/// for a week; converting each through the time zone (chrono's `Local` looks the offset up every time) was a
/// fifth of the console's time on the system page, so a span the zone's offset does not change in is plain
/// arithmetic.
enum LocalClock<'z, Tz: TimeZone> {
    /// The zone's offset (ms) over the whole span.
    Fixed(i64),
    /// The offset changes in the span (daylight saving): every instant is converted. With the spread of the offsets
    /// seen in the span, in minutes: how far local minutes may fall outside those of its ends.
    Zone(&'z Tz, i64),
}

impl<'z, Tz: TimeZone> LocalClock<'z, Tz> {
    /// The offset is sampled every hour of `[from, to]`: two changes of a zone's offset less than an hour apart
    /// are the only thing this misses, and no zone has those.
    fn new(tz: &'z Tz, from: i64, to: i64) -> Self {
        let offset = |ms: i64| DateTime::from_timestamp_millis(ms).map(|t| tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc());
        let seen: Option<Vec<i32>> = (from..=to).step_by(HOUR_MS as usize).chain([to]).map(offset).collect();
        let (low, high) = match seen.as_deref() {
            Some([first, rest @ ..]) => rest.iter().fold((*first, *first), |(lo, hi), o| (lo.min(*o), hi.max(*o))),
            _ => return LocalClock::Zone(tz, 24 * 60),
        };
        match low == high {
            true => LocalClock::Fixed(i64::from(low) * 1000),
            false => LocalClock::Zone(tz, i64::from(high - low) / 60 + 1),
        }
    }

    /// The local minute of the instant `ms`; `None` only outside chrono's range.
    fn minute(&self, ms: i64) -> Option<i64> {
        match self {
            LocalClock::Fixed(offset) => Some((ms + offset).div_euclid(MINUTE_MS)),
            LocalClock::Zone(tz, _) => DateTime::from_timestamp_millis(ms).map(|t| minute_number(t.with_timezone(*tz).naive_local())),
        }
    }
}

/// Records by local minute number over `[first, first + len)`, the first given of a minute kept.
struct Minutes<'a, R> {
    first: i64,
    slots: Vec<Option<&'a R>>,
}

impl<'a, R> Minutes<'a, R> {
    fn index(&self, minute: i64) -> Option<usize> {
        usize::try_from(minute - self.first).ok().filter(|i| *i < self.slots.len())
    }

    fn get(&self, minute: Option<i64>) -> Option<&'a R> {
        minute.and_then(|m| self.index(m)).and_then(|i| self.slots[i])
    }

    fn set(&mut self, minute: i64, record: &'a R) {
        if let Some(i) = self.index(minute) {
            self.slots[i].get_or_insert(record);
        }
    }
}

/// The 720 buckets of `[now − duration_hours, now)` over `records` (each with its local `log_time`). Of several
/// records in one minute the first given is kept. A bucket is `duration_hours × 5` seconds long (2 minutes for
/// 24 h, 6 for 72 h, 14 for 168 h) and holds that many minute slots, rounded up. An empty duration gives no bucket.
pub fn buckets<'a, R, Tz: TimeZone>(records: impl IntoIterator<Item = (NaiveDateTime, &'a R)>, now: &DateTime<Tz>, duration_hours: u32) -> Vec<Bucket<'a, R>> {
    if duration_hours == 0 {
        return Vec::new();
    }
    let end = now.timestamp_millis();
    let start = end - i64::from(duration_hours) * HOUR_MS;
    let interval = i64::from(duration_hours) * HOUR_MS / POINTS;
    let slots = (interval + MINUTE_MS - 1) / MINUTE_MS;
    // Every instant looked up below lies in [start − 1 min, last bucket's last slot + 1 min].
    let (from, to) = (start - MINUTE_MS, start + (POINTS - 1) * interval + slots * MINUTE_MS);
    let tz = now.timezone();
    let clock = LocalClock::new(&tz, from, to);
    let key = |ms: i64| clock.minute(ms);
    // A change of offset in the window moves local minutes by at most the offsets' spread either side.
    let margin = match clock {
        LocalClock::Fixed(_) => 0,
        LocalClock::Zone(_, spread) => spread,
    };
    let (Some(first), Some(last)) = (key(from), key(to)) else { return Vec::new() };
    let len = usize::try_from(last - first + 1 + 2 * margin).unwrap_or(0);
    let mut by_minute = Minutes { first: first - margin, slots: vec![None; len] };
    for (log_time, record) in records {
        by_minute.set(minute_number(log_time), record);
    }

    // A lone missing minute takes the later neighbour's record.
    let mut t = start;
    while t < end {
        if let (Some(k), Some(before), Some(after)) = (key(t), key(t - MINUTE_MS), key(t + MINUTE_MS)) {
            if by_minute.get(Some(k)).is_none() && by_minute.get(Some(before)).is_some() {
                if let Some(later) = by_minute.get(Some(after)) {
                    by_minute.set(k, later);
                }
            }
        }
        t += MINUTE_MS;
    }

    (0..POINTS)
        .map(|i| {
            let time = start + i * interval;
            let first = by_minute.get(key(time));
            let all = || (0..slots).map(|j| by_minute.get(key(time + j * MINUTE_MS)));
            let slots = match first {
                Some(_) => Some(all().collect()),
                // Ours: the bucket still filling (the last) shows the minutes it has, averaged over them, so a
                // process that just started is drawn within a minute instead of after a whole bucket.
                None if i == POINTS - 1 => Some(all().flatten().map(Some).collect::<Vec<_>>()).filter(|v| !v.is_empty()),
                None => None,
            };
            Bucket { time, slots }
        })
        .collect()
}

/// The mean of `value` over the slots, empty slots and records without the value counting as 0.
fn average<R>(slots: &[Option<&R>], value: fn(&R) -> Option<f64>) -> f64 {
    if slots.is_empty() {
        return 0.0;
    }
    slots.iter().flatten().filter_map(|r| value(r)).sum::<f64>() / slots.len() as f64
}

/// What a series does to its bucket average before it is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Finish {
    Raw,
    /// To the nearest integer (handle counts, node count).
    Round,
    /// Two decimals.
    Round2,
    /// Per minute to per second, two decimals (qps).
    PerSecond,
    /// A 0–1 fraction to percent, two decimals.
    Percent,
    /// Percent of this total, two decimals; 0 without a total.
    PercentOf(f64),
}

impl Finish {
    fn apply(self, v: f64) -> f64 {
        match self {
            Finish::Raw => v,
            Finish::Round => v.round(),
            Finish::Round2 => round2(v),
            Finish::PerSecond => round2(v / 60.0),
            Finish::Percent => round2(v * 100.0),
            Finish::PercentOf(total) if total > 0.0 => round2(v / total * 100.0),
            Finish::PercentOf(_) => 0.0,
        }
    }
}

/// A plotted series: its key in the points, the figure it averages, and how the average is shown.
struct Series<R> {
    label: &'static str,
    value: fn(&R) -> Option<f64>,
    finish: Finish,
}

fn series<R>(label: &'static str, value: fn(&R) -> Option<f64>, finish: Finish) -> Series<R> {
    Series { label, value, finish }
}

/// `{time, <label>: value, …}` per bucket, ascending by time; buckets without data are `{time}`.
fn points<R>(buckets: &[Bucket<'_, R>], series: &[Series<R>]) -> Vec<Value> {
    buckets
        .iter()
        .map(|b| {
            let mut point = Map::new();
            point.insert("time".into(), Value::from(b.time));
            if let Some(slots) = &b.slots {
                for s in series {
                    point.insert(s.label.into(), js_number(s.finish.apply(average(slots, s.value))));
                }
            }
            Value::Object(point)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Process trends

/// The 9 charts of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessTrendType {
    Heap,
    Cpu,
    HeapSpace,
    Gc,
    Uv,
    Qps,
    Timer,
    Tcp,
    Udp,
}

impl ProcessTrendType {
    /// Every type with its wire name, in the original's order (the order "save trend data" writes them).
    pub const ALL: [(&'static str, ProcessTrendType); 9] = [
        ("heapTrend", ProcessTrendType::Heap),
        ("cpuTrend", ProcessTrendType::Cpu),
        ("heapSpaceTrend", ProcessTrendType::HeapSpace),
        ("gcTrend", ProcessTrendType::Gc),
        ("uvTrend", ProcessTrendType::Uv),
        ("qpsTrend", ProcessTrendType::Qps),
        ("timerTrend", ProcessTrendType::Timer),
        ("tcpTrend", ProcessTrendType::Tcp),
        ("udpTrend", ProcessTrendType::Udp),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, t)| *t == self).map(|(name, _)| *name).expect("ALL lists every type")
    }

    /// The figures its series and its title read (`process::FIGURES` names): all a chart needs of a row.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ProcessTrendType::Heap => &["heap_total", "heap_used", "rss", "amount_of_external_allocated_memory", "heap_limit"],
            ProcessTrendType::Cpu => &["cpu_now", "cpu_15", "cpu_30", "cpu_60"],
            ProcessTrendType::HeapSpace => &[
                "new_space_size",
                "old_space_size",
                "code_space_size",
                "map_space_size",
                "lo_space_size",
                "read_only_space_size",
                "new_lo_space_size",
                "code_lo_space_size",
            ],
            ProcessTrendType::Gc => &["marksweep_duration_last_record", "scavange_duration_last_record"],
            ProcessTrendType::Uv => &["active_handles"],
            ProcessTrendType::Qps => &["http_response_sent"],
            ProcessTrendType::Timer => &["active_timer_handles"],
            ProcessTrendType::Tcp => &["active_tcp_handles"],
            ProcessTrendType::Udp => &["active_udp_handles"],
        }
    }

    fn series(self) -> Vec<Series<ProcessRow>> {
        use Finish::{PerSecond, Raw, Round};
        match self {
            ProcessTrendType::Heap => vec![
                series("heap_total", |r| Some(r.heap_total), Raw),
                series("heap_used", |r| Some(r.heap_used), Raw),
                series("rss", |r| Some(r.rss), Raw),
                series("external", |r| Some(r.amount_of_external_allocated_memory), Raw),
            ],
            ProcessTrendType::Cpu => vec![
                series("cpu_now", |r| Some(r.cpu_now), Raw),
                series("cpu_15", |r| Some(r.cpu_15), Raw),
                series("cpu_30", |r| Some(r.cpu_30), Raw),
                series("cpu_60", |r| Some(r.cpu_60), Raw),
            ],
            ProcessTrendType::HeapSpace => vec![
                series("new_space", |r| Some(r.new_space_size), Raw),
                series("old_space", |r| Some(r.old_space_size), Raw),
                series("code_space", |r| Some(r.code_space_size), Raw),
                series("map_space", |r| Some(r.map_space_size), Raw),
                series("lo_space", |r| Some(r.lo_space_size), Raw),
                series("read_only_space", |r| Some(r.read_only_space_size), Raw),
                series("new_lo_space", |r| Some(r.new_lo_space_size), Raw),
                series("code_lo_space", |r| Some(r.code_lo_space_size), Raw),
            ],
            ProcessTrendType::Gc => vec![
                series("marksweep_duration", |r| Some(r.marksweep_duration_last_record), Raw),
                series("scavenge_duration", |r| Some(r.scavange_duration_last_record), Raw),
                // the sum of the two averages is the average of the sums (same divisor)
                series("total_gc_duration", |r| Some(r.scavange_duration_last_record + r.marksweep_duration_last_record), Raw),
            ],
            ProcessTrendType::Uv => vec![series("active_handles", |r| Some(r.active_handles), Round)],
            ProcessTrendType::Qps => vec![series("qps", |r| Some(r.http_response_sent), PerSecond)],
            ProcessTrendType::Timer => vec![series("active_timers", |r| Some(r.active_timer_handles), Round)],
            ProcessTrendType::Tcp => vec![series("active_tcp_handles", |r| Some(r.active_tcp_handles), Round)],
            ProcessTrendType::Udp => vec![series("active_udp_handles", |r| Some(r.active_udp_handles), Round)],
        }
    }
}

impl FromStr for ProcessTrendType {
    type Err = UnknownTrendType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Self::ALL.iter().find(|(name, _)| *name == s) {
            Some((_, t)) => Ok(*t),
            None => Err(UnknownTrendType(s.to_owned())),
        }
    }
}

/// `/xapi/process_trend`'s data: `{list, limit?, extra?}`. `limit` (bytes) and `extra` (the formatted limit) come
/// with `heapTrend` only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessTrend {
    pub list: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

/// The chart `kind` of one process over `[now − duration_hours, now)` from its rows (any order). No rows give an
/// empty `list`.
pub fn process_trend<'a, Tz: TimeZone>(
    kind: ProcessTrendType,
    rows: impl IntoIterator<Item = &'a ProcessRow>,
    now: &DateTime<Tz>,
    duration_hours: u32,
) -> ProcessTrend {
    let mut sorted: Vec<&ProcessRow> = rows.into_iter().collect();
    sorted.sort_by_key(|r| r.log_time);
    let Some(latest) = sorted.last().copied() else {
        return ProcessTrend { list: Vec::new(), limit: None, extra: None };
    };
    let buckets = buckets(sorted.into_iter().map(|r| (r.log_time, r)), now, duration_hours);
    let list = points(&buckets, &kind.series());
    match kind {
        ProcessTrendType::Heap => {
            let limit = latest.heap_limit.max(0.0);
            ProcessTrend { list, limit: Some(limit as u64), extra: Some(format_size(limit)) }
        }
        _ => ProcessTrend { list, limit: None, extra: None },
    }
}

// ---------------------------------------------------------------------------------------------------------------
// System trends

/// One minute of an agent's `osinfo_DD` rows: the system half (position 0) and the xprofiler half (position 1).
#[derive(Debug, Clone, PartialEq)]
pub struct SystemMinute<'a> {
    pub minute: NaiveDateTime,
    pub system: Option<&'a OsinfoRow>,
    pub xprofiler: Option<&'a OsinfoRow>,
}

/// Rows of both positions merged per minute, ascending. Minutes with both halves are kept; if there is none (an
/// agent without xprofiler processes), every minute is. Of two rows of one position in a minute the earlier is
/// kept.
pub fn merge_halves<'a>(rows: impl IntoIterator<Item = &'a OsinfoRow>) -> Vec<SystemMinute<'a>> {
    let mut sorted: Vec<&OsinfoRow> = rows.into_iter().collect();
    sorted.sort_by_key(|r| r.log_time);
    let mut minutes: Vec<SystemMinute<'a>> = Vec::new();
    for row in sorted {
        let minute = minute_of(row.log_time);
        if minutes.last().is_none_or(|m| m.minute != minute) {
            minutes.push(SystemMinute { minute, system: None, xprofiler: None });
        }
        let Some(entry) = minutes.last_mut() else { continue };
        let half = match row.position {
            SYSTEM => &mut entry.system,
            XPROFILER => &mut entry.xprofiler,
            _ => continue,
        };
        half.get_or_insert(row);
    }
    let complete = |m: &SystemMinute<'_>| m.system.is_some() && m.xprofiler.is_some();
    match minutes.iter().any(complete) {
        true => minutes.into_iter().filter(complete).collect(),
        false => minutes,
    }
}

/// The 8 system charts of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTrendType {
    OsCpu,
    OsMemory,
    Load,
    NodeCount,
    OsGc,
    DiskUsage,
    Qps,
    HttpResponse,
}

impl SystemTrendType {
    /// Every type with its wire name.
    pub const ALL: [(&'static str, SystemTrendType); 8] = [
        ("osCpuTrend", SystemTrendType::OsCpu),
        ("osMemoryTrend", SystemTrendType::OsMemory),
        ("loadTrend", SystemTrendType::Load),
        ("nodeCountTrend", SystemTrendType::NodeCount),
        ("osGcTrend", SystemTrendType::OsGc),
        ("diskUsageTrend", SystemTrendType::DiskUsage),
        ("qpsTrend", SystemTrendType::Qps),
        ("httpResponseTrend", SystemTrendType::HttpResponse),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, t)| *t == self).map(|(name, _)| *name).expect("ALL lists every type")
    }

    /// The columns its series and its title read (`osinfo::FIGURES` names or `disks`): all a chart needs of a row.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            SystemTrendType::OsCpu => &["used_cpu", "cpu_count"],
            SystemTrendType::OsMemory => &["total_memory", "free_memory"],
            SystemTrendType::Load => &["load1", "load5", "load15"],
            SystemTrendType::NodeCount => &["node_count"],
            SystemTrendType::OsGc => &["scavange_duration_last_record", "marksweep_duration_last_record"],
            SystemTrendType::DiskUsage => &["disks"],
            SystemTrendType::Qps => &["http_response_sent"],
            SystemTrendType::HttpResponse => &["http_rt"],
        }
    }

    /// The one position whose figures the chart draws and titles ([`SYSTEM`] or [`XPROFILER`]): of the other half
    /// only the minutes matter (a minute is drawn when it has both halves).
    pub fn half(self) -> u8 {
        match self {
            SystemTrendType::OsCpu | SystemTrendType::OsMemory | SystemTrendType::Load | SystemTrendType::NodeCount | SystemTrendType::DiskUsage => SYSTEM,
            SystemTrendType::OsGc | SystemTrendType::Qps | SystemTrendType::HttpResponse => XPROFILER,
        }
    }

    /// The series of every type but `diskUsageTrend` (whose keys are the mounts). `total_memory` is the latest
    /// system row's, the base of `os_memory`.
    fn series<'a>(self, total_memory: f64) -> Vec<Series<SystemMinute<'a>>> {
        use Finish::{PerSecond, Percent, PercentOf, Raw, Round, Round2};
        match self {
            SystemTrendType::OsCpu => vec![series("os_cpu", |m| m.system.as_ref().map(|s| s.used_cpu), Percent)],
            SystemTrendType::OsMemory => {
                vec![series("os_memory", |m| m.system.as_ref().map(|s| s.total_memory - s.free_memory), PercentOf(total_memory))]
            }
            SystemTrendType::Load => vec![
                series("load1", |m| m.system.as_ref().map(|s| s.load1), Round2),
                series("load5", |m| m.system.as_ref().map(|s| s.load5), Round2),
                series("load15", |m| m.system.as_ref().map(|s| s.load15), Round2),
            ],
            SystemTrendType::NodeCount => vec![series("node_count", |m| m.system.as_ref().map(|s| s.node_count), Round)],
            SystemTrendType::OsGc => vec![
                series("scavenge_avg", |m| m.xprofiler.as_ref().map(|x| x.scavange_duration_last_record), Raw),
                series("marksweep_avg", |m| m.xprofiler.as_ref().map(|x| x.marksweep_duration_last_record), Raw),
                series("total_gc_avg", |m| m.xprofiler.as_ref().map(|x| x.scavange_duration_last_record + x.marksweep_duration_last_record), Raw),
            ],
            SystemTrendType::DiskUsage => Vec::new(),
            SystemTrendType::Qps => vec![series("qps", |m| m.xprofiler.as_ref().map(|x| x.http_response_sent), PerSecond)],
            SystemTrendType::HttpResponse => vec![series("response_time", |m| m.xprofiler.as_ref().map(|x| x.http_rt), Round2)],
        }
    }
}

impl FromStr for SystemTrendType {
    type Err = UnknownTrendType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Self::ALL.iter().find(|(name, _)| *name == s) {
            Some((_, t)) => Ok(*t),
            None => Err(UnknownTrendType(s.to_owned())),
        }
    }
}

/// `/xapi/system_trend`'s data: `{list, extra?, yAxis?}`. `extra` is "N Cores" (`osCpuTrend`) or "N GB"
/// (`osMemoryTrend`); `yAxis` lists the mounts (`diskUsageTrend`, one key per mount in the points).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemTrend {
    pub list: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
    #[serde(rename = "yAxis", skip_serializing_if = "Option::is_none")]
    pub y_axis: Option<Vec<String>>,
}

/// The chart `kind` of one agent over `[now − duration_hours, now)` from its `osinfo_DD` rows of both positions
/// (any order). No rows give an empty `list`.
pub fn system_trend<'a, Tz: TimeZone>(
    kind: SystemTrendType,
    rows: impl IntoIterator<Item = &'a OsinfoRow>,
    now: &DateTime<Tz>,
    duration_hours: u32,
) -> SystemTrend {
    let minutes = merge_halves(rows);
    if minutes.is_empty() {
        return SystemTrend { list: Vec::new(), extra: None, y_axis: None };
    }
    // The figures of the title (cores, memory, mounts) come from the newest minute that has the system half.
    let latest_system = minutes.iter().rev().find_map(|m| m.system);
    let buckets = buckets(minutes.iter().map(|m| (m.minute, m)), now, duration_hours);
    let total_memory = latest_system.map_or(0.0, |s| s.total_memory);
    match kind {
        SystemTrendType::DiskUsage => {
            let mounts = latest_system.map(|s| parse_disks(&s.disks).into_iter().map(|(mount, _)| mount).collect()).unwrap_or_default();
            SystemTrend { list: disk_points(&buckets), extra: None, y_axis: Some(mounts) }
        }
        SystemTrendType::OsCpu => {
            let extra = latest_system.map(|s| format!("{} Cores", js_text(s.cpu_count)));
            SystemTrend { list: points(&buckets, &kind.series(total_memory)), extra, y_axis: None }
        }
        SystemTrendType::OsMemory => {
            let extra = latest_system.map(|s| format!("{} GB", (s.total_memory / 1024.0 / 1024.0 / 1024.0).round()));
            SystemTrend { list: points(&buckets, &kind.series(total_memory)), extra, y_axis: None }
        }
        _ => SystemTrend { list: points(&buckets, &kind.series(total_memory)), extra: None, y_axis: None },
    }
}

/// The system row whose disks name the mounts of the disks chart (`yAxis`): the newest minute's that has the system
/// half. A sampled read ([`disk_sample`]) may not carry its disks (an agent that stopped reporting before the last
/// bucket): the route then reads them and gives that row first.
pub fn mounts_row<'a>(rows: impl IntoIterator<Item = &'a OsinfoRow>) -> Option<&'a OsinfoRow> {
    merge_halves(rows).iter().rev().find_map(|m| m.system)
}

/// `{<mount>: pct, …, time}` per bucket: the disks of the bucket's first minute, not averaged (as the original).
fn disk_points(buckets: &[Bucket<'_, SystemMinute<'_>>]) -> Vec<Value> {
    buckets
        .iter()
        .map(|b| {
            let mut point = Map::new();
            let first = b.slots.as_ref().and_then(|slots| slots.first().copied().flatten());
            if let Some(system) = first.and_then(|m| m.system) {
                for (mount, pct) in parse_disks(&system.disks) {
                    point.insert(mount, js_number(pct));
                }
            }
            point.insert("time".into(), Value::from(b.time));
            Value::Object(point)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate};

    /// A fixed zone (no daylight saving), so the tests hold wherever they run.
    fn tz() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("a test time")
    }

    fn now_at(text: &str) -> DateTime<FixedOffset> {
        tz().from_local_datetime(&local(text)).single().expect("a fixed offset has one instant per local time")
    }

    fn ms(text: &str) -> i64 {
        now_at(text).timestamp_millis()
    }

    pub(crate) fn process_row(pid: i64, log_time: &str, fill: f64) -> ProcessRow {
        ProcessRow {
            pid,
            log_time: local(log_time),
            uptime: fill,
            cpu_now: fill,
            cpu_15: fill,
            cpu_30: fill,
            cpu_60: fill,
            rss: fill,
            heap_used: fill,
            heap_total: fill,
            heap_limit: fill,
            amount_of_external_allocated_memory: fill,
            new_space_size: fill,
            old_space_size: fill,
            code_space_size: fill,
            map_space_size: fill,
            lo_space_size: fill,
            read_only_space_size: fill,
            new_lo_space_size: fill,
            code_lo_space_size: fill,
            gc_time_during_last_record: fill,
            scavange_duration_last_record: fill,
            marksweep_duration_last_record: fill,
            active_handles: fill,
            active_timer_handles: fill,
            active_tcp_handles: fill,
            active_udp_handles: fill,
            http_response_sent: fill,
        }
    }

    pub(crate) fn osinfo_row(position: u8, log_time: &str, fill: f64) -> OsinfoRow {
        OsinfoRow {
            position,
            log_time: local(log_time),
            used_cpu: fill,
            cpu_count: fill,
            total_memory: fill,
            free_memory: fill,
            load1: fill,
            load5: fill,
            load15: fill,
            disks: String::new(),
            node_count: fill,
            total_gc_times: fill,
            total_scavange_duration: fill,
            scavange_duration_last_record: fill,
            total_marksweep_duration: fill,
            marksweep_duration_last_record: fill,
            http_response_sent: fill,
            http_patch_timeout: fill,
            http_rt: fill,
        }
    }

    #[test]
    fn periods_split_the_window_per_local_day() {
        /// (now, hours, expected (day, from, to))
        type Case = (&'static str, u32, &'static [(u32, &'static str, &'static str)]);
        let cases: &[Case] = &[
            ("2026-03-10 15:30:20", 3, &[(10, "2026-03-10 12:30:20", "2026-03-10 15:30:20")]),
            ("2026-03-10 15:30:20", 24, &[(9, "2026-03-09 15:30:20", "2026-03-10 00:00:00"), (10, "2026-03-10 00:00:00", "2026-03-10 15:30:20")]),
            // across a month boundary
            (
                "2026-03-01 06:00:00",
                72,
                &[
                    (26, "2026-02-26 06:00:00", "2026-02-27 00:00:00"),
                    (27, "2026-02-27 00:00:00", "2026-02-28 00:00:00"),
                    (28, "2026-02-28 00:00:00", "2026-03-01 00:00:00"),
                    (1, "2026-03-01 00:00:00", "2026-03-01 06:00:00"),
                ],
            ),
            // now at midnight: nothing of the new day yet
            ("2026-05-01 00:00:00", 24, &[(30, "2026-04-30 00:00:00", "2026-05-01 00:00:00")]),
        ];
        for (now, hours, expected) in cases {
            let spans = periods(&now_at(now), *hours);
            let expected: Vec<DaySpan> = expected.iter().map(|(day, f, t)| DaySpan { day: *day, from: local(f), to: local(t) }).collect();
            assert_eq!(spans, expected, "{now} − {hours} h");
        }
        let week = periods(&now_at("2026-01-03 10:00:00"), 168);
        assert_eq!(week.iter().map(|s| s.day).collect::<Vec<_>>(), [27, 28, 29, 30, 31, 1, 2, 3]);
        assert_eq!(window(&now_at("2026-01-03 10:00:00"), 168), Window { from: local("2025-12-27 10:00:00"), to: local("2026-01-03 10:00:00") });
        // Whole seconds, as the SQL compares them: a row of the window's first second is in it.
        let late = now_at("2026-01-03 10:00:00") + TimeDelta::milliseconds(750);
        assert_eq!(window(&late, 24), Window { from: local("2026-01-02 10:00:00"), to: local("2026-01-03 10:00:00") });
    }

    #[test]
    fn buckets_have_720_points_spaced_by_the_duration() {
        // (hours, point spacing in ms, minute slots per bucket)
        let cases = [(24, 120_000, 2), (72, 360_000, 6), (168, 840_000, 14), (1, 5_000, 1)];
        let now = now_at("2026-03-10 15:30:20");
        let row = process_row(1, "2026-03-10 15:00:00", 1.0);
        for (hours, spacing, slots) in cases {
            let b = buckets::<ProcessRow, _>(std::iter::empty(), &now, hours);
            assert_eq!(b.len(), 720, "{hours} h");
            assert_eq!(b[0].time, now.timestamp_millis() - i64::from(hours) * HOUR_MS, "{hours} h starts a duration ago");
            assert!(b.windows(2).all(|w| w[1].time - w[0].time == spacing), "{hours} h spacing");
            assert!(b.iter().all(|b| b.slots.is_none()), "no data, no slots");
            // a bucket with data has one slot per minute of its span
            let with = buckets([(minute_of(local("2026-03-10 15:30:20")) - TimeDelta::hours(i64::from(hours)), &row)], &now, hours);
            let filled: Vec<_> = with.iter().filter_map(|b| b.slots.as_ref()).collect();
            assert_eq!(filled.first().map(|s| s.len()), Some(slots), "{hours} h slots");
        }
        assert!(buckets([(row.log_time, &row)], &now, 0).is_empty());
    }

    /// The values of `label` in the points that have it, by point time as local `HH:MM:SS`.
    fn series_of(list: &[Value], label: &str) -> Vec<(String, f64)> {
        list.iter()
            .filter_map(|p| {
                let time = p["time"].as_i64()?;
                let v = p.get(label)?.as_f64()?;
                let t = DateTime::from_timestamp_millis(time)?.with_timezone(&tz()).format("%H:%M:%S").to_string();
                Some((t, v))
            })
            .collect()
    }

    #[test]
    fn points_average_their_minutes_fill_lone_gaps_and_count_empty_slots() {
        // now 12:00:30, 24 h: buckets start at hh:mm:30 on even minutes, two minute slots each.
        let now = now_at("2026-03-10 12:00:30");
        /// (rows as (log_time, value), expected (bucket time, heap_used) for the buckets that have data)
        type Case = (&'static [(&'static str, f64)], &'static [(&'static str, f64)]);
        let cases: &[Case] = &[
            // both minutes present: their mean
            (&[("2026-03-10 11:00:05", 10.0), ("2026-03-10 11:01:50", 30.0)], &[("11:00:30", 20.0)]),
            // second minute empty: divided by 2 anyway
            (&[("2026-03-10 11:00:05", 10.0)], &[("11:00:30", 5.0)]),
            // first minute empty: the bucket has only its time, although its second minute has data
            (&[("2026-03-10 11:01:05", 10.0)], &[]),
            // a lone missing minute (11:01) takes the later neighbour (11:02): the 11:00 bucket is (10 + 30) / 2,
            // the 11:02 bucket (30 + 0) / 2
            (&[("2026-03-10 11:00:05", 10.0), ("2026-03-10 11:02:05", 30.0)], &[("11:00:30", 20.0), ("11:02:30", 15.0)]),
            // a gap of two minutes is not filled: the 11:02 bucket has an empty first minute
            (&[("2026-03-10 11:01:05", 10.0), ("2026-03-10 11:04:05", 30.0)], &[("11:04:30", 15.0)]),
            // the earlier of two rows in a minute counts
            (&[("2026-03-10 11:00:05", 10.0), ("2026-03-10 11:00:45", 50.0), ("2026-03-10 11:01:05", 10.0)], &[("11:00:30", 10.0)]),
            // a row of the minute before the window's first does not count
            (&[("2026-03-09 11:59:05", 8.0)], &[]),
            // ours: the last bucket (11:58:30, still filling) shows the minutes it has, averaged over them
            (&[("2026-03-10 11:59:40", 12.0)], &[("11:58:30", 12.0)]),
        ];
        for (rows, expected) in cases {
            let rows: Vec<ProcessRow> = rows.iter().map(|(t, v)| process_row(1, t, *v)).collect();
            let trend = process_trend(ProcessTrendType::Heap, &rows, &now, 24);
            assert_eq!(trend.list.len(), 720);
            let got = series_of(&trend.list, "heap_used");
            let expected: Vec<(String, f64)> = expected.iter().map(|(t, v)| (t.to_string(), *v)).collect();
            assert_eq!(got, expected, "{rows:?}");
            assert!(trend.list.iter().all(|p| p.as_object().is_some_and(|o| o.len() == 1 || o.len() == 5)), "{{time}} or every series");
        }
    }

    #[test]
    fn longer_durations_divide_by_every_minute_of_the_bucket() {
        let now = now_at("2026-03-10 12:00:00");
        // 168 h: 14-minute buckets from 12:00 a week ago; one row in the first minute of a bucket
        let start = ms("2026-03-03 12:00:00");
        let bucket = start + 100 * 840_000;
        let t = DateTime::from_timestamp_millis(bucket).expect("in range").with_timezone(&tz()).naive_local();
        let rows = [process_row(1, &t.format("%Y-%m-%d %H:%M:%S").to_string(), 14.0)];
        let trend = process_trend(ProcessTrendType::Uv, &rows, &now, 168);
        let with_data: Vec<&Value> = trend.list.iter().filter(|p| p.get("active_handles").is_some()).collect();
        assert_eq!(with_data.len(), 1);
        assert_eq!(with_data[0]["time"], Value::from(bucket));
        assert_eq!(with_data[0]["active_handles"], Value::from(1), "14 / 14 slots");
    }

    #[test]
    fn every_process_trend_type_has_the_originals_series() {
        // (type, series labels)
        let cases: &[(&str, &[&str])] = &[
            ("heapTrend", &["heap_total", "heap_used", "rss", "external"]),
            ("cpuTrend", &["cpu_now", "cpu_15", "cpu_30", "cpu_60"]),
            ("heapSpaceTrend", &["new_space", "old_space", "code_space", "map_space", "lo_space", "read_only_space", "new_lo_space", "code_lo_space"]),
            ("gcTrend", &["marksweep_duration", "scavenge_duration", "total_gc_duration"]),
            ("uvTrend", &["active_handles"]),
            ("qpsTrend", &["qps"]),
            ("timerTrend", &["active_timers"]),
            ("tcpTrend", &["active_tcp_handles"]),
            ("udpTrend", &["active_udp_handles"]),
        ];
        assert_eq!(cases.len(), ProcessTrendType::ALL.len());
        let now = now_at("2026-03-10 12:00:30");
        let rows = [process_row(1, "2026-03-10 12:00:00", 120.0), process_row(1, "2026-03-10 11:58:00", 120.0), process_row(1, "2026-03-10 11:59:00", 120.0)];
        for (name, labels) in cases {
            let kind: ProcessTrendType = name.parse().expect("a known type");
            assert_eq!(kind.as_str(), *name);
            let trend = process_trend(kind, &rows, &now, 24);
            let point = trend.list.iter().rev().find(|p| p.as_object().is_some_and(|o| o.len() > 1)).expect("a point with data");
            let keys: Vec<&str> = point.as_object().expect("an object").keys().map(String::as_str).collect();
            let mut expected = vec!["time"];
            expected.extend_from_slice(labels);
            assert_eq!(keys, expected, "{name}");
            assert_eq!(trend.limit.is_some(), *name == "heapTrend", "{name}");
        }
        assert_eq!("memoryTrend".parse::<ProcessTrendType>(), Err(UnknownTrendType("memoryTrend".into())));
    }

    #[test]
    fn process_values_are_finished_like_the_original() {
        let now = now_at("2026-03-10 12:00:30");
        let mut a = process_row(1, "2026-03-10 11:58:10", 0.0);
        let mut b = process_row(1, "2026-03-10 11:59:10", 0.0);
        (a.http_response_sent, b.http_response_sent) = (100.0, 0.0);
        (a.active_handles, b.active_handles) = (3.0, 0.0);
        (a.scavange_duration_last_record, a.marksweep_duration_last_record) = (4.0, 6.0);
        (a.heap_limit, b.heap_limit) = (1.0, 2_197_815_296.0);
        let rows = [a, b];
        let last = |kind: ProcessTrendType| {
            let trend = process_trend(kind, &rows, &now, 24);
            let point = trend.list.into_iter().rev().find(|p| p.as_object().is_some_and(|o| o.len() > 1)).expect("data");
            (point, trend.limit, trend.extra)
        };
        assert_eq!(last(ProcessTrendType::Qps).0["qps"], serde_json::json!(0.83), "50 per minute");
        assert_eq!(last(ProcessTrendType::Uv).0["active_handles"], Value::from(2), "1.5 rounds up");
        let (gc, _, _) = last(ProcessTrendType::Gc);
        assert_eq!(
            (gc["scavenge_duration"].clone(), gc["marksweep_duration"].clone(), gc["total_gc_duration"].clone()),
            (Value::from(2), Value::from(3), Value::from(5))
        );
        let (_, limit, extra) = last(ProcessTrendType::Heap);
        assert_eq!((limit, extra.as_deref()), (Some(2_197_815_296), Some("2.05GB")), "the latest row's limit");
    }

    #[test]
    fn no_rows_give_an_empty_list() {
        let now = now_at("2026-03-10 12:00:30");
        for (_, kind) in ProcessTrendType::ALL {
            let trend = process_trend(kind, &[], &now, 24);
            assert_eq!(serde_json::to_value(&trend).expect("serializable"), serde_json::json!({"list": []}));
        }
        for (_, kind) in SystemTrendType::ALL {
            let trend = system_trend(kind, &[], &now, 72);
            assert_eq!(serde_json::to_value(&trend).expect("serializable"), serde_json::json!({"list": []}));
        }
    }

    #[test]
    fn halves_merge_per_minute_preferring_complete_minutes() {
        let sys = |t: &str| osinfo_row(SYSTEM, t, 1.0);
        let xp = |t: &str| osinfo_row(XPROFILER, t, 2.0);
        /// (rows, expected (minute, has system, has xprofiler))
        type Case = (Vec<OsinfoRow>, Vec<(&'static str, bool, bool)>);
        let cases: Vec<Case> = vec![
            (vec![sys("2026-03-10 11:00:01"), xp("2026-03-10 11:00:02"), sys("2026-03-10 11:01:01")], vec![("2026-03-10 11:00:00", true, true)]),
            // no complete minute: everything is kept
            (vec![sys("2026-03-10 11:01:01"), sys("2026-03-10 11:00:01")], vec![("2026-03-10 11:00:00", true, false), ("2026-03-10 11:01:00", true, false)]),
            (vec![xp("2026-03-10 11:00:59")], vec![("2026-03-10 11:00:00", false, true)]),
            (vec![], vec![]),
        ];
        for (rows, expected) in cases {
            let merged: Vec<(NaiveDateTime, bool, bool)> = merge_halves(&rows).iter().map(|m| (m.minute, m.system.is_some(), m.xprofiler.is_some())).collect();
            let expected: Vec<(NaiveDateTime, bool, bool)> = expected.iter().map(|(t, s, x)| (local(t), *s, *x)).collect();
            assert_eq!(merged, expected, "{rows:?}");
        }
    }

    fn system_rows() -> Vec<OsinfoRow> {
        let mut rows = Vec::new();
        for (t, cpu, free, sent, rt) in [("2026-03-10 11:58:10", 0.25, 6.0, 120.0, 10.0), ("2026-03-10 11:59:10", 0.5, 4.0, 0.0, 20.5)] {
            let mut s = osinfo_row(SYSTEM, t, 0.0);
            (s.used_cpu, s.cpu_count, s.total_memory, s.free_memory) = (cpu, 4.0, 16.0 * 1024.0 * 1024.0 * 1024.0, free * 1024.0 * 1024.0 * 1024.0);
            (s.load1, s.load5, s.load15, s.node_count) = (1.234, 0.5, 0.25, 3.0);
            s.disks = r#"{"/":40,"/data":91}"#.into();
            let mut x = osinfo_row(XPROFILER, t, 0.0);
            (x.scavange_duration_last_record, x.marksweep_duration_last_record, x.http_response_sent, x.http_rt) = (2.0, 4.0, sent, rt);
            x.total_gc_times = 9.0;
            rows.extend([s, x]);
        }
        rows
    }

    #[test]
    fn every_system_trend_type_has_the_originals_series() {
        /// (type, keys of a point with data, extra, yAxis)
        type Case = (&'static str, &'static [&'static str], Option<&'static str>, Option<&'static [&'static str]>);
        let cases: &[Case] = &[
            ("osCpuTrend", &["time", "os_cpu"], Some("4 Cores"), None),
            ("osMemoryTrend", &["time", "os_memory"], Some("16 GB"), None),
            ("loadTrend", &["time", "load1", "load5", "load15"], None, None),
            ("nodeCountTrend", &["time", "node_count"], None, None),
            ("osGcTrend", &["time", "scavenge_avg", "marksweep_avg", "total_gc_avg"], None, None),
            ("diskUsageTrend", &["/", "/data", "time"], None, Some(&["/", "/data"])),
            ("qpsTrend", &["time", "qps"], None, None),
            ("httpResponseTrend", &["time", "response_time"], None, None),
        ];
        assert_eq!(cases.len(), SystemTrendType::ALL.len());
        let now = now_at("2026-03-10 12:00:30");
        let rows = system_rows();
        for (name, keys, extra, y_axis) in cases {
            let kind: SystemTrendType = name.parse().expect("a known type");
            assert_eq!(kind.as_str(), *name);
            let trend = system_trend(kind, &rows, &now, 24);
            assert_eq!(trend.list.len(), 720);
            let point = trend.list.iter().rev().find(|p| p.as_object().is_some_and(|o| o.len() > 1)).expect("a point with data");
            let got: Vec<&str> = point.as_object().expect("an object").keys().map(String::as_str).collect();
            assert_eq!(got, *keys, "{name}");
            assert_eq!(trend.extra.as_deref(), *extra, "{name}");
            assert_eq!(trend.y_axis.as_deref().map(|y| y.iter().map(String::as_str).collect::<Vec<_>>()), y_axis.map(|y| y.to_vec()), "{name}");
        }
        assert!("cpuTrend".parse::<SystemTrendType>().is_err());
    }

    #[test]
    fn system_values_are_averaged_and_finished() {
        // the bucket 11:58:30 holds 11:58 and 11:59
        let now = now_at("2026-03-10 12:00:30");
        let rows = system_rows();
        let value = |kind: SystemTrendType, label: &str| {
            let trend = system_trend(kind, &rows, &now, 24);
            series_of(&trend.list, label).into_iter().find(|(t, _)| t == "11:58:30").map(|(_, v)| v)
        };
        // (type, label, expected)
        let cases = [
            (SystemTrendType::OsCpu, "os_cpu", 37.5),
            // used 10 and 12 GB of 16
            (SystemTrendType::OsMemory, "os_memory", 68.75),
            (SystemTrendType::Load, "load1", 1.23),
            (SystemTrendType::NodeCount, "node_count", 3.0),
            (SystemTrendType::OsGc, "total_gc_avg", 6.0),
            (SystemTrendType::Qps, "qps", 1.0),
            (SystemTrendType::HttpResponse, "response_time", 15.25),
            (SystemTrendType::DiskUsage, "/data", 91.0),
        ];
        for (kind, label, expected) in cases {
            assert_eq!(value(kind, label), Some(expected), "{label}");
        }
    }

    #[test]
    fn a_chart_read_with_only_its_columns_is_the_same_chart() {
        let now = now_at("2026-03-10 12:00:30");
        // every figure distinct, so a column a chart needs and does not list changes its points
        let mut rows = Vec::new();
        for (k, t) in ["2026-03-10 11:56:10", "2026-03-10 11:57:10", "2026-03-10 11:58:10", "2026-03-10 11:59:10"].iter().enumerate() {
            let mut row = process_row(1, t, 0.0);
            for (i, (_, field)) in store::logs_db::process::FIGURES.iter().enumerate() {
                *field(&mut row) = (i * 7 + k * 3 + 1) as f64 * 1000.0;
            }
            rows.push(row);
        }
        for (name, kind) in ProcessTrendType::ALL {
            let read: Vec<ProcessRow> = rows.iter().map(|r| r.only(kind.columns())).collect();
            assert_eq!(process_trend(kind, &read, &now, 24), process_trend(kind, &rows, &now, 24), "{name}");
            assert!(kind.columns().iter().all(|c| store::logs_db::process::ALL_FIGURES.contains(c)), "{name}");
            // Every chart reads its figures from one covering index alone, and a shared read of that index's figures
            // holds them.
            let indexes = store::logs_db::process::TREND_INDEXES;
            let one = indexes.iter().any(|(_, index)| kind.columns().iter().all(|c| index[4..].contains(c)));
            assert!(one, "{name} reads figures no single trend index holds");
            let shared = store::logs_db::process::index_figures_of(kind.columns()).expect("one index holds them");
            assert!(indexes.iter().any(|(_, index)| index[4..] == *shared), "{name}: the shared read is an index's figures");
        }
        let mut rows = system_rows();
        for (k, row) in rows.iter_mut().enumerate() {
            for (i, (_, field)) in store::logs_db::osinfo::FIGURES.iter().enumerate() {
                *field(row) = (i * 5 + k + 1) as f64 * 1e9;
            }
        }
        for (name, kind) in SystemTrendType::ALL {
            let read: Vec<OsinfoRow> = rows.iter().map(|r| r.only(kind.columns())).collect();
            assert_eq!(system_trend(kind, &read, &now, 24), system_trend(kind, &rows, &now, 24), "{name}");
            // What the one-half read gives: the other position's rows with no figure at all.
            let half: Vec<OsinfoRow> = rows.iter().map(|r| if r.position == kind.half() { r.only(kind.columns()) } else { r.only(&[]) }).collect();
            assert_eq!(system_trend(kind, &half, &now, 24), system_trend(kind, &rows, &now, 24), "{name} (one half)");
            assert!(kind.columns().iter().all(|c| store::logs_db::osinfo::ALL_COLUMNS.contains(c)), "{name}");
            // Every chart but the disks reads its figures from the covering index alone.
            let covered = kind.columns().iter().all(|c| store::logs_db::osinfo::TREND_FIGURES.contains(c));
            assert!(covered || kind == SystemTrendType::DiskUsage, "{name} reads a column the trend_figures index lacks");
        }
    }

    /// A zone at +01:00 that moves to +02:00 at [`Shift::AT`] (a daylight-saving start), for the slow path.
    #[derive(Debug, Clone, Copy)]
    struct Shift;

    impl Shift {
        /// 2026-03-29 01:00 UTC: local 02:00 becomes 03:00.
        const AT: i64 = 1_774_746_000;

        fn at(utc_secs: i64) -> FixedOffset {
            let hours = if utc_secs < Self::AT { 1 } else { 2 };
            FixedOffset::east_opt(hours * 3600).expect("a valid offset")
        }
    }

    impl TimeZone for Shift {
        type Offset = FixedOffset;
        fn from_offset(_: &FixedOffset) -> Self {
            Shift
        }
        fn offset_from_local_date(&self, local: &NaiveDate) -> chrono::LocalResult<FixedOffset> {
            self.offset_from_local_datetime(&local.and_hms_opt(12, 0, 0).expect("noon"))
        }
        fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> chrono::LocalResult<FixedOffset> {
            // Local times in the skipped hour do not exist; the others have one offset.
            let t = local.and_utc().timestamp();
            match (Self::at(t - 3600), Self::at(t - 7200)) {
                (a, b) if a == b => chrono::LocalResult::Single(a),
                (a, _) if t - i64::from(a.local_minus_utc()) < Self::AT => chrono::LocalResult::Single(a),
                (_, b) if t - i64::from(b.local_minus_utc()) >= Self::AT => chrono::LocalResult::Single(b),
                _ => chrono::LocalResult::None,
            }
        }
        fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
            self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).expect("midnight"))
        }
        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
            Self::at(utc.and_utc().timestamp())
        }
    }

    #[test]
    fn a_window_across_a_change_of_offset_finds_every_local_minute() {
        let now = DateTime::from_timestamp(Shift::AT + 6 * 3600, 0).expect("in range").with_timezone(&Shift);
        assert!(matches!(LocalClock::new(&Shift, (Shift::AT - 3600) * 1000, (Shift::AT + 3600) * 1000), LocalClock::Zone(_, 61)));
        assert!(matches!(LocalClock::new(&Shift, (Shift::AT + 60) * 1000, (Shift::AT + 3600) * 1000), LocalClock::Fixed(7_200_000)));
        // One row a minute, at each instant's local time, for the whole day before `now`.
        let rows: Vec<ProcessRow> = (0..=24 * 60)
            .map(|m| {
                let t = DateTime::from_timestamp(now.timestamp() - 24 * 3600 + m * 60, 0).expect("in range").with_timezone(&Shift);
                ProcessRow { log_time: t.naive_local(), ..process_row(1, "2026-03-28 00:00:00", 1.0) }
            })
            .collect();
        let b = buckets(rows.iter().map(|r| (r.log_time, r)), &now, 24);
        assert_eq!(b.len(), 720);
        assert!(b.iter().all(|b| b.slots.as_ref().is_some_and(|s| s.len() == 2 && s.iter().all(Option::is_some))), "every minute found");
    }

    #[test]
    fn the_disks_chart_samples_each_buckets_first_minute_and_the_last_bucket_whole() {
        // 12:00:30 local: a week back is 12:00:30 on the 3rd, whose minute (+ 14 × k) starts every bucket.
        let now = now_at("2026-03-10 12:00:30");
        let sample = disk_sample(&now, 168).expect("a fixed offset");
        let first = minute_number(local("2026-03-03 12:00:00"));
        assert_eq!((sample.step, i64::from(sample.phase)), (14, first.rem_euclid(14)));
        assert_eq!(sample.whole_from, local("2026-03-10 11:46:00"), "the last bucket starts 14 minutes before now");
        let b = buckets(std::iter::empty::<(NaiveDateTime, &OsinfoRow)>(), &now, 168);
        assert!(b
            .iter()
            .all(|b| minute_number(minute_of(DateTime::from_timestamp_millis(b.time).expect("in range").with_timezone(&tz()).naive_local())).rem_euclid(14)
                == i64::from(sample.phase)));
        assert_eq!(disk_sample(&now, 24), None, "2-minute buckets: every minute is read anyway");
        assert_eq!(disk_sample(&now, 72).map(|s| s.step), Some(6));
        // across a change of offset, local minutes do not follow the buckets: every minute's disks are read
        let shifted = DateTime::from_timestamp(Shift::AT + 6 * 3600, 0).expect("in range").with_timezone(&Shift);
        assert!(disk_sample(&now_at("2026-03-10 12:00:30"), 72).is_some());
        assert_eq!(disk_sample(&shifted, 72), None);
    }

    #[test]
    fn minutes_ignore_seconds_and_dates_roll_over() {
        let t = NaiveDate::from_ymd_opt(2026, 1, 31).and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999)).expect("valid");
        assert_eq!(minute_of(t), local("2026-01-31 23:59:00"));
        let zone = tz();
        let clock = LocalClock::new(&zone, ms("2026-02-01 00:00:00"), ms("2026-02-08 00:00:00"));
        assert!(matches!(clock, LocalClock::Fixed(28_800_000)), "a fixed zone has one offset");
        for clock in [clock, LocalClock::Zone(&zone, 0)] {
            assert_eq!(clock.minute(ms("2026-02-01 00:00:59")), Some(minute_number(local("2026-02-01 00:00:00"))));
            assert_eq!(clock.minute(ms("2026-02-01 00:01:00")), Some(minute_number(local("2026-02-01 00:01:00"))));
        }
        assert_eq!(minute_number(local("2026-02-01 00:01:00")) - minute_number(local("2026-01-31 23:59:59")), 2);
    }
}
