//! Turns agent log payloads into `process_DD` and `osinfo_DD` rows, exactly as the original manager lays them out
//! (reference: xtransit-manager §3.2, §4.1, §4.2). Pure functions: no IO, so the layout is unit-tested here.

use std::collections::BTreeMap;

use chrono::{Local, TimeZone};
use protocol::logs::{SystemLog, XprofilerLog};
use store::logs_db::{day_table, process, Cell, Row};

/// The 9 gc columns shared by `process_DD` and `osinfo_DD` (position 1 stores their mean over processes).
pub const GC_METRICS: [&str; 9] = [
    "total_gc_times",
    "total_gc_duration",
    "total_scavange_duration",
    "total_marksweep_duration",
    "total_incremental_marking_duration",
    "gc_time_during_last_record",
    "scavange_duration_last_record",
    "marksweep_duration_last_record",
    "incremental_marking_duration_last_record",
];

/// Summed over processes for osinfo position 1.
const HTTP_SUMS: [&str; 4] = ["live_http_request", "http_response_close", "http_response_sent", "http_request_timeout"];

#[derive(Clone, Copy)]
enum Column {
    /// DECIMAL(5,2)
    Dec5,
    /// DECIMAL(10,2)
    Dec10,
    BigSigned,
    BigUnsigned,
    IntUnsigned,
}

impl Column {
    fn of(key: &str) -> Column {
        match key {
            "cpu_now" | "cpu_15" | "cpu_30" | "cpu_60" | "used_cpu" | "load1" | "load5" | "load15" => Column::Dec5,
            "http_rt" => Column::Dec10,
            "rss" => Column::BigSigned,
            k if k.starts_with("heap_") || k.contains("_space_") || k.ends_with("_memory") || k == "total_physical_size" => Column::BigUnsigned,
            _ => Column::IntUnsigned,
        }
    }

    fn cell(self, v: f64) -> Cell {
        let v = if v.is_finite() { v } else { 0.0 };
        match self {
            Column::Dec5 => Cell::Dec(round2(v.clamp(-999.99, 999.99))),
            Column::Dec10 => Cell::Dec(round2(v.clamp(-99_999_999.99, 99_999_999.99))),
            Column::BigSigned => Cell::Int(v.round().clamp(i64::MIN as f64, i64::MAX as f64) as i64),
            Column::BigUnsigned => Cell::UInt(v.round().clamp(0.0, u64::MAX as f64) as u64),
            Column::IntUnsigned => Cell::UInt(v.round().clamp(0.0, u32::MAX as f64) as u64),
        }
    }
}

