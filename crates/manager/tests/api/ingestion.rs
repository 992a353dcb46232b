//! `/xtransit/log` with every log kind the real agent sent, and the console routes that read them back.

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

use crate::helpers::{captured_logs, fresh, today, TestManager};

fn first(kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    captured_logs().into_iter().find(|(k, v)| k == kind && pred(v)).map(|(_, v)| v).unwrap_or_else(|| panic!("fixture has {kind}"))
}

#[actix_web::test]
async fn captured_metrics_land_in_the_day_tables() {
    let m = TestManager::start().await;
    let xlog = fresh(first("xprofiler_log", |v| !v["data"]["logs"].as_array().unwrap().is_empty()));
    let pids: std::collections::BTreeSet<i64> = xlog["data"]["logs"].as_array().unwrap().iter().map(|e| e["pid"].as_i64().unwrap()).collect();
    let reply = m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": xlog})).await;
    assert_eq!(reply, json!({"ok": true}));
    let system = fresh(first("system_log", |_| true));
    assert_eq!(m.call("/xtransit/log", json!({"appId": "1", "agentId": "vm", "log": system})).await, json!({"ok": true}));

    let day = today();
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM process_{day} WHERE app = 1 AND agent = 'vm'")).await, pids.len() as u64);
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{day} WHERE position = 1")).await, 1);
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{day} WHERE position = 0")).await, 1);
    let mut conn = m.env.logs_db().get_conn().await.unwrap();
    let (heap_used, version, codes): (u64, String, String) =
        conn.query_first(format!("SELECT heap_used, version, response_codes FROM process_{day} LIMIT 1")).await.unwrap().unwrap();
    assert!(heap_used > 1_000_000, "heap_used {heap_used}");
    assert_eq!(version, "3.1.0");
    assert!(codes.starts_with('{'));
    let (cpu_count, total, disks): (u32, u64, String) =
        conn.query_first(format!("SELECT cpu_count, total_memory, disks FROM osinfo_{day} WHERE position = 0")).await.unwrap().unwrap();
    assert_eq!((cpu_count, total), (2, 25276502016));
    assert!(disks.contains("\"/\""));
    drop(conn);
    m.finish().await;
}

#[actix_web::test]
async fn a_retried_post_with_the_same_trace_id_is_stored_once() {
    let m = TestManager::start().await;
    let xlog = fresh(first("xprofiler_log", |v| !v["data"]["logs"].as_array().unwrap().is_empty()));
    let body = json!({"appId": 1, "agentId": "vm", "log": xlog, "traceId": "retry-1"});
    assert_eq!(m.call("/xtransit/log", body.clone()).await, json!({"ok": true}));
    assert_eq!(m.call("/xtransit/log", body).await, json!({"ok": true}));
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{} WHERE position = 1", today())).await, 1);
    m.finish().await;
}

