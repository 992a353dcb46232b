//! Typed payloads of the agent's `log` messages (reference: xtransit-protocol §3.4).
//!
//! Numbers are read leniently (a number, a numeric string, or null), because the manager must keep going when a
//! customised agent sends a slightly different shape; unknown members are ignored.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One `log` message's `data`: `{"type": <kind>, "data": {...}, "lines"?: 0}`.
#[derive(Debug)]
pub enum AgentLog {
    System(SystemLog),
    Xprofiler(XprofilerLog),
    Error(ErrorLog),
    Package(PackageLog),
    CoreFiles(CoreFilesLog),
    /// A kind this version does not know; the original ignores these too.
    Other(String),
}

#[derive(Debug, thiserror::Error)]
#[error("log payload of type {kind:?} is malformed: {source}")]
pub struct LogError {
    pub kind: String,
    #[source]
    pub source: serde_json::Error,
}

impl AgentLog {
    pub fn parse(raw: &str) -> Result<Self, LogError> {
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(borrow)]
            data: Option<&'a RawValue>,
        }
        fn err(kind: &str) -> impl Fn(serde_json::Error) -> LogError + '_ {
            move |source| LogError { kind: kind.to_owned(), source }
        }
        let head: Head<'_> = serde_json::from_str(raw).map_err(err(""))?;
        let data = head.data.map(|d| d.get()).unwrap_or("{}");
        let kind = head.kind.as_str();
        Ok(match kind {
            "system_log" => AgentLog::System(serde_json::from_str(data).map_err(err(kind))?),
            "xprofiler_log" => AgentLog::Xprofiler(serde_json::from_str(data).map_err(err(kind))?),
            "error_log" => AgentLog::Error(ErrorLog::from_map(serde_json::from_str(data).map_err(err(kind))?)),
            "package" => AgentLog::Package(serde_json::from_str(data).map_err(err(kind))?),
            "core_files" => AgentLog::CoreFiles(serde_json::from_str(data).map_err(err(kind))?),
            other => AgentLog::Other(other.to_owned()),
        })
    }

    pub fn kind(&self) -> &str {
        match self {
            AgentLog::System(_) => "system_log",
            AgentLog::Xprofiler(_) => "xprofiler_log",
            AgentLog::Error(_) => "error_log",
            AgentLog::Package(_) => "package",
            AgentLog::CoreFiles(_) => "core_files",
            AgentLog::Other(k) => k,
        }
    }
}

/// `system_log`: host metrics, one per agent per minute.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SystemLog {
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cpu_count: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub total_memory: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub uptime: Option<f64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub log_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub log_timestamp: Option<f64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub version: Option<String>,
    /// A ratio 0..1, not a percentage.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub used_cpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub free_memory: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub load1: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub load5: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub load15: Option<f64>,
    /// Mount point → used percent.
    #[serde(default)]
    pub disks: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub node_count: Option<f64>,
}

/// `xprofiler_log`: metric pairs parsed by the agent from xprofiler's log lines.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct XprofilerLog {
    #[serde(default)]
    pub logs: Vec<MetricEntry>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub xprofiler_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub log_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub log_timestamp: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MetricEntry {
    #[serde(deserialize_with = "required_i64")]
    pub pid: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub tid: Option<i64>,
    pub key: String,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub value: Option<f64>,
}

/// `error_log`: configured error-log path → errors parsed since the last report, in the agent's order.
#[derive(Debug, Clone, Default)]
pub struct ErrorLog {
    pub files: Vec<(String, Vec<ErrorEntry>)>,
}

impl ErrorLog {
    fn from_map(map: Map<String, Value>) -> Self {
        let files = map
            .into_iter()
            .map(|(path, v)| {
                let entries = match v {
                    Value::Array(items) => items.into_iter().filter_map(|i| serde_json::from_value(i).ok()).collect(),
                    _ => Vec::new(),
                };
                (path, entries)
            })
            .collect();
        ErrorLog { files }
    }
}

