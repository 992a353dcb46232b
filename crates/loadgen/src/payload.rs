//! The `data` of the simulated agent's messages: the `log` kinds of reference §3.4 and the answers to the built-in
//! commands of §4.2, each in the agent's key order and with JavaScript number formatting.
//!
//! The xprofiler metric key set (§5.4) is rendered once into shared JSON fragments; each report only writes numbers
//! into them, so 50,000 agents share one template.

use std::fmt::Write as _;
use std::sync::OnceLock;

use rand::Rng;

use crate::frame::json_str;

/// The xtransit version the simulated agent reports.
pub const XTRANSIT_VERSION: &str = "3.1.0";
/// The xprofiler version in `xprofiler_log`.
pub const XPROFILER_VERSION: &str = "3.1.0";
/// The Node.js version in `get_os_info` (the captured agent's).
pub const NODE_VERSION: &str = "20.20.2";
/// Where the simulated agent's built-in commands live (the `ok:false` message names it).
pub const COMMANDS_DIR: &str = "/srv/load/node_modules/xtransit/commands";
/// The simulated application's script.
pub const APP_SCRIPT: &str = "/srv/load/app.js";

/// V8 heap spaces in the order xprofiler writes them (§5.4).
const SPACES: [&str; 8] = ["new", "old", "code", "map", "lo", "read_only", "new_lo", "code_lo"];
const SPACE_FIELDS: [&str; 4] = ["size", "used", "available", "committed"];

const CPU_KEYS: [&str; 7] = ["cpu_now", "cpu_15", "cpu_30", "cpu_60", "cpu_180", "cpu_300", "cpu_600"];
const MEMORY_KEYS: [&str; 9] = [
    "rss",
    "heap_used",
    "heap_available",
    "heap_total",
    "heap_limit",
    "heap_executeable",
    "total_physical_size",
    "malloced_memory",
    "amount_of_external_allocated_memory",
];
const GC_KEYS: [&str; 10] = [
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
];
const UV_KEYS: [&str; 9] = [
    "active_handles",
    "active_file_handles",
    "active_and_ref_file_handles",
    "active_tcp_handles",
    "active_and_ref_tcp_handles",
    "active_udp_handles",
    "active_and_ref_udp_handles",
    "active_timer_handles",
    "active_and_ref_timer_handles",
];
const HTTP_KEYS: [&str; 7] =
    ["res__200", "live_http_request", "http_response_close", "http_response_sent", "http_request_timeout", "http_patch_timeout", "http_rt"];

/// Number of `{pid,tid,key,value}` entries per process and report: 7 + 9 + 8×4 + 10 + 9 + 7 = 74, as captured.
pub const METRICS_PER_PROCESS: usize = CPU_KEYS.len() + MEMORY_KEYS.len() + 32 + GC_KEYS.len() + UV_KEYS.len() + HTTP_KEYS.len();

/// All metric keys of one process, in the order xtransit emits them (cpu, memory, gc, uv, http lines).
pub fn metric_keys() -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(METRICS_PER_PROCESS);
    keys.extend(CPU_KEYS.iter().map(|k| k.to_string()));
    keys.extend(MEMORY_KEYS.iter().map(|k| k.to_string()));
    for space in SPACES {
        for field in SPACE_FIELDS {
            keys.push(format!("{space}_space_{field}"));
        }
    }
    keys.extend(GC_KEYS.iter().map(|k| k.to_string()));
    keys.extend(UV_KEYS.iter().map(|k| k.to_string()));
    keys.extend(HTTP_KEYS.iter().map(|k| k.to_string()));
    keys
}

/// `,"tid":0,"key":"<key>","value":` for every key, built once and shared by every agent.
fn fragments() -> &'static [String] {
    static FRAGMENTS: OnceLock<Vec<String>> = OnceLock::new();
    FRAGMENTS.get_or_init(|| metric_keys().iter().map(|k| format!(",\"tid\":0,\"key\":{},\"value\":", json_str(k))).collect())
}

