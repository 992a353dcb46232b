//! Agent sessions: verification, forwarding, rejection and close.

use serde_json::json;

use crate::helpers::{captured_log, now, Stack, SECRET};

#[actix_web::test]
async fn a_heartbeat_on_any_path_registers_the_agent_and_a_close_removes_it() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent_on("/", "host-a", SECRET).await;
    agent.send("heartbeat", "{}").await;
    let mut chat = s.agent_on("/chat?x=1", "host-b", SECRET).await;
    chat.send("heartbeat", "{}").await;
    s.eventually("both agents listed", || async { s.clients().await.len() == 2 }).await;
    let client = s.manager_call("/xprofiler/client", json!({"appId": "1", "agentId": "host-a"})).await;
    assert_eq!(client["data"]["client"]["server"], format!("127.0.0.1:{}", s.ws_port));

    agent.ws.close(None).await.unwrap();
    s.eventually("the closed agent is gone", || async { s.clients().await == vec!["host-b".to_string()] }).await;
    s.finish().await;
}

#[actix_web::test]
async fn logs_sent_before_the_first_heartbeat_are_stored() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent("vm").await;
    agent.send("log", &captured_log("xprofiler_log")).await;
    agent.send("log", &captured_log("system_log")).await;
    let day = chrono::Local::now().format("%d").to_string();
    s.eventually("process rows", || async { s.count(&format!("SELECT COUNT(*) FROM process_{day}")).await > 0 }).await;
    s.eventually("both osinfo positions", || async { s.count(&format!("SELECT COUNT(DISTINCT position) FROM osinfo_{day}")).await == 2 }).await;
    s.finish().await;
}

#[actix_web::test]
async fn a_bad_signature_closes_the_socket_with_a_reason_not_a_shutdown() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent_on("/", "vm", "wrong-secret").await;
    agent.send("heartbeat", "{}").await;
    let (code, reason) = agent.closed().await.expect("the server closes the socket");
    assert_eq!((code, reason.as_str()), (1008, "signature mismatch"));
    assert!(s.clients().await.is_empty());
    s.finish().await;
}

#[actix_web::test]
async fn unknown_apps_and_frames_without_identity_are_refused() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent("vm").await;
    agent.id.app_id_json = "99".into();
    agent.send("heartbeat", "{}").await;
    assert_eq!(agent.closed().await, Some((1008, "appId 99 not exists".into())));

    let mut agent = s.agent("vm").await;
    agent.send_raw(r#"{"appId":1,"agentId":"vm","type":"heartbeat","data":{}}"#.into()).await;
    assert_eq!(agent.closed().await, Some((1008, "frame has no clientId".into())));

    let mut agent = s.agent("vm").await;
    agent.send_raw("not json".into()).await;
    assert_eq!(agent.closed().await.map(|c| c.0), Some(1008));
    s.finish().await;
}

#[actix_web::test]
async fn a_stale_frame_is_dropped_and_the_socket_stays_open() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent("vm").await;
    let stale = agent.frame("heartbeat", "{}", now() - 6 * 60 * 1000, "t-stale");
    agent.send_raw(stale).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(s.clients().await.is_empty());
    agent.send("heartbeat", "{}").await;
    s.eventually("the fresh heartbeat registers", || async { s.clients().await.len() == 1 }).await;
    s.finish().await;
}

#[actix_web::test]
async fn a_large_package_log_in_one_frame_is_accepted() {
    let s = Stack::start(&[]).await;
    let mut agent = s.agent("vm").await;
    // ~20 MiB lock file text, as big projects send hourly.
    let lock = "x".repeat(20 << 20);
    let data = json!({"type": "package", "data": {"pkgs": [{"name": "/app/package.json", "pkg": "{\"dependencies\":{}}", "lock": lock}]}});
    agent.send("log", &data.to_string()).await;
    s.eventually("package file listed", || async {
        let files = s.manager_call("/xprofiler/files", json!({"appId": "1", "agentId": "vm", "type": "package"})).await;
        files["data"]["files"].as_array().is_some_and(|f| f.len() == 1)
    })
    .await;
    s.finish().await;
}

#[actix_web::test]
async fn duplicate_agents_follow_the_configured_policy() {
    for (policy, expect_shutdown) in [("shutdown_old", true), ("keep_both", false)] {
        let s = Stack::start(&[("EZM__WS_SERVER__DUPLICATE_AGENT_POLICY", policy)]).await;
        let mut old = s.agent("same-host").await;
        old.send("heartbeat", "{}").await;
        s.eventually("old agent listed", || async { s.clients().await.len() == 1 }).await;
        let mut new = s.agent("same-host").await;
        new.send("heartbeat", "{}").await;
        let got = old.next_text(2).await;
        match expect_shutdown {
            true => assert!(got.as_deref().is_some_and(|t| t.contains(r#""type":"shutdown""#)), "{policy}: {got:?}"),
            false => assert_eq!(got, None, "{policy}"),
        }
        s.finish().await;
    }
}

#[actix_web::test]
async fn a_socket_that_stops_answering_pings_is_closed() {
    let s = Stack::start(&[("EZM__WS_SERVER__PING_INTERVAL_SECS", "1"), ("EZM__WS_SERVER__CLIENT_TIMEOUT_SECS", "2")]).await;
    let mut agent = s.agent("quiet").await;
    agent.send("heartbeat", "{}").await;
    s.eventually("agent listed", || async { s.clients().await.len() == 1 }).await;
    // Not reading the socket means not answering pings (the client library answers them only while polled).
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    // The close frame (1001, "ping timeout") may come after the queued pings, whose pongs then hit a closed socket:
    // either way the server has hung up on the silent agent.
    let closed = agent.closed().await.expect("the server hangs up");
    assert!(closed == (1001, "ping timeout".into()) || closed.0 == 0, "{closed:?}");
    s.eventually("the silent agent is gone", || async { s.clients().await.is_empty() }).await;
    s.finish().await;
}

#[actix_web::test]
async fn one_call_per_message_works_for_an_original_manager() {
    let s = Stack::start(&[("EZM__WS_SERVER__FORWARD_BATCH", "false")]).await;
    let mut agent = s.agent("vm").await;
    agent.send("heartbeat", "{}").await;
    agent.send("log", &captured_log("xprofiler_log")).await;
    s.eventually("agent listed", || async { s.clients().await.len() == 1 }).await;
    let day = chrono::Local::now().format("%d").to_string();
    s.eventually("process rows", || async { s.count(&format!("SELECT COUNT(*) FROM process_{day}")).await > 0 }).await;
    s.finish().await;
}
