//! The latest figures of agents and processes, as the console's pages show them: `/xapi/system_overview`,
//! `/xapi/main_metrics` (the coloured eggs of the home page) and the process list of `/xapi/xprofiler_processes`
//! (reference: xprofiler-console §1.4, §1.6, §1.7; xui-contract §3.2, §3.4). Pure: the rows, the agent's answers and
//! `now` come in. DECIMAL columns are numbers throughout (the original mixed strings in), and missing data gives a
//! clean "no data" instead of the original's NaN.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use store::logs_db::osinfo::{OsinfoRow, SYSTEM, XPROFILER};
use store::logs_db::process::ProcessRow;

/// A process counts as alive when it wrote a row in the last 3 minutes (and the agent says it runs).
pub const RECENT_MINUTES: i64 = 3;
/// The process list also shows processes that died in the last 24 hours.
pub const HISTORY_HOURS: i64 = 24;

/// Two decimals, as the original's `Number(x.toFixed(2))`.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A number for JSON: whole numbers as integers (`3`, not `3.0`), non-finite ones as 0.
pub fn js_number(v: f64) -> Value {
    match v {
        v if !v.is_finite() => Value::from(0),
        v if v.fract() == 0.0 && v.abs() < 9.0e15 => Value::from(v as i64),
        v => Value::from(v),
    }
}

/// A number as JavaScript prints it in a template string (`12.5`, `12`).
pub fn js_text(v: f64) -> String {
    js_number(v).to_string()
}

/// A byte size as the original's `formatSize`: two decimals, trailing zeros dropped below a GiB (`512Bytes`,
/// `1.5KB`, `20MB`), kept from a GiB on (`1.50GB`); 1024-based, no space before the unit.
pub fn format_size(bytes: f64) -> String {
    const KIB: f64 = 1024.0;
    match bytes {
        b if b / KIB < 1.0 => format!("{}Bytes", js_text(round2(b))),
        b if b / KIB / KIB < 1.0 => format!("{}KB", js_text(round2(b / KIB))),
        b if b / KIB / KIB / KIB < 1.0 => format!("{}MB", js_text(round2(b / KIB / KIB))),
        b => format!("{:.2}GB", b / KIB / KIB / KIB),
    }
}

/// The stored disks `{"<mount>": percent}` in their stored order; what is not a number is left out, text that is
/// not a JSON object gives no disks.
pub fn parse_disks(text: &str) -> Vec<(String, f64)> {
    let Ok(map) = serde_json::from_str::<Map<String, Value>>(text) else { return Vec::new() };
    map.into_iter()
        .filter_map(|(mount, v)| {
            let pct = match &v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            pct.map(|p| (mount, p))
        })
        .collect()
}

/// The fullest mount (the first of equals).
fn fullest(disks: &[(String, f64)]) -> Option<&(String, f64)> {
    disks.iter().fold(None, |best: Option<&(String, f64)>, d| match best {
        Some(b) if b.1 >= d.1 => Some(b),
        _ => Some(d),
    })
}

/// The colour of a percentage: 1 below 60 (green), 2 below 85 (orange), 3 from 85 (red); 0 (grey) is no data.
pub fn status(pct: f64) -> u8 {
    match pct {
        p if p.is_nan() => 0,
        p if p < 60.0 => 1,
        p if p < 85.0 => 2,
        _ => 3,
    }
}

fn js_opt<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => js_number(*v).serialize(s),
        None => s.serialize_none(),
    }
}

fn js<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    js_number(*v).serialize(s)
}

/// A pid as the original sends it where it came from an object key: as text.
fn pid_text<S: Serializer>(pid: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match pid {
        Some(pid) => s.serialize_str(&pid.to_string()),
        None => s.serialize_none(),
    }
}

fn pid_string<S: Serializer>(pid: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&pid.to_string())
}

// ---------------------------------------------------------------------------------------------------------------
// System overview

/// The latest row of each half of an agent's `osinfo_DD` rows (they may come from different minutes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatestSystem<'a> {
    pub system: Option<&'a OsinfoRow>,
    pub xprofiler: Option<&'a OsinfoRow>,
}

/// Picks the newest row of each position.
pub fn latest_system(rows: &[OsinfoRow]) -> LatestSystem<'_> {
    let newest = |position: u8| rows.iter().filter(|r| r.position == position).max_by_key(|r| r.log_time);
    LatestSystem { system: newest(SYSTEM), xprofiler: newest(XPROFILER) }
}