/// A metric value: an integer, or a number xtransit truncated to 2 decimals.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(u64),
    Dec(f64),
}

/// Writes a number as `JSON.stringify` would (integers without `.0`, shortest round-trip decimals).
fn write_js_f64(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        // Rust's Display is the shortest round-trip form and never uses an exponent; our values are in plain range.
        let _ = write!(out, "{v}");
    }
}

/// Truncates to 2 decimals, as xtransit's parser does (`1.234567` → `1.23`).
fn dec2(v: f64) -> f64 {
    (v * 100.0).trunc() / 100.0
}

fn write_num(out: &mut String, n: Num) {
    match n {
        Num::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Num::Dec(f) => write_js_f64(out, dec2(f)),
    }
}

/// Plausible metrics of one Node.js process that has run for `uptime_s` seconds, in [`metric_keys`] order.
fn process_metrics<R: Rng>(rng: &mut R, uptime_s: u64, period_s: u64) -> [Num; METRICS_PER_PROCESS] {
    use Num::{Dec, Int};
    let mut v = [Int(0); METRICS_PER_PROCESS];
    let mut i = 0;
    let mut put = |n: Num| {
        v[i] = n;
        i += 1;
    };
    // cpu
    let cpu_now: f64 = rng.gen_range(0.5..45.0);
    put(Dec(cpu_now));
    for _ in 1..CPU_KEYS.len() {
        put(Dec((cpu_now * rng.gen_range(0.7..1.3)).max(0.0)));
    }
    // memory
    const MB: u64 = 1024 * 1024;
    let heap_limit: u64 = 4_345_298_944;
    let heap_total: u64 = rng.gen_range(12 * MB..256 * MB) & !0xfff;
    let heap_used: u64 = heap_total / 100 * rng.gen_range(55..92);
    let external: u64 = rng.gen_range(1_800_000..24_000_000);
    let rss: u64 = heap_total + external + rng.gen_range(40 * MB..90 * MB);
    put(Int(rss));
    put(Int(heap_used));
    put(Int(heap_limit - heap_used));
    put(Int(heap_total));
    put(Int(heap_limit));
    put(Int(786_432));
    put(Int(heap_total / 100 * 97));
    put(Int(rng.gen_range(260_000..1_200_000)));
    put(Int(external));
    // spaces: size, used, available, committed
    let new_size: u64 = [MB, 2 * MB, 4 * MB, 8 * MB][rng.gen_range(0..4)];
    let new_used = new_size / 100 * rng.gen_range(10..80);
    let code_size: u64 = 786_432;
    let lo_size: u64 = rng.gen_range(1..64) * 65_536;
    let old_size = heap_total.saturating_sub(new_size + code_size + lo_size).max(MB);
    let old_used = heap_used.saturating_sub(new_used).min(old_size);
    let spaces: [[u64; 4]; 8] = [
        [new_size, new_used, new_size / 2 - new_used / 2, new_size],
        [old_size, old_used, old_size - old_used, old_size],
        [code_size, 721_104, 16_032, 749_568],
        [0, 0, 0, 0],
        [lo_size, lo_size - lo_size / 32, 0, lo_size],
        [0, 0, 0, 0],
        [0, 0, new_size / 2, 0],
        [0, 0, 0, 0],
    ];
    for space in spaces {
        for value in space {
            put(Int(value));
        }
    }
    // gc: cumulative values grow with the uptime, so successive reports stay monotonic
    let gc_times = uptime_s / 3 + 2;
    let gc_total = uptime_s * 3 / 2 + 2;
    let last = rng.gen_range(0..(period_s * 20).max(2));
    put(Int(uptime_s));
    put(Int(gc_times));
    put(Int(gc_total));
    put(Int(gc_total * 80 / 100));
    put(Int(gc_total * 15 / 100));
    put(Int(gc_total * 5 / 100));
    put(Int(last));
    put(Int(last * 80 / 100));
    put(Int(last * 15 / 100));
    put(Int(last * 5 / 100));
    // uv
    let tcp: u64 = rng.gen_range(2..40);
    let timers: u64 = rng.gen_range(1..12);
    let files: u64 = rng.gen_range(0..3);
    put(Int(tcp + timers + files + 1));
    put(Int(files));
    put(Int(files));
    put(Int(tcp));
    put(Int(tcp - 1));
    put(Int(0));
    put(Int(0));
    put(Int(timers));
    put(Int(timers / 2 + 1));
    // http
    let requests: u64 = rng.gen_range(0..(period_s * 20).max(2));
    put(Int(requests));
    put(Int(requests));
    put(Int(requests));
    put(Int(requests));
    put(Int(0));
    put(Int(30));
    put(Dec(rng.gen_range(0.1..80.0)));
    v
}

