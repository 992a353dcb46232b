//! The alarm engine's pure part: the contexts a rule is evaluated against, built from agent logs as the original
//! builds them (reference: xtransit-manager §4.1–4.5, §6.2), the history text, the links into the console, and
//! the payload of every channel with its signature (§6.6).
//!
//! Differences on purpose: `code_4xx` and `code_5xx` are computed from the status codes (the original read a key
//! no payload has, so they were always 0), `http_patch_timeout` is in the aggregate context under its own name
//! too, every context carries `appId` and `agentId`, core-file contexts come only with core files (the original
//! evaluated `core_count: 0` every minute), and DingTalk's `at` sits at the top level where DingTalk reads it.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use protocol::logs::{CoreFilesLog, ErrorLog, SystemLog, XprofilerLog};
use rules::Value;
use serde_json::{json, Value as Json};
use sha2::Sha256;
use store::logs_db::process;

use crate::domain::rows::GC_METRICS;

pub const XPROFILER_LOG: &str = "xprofiler_log";
pub const SYSTEM_LOG: &str = "system_log";
pub const ERROR_LOG: &str = "error_log";
pub const XTRANSIT_NOTIFICATION: &str = "xtransit_notification";

/// The title of every message (the original's).
pub const TITLE: &str = "Easy-Monitor 性能监控";
/// `alarm_DD.message` is VARCHAR(250): longer messages keep their first 245 characters and `...` (the original's).
pub const MAX_HISTORY_CHARS: usize = 250;

/// What one rule context is evaluated on: the context type, the agent and process it is about, its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub context: &'static str,
    pub agent: String,
    pub pid: Option<i64>,
    pub vars: BTreeMap<String, Value>,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn base_vars(app: u64, agent: &str) -> BTreeMap<String, Value> {
    let mut vars = BTreeMap::new();
    vars.insert("appId".to_owned(), Value::Str(app.to_string()));
    vars.insert("agentId".to_owned(), Value::Str(agent.to_owned()));
    vars
}

fn num(v: Option<f64>) -> Value {
    Value::Num(v.unwrap_or(0.0))
}

/// Sums of the 4xx and 5xx codes of a status map.
fn code_classes(codes: &BTreeMap<u32, f64>) -> (f64, f64) {
    let class = |lo: u32| codes.iter().filter(|(c, _)| (lo..lo + 100).contains(*c)).map(|(_, n)| n).sum::<f64>();
    (class(400), class(500))
}

fn status_map(codes: &BTreeMap<u32, f64>) -> String {
    let map: serde_json::Map<String, Json> = codes.iter().map(|(c, n)| (c.to_string(), json!(n))).collect();
    Json::Object(map).to_string()
}

/// `system_log`: the main context (the computed keys, then every payload key) and one per disk.
pub fn system_subjects(app: u64, agent: &str, log: &SystemLog) -> Vec<Subject> {
    let mut vars = base_vars(app, agent);
    let (total, free) = (log.total_memory.unwrap_or(0.0), log.free_memory.unwrap_or(0.0));
    let mem = match total != 0.0 && free != 0.0 {
        true => round2((total - free) / total * 100.0),
        false => 0.0,
    };
    vars.insert("expired_request".into(), Value::Num(0.0));
    vars.insert("code_4xx".into(), Value::Num(0.0));
    vars.insert("code_5xx".into(), Value::Num(0.0));
    vars.insert("os_cpu_usage".into(), Value::Num(round2(log.used_cpu.unwrap_or(0.0) * 100.0)));
    vars.insert("os_mem_usage".into(), Value::Num(mem));
    for (key, value) in [
        ("cpu_count", log.cpu_count),
        ("total_memory", log.total_memory),
        ("free_memory", log.free_memory),
        ("uptime", log.uptime),
        ("used_cpu", log.used_cpu),
        ("load1", log.load1),
        ("load5", log.load5),
        ("load15", log.load15),
        ("node_count", log.node_count),
        ("log_timestamp", log.log_timestamp),
    ] {
        vars.insert(key.into(), num(value));
    }
    if let Some(t) = &log.log_time {
        vars.insert("log_time".into(), Value::Str(t.clone()));
    }
    vars.insert("version".into(), Value::Str(log.version.clone().unwrap_or_default()));
    let disks = log.disks.clone().unwrap_or_default();
    vars.insert("disks".into(), Value::Str(Json::Object(disks.clone()).to_string()));
    let mut out = vec![Subject { context: SYSTEM_LOG, agent: agent.to_owned(), pid: None, vars }];
    for (mount, usage) in disks {
        let mut vars = base_vars(app, agent);
        vars.insert("mounted_on".into(), Value::Str(mount));
        vars.insert("disk_usage".into(), Value::from(&usage));
        out.push(Subject { context: SYSTEM_LOG, agent: agent.to_owned(), pid: None, vars });
    }
    out
}