impl LatestSystem<'_> {
    /// Used memory in bytes and percent of the total; `None` without a total.
    fn memory(&self) -> Option<(f64, f64)> {
        let s = self.system.filter(|s| s.total_memory > 0.0)?;
        let used = s.total_memory - s.free_memory;
        Some((used, used / s.total_memory * 100.0))
    }
}

/// `/xapi/system_overview`'s data. A figure whose half is missing is left out (the page shows "-" or "暂无系统 …
/// 信息"), where the original sent NaN.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemOverview {
    /// `used_cpu` in percent.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub os_cpu: Option<f64>,
    /// Used memory in percent.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub os_mem: Option<f64>,
    /// Percent of the fullest mount.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub max_disk: Option<f64>,
    /// `{mount: percent}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disks: Option<Map<String, Value>>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub load1: Option<f64>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub load5: Option<f64>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub load15: Option<f64>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub node_count: Option<f64>,
    /// Milliseconds, like the three after it.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub scavenge_total: Option<f64>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub scavenge_average: Option<f64>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub marksweep_total: Option<f64>,
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub marksweep_average: Option<f64>,
    /// Responses per second over the last minute.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
    /// `http_patch_timeout`.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub rt_expired: Option<f64>,
    /// `http_rt`, milliseconds.
    #[serde(serialize_with = "js_opt", skip_serializing_if = "Option::is_none")]
    pub rt_average: Option<f64>,
}

/// The overview from the latest halves of an agent's rows (`store::logs_db::osinfo::latest_halves` over the last
/// [`RECENT_MINUTES`]); `None` without any row (the route answers `{}`, as the original does).
pub fn system_overview(rows: &[OsinfoRow]) -> Option<SystemOverview> {
    let latest = latest_system(rows);
    if latest.system.is_none() && latest.xprofiler.is_none() {
        return None;
    }
    let mut o = SystemOverview::default();
    if let Some(s) = latest.system {
        let disks = parse_disks(&s.disks);
        o.os_cpu = Some(round2(s.used_cpu * 100.0));
        o.os_mem = latest.memory().map(|(_, pct)| round2(pct));
        o.max_disk = fullest(&disks).map(|(_, pct)| *pct);
        o.disks = Some(disks.into_iter().map(|(mount, pct)| (mount, js_number(pct))).collect());
        (o.load1, o.load5, o.load15) = (Some(round2(s.load1)), Some(round2(s.load5)), Some(round2(s.load15)));
        o.node_count = Some(s.node_count);
    }
    if let Some(x) = latest.xprofiler {
        o.scavenge_total = Some(x.total_scavange_duration);
        o.scavenge_average = Some(x.scavange_duration_last_record);
        o.marksweep_total = Some(x.total_marksweep_duration);
        o.marksweep_average = Some(x.marksweep_duration_last_record);
        o.qps = Some(round2(x.http_response_sent / 60.0));
        o.rt_expired = Some(x.http_patch_timeout);
        o.rt_average = Some(x.http_rt);
    }
    Some(o)
}

// ---------------------------------------------------------------------------------------------------------------
// Main metrics

/// A metric type of `/xapi/main_metrics` the console does not know; the route refuses it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric type: {0}")]
pub struct UnknownMetricType(pub String);

/// The 5 eggs of an app card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MainMetricType {
    ProcessCpuUsage,
    ProcessMemoryUsage,
    SystemCpuUsage,
    SystemMemoryUsage,
    DiskUsage,
}

impl MainMetricType {
    pub const ALL: [(&'static str, MainMetricType); 5] = [
        ("processCpuUsage", MainMetricType::ProcessCpuUsage),
        ("processMemoryUsage", MainMetricType::ProcessMemoryUsage),
        ("systemCpuUsage", MainMetricType::SystemCpuUsage),
        ("systemMemoryUsage", MainMetricType::SystemMemoryUsage),
        ("diskUsage", MainMetricType::DiskUsage),
    ];

    /// True if it needs the agent's latest process rows and alive pids; otherwise its latest osinfo halves.
    pub fn reads_processes(self) -> bool {
        matches!(self, MainMetricType::ProcessCpuUsage | MainMetricType::ProcessMemoryUsage)
    }
}

impl FromStr for MainMetricType {
    type Err = UnknownMetricType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Self::ALL.iter().find(|(name, _)| *name == s) {
            Some((_, t)) => Ok(*t),
            None => Err(UnknownMetricType(s.to_owned())),
        }
    }
}