/// The processes one simulated agent watches: `base` is the agent's own pid, the apps are `base+1 ..= base+count`.
#[derive(Debug, Clone, Copy)]
pub struct Pids {
    pub base: u32,
    pub count: u32,
}

impl Pids {
    pub fn random<R: Rng>(rng: &mut R, count: u32) -> Self {
        Pids { base: rng.gen_range(1000..4_000_000 - count - 1), count }
    }

    pub fn apps(&self) -> impl Iterator<Item = u32> {
        let base = self.base;
        (1..=self.count).map(move |i| base + i)
    }

    pub fn contains_app(&self, pid: u64) -> bool {
        pid > self.base as u64 && pid <= self.base as u64 + self.count as u64
    }
}

/// `YYYY-MM-DD HH:mm:ss` in local time, as the agent's `log_time`.
pub fn log_time() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `log` data for `xprofiler_log`: every metric of §5.4 for each pid, `lines` beside `type` and `data`.
pub fn xprofiler_log<R: Rng>(rng: &mut R, pids: Pids, uptime_s: u64, period_s: u64, log_timestamp: i64) -> String {
    let frags = fragments();
    let mut out = String::with_capacity(256 + pids.count as usize * METRICS_PER_PROCESS * 64);
    out.push_str("{\"type\":\"xprofiler_log\",\"data\":{\"logs\":[");
    let mut first = true;
    for (n, pid) in pids.apps().enumerate() {
        // Processes started a little apart.
        let values = process_metrics(rng, uptime_s + n as u64 * 7, period_s);
        for (frag, value) in frags.iter().zip(values) {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{{\"pid\":{pid}");
            out.push_str(frag);
            write_num(&mut out, value);
            out.push('}');
        }
    }
    let version = if pids.count > 0 { XPROFILER_VERSION } else { "" };
    let _ =
        write!(out, "],\"xprofiler_version\":{},\"log_time\":{},\"log_timestamp\":{log_timestamp}}},\"lines\":0}}", json_str(version), json_str(&log_time()));
    out
}

/// The host a simulated agent pretends to run on (fixed per agent).
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub cpu_count: u8,
    pub total_memory: u64,
    /// Host uptime in seconds when the agent started.
    pub boot_uptime: u32,
}

impl Host {
    pub fn random<R: Rng>(rng: &mut R) -> Self {
        Host {
            cpu_count: [2u8, 4, 8, 16][rng.gen_range(0..4)],
            total_memory: [8u64, 16, 24, 32][rng.gen_range(0..4)] * 1024 * 1024 * 1024 - rng.gen_range(0..64) * 4096 * 1024,
            boot_uptime: rng.gen_range(600..3_000_000),
        }
    }
}