/// `xprofiler_log`: the per-app aggregate as a `system_log` context (the original's position 1), then one
/// `xprofiler_log` context per process.
pub fn xprofiler_subjects(app: u64, agent: &str, log: &XprofilerLog) -> Vec<Subject> {
    let mut order: Vec<i64> = Vec::new();
    let mut values: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
    let mut codes: BTreeMap<i64, BTreeMap<u32, f64>> = BTreeMap::new();
    for entry in &log.logs {
        if !values.contains_key(&entry.pid) {
            order.push(entry.pid);
        }
        let v = entry.value.unwrap_or(0.0);
        values.entry(entry.pid).or_default().insert(entry.key.clone(), v);
        if let Some(Ok(code)) = entry.key.strip_prefix("res__").map(str::parse::<u32>) {
            codes.entry(entry.pid).or_default().insert(code, v);
        }
    }
    if order.is_empty() {
        return Vec::new();
    }
    let version = log.xprofiler_version.clone().unwrap_or_default();
    let time = log.log_time.clone().unwrap_or_default();
    let no_codes = BTreeMap::new();

    // The aggregate (system_log, position 1).
    let count = order.len() as f64;
    let all = || order.iter().map(|p| &values[p]);
    let mut agg = base_vars(app, agent);
    for key in GC_METRICS {
        let present: Option<Vec<f64>> = all().map(|v| v.get(key).copied()).collect();
        agg.insert(key.into(), Value::Num(present.map(|v| v.iter().sum::<f64>() / count).unwrap_or(0.0)));
    }
    let sum = |key: &str| all().filter_map(|v| v.get(key)).sum::<f64>();
    for key in ["live_http_request", "http_response_close", "http_response_sent", "http_request_timeout"] {
        agg.insert(key.into(), Value::Num(sum(key)));
    }
    let sent = sum("http_response_sent");
    let rt = match sent > 0.0 {
        true => all().map(|v| v.get("http_rt").unwrap_or(&0.0) * v.get("http_response_sent").unwrap_or(&0.0)).sum::<f64>() / sent,
        false => sum("http_rt"),
    };
    agg.insert("http_rt".into(), Value::Num(rt));
    let mut total_codes: BTreeMap<u32, f64> = BTreeMap::new();
    for p in &order {
        for (c, n) in codes.get(p).unwrap_or(&no_codes) {
            *total_codes.entry(*c).or_insert(0.0) += n;
        }
    }
    let (c4, c5) = code_classes(&total_codes);
    let patch = order.last().and_then(|p| values[p].get("http_patch_timeout").copied()).unwrap_or(0.0);
    agg.insert("patchTimeout".into(), Value::Num(patch));
    agg.insert("http_patch_timeout".into(), Value::Num(patch));
    agg.insert("statusMap".into(), Value::Str(status_map(&total_codes)));
    agg.insert("expired_request".into(), Value::Num(sum("http_request_timeout")));
    agg.insert("code_4xx".into(), Value::Num(c4));
    agg.insert("code_5xx".into(), Value::Num(c5));
    agg.insert("os_cpu_usage".into(), Value::Num(0.0));
    agg.insert("os_mem_usage".into(), Value::Num(0.0));
    agg.insert("log_time".into(), Value::Str(time.clone()));
    let mut out = vec![Subject { context: SYSTEM_LOG, agent: agent.to_owned(), pid: None, vars: agg }];

    for pid in &order {
        let mut vars = base_vars(app, agent);
        for key in process::METRICS {
            vars.insert((*key).to_owned(), Value::Num(0.0));
        }
        for (k, v) in &values[pid] {
            vars.insert(k.clone(), Value::Num(*v));
        }
        let pid_codes = codes.get(pid).unwrap_or(&no_codes);
        let (c4, c5) = code_classes(pid_codes);
        vars.insert("code_4xx".into(), Value::Num(c4));
        vars.insert("code_5xx".into(), Value::Num(c5));
        vars.insert("statusMap".into(), Value::Str(status_map(pid_codes)));
        vars.insert("version".into(), Value::Str(version.clone()));
        vars.insert("time".into(), Value::Str(time.clone()));
        vars.insert("pid".into(), Value::Str(pid.to_string()));
        let last_gc = values[pid].get("gc_time_during_last_record").copied().unwrap_or(0.0);
        vars.insert("gc_60".into(), Value::Num(round2(last_gc / 60000.0 * 100.0)));
        out.push(Subject { context: XPROFILER_LOG, agent: agent.to_owned(), pid: Some(*pid), vars });
    }
    out
}