/// What one agent's egg is computed from. The route fills what [`MainMetricType::reads_processes`] asks for and
/// leaves the rest empty.
#[derive(Debug, Clone, Copy)]
pub struct AgentFigures<'a> {
    /// The latest row per pid of the last [`RECENT_MINUTES`].
    pub processes: &'a [ProcessRow],
    /// The pids the agent reports alive (`check_processes_alive`); empty when it could not tell.
    pub alive: &'a HashSet<i64>,
    /// The latest osinfo halves of the last [`RECENT_MINUTES`].
    pub osinfo: &'a [OsinfoRow],
}

/// One item of `/xapi/main_metrics`' `list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MainMetric {
    pub agent_id: String,
    /// 0 no data, 1 below 60 %, 2 below 85 %, 3 from 85 %.
    pub status: u8,
    /// The tooltip.
    pub title: String,
    /// The process the egg links to (process types only).
    #[serde(serialize_with = "pid_text", skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
}

/// The latest row of each alive pid, by pid ascending.
fn living<'a>(rows: &'a [ProcessRow], alive: &HashSet<i64>) -> Vec<&'a ProcessRow> {
    let mut by_pid: std::collections::BTreeMap<i64, &ProcessRow> = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| alive.contains(&r.pid)) {
        match by_pid.get(&row.pid) {
            Some(seen) if seen.log_time > row.log_time => {}
            _ => {
                by_pid.insert(row.pid, row);
            }
        }
    }
    by_pid.into_values().collect()
}

/// The row with the highest `key` (the lowest pid of equals, as the original walks pids ascending).
fn highest<'a>(rows: &[&'a ProcessRow], key: impl Fn(&ProcessRow) -> f64) -> Option<&'a ProcessRow> {
    rows.iter().copied().fold(None, |best: Option<&ProcessRow>, r| match best {
        Some(b) if key(b) >= key(r) => Some(b),
        _ => Some(r),
    })
}

/// heap_used / heap_limit in percent; 0 without a limit (the original's NaN).
fn heap_percent(r: &ProcessRow) -> f64 {
    match r.heap_limit > 0.0 {
        true => r.heap_used / r.heap_limit * 100.0,
        false => 0.0,
    }
}