/// `log` data for `system_log`, keys in the agent's order (§3.4.1).
pub fn system_log<R: Rng>(rng: &mut R, host: Host, agent_uptime_s: f64, node_count: u32, log_timestamp: i64) -> String {
    let mut out = String::with_capacity(400);
    let free = host.total_memory / 100 * rng.gen_range(20..95);
    let load1: f64 = rng.gen_range(0.0..host.cpu_count as f64);
    out.push_str("{\"type\":\"system_log\",\"data\":{");
    let _ = write!(out, "\"cpu_count\":{},\"total_memory\":{},\"uptime\":", host.cpu_count, host.total_memory);
    write_js_f64(&mut out, dec2(host.boot_uptime as f64 + agent_uptime_s));
    let _ = write!(out, ",\"log_time\":{},\"log_timestamp\":{log_timestamp}", json_str(&log_time()));
    let _ = write!(out, ",\"version\":{},\"used_cpu\":", json_str(XTRANSIT_VERSION));
    write_js_f64(&mut out, rng.gen_range(0.01..0.85));
    let _ = write!(out, ",\"free_memory\":{free},\"load1\":");
    write_js_f64(&mut out, dec2(load1));
    out.push_str(",\"load5\":");
    write_js_f64(&mut out, dec2(load1 * rng.gen_range(0.6..1.2)));
    out.push_str(",\"load15\":");
    write_js_f64(&mut out, dec2(load1 * rng.gen_range(0.5..1.1)));
    let _ = write!(out, ",\"disks\":{{\"/\":{},\"/data\":{}}},\"node_count\":{node_count}}}}}", rng.gen_range(8..70), rng.gen_range(1..90));
    out
}

/// `log` data for `error_log`: `{}` when no error file is configured, else one new error for `path` (§3.4.3).
pub fn error_log(path: Option<&str>, pid: u32, now_ms: i64) -> String {
    let Some(path) = path else {
        return "{\"type\":\"error_log\",\"data\":{}}".to_owned();
    };
    let stack = format!("{} ERROR {pid} TypeError: Cannot read properties of undefined (reading 'x')\n    at handler ({APP_SCRIPT}:3:9)\n", log_time());
    format!(
        "{{\"type\":\"error_log\",\"data\":{{{}:[{{\"stack\":{},\"type\":\"TypeError\",\"extra\":\"\",\"timestamp\":{now_ms}}}]}}}}",
        json_str(path),
        json_str(&stack)
    )
}

/// `log` data for `core_files` with no core dump found.
pub fn core_files() -> &'static str {
    "{\"type\":\"core_files\",\"data\":{\"list\":[]}}"
}

/// `log` data for `package` (hourly): one small package.json and its lock, as raw text strings (§3.4.4).
pub fn package() -> String {
    let pkg = "{\n  \"name\": \"load-app\",\n  \"version\": \"1.0.0\",\n  \"main\": \"app.js\",\n  \"dependencies\": {\n    \"xprofiler\": \"^3.1.0\",\n    \"xtransit\": \"^3.1.0\"\n  }\n}";
    let lock = "{\n  \"name\": \"load-app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 1,\n  \"requires\": true,\n  \"dependencies\": {\n    \"xprofiler\": {\n      \"version\": \"3.1.0\",\n      \"resolved\": \"xprofiler-3.1.0.tgz\"\n    },\n    \"xtransit\": {\n      \"version\": \"3.1.0\",\n      \"resolved\": \"xtransit-3.1.0.tgz\"\n    }\n  }\n}";
    format!(
        "{{\"type\":\"package\",\"data\":{{\"pkgs\":[{{\"name\":{},\"pkg\":{},\"lock\":{}}}]}}}}",
        json_str("/srv/load/package.json"),
        json_str(pkg),
        json_str(lock)
    )
}

/// What a simulated agent does with one `exec_command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The command name for the statistics (`get_os_info`, …, or `unknown`).
    pub stat_name: &'static str,
    /// The `response` data JSON.
    pub data: String,
}

fn ok_stdout(stdout: &str) -> String {
    format!("{{\"ok\":true,\"data\":{{\"stdout\":{},\"stderr\":\"\"}}}}", json_str(stdout))
}