/// `error_log`: one context per error.
pub fn error_subjects(app: u64, agent: &str, log: &ErrorLog) -> Vec<Subject> {
    let mut out = Vec::new();
    for (path, entries) in &log.files {
        for e in entries {
            let mut vars = base_vars(app, agent);
            vars.insert("agent".into(), Value::Str(agent.to_owned()));
            vars.insert("error_type".into(), Value::Str(e.kind.clone()));
            vars.insert("type".into(), Value::Str(e.kind.clone()));
            vars.insert("log_path".into(), Value::Str(path.clone()));
            vars.insert("stack".into(), Value::Str(e.stack.clone()));
            vars.insert("extra".into(), Value::Str(e.extra.clone()));
            vars.insert("timestamp".into(), e.timestamp.map(|t| Value::Num(t as f64)).unwrap_or(Value::Undefined));
            out.push(Subject { context: ERROR_LOG, agent: agent.to_owned(), pid: None, vars });
        }
    }
    out
}

/// `core_files` → the `xtransit_notification` core shape.
pub fn core_subject(app: u64, agent: &str, log: &CoreFilesLog) -> Option<Subject> {
    if log.list.is_empty() {
        return None;
    }
    let mut vars = base_vars(app, agent);
    vars.insert("core_count".into(), Value::Num(log.list.len() as f64));
    let files: Vec<&str> = log.list.iter().map(|c| c.core_path.as_str()).collect();
    vars.insert("core_files".into(), Value::Str(files.join(", ")));
    Some(Subject { context: XTRANSIT_NOTIFICATION, agent: agent.to_owned(), pid: None, vars })
}

/// An agent went offline → the `xtransit_notification` offline shape.
pub fn offline_subject(app: u64, agent: &str, client: &str) -> Subject {
    let mut vars = base_vars(app, agent);
    vars.insert("clientId".into(), Value::Str(client.to_owned()));
    vars.insert("agentOffline".into(), Value::Bool(true));
    Subject { context: XTRANSIT_NOTIFICATION, agent: agent.to_owned(), pid: None, vars }
}

/// A dependency audit's counts → the `xtransit_notification` audit shape (`@critical`, `@high`, …).
pub fn audit_subject(app: u64, agent: &str, metadata: &serde_json::Map<String, Json>) -> Subject {
    let mut vars = base_vars(app, agent);
    for (k, v) in metadata {
        vars.insert(k.clone(), Value::from(v));
    }
    if let Some(Json::Object(counts)) = metadata.get("vulnerabilities") {
        for (k, v) in counts {
            vars.insert(k.clone(), Value::from(v));
        }
    }
    Subject { context: XTRANSIT_NOTIFICATION, agent: agent.to_owned(), pid: None, vars }
}

/// The text kept in `alarm_DD.message`.
pub fn history_text(message: &str) -> String {
    match message.chars().count() > MAX_HISTORY_CHARS {
        true => message.chars().take(MAX_HISTORY_CHARS - 5).chain("...".chars()).collect(),
        false => message.to_owned(),
    }
}

