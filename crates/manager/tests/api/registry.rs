//! The agent registry in Redis, as the original keeps it.

use serde_json::json;

use crate::helpers::TestManager;

#[actix_web::test]
async fn heartbeats_register_and_closes_remove_only_the_same_client() {
    let m = TestManager::start().await;
    let now = chrono::Utc::now().timestamp_millis();
    let beat = |client: &str| json!({"appId": 1, "agentId": "vm", "clientId": client, "server": "127.0.0.1:1", "timestamp": now});
    assert_eq!(m.call("/xtransit/update_client", beat("c1")).await, json!({"ok": true}));
    let entry = m.entry("vm").await.unwrap();
    assert_eq!((entry.client_id.as_str(), entry.server.as_str(), entry.timestamp), ("c1", "127.0.0.1:1", now));

    // A close of another (older) client leaves the entry alone; a missing entry is not an error (the original 500s).
    assert_eq!(m.call("/xtransit/remove_client", json!({"appId": 1, "agentId": "vm", "clientId": "c0"})).await, json!({"ok": true}));
    assert!(m.entry("vm").await.is_some());
    assert_eq!(m.call("/xtransit/remove_client", json!({"appId": 1, "agentId": "vm", "clientId": "c1"})).await, json!({"ok": true}));
    assert!(m.entry("vm").await.is_none());
    assert_eq!(m.call("/xtransit/remove_client", json!({"appId": 1, "agentId": "vm", "clientId": "c1"})).await, json!({"ok": true}));
    m.finish().await;
}

#[actix_web::test]
async fn agents_behind_an_unreachable_ws_server_are_not_listed_nor_commanded() {
    let m = TestManager::start().await;
    let now = chrono::Utc::now().timestamp_millis();
    m.call("/xtransit/update_client", json!({"appId": 1, "agentId": "vm", "clientId": "c1", "server": "127.0.0.1:1", "timestamp": now})).await;
    assert_eq!(m.call("/xprofiler/clients", json!({"appId": "1"})).await, json!({"ok": true, "data": {"clients": []}}));
    assert_eq!(m.call("/xprofiler/clients", json!({"appId": "2"})).await, json!({"ok": true, "data": {}}));
    assert_eq!(m.call("/xprofiler/client", json!({"appId": "1", "agentId": "vm"})).await, json!({"ok": true, "data": {"client": {}}}));
    let reply = m.call("/xprofiler/agent_osinfo", json!({"appId": "1", "agentId": "vm"})).await;
    assert_eq!(reply, json!({"ok": true, "data": {"ok": false, "message": "app 1 agent vm not connected!", "code": "XPROFILER_NO_CLIENT"}}));
    m.finish().await;
}

#[actix_web::test]
async fn command_arguments_that_would_split_are_refused() {
    let m = TestManager::start().await;
    let reply = m.call("/xprofiler/check_file_status", json!({"appId": "1", "agentId": "vm", "filePath": "/tmp/a b.heapsnapshot"})).await;
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["code"], 400);
    let reply = m.call("/xprofiler/take_action", json!({"appId": "1", "agentId": "vm", "pid": 1, "command": "heapdump", "options": {"x": "a b"}})).await;
    assert_eq!(reply["code"], 400);
    m.finish().await;
}
