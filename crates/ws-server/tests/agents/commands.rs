//! Commands from the manager through the ws-server to an agent and back.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{now, Agent, Stack};

/// Answers `get_os_info` like the real agent; ignores everything else (as the agent does when a command fails).
async fn answer_commands(mut agent: Agent) {
    while let Some(Ok(msg)) = agent.ws.next().await {
        let Message::Text(text) = msg else { continue };
        let cmd: Value = serde_json::from_str(&text).unwrap();
        if cmd["type"] != "exec_command" || cmd["data"]["command"] != "get_os_info" {
            continue;
        }
        let data = json!({"ok": true, "data": {"stdout": "{\"nodeVersion\":\"20.20.2\"}\n", "stderr": ""}});
        let frame = agent.frame("response", &data.to_string(), now(), cmd["traceId"].as_str().unwrap());
        agent.ws.send(Message::text(frame)).await.unwrap();
    }
}

#[actix_web::test]
async fn a_command_round_trips_and_an_unanswered_one_expires() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent("vm").await;
    agent.send("heartbeat", "{}").await;
    s.eventually("agent listed", || async { s.clients().await.len() == 1 }).await;
    tokio::spawn(answer_commands(agent));

    let reply = s.manager_call("/xprofiler/agent_osinfo", json!({"appId": "1", "agentId": "vm"})).await;
    assert_eq!(reply, json!({"ok": true, "data": {"ok": true, "data": {"stdout": "{\"nodeVersion\":\"20.20.2\"}\n", "stderr": ""}}}));

    let started = std::time::Instant::now();
    let reply = s.manager_call("/xprofiler/check_file_status", json!({"appId": "1", "agentId": "vm", "filePath": "/tmp/x", "expiredTime": 500})).await;
    assert_eq!(reply["data"]["ok"], false);
    assert_eq!(reply["data"]["code"], "XPROFILER_EXPIRED");
    assert!(started.elapsed() < Duration::from_secs(5));
    s.finish().await;
}

#[actix_web::test]
async fn xapi_answers_for_unknown_clients_and_liveness() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent("vm").await;
    agent.send("heartbeat", "{}").await;
    s.eventually("agent listed", || async { s.clients().await.len() == 1 }).await;
    let client_id = agent.id.client_id.clone();

    let reply = s.xapi("/xapi/exec_command", json!({"appId": 1, "agentId": "vm", "clientId": "other", "command": "get_os_info"})).await;
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["code"], "XPROFILER_NO_CLIENT");

    let clients = json!([{"appId": 1, "agentId": "vm", "clientId": client_id}, {"appId": "1", "agentId": "vm", "clientId": "gone"}]);
    let reply = s.xapi("/xapi/check_client_alive", json!({"clients": clients})).await;
    assert_eq!(reply, json!({"ok": true, "data": {"0": true, "1": false}}));
    s.finish().await;
}