/// The egg of `kind` for one agent. `show_heap_limit` is the original's option of the same name (the memory egg's
/// tooltip then names the pid and every process's heap limit).
pub fn main_metric(kind: MainMetricType, agent_id: &str, figures: &AgentFigures<'_>, show_heap_limit: bool) -> MainMetric {
    let no_data = MainMetric { agent_id: agent_id.to_owned(), status: 0, title: "-".into(), pid: None };
    let metric = |status: u8, title: String, pid: Option<i64>| MainMetric { agent_id: agent_id.to_owned(), status, title, pid };
    let system = latest_system(figures.osinfo);
    match kind {
        MainMetricType::ProcessCpuUsage => {
            let rows = living(figures.processes, figures.alive);
            let Some(max) = highest(&rows, |r| r.cpu_60) else { return no_data };
            let average = rows.iter().map(|r| r.cpu_60).sum::<f64>() / rows.len() as f64;
            metric(status(average), format!("{}%", js_text(round2(average))), Some(max.pid))
        }
        MainMetricType::ProcessMemoryUsage => {
            let rows = living(figures.processes, figures.alive);
            let Some(max) = highest(&rows, heap_percent) else { return no_data };
            let title = match show_heap_limit {
                false => format_size(max.heap_used),
                true => {
                    let limits: Vec<String> = rows.iter().map(|r| format!("{}@{}", format_size(r.heap_limit), r.pid)).collect();
                    format!("Max Heap: {}@{}\nHeap Limit: {}", format_size(max.heap_used), max.pid, limits.join(", "))
                }
            };
            metric(status(heap_percent(max)), title, Some(max.pid))
        }
        MainMetricType::SystemCpuUsage => {
            let Some(s) = system.system else { return no_data };
            let pct = s.used_cpu * 100.0;
            metric(status(pct), format!("{}%", js_text(round2(pct))), None)
        }
        MainMetricType::SystemMemoryUsage => {
            let Some((used, pct)) = system.memory() else { return no_data };
            metric(status(pct), format_size(used), None)
        }
        MainMetricType::DiskUsage => {
            let disks = system.system.map(|s| parse_disks(&s.disks)).unwrap_or_default();
            let Some((mount, pct)) = fullest(&disks) else { return no_data };
            metric(status(*pct), format!("{mount} : {}%", js_text(*pct)), None)
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Process list

/// A Node process the agent runs (`get_node_processes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeProcess {
    pub pid: i64,
    pub command: String,
}

/// The agent's `get_node_processes` output: lines of `pid\u{0}command`; lines without both are skipped.
pub fn parse_node_processes(stdout: &str) -> Vec<NodeProcess> {
    stdout
        .lines()
        .filter_map(|line| {
            let (pid, command) = line.split_once('\u{0}')?;
            let pid = pid.trim().parse().ok()?;
            (!command.is_empty()).then(|| NodeProcess { pid, command: command.to_owned() })
        })
        .collect()
}

/// One row of the process list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessListItem {
    /// As text, like the original (it came from an object key).
    #[serde(serialize_with = "pid_string")]
    pub pid: i64,
    /// The command line while the agent lists the process; absent for a dead one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// Ms since the epoch.
    pub start_time: i64,
    /// Ms since the epoch of the last row (dead processes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time: Option<i64>,
    /// Percent with two decimals, as text (like the original).
    pub cpu_usage: String,
    pub heap_usage: String,
    pub gc_usage: String,
    /// Bytes.
    #[serde(serialize_with = "js")]
    pub rss: f64,
    #[serde(serialize_with = "js")]
    pub uv_handles: f64,
    #[serde(serialize_with = "js")]
    pub timers: f64,
    #[serde(serialize_with = "js")]
    pub tcp_handles: f64,
    #[serde(serialize_with = "js")]
    pub udp_handles: f64,
}

/// `/xapi/xprofiler_processes`' data. The page shows `nodes` instead of `list` when `nodes` is not empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessList {
    pub list: Vec<ProcessListItem>,
    pub nodes: Vec<NodeProcess>,
}

/// Ms since the epoch of a local `log_time` in `now`'s zone (the earlier instant of an ambiguous time; a time in a
/// daylight-saving gap at `now`'s offset).
fn local_ms<Tz: TimeZone>(now: &DateTime<Tz>, t: NaiveDateTime) -> i64 {
    match now.timezone().from_local_datetime(&t).earliest() {
        Some(at) => at.timestamp_millis(),
        None => (t - TimeDelta::seconds(i64::from(now.offset().fix().local_minus_utc()))).and_utc().timestamp_millis(),
    }
}

/// The process list of an agent from the latest row per pid of the last [`HISTORY_HOURS`], the pids it reports
/// alive (`check_processes_alive` over those pids; empty when it could not tell) and its running Node processes:
/// first the alive processes that wrote a row in the last [`RECENT_MINUTES`], then the dead ones, each by pid. With
/// no row in the last minutes, or no process the agent lists, `nodes` carries the agent's processes (the page then
/// explains that xprofiler is not reporting).
pub fn process_list<Tz: TimeZone>(latest: &[ProcessRow], alive: &HashSet<i64>, running: &[NodeProcess], now: &DateTime<Tz>) -> ProcessList {
    let recent_since = (now.clone() - TimeDelta::minutes(RECENT_MINUTES)).naive_local();
    if !latest.iter().any(|r| r.log_time >= recent_since) {
        return ProcessList { list: Vec::new(), nodes: running.to_vec() };
    }
    let recent: Vec<ProcessRow> = latest.iter().filter(|r| r.log_time >= recent_since).cloned().collect();
    let mut dead: Vec<&ProcessRow> = latest.iter().filter(|r| !alive.contains(&r.pid)).collect();
    dead.sort_by_key(|r| r.pid);
    let now_ms = now.timestamp_millis();
    let list: Vec<ProcessListItem> = living(&recent, alive)
        .into_iter()
        .chain(dead)
        .map(|r| {
            let command = running.iter().find(|p| p.pid == r.pid).map(|p| p.command.clone());
            let logged = local_ms(now, r.log_time);
            let uptime_ms = (r.uptime * 1000.0).round() as i64;
            ProcessListItem {
                pid: r.pid,
                start_time: match command {
                    Some(_) => now_ms - uptime_ms,
                    None => logged - uptime_ms,
                },
                update_time: command.is_none().then_some(logged),
                cmd: command,
                cpu_usage: format!("{:.2}", r.cpu_60),
                heap_usage: format!("{:.2}", heap_percent(r)),
                gc_usage: format!("{:.2}", r.gc_time_during_last_record / 60_000.0 * 100.0),
                rss: r.rss,
                uv_handles: r.active_handles,
                timers: r.active_timer_handles,
                tcp_handles: r.active_tcp_handles,
                udp_handles: r.active_udp_handles,
            }
        })
        .collect();
    let nodes = match list.iter().any(|p| p.cmd.is_some()) {
        true => Vec::new(),
        false => running.to_vec(),
    };
    ProcessList { list, nodes }
}