fn cell(key: &str, v: Option<f64>) -> Cell {
    // The original turns undefined/NaN into 0 before inserting.
    Column::of(key).cell(v.unwrap_or(0.0))
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// `log_time` as the original's formatLogTime: `log_timestamp` formatted in the manager's local time zone,
/// else the agent's own `log_time` text.
pub fn log_time(log_timestamp: Option<f64>, agent_log_time: Option<&str>) -> Option<String> {
    let from_ts = log_timestamp.and_then(|ms| Local.timestamp_millis_opt(ms as i64).single()).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
    from_ts.or_else(|| agent_log_time.filter(|t| is_datetime(t)).map(str::to_owned))
}

fn is_datetime(t: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").is_ok()
}

/// `{"200":3,"404":1}` from `res__<code>` keys; integer-like keys ascend as in a JavaScript object.
fn response_codes(codes: &BTreeMap<u32, f64>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = codes.iter().map(|(code, n)| (code.to_string(), json_number(*n))).collect();
    serde_json::Value::Object(map).to_string()
}

fn json_number(n: f64) -> serde_json::Value {
    match n.fract() == 0.0 && n.abs() < 9.0e15 {
        true => serde_json::Value::from(n as i64),
        false => serde_json::Value::from(n),
    }
}

/// One `system_log` → one `osinfo_DD` row at position 0.
pub fn system_row(app: i64, agent: &str, log: &SystemLog) -> Option<Row> {
    let log_time = log_time(log.log_timestamp, log.log_time.as_deref())?;
    let disks = log.disks.as_ref().map(|d| serde_json::Value::Object(d.clone()).to_string()).unwrap_or_else(|| "{}".into());
    let mut cells = vec![
        Cell::Int(app),
        Cell::Text(agent.to_owned()),
        Cell::Text(log_time.clone()),
        Cell::UInt(0),
        Cell::Text(log.version.clone().unwrap_or_default()),
        cell("total_memory", log.total_memory),
        cell("free_memory", log.free_memory),
        Cell::Text(disks),
        Cell::Text("{}".into()),
        cell("uptime", log.uptime),
        cell("used_cpu", log.used_cpu),
        cell("cpu_count", log.cpu_count),
        cell("load1", log.load1),
        cell("load5", log.load5),
        cell("load15", log.load15),
        cell("node_count", log.node_count),
    ];
    cells.extend(GC_METRICS.iter().map(|k| cell(k, Some(0.0))));
    cells.extend(
        ["live_http_request", "http_response_close", "http_response_sent", "http_request_timeout", "http_patch_timeout", "http_rt"]
            .iter()
            .map(|k| cell(k, Some(0.0))),
    );
    Some(Row { table: day_table("osinfo", &log_time), cells })
}

/// Metrics of one process, as the original groups them: by pid, tid ignored, later values win.
#[derive(Debug, Default)]
struct ProcessMetrics {
    values: BTreeMap<String, f64>,
    codes: BTreeMap<u32, f64>,
}

/// One `xprofiler_log` → one `process_DD` row per pid, plus the `osinfo_DD` position-1 aggregate.
/// An empty log gives no rows (as the original).
pub fn xprofiler_rows(app: i64, agent: &str, log: &XprofilerLog) -> Vec<Row> {
    let Some(log_time) = log_time(log.log_timestamp, log.log_time.as_deref()) else { return Vec::new() };
    if log.logs.is_empty() {
        return Vec::new();
    }
    let mut pids: BTreeMap<i64, ProcessMetrics> = BTreeMap::new();
    let mut order: Vec<i64> = Vec::new();
    for entry in &log.logs {
        let Some(value) = entry.value else { continue };
        let metrics = pids.entry(entry.pid).or_insert_with(|| {
            order.push(entry.pid);
            ProcessMetrics::default()
        });
        match entry.key.strip_prefix("res__").map(str::parse::<u32>) {
            Some(Ok(code)) => {
                metrics.codes.insert(code, value);
            }
            _ => {
                metrics.values.insert(entry.key.clone(), value);
            }
        }
    }
    let version = log.xprofiler_version.clone().unwrap_or_default();
    let process_table = day_table("process", &log_time);
    let mut rows = Vec::with_capacity(order.len() + 1);
    for pid in &order {
        let m = &pids[pid];
        let mut cells = Vec::with_capacity(76);
        cells.push(Cell::Int(app));
        cells.push(Cell::Text(agent.to_owned()));
        cells.push(Cell::Int(*pid));
        cells.push(Cell::Text(log_time.clone()));
        cells.push(Cell::Text(version.clone()));
        cells.extend(process::METRICS.iter().map(|k| cell(k, m.values.get(*k).copied())));
        cells.push(Cell::Text(response_codes(&m.codes)));
        rows.push(Row { table: process_table.clone(), cells });
    }
    rows.push(aggregate_row(app, agent, &log_time, order.iter().map(|p| &pids[p])));
    rows
}

/// osinfo position 1: gc means, http sums, response time weighted by responses sent, summed status codes.
fn aggregate_row<'a>(app: i64, agent: &str, log_time: &str, procs: impl Iterator<Item = &'a ProcessMetrics> + Clone) -> Row {
    let count = procs.clone().count() as f64;
    let gc_mean = |key: &str| -> Option<f64> {
        // A key missing in any process makes the original's mean NaN, stored as 0.
        let values: Option<Vec<f64>> = procs.clone().map(|p| p.values.get(key).copied()).collect();
        values.map(|v| v.iter().sum::<f64>() / count)
    };
    let sum = |key: &str| procs.clone().filter_map(|p| p.values.get(key)).sum::<f64>();
    let sent = sum("http_response_sent");
    let rt = match sent > 0.0 {
        true => procs.clone().map(|p| p.values.get("http_rt").unwrap_or(&0.0) * p.values.get("http_response_sent").unwrap_or(&0.0)).sum::<f64>() / sent,
        false => sum("http_rt"),
    };
    let mut codes = BTreeMap::new();
    for p in procs.clone() {
        for (code, n) in &p.codes {
            *codes.entry(*code).or_insert(0.0) += n;
        }
    }
    // The original names this field patchTimeout and never stores it; we store the last process's value.
    let patch_timeout = procs.clone().last().and_then(|p| p.values.get("http_patch_timeout").copied());
    let mut cells = vec![
        Cell::Int(app),
        Cell::Text(agent.to_owned()),
        Cell::Text(log_time.to_owned()),
        Cell::UInt(1),
        Cell::Text(String::new()),
        cell("total_memory", None),
        cell("free_memory", None),
        Cell::Text("{}".into()),
        Cell::Text(response_codes(&codes)),
        cell("uptime", None),
        cell("used_cpu", None),
        cell("cpu_count", None),
        cell("load1", None),
        cell("load5", None),
        cell("load15", None),
        cell("node_count", None),
    ];
    cells.extend(GC_METRICS.iter().map(|k| cell(k, gc_mean(k))));
    cells.extend(HTTP_SUMS.iter().map(|k| cell(k, Some(sum(k)))));
    cells.push(cell("http_patch_timeout", patch_timeout));
    cells.push(cell("http_rt", Some(rt)));
    Row { table: day_table("osinfo", log_time), cells }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::logs::MetricEntry;

    fn entry(pid: i64, key: &str, value: f64) -> MetricEntry {
        MetricEntry { pid, tid: Some(0), key: key.into(), value: Some(value) }
    }

    #[test]
    fn column_lists_match_the_cells() {
        assert_eq!(store::logs_db::process::COLUMNS.len(), 5 + 70 + 1);
        assert_eq!(store::logs_db::osinfo::COLUMNS.len(), 16 + 9 + 6);
    }

    #[test]
    fn xprofiler_log_gives_a_row_per_pid_and_an_aggregate() {
        let log = XprofilerLog {
            logs: vec![
                entry(10, "cpu_now", 12.5),
                entry(10, "http_rt", 100.0),
                entry(10, "http_response_sent", 1.0),
                entry(10, "res__200", 1.0),
                entry(10, "total_gc_times", 4.0),
                entry(10, "http_patch_timeout", 30.0),
                entry(11, "cpu_now", 1500.0),
                entry(11, "http_rt", 1400.0),
                entry(11, "http_response_sent", 3.0),
                entry(11, "res__200", 2.0),
                entry(11, "res__404", 1.0),
                entry(11, "total_gc_times", 6.0),
                entry(11, "rss", -5.0),
                entry(11, "http_patch_timeout", 30.0),
            ],
            xprofiler_version: Some("3.1.0".into()),
            log_time: None,
            log_timestamp: Some(1795628295252.0),
        };
        let rows = xprofiler_rows(7, "vm", &log);
        assert_eq!(rows.len(), 3);
        let day = &log_time(Some(1795628295252.0), None).unwrap()[8..10];
        assert_eq!(rows[0].table, format!("process_{day}"));
        assert_eq!(rows[2].table, format!("osinfo_{day}"));
        let p0 = &rows[0].cells;
        assert_eq!(p0.len(), 76);
        assert_eq!((p0[0].clone(), p0[2].clone()), (Cell::Int(7), Cell::Int(10)));
        assert_eq!(p0[5], Cell::Dec(12.5));
        assert_eq!(p0[75], Cell::Text(r#"{"200":1}"#.into()));
        let p1 = &rows[1].cells;
        assert_eq!(p1[5], Cell::Dec(999.99), "cpu clamps to DECIMAL(5,2)");
        assert_eq!(p1[9], Cell::Int(-5), "rss is signed");
        let agg = &rows[2].cells;
        assert_eq!(agg[3], Cell::UInt(1));
        assert_eq!(agg[8], Cell::Text(r#"{"200":3,"404":1}"#.into()));
        assert_eq!(agg[16], Cell::UInt(5), "mean gc count");
        assert_eq!(agg[27], Cell::UInt(4), "responses sent are summed");
        assert_eq!(agg[29], Cell::UInt(30), "http_patch_timeout is stored");
        assert_eq!(agg[30], Cell::Dec(1075.0), "rt weighted by responses, beyond 999.99");
    }

    #[test]
    fn a_gc_key_missing_in_one_process_stores_zero() {
        let log = XprofilerLog {
            logs: vec![entry(1, "total_gc_times", 4.0), entry(2, "cpu_now", 1.0)],
            xprofiler_version: None,
            log_time: Some("2026-11-25 17:38:15".into()),
            log_timestamp: None,
        };
        let rows = xprofiler_rows(1, "a", &log);
        assert_eq!(rows[2].table, "osinfo_25");
        assert_eq!(rows[2].cells[16], Cell::UInt(0));
    }

    #[test]
    fn empty_logs_give_no_rows() {
        assert!(xprofiler_rows(1, "a", &XprofilerLog { log_timestamp: Some(1.0), ..Default::default() }).is_empty());
    }

    #[test]
    fn system_log_gives_position_zero() {
        let log: SystemLog = serde_json::from_str(
            r#"{"cpu_count":2,"total_memory":25276502016,"uptime":533.92,"log_time":"2026-11-25 17:38:10","version":"3.1.0","used_cpu":0.2693483598460974,"free_memory":24831807488,"load1":1.03,"load5":0.62,"load15":0.27,"disks":{"/":13},"node_count":6}"#,
        )
        .unwrap();
        let row = system_row(1, "vm", &log).unwrap();
        assert_eq!(row.table, "osinfo_25");
        assert_eq!(row.cells.len(), 31);
        assert_eq!(row.cells[2], Cell::Text("2026-11-25 17:38:10".into()));
        assert_eq!(row.cells[5], Cell::UInt(25276502016));
        assert_eq!(row.cells[7], Cell::Text(r#"{"/":13}"#.into()));
        assert_eq!(row.cells[9], Cell::UInt(534));
        assert_eq!(row.cells[10], Cell::Dec(0.27));
    }

    #[test]
    fn a_log_without_any_time_is_refused() {
        assert!(system_row(1, "vm", &SystemLog::default()).is_none());
        assert!(system_row(1, "vm", &SystemLog { log_time: Some("yesterday".into()), ..Default::default() }).is_none());
    }
}