/// One parsed error; serialized back in the agent's key order when stored.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ErrorEntry {
    #[serde(default)]
    pub stack: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub extra: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub timestamp: Option<i64>,
}

/// `package`: package.json and lock file texts, hourly.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PackageLog {
    #[serde(default)]
    pub pkgs: Vec<PackageEntry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PackageEntry {
    /// Absent when the agent could not read the package.json (it then sends `{}`).
    pub name: Option<String>,
    pub pkg: Option<String>,
    pub lock: Option<String>,
}

/// `core_files`: core dumps that appeared in the last minute.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CoreFilesLog {
    #[serde(default)]
    pub list: Vec<CoreFile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CoreFile {
    #[serde(default)]
    pub core_path: String,
    #[serde(default)]
    pub executable_path: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub node_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub alinode_version: Option<String>,
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
        _ => None,
    }
    .filter(|f| f.is_finite()))
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(lenient_f64(d)?.map(|f| f as i64))
}

fn required_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    lenient_i64(d)?.ok_or_else(|| serde::de::Error::custom("expected an integer"))
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AgentFrame, MessageKind};

    fn fixture_logs() -> Vec<AgentLog> {
        let text = include_str!("../fixtures/agent-frames.jsonl");
        text.lines()
            .filter_map(|l| {
                let frame = AgentFrame::parse(l).unwrap();
                (frame.kind == MessageKind::Log).then(|| AgentLog::parse(frame.data.get()).unwrap())
            })
            .collect()
    }

    #[test]
    fn every_captured_log_kind_parses() {
        let logs = fixture_logs();
        let kinds: std::collections::BTreeSet<&str> = logs.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["core_files", "error_log", "package", "system_log", "xprofiler_log"]);
        let xprof = logs.iter().find_map(|l| match l {
            AgentLog::Xprofiler(x) if !x.logs.is_empty() => Some(x),
            _ => None,
        });
        let xprof = xprof.expect("the capture holds a non-empty xprofiler_log");
        assert!(xprof.logs.iter().any(|e| e.key == "cpu_now"));
        assert!(xprof.logs.iter().any(|e| e.key == "heap_used"));
        assert_eq!(xprof.xprofiler_version.as_deref(), Some("3.1.0"));
        let system = logs.iter().find_map(|l| match l {
            AgentLog::System(s) => Some(s),
            _ => None,
        });
        let system = system.unwrap();
        assert!(system.used_cpu.unwrap() <= 1.0);
        assert!(system.total_memory.unwrap() > 0.0);
        let errors = logs.iter().find_map(|l| match l {
            AgentLog::Error(e) if e.files.iter().any(|(_, v)| !v.is_empty()) => Some(e),
            _ => None,
        });
        let (path, entries) = &errors.expect("the capture holds errors").files[0];
        assert_eq!(path, "/srv/demo/logs/app-error.log");
        assert!(!entries[0].stack.is_empty());
    }

    #[test]
    fn lenient_numbers_and_unknown_kinds() {
        let log = AgentLog::parse(r#"{"type":"system_log","data":{"cpu_count":"2","used_cpu":null,"load1":0.5}}"#).unwrap();
        let AgentLog::System(s) = log else { panic!("system_log") };
        assert_eq!(s.cpu_count, Some(2.0));
        assert_eq!(s.used_cpu, None);
        assert!(matches!(AgentLog::parse(r#"{"type":"future_log","data":{}}"#).unwrap(), AgentLog::Other(k) if k == "future_log"));
        assert!(AgentLog::parse(r#"{"type":"xprofiler_log","data":{"logs":[{"pid":"x","key":"a"}]}}"#).is_err());
    }

    #[test]
    fn error_entries_round_trip_in_agent_order() {
        let entry = ErrorEntry { stack: "s\n".into(), kind: "TypeError".into(), extra: "".into(), timestamp: Some(1) };
        assert_eq!(serde_json::to_string(&entry).unwrap(), r#"{"stack":"s\n","type":"TypeError","extra":"","timestamp":1}"#);
    }
}