/// An agent's risk figure, as the original's overview counts it: over the package files the manager lists (each with
/// its kept audit, `risk.vulnerabilities`), the sum of `high + critical`; `None` when no file has been audited.
pub fn agent_risk(files: &Value) -> Option<u64> {
    let audited: Vec<&Value> = files["files"].as_array()?.iter().filter_map(|f| f["risk"]["vulnerabilities"].as_object().map(|_| f)).collect();
    if audited.is_empty() {
        return None;
    }
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    Some(audited.iter().map(|f| count(&f["risk"]["vulnerabilities"]["high"]) + count(&f["risk"]["vulnerabilities"]["critical"])).sum())
}

/// The overview's `riskCount` and `riskCountAgentId`: the agent with the largest figure (the first of equals, in the
/// order given), or `'-'` and null when no agent has been audited.
pub fn riskiest(figures: &[(String, Option<u64>)]) -> (Value, Value) {
    let mut best: Option<(&str, u64)> = None;
    for (agent, figure) in figures {
        if let Some(n) = *figure {
            if best.is_none_or(|(_, b)| n > b) {
                best = Some((agent, n));
            }
        }
    }
    match best {
        Some((agent, n)) => (Value::from(n), Value::from(agent)),
        None => (Value::from("-"), Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trends::tests::{osinfo_row, process_row};
    use chrono::FixedOffset;
    use serde_json::json;

    fn now() -> DateTime<FixedOffset> {
        let tz = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
        let t = NaiveDateTime::parse_from_str("2026-03-10 12:00:30", "%Y-%m-%d %H:%M:%S").expect("a test time");
        tz.from_local_datetime(&t).single().expect("a fixed offset has one instant per local time")
    }

    #[test]
    fn sizes_are_formatted_like_the_original() {
        let cases = [
            (0.0, "0Bytes"),
            (512.0, "512Bytes"),
            (1536.0, "1.5KB"),
            (1024.0 * 1024.0 * 20.0, "20MB"),
            (1024.0 * 1024.0 * 1.234_567, "1.23MB"),
            (1024.0 * 1024.0 * 1024.0 * 1.5, "1.50GB"),
            (4_345_298_944.0, "4.05GB"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(format_size(bytes), expected, "{bytes}");
        }
    }

    #[test]
    fn statuses_follow_the_thresholds() {
        let cases = [(0.0, 1), (59.99, 1), (60.0, 2), (84.99, 2), (85.0, 3), (150.0, 3), (f64::NAN, 0)];
        for (pct, expected) in cases {
            assert_eq!(status(pct), expected, "{pct}");
        }
    }

    #[test]
    fn disks_keep_their_order_and_skip_junk() {
        let cases: &[(&str, &[(&str, f64)])] = &[(r#"{"/":13,"/boot":"40","/x":null}"#, &[("/", 13.0), ("/boot", 40.0)]), ("", &[]), ("[1]", &[])];
        for (text, expected) in cases {
            let expected: Vec<(String, f64)> = expected.iter().map(|(m, p)| (m.to_string(), *p)).collect();
            assert_eq!(parse_disks(text), expected, "{text}");
        }
    }

    fn halves() -> Vec<OsinfoRow> {
        let mut s = osinfo_row(SYSTEM, "2026-03-10 12:00:10", 0.0);
        (s.used_cpu, s.cpu_count, s.total_memory, s.free_memory) = (0.1234, 2.0, 8.0 * 1073741824.0, 2.0 * 1073741824.0);
        (s.load1, s.load5, s.load15, s.node_count) = (1.03, 0.62, 0.271, 6.0);
        s.disks = r#"{"/":13,"/data":88}"#.into();
        let mut old = s.clone();
        (old.log_time, old.used_cpu) = (s.log_time - TimeDelta::minutes(1), 0.9);
        let mut x = osinfo_row(XPROFILER, "2026-03-10 11:59:10", 0.0);
        (x.total_scavange_duration, x.scavange_duration_last_record, x.total_marksweep_duration, x.marksweep_duration_last_record) = (100.0, 2.0, 50.0, 1.0);
        (x.http_response_sent, x.http_patch_timeout, x.http_rt) = (90.0, 3.0, 1075.5);
        vec![old, x, s]
    }

    #[test]
    fn the_overview_merges_the_latest_halves() {
        let overview = system_overview(&halves()).expect("rows");
        let expected = json!({
            "osCpu": 12.34, "osMem": 75, "maxDisk": 88, "disks": {"/": 13, "/data": 88},
            "load1": 1.03, "load5": 0.62, "load15": 0.27, "nodeCount": 6,
            "scavengeTotal": 100, "scavengeAverage": 2, "marksweepTotal": 50, "marksweepAverage": 1,
            "qps": 1.5, "rtExpired": 3, "rtAverage": 1075.5,
        });
        assert_eq!(serde_json::to_value(&overview).expect("serializable"), expected);
        // only the system half: no gc or http figures
        let system_only: Vec<OsinfoRow> = halves().into_iter().filter(|r| r.position == SYSTEM).collect();
        let o = serde_json::to_value(system_overview(&system_only)).expect("serializable");
        assert!(o.get("osCpu").is_some() && o.get("qps").is_none(), "{o}");
        assert_eq!(system_overview(&[]), None);
    }

    #[test]
    fn main_metrics_colour_each_agent() {
        let mut cool = process_row(10, "2026-03-10 12:00:00", 0.0);
        (cool.cpu_60, cool.heap_used, cool.heap_limit) = (40.0, 100.0 * 1048576.0, 1000.0 * 1048576.0);
        let mut hot = process_row(11, "2026-03-10 12:00:00", 0.0);
        (hot.cpu_60, hot.heap_used, hot.heap_limit) = (90.0, 900.0 * 1048576.0, 1000.0 * 1048576.0);
        let dead = process_row(12, "2026-03-10 12:00:00", 99.0);
        let processes = [cool, hot, dead];
        let alive: HashSet<i64> = [10, 11].into();
        let osinfo = halves();
        let figures = AgentFigures { processes: &processes, alive: &alive, osinfo: &osinfo };
        let none = HashSet::new();
        let empty = AgentFigures { processes: &[], alive: &none, osinfo: &[] };
        // (type, figures, expected {status, title, pid})
        let cases = [
            ("processCpuUsage", figures, json!({"agentId": "vm", "status": 2, "title": "65%", "pid": "11"})),
            ("processMemoryUsage", figures, json!({"agentId": "vm", "status": 3, "title": "900MB", "pid": "11"})),
            ("systemCpuUsage", figures, json!({"agentId": "vm", "status": 1, "title": "12.34%"})),
            ("systemMemoryUsage", figures, json!({"agentId": "vm", "status": 2, "title": "6.00GB"})),
            ("diskUsage", figures, json!({"agentId": "vm", "status": 3, "title": "/data : 88%"})),
        ];
        for (name, figures, expected) in cases {
            let kind: MainMetricType = name.parse().expect("a known type");
            assert_eq!(serde_json::to_value(main_metric(kind, "vm", &figures, false)).expect("serializable"), expected, "{name}");
            let grey = json!({"agentId": "vm", "status": 0, "title": "-"});
            assert_eq!(serde_json::to_value(main_metric(kind, "vm", &empty, false)).expect("serializable"), grey, "{name} without data");
        }
        let with_limits = main_metric(MainMetricType::ProcessMemoryUsage, "vm", &figures, true);
        assert_eq!(with_limits.title, "Max Heap: 900MB@11\nHeap Limit: 1000MB@10, 1000MB@11");
        // an unknown alive set (the agent did not answer) is no data
        let unknown = AgentFigures { alive: &none, ..figures };
        assert_eq!(main_metric(MainMetricType::ProcessCpuUsage, "vm", &unknown, false).status, 0);
        assert!("heapUsage".parse::<MainMetricType>().is_err());
        assert!(MainMetricType::ProcessMemoryUsage.reads_processes() && !MainMetricType::DiskUsage.reads_processes());
    }

    #[test]
    fn node_processes_parse_from_the_agents_output() {
        let parsed = parse_node_processes("123\u{0}node app.js\n\n456\u{0}\nx\u{0}node\n789\u{0}node worker.js --x\n");
        assert_eq!(parsed, [NodeProcess { pid: 123, command: "node app.js".into() }, NodeProcess { pid: 789, command: "node worker.js --x".into() }]);
    }

    #[test]
    fn the_process_list_shows_alive_then_dead_processes() {
        let mut alive_row = process_row(20, "2026-03-10 12:00:00", 0.0);
        (alive_row.uptime, alive_row.cpu_60, alive_row.heap_used, alive_row.heap_limit) = (60.0, 12.3, 50.0, 200.0);
        (alive_row.gc_time_during_last_record, alive_row.rss, alive_row.active_handles) = (600.0, 1048576.0, 7.0);
        let mut dead_row = process_row(5, "2026-03-10 09:00:00", 0.0);
        dead_row.uptime = 3600.0;
        // alive but silent for more than 3 minutes: not listed
        let silent = process_row(30, "2026-03-10 11:50:00", 0.0);
        let latest = [dead_row, alive_row, silent];
        let alive: HashSet<i64> = [20, 30].into();
        let running = parse_node_processes("20\u{0}node server.js\n30\u{0}node silent.js\n");
        let list = process_list(&latest, &alive, &running, &now());
        let at = |t: &str| {
            now()
                .timezone()
                .from_local_datetime(&NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").expect("time"))
                .single()
                .expect("fixed")
                .timestamp_millis()
        };
        let expected = json!({
            "list": [
                {"pid": "20", "cmd": "node server.js", "startTime": now().timestamp_millis() - 60_000, "cpuUsage": "12.30",
                 "heapUsage": "25.00", "gcUsage": "1.00", "rss": 1048576, "uvHandles": 7, "timers": 0, "tcpHandles": 0, "udpHandles": 0},
                {"pid": "5", "startTime": at("2026-03-10 08:00:00"), "updateTime": at("2026-03-10 09:00:00"), "cpuUsage": "0.00",
                 "heapUsage": "0.00", "gcUsage": "0.00", "rss": 0, "uvHandles": 0, "timers": 0, "tcpHandles": 0, "udpHandles": 0},
            ],
            "nodes": [],
        });
        assert_eq!(serde_json::to_value(&list).expect("serializable"), expected);
    }

    #[test]
    fn without_living_xprofiler_processes_the_list_gives_the_agents_processes() {
        let running = parse_node_processes("20\u{0}node server.js\n");
        let old = [process_row(5, "2026-03-10 09:00:00", 1.0)];
        let recent_dead = [process_row(5, "2026-03-10 12:00:00", 1.0)];
        let none = HashSet::new();
        // (latest rows, expected list length)
        let cases: [(&[ProcessRow], usize); 3] = [(&[], 0), (&old, 0), (&recent_dead, 1)];
        for (latest, listed) in cases {
            let list = process_list(latest, &none, &running, &now());
            assert_eq!((list.list.len(), list.nodes.clone()), (listed, running.clone()), "{latest:?}");
        }
    }

    #[test]
    fn risk_is_high_plus_critical_of_the_audited_files_and_the_riskiest_agent_wins() {
        use serde_json::json;
        let files = json!({"files": [
            {"filePath": "/a/package.json", "risk": {"vulnerabilities": {"critical": 1, "high": 2, "moderate": 7}}},
            {"filePath": "/b/package.json"},
            {"filePath": "/c/package.json", "risk": {"vulnerabilities": {"high": 3}}},
        ]});
        assert_eq!(super::agent_risk(&files), Some(6));
        assert_eq!(super::agent_risk(&json!({"files": [{"filePath": "/b/package.json"}]})), None);
        assert_eq!(super::agent_risk(&json!({})), None);
        let figures = vec![("a".to_string(), Some(2)), ("b".to_string(), None), ("c".to_string(), Some(5)), ("d".to_string(), Some(5))];
        assert_eq!(super::riskiest(&figures), (json!(5), json!("c")));
        assert_eq!(super::riskiest(&[("a".to_string(), None)]), (json!("-"), Value::Null));
        assert_eq!(super::riskiest(&[("a".to_string(), Some(0))]), (json!(0), json!("a")), "audited without findings: 0, not '-'");
    }
}