/// Answers a built-in command as the real agent would (§3.2, §4.2). Commands split on single spaces.
pub fn answer_command(command: &str, agent_id: &str, pids: Pids) -> Answer {
    let mut parts = command.split(' ');
    let name = parts.next().unwrap_or_default();
    match name {
        "get_os_info" => {
            let stdout = format!(
                "{{\"nodeVersion\":{},\"xtransitVersion\":{},\"ulimit\":\"0\",\"osInfo\":{}}}\n",
                json_str(NODE_VERSION),
                json_str(XTRANSIT_VERSION),
                json_str(&format!("Linux/{agent_id}/linux/x64/6.18.44-fc-v669"))
            );
            Answer { stat_name: "get_os_info", data: ok_stdout(&stdout) }
        }
        "check_processes_alive" => {
            let stdout = format!("{}\n", processes_alive(parts, pids));
            Answer { stat_name: "check_processes_alive", data: ok_stdout(&stdout) }
        }
        "get_node_processes" => {
            let mut stdout = String::new();
            for pid in pids.apps() {
                let _ = writeln!(stdout, "{pid}\u{0}node {APP_SCRIPT}");
            }
            let _ = writeln!(stdout, "{}\u{0}node /srv/load/node_modules/.bin/xtransit", pids.base);
            Answer { stat_name: "get_node_processes", data: ok_stdout(&stdout) }
        }
        other => Answer {
            stat_name: "unknown",
            data: format!("{{\"ok\":false,\"message\":{}}}", json_str(&format!("file {other}.js not exists in [{COMMANDS_DIR}]"))),
        },
    }
}

