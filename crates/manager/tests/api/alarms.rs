//! The alarm engine end to end on the real MariaDB and Redis: rules stored as the console stores them, logs
//! posted as the ws-server posts them, and the messages caught by local receivers (an HTTP sink checking each
//! webhook's format and signature, an SMTP sink) on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpServer};
use base64::Engine as _;
use common::testing::eventually;
use hmac::{Hmac, Mac};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use sha2::Sha256;
use store::console_db::{contacts, strategies};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{captured_logs, fresh, today, TestManager};

/// One request the sink received.
#[derive(Debug, Clone)]
struct Caught {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Caught {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhooks post JSON")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

type Inbox = Arc<Mutex<Vec<Caught>>>;

/// An HTTP server on 127.0.0.1 that records every request and answers 200 (or 500 on `/fail`).
async fn webhook_sink() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let data = web::Data::new(inbox.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(|req: HttpRequest, body: String, inbox: web::Data<Inbox>| async move {
            let caught = Caught {
                path: req.path().to_owned(),
                query: req.query_string().to_owned(),
                headers: req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect(),
                body,
            };
            let fail = caught.path == "/fail";
            inbox.lock().unwrap().push(caught);
            match fail {
                true => actix_web::HttpResponse::InternalServerError().finish(),
                false => actix_web::HttpResponse::Ok().body("{\"errcode\":0}"),
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), inbox)
}

/// A minimal SMTP server on 127.0.0.1 (no TLS, no auth) that keeps each message's DATA.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

fn xprofiler_log() -> Value {
    let log = captured_logs().into_iter().find(|(k, v)| k == "xprofiler_log" && !v["data"]["logs"].as_array().unwrap().is_empty()).unwrap().1;
    fresh(log)
}

fn pids(log: &Value) -> usize {
    let pids: std::collections::BTreeSet<i64> = log["data"]["logs"].as_array().unwrap().iter().map(|e| e["pid"].as_i64().unwrap()).collect();
    pids.len()
}

async fn add_rule(m: &TestManager, context: &str, push: &str, expression: &str, content: &str, webhook: Option<(&str, &str, &str)>) -> u64 {
    let rule =
        strategies::Rule { context, push, expression, content, webhook: webhook.map(|(kind, address, sign)| strategies::Webhook { kind, address, sign }) };
    strategies::insert(&m.env.console_db(), 1, &rule).await.unwrap()
}

fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

async fn caught(inbox: &Inbox, path: &str) -> Vec<Caught> {
    inbox.lock().unwrap().iter().filter(|c| c.path == path).cloned().collect()
}

async fn history(m: &TestManager, strategy: u64) -> u64 {
    m.count(&format!("SELECT COUNT(*) FROM alarm_{} WHERE strategy = {strategy}", today())).await
}

const SETTINGS: &[(&str, &str)] = &[
    ("EZM__ALARM__ALLOW_PRIVATE_WEBHOOKS", "true"),
    ("EZM__ALARM__CONSOLE_PUBLIC_URL", "http://console.test:8443"),
    ("EZM__ALARM__DEBOUNCE_SECS", "2"),
    ("EZM__ALARM__RULES_CHECK_SECS", "1"),
    ("EZM__ALARM__SEND_RETRIES", "1"),
];

#[actix_web::test]
async fn a_heap_rule_fires_on_every_webhook_in_its_format_with_history_and_debounce() {
    let (sink, inbox) = webhook_sink().await;
    let m = TestManager::start_with(SETTINGS).await;
    m.add_app(1, "s").await;
    let content = "heap ${@heap_used / 1048576} MiB on \"${@pid}\"\\n";
    let ding = add_rule(&m, "xprofiler_log", "p1", "@heap_used > 1", content, Some(("dingtalk", &format!("{sink}/ding?access_token=t"), "SEC"))).await;
    let wecom = add_rule(&m, "xprofiler_log", "p2", "@heap_used > 1 && @heap_limit > 0", content, Some(("qywx", &format!("{sink}/wecom?key=k"), ""))).await;
    let feishu = add_rule(&m, "xprofiler_log", "p3", "@heap_used / @heap_limit > 0", content, Some(("feishu", &format!("{sink}/feishu"), "FS"))).await;
    let slack = add_rule(&m, "xprofiler_log", "p1", "(@heap_used + 1) * 2 > 2", content, Some(("slack", &format!("{sink}/slack"), ""))).await;
    let hook = add_rule(&m, "xprofiler_log", "p1", "!(@heap_used < 1)", content, Some(("webhook", &format!("{sink}/hook"), "HK"))).await;
    let record = add_rule(&m, "xprofiler_log", "p4", "@heap_used > 1", content, Some(("webhook", &format!("{sink}/never"), ""))).await;
    let quiet = add_rule(&m, "xprofiler_log", "p1", "@heap_used > 999999999999999", content, Some(("webhook", &format!("{sink}/quiet"), ""))).await;
    let _ = quiet;
    let log = xprofiler_log();
    let n = pids(&log) as u64;
    assert!(n >= 1);
    assert_eq!(m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": log})).await, json!({"ok": true}));

    // Every process fires every rule: one history row each; one message per channel (the rest are held).
    for rule in [ding, wecom, feishu, slack, hook, record] {
        eventually(10, "history rows", || async { history(&m, rule).await == n }).await;
    }
    eventually(10, "one message per webhook", || async {
        let all = inbox.lock().unwrap().clone();
        ["/ding", "/wecom", "/feishu", "/slack", "/hook"].iter().all(|p| all.iter().filter(|c| c.path == *p).count() == 1)
    })
    .await;
    assert!(caught(&inbox, "/never").await.is_empty(), "p4 records only");
    assert!(caught(&inbox, "/quiet").await.is_empty());

    let mut conn = m.env.logs_db().get_conn().await.unwrap();
    let (message, pid): (String, Option<i64>) =
        conn.query_first(format!("SELECT message, pid FROM alarm_{} WHERE strategy = {ding} LIMIT 1", today())).await.unwrap().unwrap();
    drop(conn);
    assert!(message.starts_with("heap ") && message.contains(" MiB on \"") && message.ends_with("\"\\n"), "{message}");
    assert!(pid.is_some());

    // DingTalk: signed address, markdown, `at` at the top level, deep link.
    let d = &caught(&inbox, "/ding").await[0];
    let query: std::collections::HashMap<String, String> = url_pairs(&d.query);
    let ts = &query["timestamp"];
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac256(b"SEC", format!("{ts}\nSEC").as_bytes()));
    assert_eq!((query["access_token"].as_str(), query["sign"].as_str()), ("t", expected.as_str()));
    let body = d.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["at"], json!({"isAtAll": false}));
    let text = body["markdown"]["text"].as_str().unwrap();
    assert!(text.starts_with("[Easy-Monitor 性能监控] 您的应用 [app1](http://console.test:8443/app/1/instance?) 在实例 vm 于 "), "{text}");
    assert!(text.contains("tab=process&agentId=vm&pid="), "{text}");
    // WeCom and Feishu (signed) and Slack.
    assert_eq!(caught(&inbox, "/wecom").await[0].json()["msgtype"], "markdown");
    let f = caught(&inbox, "/feishu").await[0].json();
    let fts: i64 = f["timestamp"].as_str().unwrap().parse().unwrap();
    let fsign = base64::engine::general_purpose::STANDARD.encode(hmac256(format!("{fts}\nFS").as_bytes(), b""));
    assert_eq!(f["sign"], fsign);
    assert_eq!(f["content"]["post"]["zh_cn"]["content"][0].as_array().unwrap().len(), 6);
    assert!(caught(&inbox, "/slack").await[0].json()["text"].as_str().unwrap().contains("|控制台>"));
    // The generic webhook: verifiable HMAC-SHA256 over "{timestamp}.{body}".
    let h = &caught(&inbox, "/hook").await[0];
    let hts = h.header("x-easy-monitor-timestamp").unwrap();
    let sig = format!("sha256={}", hex::encode(hmac256(b"HK", format!("{hts}.{}", h.body).as_bytes())));
    assert_eq!(h.header("x-easy-monitor-signature"), Some(sig.as_str()));
    assert_eq!((h.json()["strategyId"].as_u64(), h.json()["count"].as_u64()), (Some(hook), Some(1)));

    // A second log inside the window: history grows, nothing is sent; at the window's end the held messages go
    // out as one summary.
    let again = xprofiler_log();
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": again})).await;
    eventually(10, "second history rows", || async { history(&m, hook).await == 2 * n }).await;
    assert_eq!(caught(&inbox, "/hook").await.len(), 1, "held in the window");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let sent = m.state.engine.flush_once(chrono::Utc::now().timestamp_millis() + 1000).await.unwrap();
    assert!(sent >= 5, "one summary per channel: {sent}");
    let summaries = caught(&inbox, "/hook").await;
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[1].json()["count"].as_u64(), Some(2 * n - 1), "everything held is summarised: {}", summaries[1].body);
    assert!(caught(&inbox, "/ding").await[1].json()["markdown"]["text"].as_str().unwrap().contains(&format!("发生 {} 条告警", 2 * n - 1)));
    // Nothing is sent twice: the flush found nothing more.
    assert_eq!(m.state.engine.flush_once(chrono::Utc::now().timestamp_millis() + 10_000).await.unwrap(), 0);
    assert_eq!(caught(&inbox, "/hook").await.len(), 2);
    m.finish().await;
}

fn url_pairs(query: &str) -> std::collections::HashMap<String, String> {
    query.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), percent_decode(v))).collect()
}

fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[actix_web::test]
async fn mail_reaches_the_contacts_and_system_and_error_rules_see_their_variables() {
    let (sink, inbox) = webhook_sink().await;
    let (smtp_port, mails) = smtp_sink().await;
    let port = smtp_port.to_string();
    let mut settings = SETTINGS.to_vec();
    settings.extend([("EZM__ALARM__SMTP_HOST", "127.0.0.1"), ("EZM__ALARM__SMTP_PORT", port.as_str()), ("EZM__ALARM__SMTP_FROM", "alarm@example.com")]);
    let m = TestManager::start_with(&settings).await;
    m.add_app(1, "s").await;
    let mut conn = m.env.console_db().get_conn().await.unwrap();
    conn.query_drop("INSERT INTO user (id, name, nick, pass, identity, mail) VALUES (5, 'ops', 'Ops', '', '100005', 'ops@example.com')").await.unwrap();
    drop(conn);
    let disk = add_rule(&m, "system_log", "p3", "@disk_usage > 0 && @mounted_on == \"/\"", "disk ${@mounted_on} at ${@disk_usage}%", None).await;
    contacts::add(&m.env.console_db(), disk, 5).await.unwrap();
    let mem =
        add_rule(&m, "system_log", "p1", "@os_mem_usage > 1", "mem ${@os_mem_usage}% cpu ${@os_cpu_usage}%", Some(("webhook", &format!("{sink}/mem"), "")))
            .await;
    let errors =
        add_rule(&m, "error_log", "p1", "@error_type include \"Error\"", "${@error_type} in ${@log_path}", Some(("webhook", &format!("{sink}/err"), ""))).await;
    let bad = add_rule(&m, "system_log", "p1", "@os_mem_usage >", "x", None).await;

    let system = fresh(captured_logs().into_iter().find(|(k, _)| k == "system_log").unwrap().1);
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": system})).await;
    eventually(10, "the disk mail", || async { mails.lock().unwrap().len() == 1 }).await;
    let mail = mails.lock().unwrap()[0].clone();
    assert!(mail.contains("To: ops@example.com") && mail.contains("From: alarm@example.com"), "{mail}");
    assert!(mail.contains("text/plain") && mail.contains("text/html"), "HTML and plain text");
    eventually(10, "the memory webhook", || async { !caught(&inbox, "/mem").await.is_empty() }).await;
    let mem_message = caught(&inbox, "/mem").await[0].json()["message"].as_str().unwrap().to_owned();
    assert!(mem_message.starts_with("mem ") && !mem_message.contains("undefined"), "{mem_message}");
    assert_eq!(history(&m, mem).await, 1);
    assert_eq!(history(&m, bad).await, 0, "an invalid rule never fires");
    let metrics = reqwest::get(format!("{}/metrics", m.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("ezm_manager_alarm_rules_invalid_total 1"), "{metrics}");

    let error_log = captured_logs()
        .into_iter()
        .find(|(k, v)| k == "error_log" && v["data"].as_object().unwrap().values().any(|l| !l.as_array().unwrap().is_empty()))
        .unwrap()
        .1;
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": error_log})).await;
    eventually(10, "the error webhook", || async { !caught(&inbox, "/err").await.is_empty() }).await;
    assert!(history(&m, errors).await >= 1);
    // The invalid rule is reported once however many logs come.
    let metrics = reqwest::get(format!("{}/metrics", m.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("ezm_manager_alarm_rules_invalid_total 1"));
    m.finish().await;
}

#[actix_web::test]
async fn an_agent_going_offline_raises_one_alarm_however_it_is_noticed() {
    let (sink, inbox) = webhook_sink().await;
    let m = TestManager::start_with(SETTINGS).await;
    m.add_app(1, "s").await;
    let rule = add_rule(&m, "xtransit_notification", "p1", "@agentOffline", "${@agentId} offline", Some(("webhook", &format!("{sink}/off"), ""))).await;
    let now = chrono::Utc::now().timestamp_millis();
    let beat = |agent: &str, client: &str, ts: i64| json!({"appId": 1, "agentId": agent, "clientId": client, "server": "127.0.0.1:1", "timestamp": ts});
    m.call("/xtransit/update_client", beat("vm", "c1", now)).await;
    // The socket closes: once, however often the close is reported.
    m.call("/xtransit/remove_client", json!({"appId": 1, "agentId": "vm", "clientId": "c1"})).await;
    m.call("/xtransit/remove_client", json!({"appId": 1, "agentId": "vm", "clientId": "c1"})).await;
    eventually(10, "the offline alarm", || async { history(&m, rule).await == 1 }).await;
    // A heartbeat that stopped (its ws-server died): found by the scan, once whatever the number of scans.
    m.call("/xtransit/update_client", beat("vm2", "c2", now - 400_000)).await;
    for _ in 0..3 {
        manager::jobs::alarms::offline_once(&m.state.registry, &m.state.alarms, chrono::Utc::now().timestamp_millis()).await.unwrap();
    }
    eventually(10, "the stale agent's alarm", || async { history(&m, rule).await == 2 }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(history(&m, rule).await, 2);
    let bodies: Vec<String> = caught(&inbox, "/off").await.iter().map(|c| c.json()["message"].as_str().unwrap().to_owned()).collect();
    assert_eq!(bodies, ["vm offline", "vm2 offline"]);
    m.finish().await;
}

#[actix_web::test]
async fn changed_rules_apply_without_a_restart_and_private_webhooks_are_refused_by_default() {
    let m = TestManager::start_with(&[("EZM__ALARM__RULES_CHECK_SECS", "1"), ("EZM__ALARM__SEND_RETRIES", "0")]).await;
    m.add_app(1, "s").await;
    let log = || fresh(captured_logs().into_iter().find(|(k, _)| k == "system_log").unwrap().1);
    // A rule that fires on the first log tells when the manager has evaluated it (and cached the app's rules then):
    // the log is evaluated after the call returns, later under load.
    let cached = add_rule(&m, "system_log", "p1", "@cpu_count > 0", "cached", None).await;
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": log()})).await;
    eventually(10, "the first log is evaluated", || async { history(&m, cached).await == 1 }).await;
    // Added after the app's rules were cached: the console bumps the version, the manager re-reads.
    let rule = add_rule(&m, "system_log", "p1", "@cpu_count > 0", "cpus ${@cpu_count}", Some(("webhook", "http://127.0.0.1:9/x", ""))).await;
    let mut conn = m.env.redis().get().await.unwrap();
    let key = store::keys::Keys::new(m.env.settings.redis.key_prefix.clone()).alarm_rules_version("1");
    deadpool_redis::redis::cmd("INCR").arg(&key).query_async::<()>(&mut conn).await.unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": log()})).await;
    eventually(10, "the new rule fires", || async { history(&m, rule).await == 1 }).await;
    // Its webhook is on loopback, which the default settings refuse: recorded as a failure.
    eventually(10, "the refused webhook is counted", || async {
        let metrics = reqwest::get(format!("{}/metrics", m.base)).await.unwrap().text().await.unwrap();
        metrics.contains("ezm_manager_notifications_failed_total{channel=\"webhook\"} 1")
    })
    .await;
    m.finish().await;
}

/// A ws-server stand-in on 127.0.0.1: every client is alive, and every command answers as xprofctl does for a heap
/// snapshot. Records the commands.
async fn fake_ws_server() -> (String, Arc<Mutex<Vec<Value>>>) {
    let commands: Arc<Mutex<Vec<Value>>> = Arc::default();
    let data = web::Data::new(commands.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/xapi/check_client_alive", web::post().to(|| async { actix_web::HttpResponse::Ok().json(json!({"ok": true, "data": {"0": true}})) }))
            .route(
                "/xapi/exec_command",
                web::post().to(|body: String, commands: web::Data<Arc<Mutex<Vec<Value>>>>| async move {
                    commands.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                    let stdout = json!({"filepath": "/tmp/x-42.heapsnapshot"}).to_string();
                    actix_web::HttpResponse::Ok().json(json!({"ok": true, "data": {"ok": true, "data": {"stdout": stdout, "stderr": ""}}}))
                }),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("127.0.0.1:{port}"), commands)
}

#[actix_web::test]
async fn a_rule_with_an_action_takes_a_heap_snapshot_of_the_process_once_per_interval() {
    let (sink, inbox) = webhook_sink().await;
    let (ws, commands) = fake_ws_server().await;
    let m = TestManager::start_with(SETTINGS).await;
    m.add_app(1, "s").await;
    let rule = add_rule(&m, "xprofiler_log", "p1", "@heap_used > 1", "heap ${@heap_used}", Some(("webhook", &format!("{sink}/hook"), ""))).await;
    store::console_db::alarm_actions::set(&m.env.console_db(), rule, Some("heapsnapshot")).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    m.call("/xtransit/update_client", json!({"appId": 1, "agentId": "vm", "clientId": "c1", "server": ws, "timestamp": now})).await;
    let log = xprofiler_log();
    let n = pids(&log);
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": log})).await;
    eventually(15, "the alarm message", || async { !caught(&inbox, "/hook").await.is_empty() }).await;
    let message = caught(&inbox, "/hook").await[0].json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("[heapsnapshot: /tmp/x-42.heapsnapshot http://console.test:8443/app/1/file]"), "{message}");
    eventually(15, "one snapshot per process", || async { commands.lock().unwrap().len() == n }).await;
    let command = commands.lock().unwrap()[0]["command"].as_str().unwrap().to_owned();
    assert!(command.starts_with("xprofctl ") && command.contains(" heapdump"), "{command}");
    let mut conn = m.env.console_db().get_conn().await.unwrap();
    let (kind, user, status): (String, u64, u8) =
        conn.query_first("SELECT type, user, status FROM files WHERE app = 1 AND agent = 'vm'").await.unwrap().unwrap();
    assert_eq!((kind.as_str(), user, status), ("heapsnapshot", 999_999, 0), "recorded as the console records actions, by System");
    drop(conn);
    // The same rule firing again on the same processes within the interval takes nothing more.
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": xprofiler_log()})).await;
    eventually(10, "second history rows", || async { history(&m, rule).await == 2 * n as u64 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(commands.lock().unwrap().len(), n, "rate-limited per process and rule");
    m.finish().await;
}

/// An npm-compatible registry stand-in on 127.0.0.1: the bulk advisory endpoint, with one high advisory for the
/// first package asked about. Records the request bodies.
async fn fake_registry() -> (String, Arc<Mutex<Vec<Value>>>) {
    let asked: Arc<Mutex<Vec<Value>>> = Arc::default();
    let data = web::Data::new(asked.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/-/npm/v1/security/advisories/bulk",
            web::post().to(|body: web::Json<Value>, asked: web::Data<Arc<Mutex<Vec<Value>>>>| async move {
                let first = body.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
                asked.lock().unwrap().push(body.into_inner());
                actix_web::HttpResponse::Ok()
                    .json(json!({first: [{"id": 1, "url": "https://advisories.test/1", "title": "t", "severity": "high", "vulnerable_versions": "<99"}]}))
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), asked)
}

#[actix_web::test]
async fn a_package_report_is_audited_once_per_cache_period_and_feeds_the_risk_rules() {
    let (sink, inbox) = webhook_sink().await;
    let (registry, asked) = fake_registry().await;
    let mut settings = SETTINGS.to_vec();
    settings.push(("EZM__MANAGER__AUDIT_REGISTRY_URL", registry.as_str()));
    let m = TestManager::start_with(&settings).await;
    m.add_app(1, "s").await;
    let rule = add_rule(
        &m,
        "xtransit_notification",
        "p1",
        "@critical > 0 || @high > 0",
        "${@high} high, ${@critical} critical",
        Some(("webhook", &format!("{sink}/risk"), "")),
    )
    .await;
    let package = captured_logs().into_iter().find(|(k, _)| k == "package").unwrap().1;
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": package.clone()})).await;
    eventually(10, "the risk alarm", || async { !caught(&inbox, "/risk").await.is_empty() }).await;
    assert_eq!(caught(&inbox, "/risk").await[0].json()["message"], "1 high, 0 critical");
    assert_eq!(history(&m, rule).await, 1);
    let request = asked.lock().unwrap()[0].clone();
    assert!(request.as_object().unwrap().values().all(|v| v.is_array()), "{{name: [versions]}}");
    let files = m.call("/xprofiler/files", json!({"appId": 1, "agentId": "vm", "type": "package"})).await;
    let file = &files["data"]["files"][0];
    assert_eq!(file["risk"]["vulnerabilities"]["high"], 1, "{files}");
    assert!(file["riskModules"].as_object().is_some_and(|m| m.len() == 1));
    // The next report within the cache period asks the registry nothing.
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": package})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(asked.lock().unwrap().len(), 1);
    m.finish().await;
}

/// aiosmtpd (`crates/manager/tests/smtp/sink.py`, installed by `install-aiosmtpd.sh`) on a free loopback port, with
/// a certificate for 127.0.0.1 from a private CA made by openssl: it takes mail only after STARTTLS and AUTH.
struct TlsSmtpSink {
    child: std::process::Child,
    dir: std::path::PathBuf,
    port: u16,
}

impl TlsSmtpSink {
    fn start(user: &str, password: &str) -> TlsSmtpSink {
        let tools = std::env::var("EZM_TOOLS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/easy-monitor"));
        let python = tools.join("aiosmtpd-venv/bin/python");
        assert!(python.exists(), "{} is missing: run crates/manager/tests/smtp/install-aiosmtpd.sh (deploy/local/test.sh does)", python.display());
        let dir = std::env::temp_dir().join(format!("ezm-smtp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("out")).unwrap();
        // A private CA (ca.pem, what the manager is told to trust) and the relay's certificate signed by it.
        std::fs::write(dir.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
        let openssl = |args: &str| {
            let made = std::process::Command::new("openssl").args(args.split(' ')).current_dir(&dir).output().expect("openssl runs");
            assert!(made.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&made.stderr));
        };
        openssl("req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ezm-test-ca -keyout ca.key -out ca.pem");
        openssl("req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout key.pem -out leaf.csr");
        openssl("x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.ext -out cert.pem");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let sink = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/sink.py");
        let mut child = std::process::Command::new(python)
            .arg(sink)
            .arg(port.to_string())
            .arg(dir.join("cert.pem"))
            .arg(dir.join("key.pem"))
            .arg(user)
            .arg(password)
            .arg(dir.join("out"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        TlsSmtpSink { child, dir, port }
    }

    fn mails(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.join("out")).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        names.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }
}

impl Drop for TlsSmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_web::test]
async fn mail_goes_over_starttls_with_auth_to_a_relay_of_a_private_ca() {
    let sink = TlsSmtpSink::start("alarm-bot", "s3cret pass");
    let (port, ca) = (sink.port.to_string(), sink.dir.join("ca.pem").display().to_string());
    let mut settings = SETTINGS.to_vec();
    settings.extend([
        ("EZM__ALARM__SMTP_HOST", "127.0.0.1"),
        ("EZM__ALARM__SMTP_PORT", port.as_str()),
        ("EZM__ALARM__SMTP_TLS", "starttls"),
        ("EZM__ALARM__SMTP_TLS_CA_FILE", ca.as_str()),
        ("EZM__ALARM__SMTP_USER", "alarm-bot"),
        ("EZM__ALARM__SMTP_PASSWORD", "s3cret pass"),
        ("EZM__ALARM__SMTP_FROM", "alarm@example.com"),
    ]);
    let m = TestManager::start_with(&settings).await;
    m.add_app(1, "s").await;
    let mut conn = m.env.console_db().get_conn().await.unwrap();
    conn.query_drop("INSERT INTO user (id, name, nick, pass, identity, mail) VALUES (5, 'ops', 'Ops', '', '100005', 'ops@example.com')").await.unwrap();
    drop(conn);
    let rule = add_rule(&m, "system_log", "p3", "@os_mem_usage > 1", "mem ${@os_mem_usage}%", None).await;
    contacts::add(&m.env.console_db(), rule, 5).await.unwrap();
    let system = fresh(captured_logs().into_iter().find(|(k, _)| k == "system_log").unwrap().1);
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": system})).await;
    eventually(15, "the mail through STARTTLS", || async { sink.mails().len() == 1 }).await;
    let mail = &sink.mails()[0];
    assert_eq!((mail["tls"].as_bool(), mail["auth"].as_str()), (Some(true), Some("alarm-bot")), "encrypted and authenticated: {mail}");
    assert_eq!(mail["to"], json!(["ops@example.com"]));
    assert!(mail["data"].as_str().unwrap().contains("mem "), "{mail}");
    m.finish().await;
}