#[actix_web::test]
async fn a_sample_sent_again_is_stored_once_even_when_its_trace_id_is_forgotten() {
    // Redis restarted (the traceIds it remembered are gone) or the post came back without one: the sample keys
    // (app, agent, pid, log_time; app, agent, position, log_time) still recognise the rows.
    let m = TestManager::start().await;
    let xlog = fresh(first("xprofiler_log", |v| !v["data"]["logs"].as_array().unwrap().is_empty()));
    let pids: std::collections::BTreeSet<i64> = xlog["data"]["logs"].as_array().unwrap().iter().map(|e| e["pid"].as_i64().unwrap()).collect();
    let system = fresh(first("system_log", |_| true));
    for _ in 0..3 {
        assert_eq!(m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": xlog})).await, json!({"ok": true}));
        assert_eq!(m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": system})).await, json!({"ok": true}));
    }
    let day = today();
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM process_{day}")).await, pids.len() as u64);
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{day}")).await, 2, "one system row, one xprofiler aggregate");
    // Another agent's sample of the same second is its own row.
    assert_eq!(m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm2", "log": system})).await, json!({"ok": true}));
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{day}")).await, 3);
    m.finish().await;
}

#[actix_web::test]
async fn error_logs_are_listed_and_paged_newest_first() {
    let m = TestManager::start().await;
    let errors = first("error_log", |v| v["data"].as_object().unwrap().values().any(|l| !l.as_array().unwrap().is_empty()));
    let (file, entries) = errors["data"].as_object().unwrap().iter().next().map(|(k, v)| (k.clone(), v.as_array().unwrap().clone())).unwrap();
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": errors})).await;

    let files = m.call("/xprofiler/files", json!({"appId": "1", "agentId": "vm", "type": "error"})).await;
    assert_eq!(files, json!({"ok": true, "data": {"files": [file]}}));
    let page = m.call("/xprofiler/errors", json!({"appId": "1", "agentId": "vm", "errorFile": file, "currentPage": "1", "pageSize": "1"})).await;
    assert_eq!(page["data"]["count"], json!(entries.len()));
    assert_eq!(page["data"]["errors"][0], *entries.last().unwrap(), "newest (last reported) first");
    let missing = m.call("/xprofiler/errors", json!({"appId": "1", "agentId": "vm", "errorFile": "/nope", "currentPage": 1, "pageSize": 10})).await;
    assert_eq!(missing, json!({"ok": false, "message": "file /nope not exists on [1::vm]"}));
    m.finish().await;
}

#[actix_web::test]
async fn package_files_list_modules_from_a_v3_lockfile() {
    let m = TestManager::start().await;
    let package = first("package", |_| true);
    m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": package})).await;
    let files = m.call("/xprofiler/files", json!({"appId": 1, "agentId": "vm", "type": "package", "options": {"fromCache": true}})).await;
    assert_eq!(files, json!({"ok": true, "data": {"files": [{"filePath": "/srv/demo/package.json"}]}}));
    let modules = m.call("/xprofiler/modules", json!({"appId": 1, "agentId": "vm", "moduleFile": "/srv/demo/package.json"})).await;
    assert_eq!(modules["data"]["dependencies"], json!({"xprofiler": "^3.1.0", "xtransit": "^3.1.0"}));
    assert_eq!(modules["data"]["lockModule"]["xtransit"]["version"], "3.1.0");
    m.finish().await;
}

#[actix_web::test]
async fn core_files_become_coredump_rows_once() {
    let m = TestManager::start().await;
    let log = json!({"type": "core_files", "data": {"list": [{"core_path": "/cores/core.42", "executable_path": "/usr/bin/node", "node_version": "20.20.2"}]}});
    for _ in 0..2 {
        assert_eq!(m.call("/xtransit/log", json!({"appId": 3, "agentId": "vm", "log": log})).await, json!({"ok": true}));
    }
    let mut conn = m.env.console_db().get_conn().await.unwrap();
    let rows: Vec<(String, String, u32)> = conn.query("SELECT file, node, user FROM coredumps WHERE app = 3").await.unwrap();
    assert_eq!(rows, vec![("/cores/core.42".into(), r#"{"executable_path":"/usr/bin/node","alinode":false,"version":"20.20.2"}"#.into(), 999999)]);
    drop(conn);
    m.finish().await;
}

#[actix_web::test]
async fn a_malformed_log_is_refused_clearly() {
    let m = TestManager::start().await;
    let log = json!({"type": "xprofiler_log", "data": {"logs": [{"pid": "not-a-pid", "key": "cpu_now", "value": 1}]}});
    let reply = m.call("/xtransit/log", json!({"appId": 1, "agentId": "vm", "log": log})).await;
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["code"], 400);
    m.finish().await;
}

#[actix_web::test]
async fn an_action_marks_the_profile_file_created() {
    let m = TestManager::start().await;
    let mut conn = m.env.console_db().get_conn().await.unwrap();
    conn.query_drop("INSERT INTO files (app, agent, type, file, user, status) VALUES (1, 'vm', 'cpuprofile', '/tmp/x.cpuprofile', 1, 0)").await.unwrap();
    let reply = m.call("/xtransit/update_action_status", json!({"appId": 1, "agentId": "vm", "filePath": "/tmp/x.cpuprofile"})).await;
    assert_eq!(reply, json!({"ok": true}));
    let status: Option<u8> = conn.query_first("SELECT status FROM files WHERE file = '/tmp/x.cpuprofile'").await.unwrap();
    assert_eq!(status, Some(1));
    drop(conn);
    m.finish().await;
}

#[actix_web::test]
async fn a_batch_runs_every_item_and_answers_each_one() {
    let m = TestManager::start().await;
    let xlog = fresh(first("xprofiler_log", |v| !v["data"]["logs"].as_array().unwrap().is_empty()));
    let now = chrono::Utc::now().timestamp_millis();
    let items = json!([
        {"route": "update_client", "body": {"appId": 1, "agentId": "vm", "clientId": "c1", "server": "127.0.0.1:1", "timestamp": now}},
        {"route": "log", "body": {"appId": 1, "agentId": "vm", "log": xlog, "traceId": "b-1"}},
        {"route": "log", "body": {"appId": 1, "agentId": "vm"}},
        {"route": "nope", "body": {}},
        {"route": "remove_client", "body": {"appId": 1, "agentId": "other", "clientId": "c9"}},
    ]);
    let reply = m.call("/xtransit/batch", json!({"items": items})).await;
    let results = &reply["data"]["results"];
    assert_eq!(results[0], json!({"ok": true}));
    assert_eq!(results[1], json!({"ok": true}));
    assert_eq!(results[2], json!({"ok": false, "message": "缺少参数"}), "caller mistakes are not retried");
    assert_eq!(results[3]["ok"], false);
    assert_eq!(results[4], json!({"ok": true}));
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{} WHERE position = 1", today())).await, 1);
    assert!(m.entry("vm").await.is_some());
    m.finish().await;
}

#[actix_web::test]
async fn a_batch_item_sent_again_is_stored_once() {
    let m = TestManager::start().await;
    let xlog = fresh(first("xprofiler_log", |v| !v["data"]["logs"].as_array().unwrap().is_empty()));
    let item = json!({"route": "log", "body": {"appId": 1, "agentId": "vm", "log": xlog, "traceId": "t-42"}});
    m.call("/xtransit/batch", json!({"items": [item.clone()]})).await;
    let mut again = item;
    again["retry"] = json!(true);
    let reply = m.call("/xtransit/batch", json!({"items": [again]})).await;
    assert_eq!(reply["data"]["results"][0], json!({"ok": true}));
    assert_eq!(m.count(&format!("SELECT COUNT(*) FROM osinfo_{} WHERE position = 1", today())).await, 1);
    m.finish().await;
}