/// The console links of a message: the app's instance page, and the page of what fired (the original's
/// `appLink` and `detailLink`, without the original's `#/`: our console routes by path, as the console's own
/// `detailPath`; core files open the files page, an offline agent its processes). None without a console address.
pub fn links(console: &str, app: u64, context: &str, expression: &str, agent: &str, pid: Option<i64>) -> Option<(String, String)> {
    let console = console.trim_end_matches('/');
    if console.is_empty() {
        return None;
    }
    let app_link = format!("{console}/app/{app}/instance?");
    let agent = common::url::encode_query_value(agent);
    let detail = match context {
        XPROFILER_LOG => match pid {
            Some(pid) => format!("{app_link}tab=process&agentId={agent}&pid={pid}"),
            None => format!("{app_link}tab=process&agentId={agent}"),
        },
        SYSTEM_LOG => format!("{app_link}tab=system&agentId={agent}"),
        ERROR_LOG => format!("{app_link}tab=error_log&agentId={agent}"),
        XTRANSIT_NOTIFICATION if expression.contains("@core_") => format!("{console}/app/{app}/file"),
        XTRANSIT_NOTIFICATION if expression.contains("@agentOffline") => format!("{app_link}tab=process&agentId={agent}"),
        XTRANSIT_NOTIFICATION => format!("{app_link}tab=module_risk&agentId={agent}"),
        _ => format!("{app_link}tab=process&agentId={agent}"),
    };
    Some((app_link, detail))
}

/// One message of a debounced batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Held {
    /// When the alarm fired (ms since the epoch).
    pub at_ms: i64,
    pub message: String,
    /// The process it fired for (xprofiler_log rules).
    #[serde(default)]
    pub pid: Option<i64>,
}

/// What a channel says: one rule on one agent, the alarms of one debounce window (oldest first, at least one).
#[derive(Debug, Clone)]
pub struct Notice {
    pub app: u64,
    pub app_name: String,
    pub strategy: u64,
    pub context: String,
    pub agent: String,
    pub pid: Option<i64>,
    pub alarms: Vec<Held>,
    /// `(appLink, detailLink)`.
    pub links: Option<(String, String)>,
    /// Formats a time (ms) for people (the manager's local time).
    pub times: Vec<String>,
}

impl Notice {
    pub fn latest(&self) -> &str {
        self.alarms.last().map(|a| a.message.as_str()).unwrap_or_default()
    }

    /// The original's `periodDesc`: one time, or `first ~ last`.
    pub fn period(&self) -> String {
        match (self.times.first(), self.times.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} ~ {b}"),
            (Some(a), _) => a.clone(),
            _ => String::new(),
        }
    }

    fn app_label(&self) -> String {
        match self.app_name.is_empty() {
            true => self.app.to_string(),
            false => self.app_name.clone(),
        }
    }

    /// The original's markdown sentence (DingTalk, WeCom): the app, the agent, the period, the count, the latest
    /// message and the console link.
    pub fn markdown(&self) -> String {
        let app = match &self.links {
            Some((app_link, _)) => format!("[{}]({app_link})", self.app_label()),
            None => format!("[{}]", self.app_label()),
        };
        let mut text = format!("[{TITLE}] 您的应用 {app} 在实例 {} 于 {} 发生 {} 条告警: {}", self.agent, self.period(), self.alarms.len(), self.latest());
        if let Some((_, detail)) = &self.links {
            text.push_str(&format!("，点击 [控制台]({detail}) 查看详细信息"));
        }
        text
    }

    /// Plain text (mail, Slack's fallback): the sentence and one line per alarm.
    pub fn plain(&self) -> String {
        let mut text = format!("您的应用 {} 在实例 {} 于 {} 发生 {} 条告警:\n", self.app_label(), self.agent, self.period(), self.alarms.len());
        for (time, alarm) in self.times.iter().zip(&self.alarms) {
            text.push_str(&format!("- {time}: {}\n", alarm.message));
        }
        if let Some((_, detail)) = &self.links {
            text.push_str(&format!("详细信息: {detail}\n"));
        }
        text
    }

    /// The mail's HTML (the original's `mailer.html`), every value escaped.
    pub fn html(&self) -> String {
        let app = match &self.links {
            Some((app_link, _)) => format!("<a href=\"{}\">{}</a>", escape(app_link), escape(&self.app_label())),
            None => escape(&self.app_label()),
        };
        let mut html = format!(
            "<p>您的应用 {app} 在实例 <strong>{}</strong> 于 <strong>{}</strong> 发生 <strong>{}</strong> 条告警:</p><ul>",
            escape(&self.agent),
            escape(&self.period()),
            self.alarms.len()
        );
        for (time, alarm) in self.times.iter().zip(&self.alarms) {
            html.push_str(&format!("<li>{}: {}</li>", escape(time), escape(&alarm.message).replace('\n', "<br>")));
        }
        html.push_str("</ul>");
        if let Some((_, detail)) = &self.links {
            html.push_str(&format!("<p>点击 <a href=\"{}\">控制台</a> 查看详细信息</p>", escape(detail)));
        }
        html
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// DingTalk's signed address: `timestamp` (ms) and `sign = urlencode(base64(HMAC-SHA256(secret, "{ts}\n{secret}")))`
/// appended to the robot's address. Without a secret the address is used as it is.
pub fn dingtalk_url(address: &str, secret: &str, now_ms: i64) -> String {
    if secret.is_empty() {
        return address.to_owned();
    }
    let sign = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret.as_bytes(), format!("{now_ms}\n{secret}").as_bytes()));
    let join = if address.contains('?') { '&' } else { '?' };
    format!("{address}{join}timestamp={now_ms}&sign={}", common::url::encode_query_value(&sign))
}