/// `{"<pid>":bool,…}` with JavaScript's object key order: array-index keys ascending, then the rest as inserted.
fn processes_alive<'a>(args: impl Iterator<Item = &'a str>, pids: Pids) -> String {
    let mut numeric: Vec<(u64, bool)> = Vec::new();
    let mut other: Vec<&str> = Vec::new();
    for arg in args {
        let canonical = arg.parse::<u64>().ok().filter(|n| *n < u32::MAX as u64 && n.to_string() == arg);
        match canonical {
            Some(n) => numeric.push((n, pids.contains_app(n) || n == pids.base as u64 || n == 1)),
            None if !other.contains(&arg) => other.push(arg),
            None => {}
        }
    }
    numeric.sort_by_key(|(n, _)| *n);
    numeric.dedup_by_key(|(n, _)| *n);
    let mut out = String::from("{");
    for (n, alive) in &numeric {
        if out.len() > 1 {
            out.push(',');
        }
        let _ = write!(out, "\"{n}\":{alive}");
    }
    for key in other {
        if out.len() > 1 {
            out.push(',');
        }
        let _ = write!(out, "{}:false", json_str(key));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn rng() -> rand::rngs::StdRng {
        rand::SeedableRng::seed_from_u64(7)
    }

    #[test]
    fn the_metric_key_set_is_the_captured_one() {
        // The keys of the captured xprofiler_log, in order (fixtures/agent-frames.jsonl).
        let fixture = include_str!("../../protocol/fixtures/agent-frames.jsonl");
        let captured: Vec<String> = fixture
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|f| f["data"]["type"] == "xprofiler_log" && f["data"]["data"]["logs"].as_array().is_some_and(|a| !a.is_empty()))
            .map(|f| f["data"]["data"]["logs"].as_array().into_iter().flatten().map(|e| e["key"].as_str().unwrap_or("").to_owned()).collect())
            .expect("the fixture has a non-empty xprofiler_log");
        assert_eq!(metric_keys(), captured);
        assert_eq!(METRICS_PER_PROCESS, 74);
    }

    #[test]
    fn xprofiler_log_has_the_agent_shape() {
        let pids = Pids { base: 100, count: 2 };
        let text = xprofiler_log(&mut rng(), pids, 65, 60, 1795628295252);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        let top: Vec<&String> = v.as_object().expect("object").keys().collect();
        assert_eq!(top, ["type", "data", "lines"]);
        assert_eq!(v["lines"], 0);
        let inner: Vec<&String> = v["data"].as_object().expect("object").keys().collect();
        assert_eq!(inner, ["logs", "xprofiler_version", "log_time", "log_timestamp"]);
        let logs = v["data"]["logs"].as_array().expect("array");
        assert_eq!(logs.len(), 2 * METRICS_PER_PROCESS);
        assert_eq!(logs[0].as_object().expect("entry").keys().collect::<Vec<_>>(), ["pid", "tid", "key", "value"]);
        assert_eq!(logs[0]["pid"], 101);
        assert_eq!(logs[METRICS_PER_PROCESS]["pid"], 102);
        for e in logs {
            let n = e["value"].as_f64().expect("number");
            assert!(n >= 0.0);
            assert_eq!((n * 100.0).round() / 100.0, n, "at most 2 decimals: {e}");
        }
        assert!(!text.contains(".0,"), "integers are written without .0");
        // The parser the manager uses accepts it.
        let parsed = protocol::logs::AgentLog::parse(&text).expect("parses");
        assert_eq!(parsed.kind(), "xprofiler_log");
    }

    #[test]
    fn system_log_has_the_agent_keys_in_order() {
        let host = Host { cpu_count: 4, total_memory: 16 * 1024 * 1024 * 1024, boot_uptime: 1000 };
        let text = system_log(&mut rng(), host, 12.5, 3, 1795628290199);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        let keys: Vec<&String> = v["data"].as_object().expect("object").keys().collect();
        assert_eq!(
            keys,
            [
                "cpu_count",
                "total_memory",
                "uptime",
                "log_time",
                "log_timestamp",
                "version",
                "used_cpu",
                "free_memory",
                "load1",
                "load5",
                "load15",
                "disks",
                "node_count"
            ]
        );
        assert_eq!(v["data"]["uptime"], 1012.5);
        assert_eq!(v["data"]["node_count"], 3);
        let used = v["data"]["used_cpu"].as_f64().expect("ratio");
        assert!((0.0..1.0).contains(&used));
        assert_eq!(v["data"]["log_time"].as_str().map(str::len), Some(19));
        assert!(protocol::logs::AgentLog::parse(&text).is_ok());
    }

    #[test]
    fn error_log_and_core_files() {
        assert_eq!(error_log(None, 1, 2), r#"{"type":"error_log","data":{}}"#);
        let text = error_log(Some("/srv/load/logs/app-error.log"), 4242, 1795628295111);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        let errors = v["data"]["/srv/load/logs/app-error.log"].as_array().expect("array");
        assert_eq!(errors.len(), 1);
        let keys: Vec<&String> = errors[0].as_object().expect("object").keys().collect();
        assert_eq!(keys, ["stack", "type", "extra", "timestamp"]);
        assert_eq!(errors[0]["type"], "TypeError");
        assert!(serde_json::from_str::<Value>(core_files()).is_ok());
        assert!(serde_json::from_str::<Value>(&package()).is_ok());
    }

    #[test]
    fn answers_match_the_captured_responses() {
        let pids = Pids { base: 30261, count: 2 };
        let a = answer_command("get_os_info", "vm", pids);
        assert_eq!(a.stat_name, "get_os_info");
        assert_eq!(
            a.data,
            r#"{"ok":true,"data":{"stdout":"{\"nodeVersion\":\"20.20.2\",\"xtransitVersion\":\"3.1.0\",\"ulimit\":\"0\",\"osInfo\":\"Linux/vm/linux/x64/6.18.44-fc-v669\"}\n","stderr":""}}"#
        );
        let a = answer_command("check_processes_alive 999999 30262 1", "vm", pids);
        assert_eq!(a.data, r#"{"ok":true,"data":{"stdout":"{\"1\":true,\"30262\":true,\"999999\":false}\n","stderr":""}}"#);
        let a = answer_command("no_such_command", "vm", pids);
        assert_eq!(a.stat_name, "unknown");
        assert_eq!(a.data, r#"{"ok":false,"message":"file no_such_command.js not exists in [/srv/load/node_modules/xtransit/commands]"}"#);
        let a = answer_command("get_node_processes", "vm", pids);
        assert!(a.data.contains(r#"30262\u0000node /srv/load/app.js\n30263\u0000node"#), "{}", a.data);
    }
}