pub fn dingtalk_body(notice: &Notice) -> Json {
    json!({
        "msgtype": "markdown",
        "markdown": {"title": TITLE, "text": notice.markdown()},
        "at": {"isAtAll": false},
    })
}

pub fn wecom_body(notice: &Notice) -> Json {
    json!({"msgtype": "markdown", "markdown": {"content": notice.markdown()}})
}

/// Feishu's custom-bot signature: base64 of HMAC-SHA256 keyed by `"{timestamp}\n{secret}"` over nothing.
pub fn feishu_sign(secret: &str, now_secs: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(format!("{now_secs}\n{secret}").as_bytes(), b""))
}

/// The original's six-element Feishu post, signed when the rule has a secret.
pub fn feishu_body(notice: &Notice, secret: &str, now_secs: i64) -> Json {
    let (app_link, detail) = notice.links.clone().unwrap_or_default();
    let mut line = vec![
        json!({"tag": "text", "text": "您的应用"}),
        json!({"tag": "a", "text": notice.app_label(), "href": app_link}),
        json!({"tag": "text", "text": format!("在实例 {} 于 {} 发生 {} 条告警: {}", notice.agent, notice.period(), notice.alarms.len(), notice.latest())}),
    ];
    if !detail.is_empty() {
        line.push(json!({"tag": "text", "text": "点击"}));
        line.push(json!({"tag": "a", "text": "控制台", "href": detail}));
        line.push(json!({"tag": "text", "text": "查看详细信息"}));
    }
    let mut body = json!({
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": format!("[{TITLE}]"), "content": [line]}}},
    });
    if !secret.is_empty() {
        body["timestamp"] = json!(now_secs.to_string());
        body["sign"] = json!(feishu_sign(secret, now_secs));
    }
    body
}

/// A Slack incoming webhook message (mrkdwn links).
pub fn slack_body(notice: &Notice) -> Json {
    let mut text =
        format!("*[{TITLE}]* {} / {}: {} alarm(s) at {}: {}", notice.app_label(), notice.agent, notice.alarms.len(), notice.period(), notice.latest());
    if let Some((_, detail)) = &notice.links {
        text.push_str(&format!(" <{detail}|控制台>"));
    }
    json!({"text": text})
}

/// The generic webhook's JSON body (ours).
pub fn webhook_body(notice: &Notice) -> Json {
    let alarms: Vec<Json> = notice.times.iter().zip(&notice.alarms).map(|(t, a)| json!({"time": t, "timestamp": a.at_ms, "message": a.message})).collect();
    json!({
        "title": TITLE,
        "appId": notice.app,
        "appName": notice.app_name,
        "strategyId": notice.strategy,
        "contextType": notice.context,
        "agentId": notice.agent,
        "pid": notice.pid,
        "count": notice.alarms.len(),
        "period": notice.period(),
        "message": notice.latest(),
        "alarms": alarms,
        "link": notice.links.as_ref().map(|(_, d)| d.clone()),
    })
}

/// The generic webhook's signature header value: `sha256=` and the hex HMAC-SHA256, keyed by the rule's secret,
/// of `"{timestamp}.{body}"` (the timestamp, in seconds, is sent in its own header).
pub fn webhook_signature(secret: &str, now_secs: i64, body: &str) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), format!("{now_secs}.{body}").as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::logs::MetricEntry;

    fn entry(pid: i64, key: &str, value: f64) -> MetricEntry {
        MetricEntry { pid, tid: None, key: key.into(), value: Some(value) }
    }

    fn var<'a>(s: &'a Subject, k: &str) -> &'a Value {
        s.vars.get(k).unwrap_or_else(|| panic!("{k} in {:?}", s.vars.keys()))
    }

    #[test]
    fn system_contexts_have_the_computed_keys_and_one_per_disk() {
        let mut disks = serde_json::Map::new();
        disks.insert("/".into(), json!(40));
        disks.insert("/data".into(), json!(91));
        let log = SystemLog { total_memory: Some(1000.0), free_memory: Some(150.0), used_cpu: Some(0.8123), disks: Some(disks), ..Default::default() };
        let s = system_subjects(7, "host", &log);
        assert_eq!(s.len(), 3);
        assert_eq!(var(&s[0], "os_mem_usage"), &Value::Num(85.0));
        assert_eq!(var(&s[0], "os_cpu_usage"), &Value::Num(81.23));
        assert_eq!(var(&s[0], "load1"), &Value::Num(0.0), "missing keys are 0");
        assert_eq!(var(&s[2], "mounted_on"), &Value::from("/data"));
        assert_eq!(var(&s[2], "disk_usage"), &Value::Num(91.0));
        let empty = system_subjects(7, "host", &SystemLog::default());
        assert_eq!(var(&empty[0], "os_mem_usage"), &Value::Num(0.0));
    }

    #[test]
    fn xprofiler_contexts_compute_status_classes_and_gc_60() {
        let log = XprofilerLog {
            logs: vec![
                entry(1, "heap_used", 80.0),
                entry(1, "heap_limit", 100.0),
                entry(1, "res__200", 10.0),
                entry(1, "res__404", 3.0),
                entry(1, "res__503", 2.0),
                entry(1, "http_response_sent", 15.0),
                entry(1, "gc_time_during_last_record", 9000.0),
                entry(1, "cpu_300", 97.0),
                entry(2, "res__500", 4.0),
                entry(2, "http_response_sent", 4.0),
                entry(2, "http_request_timeout", 1.0),
            ],
            xprofiler_version: Some("3.1.0".into()),
            log_time: Some("2024-03-01 10:00:00".into()),
            log_timestamp: None,
        };
        let s = xprofiler_subjects(7, "host", &log);
        assert_eq!(s.len(), 3);
        let agg = &s[0];
        assert_eq!(agg.context, SYSTEM_LOG);
        assert_eq!((var(agg, "code_4xx"), var(agg, "code_5xx")), (&Value::Num(3.0), &Value::Num(6.0)));
        assert_eq!(var(agg, "http_response_sent"), &Value::Num(19.0));
        assert_eq!(var(agg, "expired_request"), &Value::Num(1.0));
        assert_eq!(var(agg, "statusMap"), &Value::from("{\"200\":10.0,\"404\":3.0,\"500\":4.0,\"503\":2.0}"));
        let p1 = &s[1];
        assert_eq!((p1.context, p1.pid), (XPROFILER_LOG, Some(1)));
        assert_eq!(var(p1, "pid"), &Value::from("1"));
        assert_eq!(var(p1, "gc_60"), &Value::Num(15.0));
        assert_eq!(var(p1, "cpu_300"), &Value::Num(97.0), "keys the tables do not store are kept");
        assert_eq!(var(p1, "rss"), &Value::Num(0.0), "missing process keys are 0");
        assert_eq!((var(p1, "code_4xx"), var(p1, "code_5xx")), (&Value::Num(3.0), &Value::Num(2.0)));
        let preset = rules::Expression::parse("@code_4xx / @http_response_sent + @code_5xx / @http_response_sent > 0.5").unwrap();
        assert!(!preset.matches(&agg.vars), "9 of 19");
        assert!(preset.matches(&s[2].vars), "4 of 4 on pid 2");
    }

    #[test]
    fn history_text_is_cut_as_the_original() {
        assert_eq!(history_text("short"), "short");
        let long = "告".repeat(300);
        let cut = history_text(&long);
        assert_eq!(cut.chars().count(), 248);
        assert!(cut.ends_with("告..."));
        assert_eq!(history_text(&"x".repeat(250)), "x".repeat(250));
    }

    #[test]
    fn links_follow_the_context() {
        let l = |ctx, expr, pid| links("http://c:8443/", 7, ctx, expr, "host 1", pid).unwrap().1;
        assert_eq!(l(XPROFILER_LOG, "@heap_used > 1", Some(42)), "http://c:8443/app/7/instance?tab=process&agentId=host%201&pid=42");
        assert_eq!(l(SYSTEM_LOG, "", None), "http://c:8443/app/7/instance?tab=system&agentId=host%201");
        assert_eq!(l(XTRANSIT_NOTIFICATION, "@core_count > 0", None), "http://c:8443/app/7/file");
        assert_eq!(l(XTRANSIT_NOTIFICATION, "@critical > 0", None), "http://c:8443/app/7/instance?tab=module_risk&agentId=host%201");
        assert_eq!(links("", 7, SYSTEM_LOG, "", "a", None), None);
    }

    #[test]
    fn signatures_are_the_channels() {
        // DingTalk's documented algorithm, checked against an independent HMAC of the same string.
        let url = dingtalk_url("https://oapi.example/robot/send?access_token=t", "SEC", 1_700_000_000_000);
        let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(b"SEC", b"1700000000000\nSEC"));
        assert_eq!(url, format!("https://oapi.example/robot/send?access_token=t&timestamp=1700000000000&sign={}", common::url::encode_query_value(&expected)));
        assert_eq!(dingtalk_url("https://x/y?a=1", "", 1), "https://x/y?a=1");
        assert_eq!(feishu_sign("s", 100), base64::engine::general_purpose::STANDARD.encode(hmac_sha256(b"100\ns", b"")));
        assert!(webhook_signature("k", 5, "{}").starts_with("sha256="));
        assert_eq!(webhook_signature("k", 5, "{}").len(), 7 + 64);
    }

    #[test]
    fn payloads_carry_the_count_latest_message_and_link() {
        let notice = Notice {
            app: 7,
            app_name: "shop".into(),
            strategy: 3,
            context: XPROFILER_LOG.into(),
            agent: "host".into(),
            pid: Some(42),
            alarms: vec![Held { at_ms: 1, message: "first".into(), pid: Some(42) }, Held { at_ms: 2, message: "second <b>".into(), pid: Some(42) }],
            links: links("http://c", 7, XPROFILER_LOG, "", "host", Some(42)),
            times: vec!["2024-03-01 10:00:00".into(), "2024-03-01 10:04:00".into()],
        };
        let text = notice.markdown();
        assert!(text.starts_with("[Easy-Monitor 性能监控] 您的应用 [shop](http://c/app/7/instance?) 在实例 host 于 2024-03-01 10:00:00 ~ 2024-03-01 10:04:00 发生 2 条告警: second <b>"), "{text}");
        assert!(text.ends_with("，点击 [控制台](http://c/app/7/instance?tab=process&agentId=host&pid=42) 查看详细信息"));
        assert_eq!(dingtalk_body(&notice)["at"], json!({"isAtAll": false}));
        assert!(notice.html().contains("second &lt;b&gt;") && notice.html().contains("<li>2024-03-01 10:00:00: first</li>"));
        let feishu = feishu_body(&notice, "sec", 100);
        assert_eq!(feishu["content"]["post"]["zh_cn"]["content"][0].as_array().unwrap().len(), 6);
        assert_eq!(feishu["timestamp"], "100");
        assert_eq!(webhook_body(&notice)["count"], 2);
        assert!(slack_body(&notice)["text"].as_str().unwrap().contains("<http://c/app/7/instance?tab=process&agentId=host&pid=42|控制台>"));
    }
}
