//! The alarm engine end to end with the real agent: a rule on the real process (`@heap_used > 1`) fires, its
//! message reaches a local webhook receiver with a verifiable signature, its history row is written, its automatic
//! heap snapshot is taken by the real xprofiler and recorded as a file, and stopping the agent raises the offline
//! alarm once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mysql_async::prelude::Queryable;
use serde_json::Value;

use crate::helpers::Stack;
use crate::real_agent::{start_node, AGENT_ID};

type Inbox = Arc<Mutex<Vec<(String, Option<String>, Option<String>, String)>>>;

/// Records `(path, timestamp header, signature header, body)` of every POST.
async fn sink() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let data = web::Data::new(inbox.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(|req: HttpRequest, body: String, inbox: web::Data<Inbox>| async move {
            let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            inbox.lock().unwrap().push((req.path().to_owned(), header("x-easy-monitor-timestamp"), header("x-easy-monitor-signature"), body));
            HttpResponse::Ok().finish()
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), inbox)
}

fn on(inbox: &Inbox, path: &str) -> Vec<(Option<String>, Option<String>, String)> {
    inbox.lock().unwrap().iter().filter(|c| c.0 == path).map(|c| (c.1.clone(), c.2.clone(), c.3.clone())).collect()
}

#[actix_web::test]
async fn a_rule_on_the_real_process_fires_takes_a_heap_snapshot_and_the_stopped_agent_raises_offline_once() {
    let (hooks, inbox) = sink().await;
    let s = Stack::start(&[("EZM__ALARM__ALLOW_PRIVATE_WEBHOOKS", "true"), ("EZM__ALARM__CONSOLE_PUBLIC_URL", "http://console.test")]).await;
    let mut conn = s.env.console_db().get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO strategies (app, context, push, webhook, wtype, waddress, wsign, expression, content) VALUES (1, 'xprofiler_log', 'p1', 1, 'webhook', ?, 'k', '@heap_used > 1', 'heap ${@heap_used / 1048576} MiB, pid ${@pid}')",
        (format!("{hooks}/heap"),),
    )
    .await
    .unwrap();
    let heap_rule = conn.last_insert_id().unwrap();
    conn.exec_drop("INSERT INTO ezm_alarm_actions (strategy, action) VALUES (?, 'heapsnapshot')", (heap_rule,)).await.unwrap();
    conn.exec_drop(
        "INSERT INTO strategies (app, context, push, webhook, wtype, waddress, wsign, expression, content) VALUES (1, 'xtransit_notification', 'p1', 1, 'webhook', ?, '', '@agentOffline', '${@agentId} offline')",
        (format!("{hooks}/offline"),),
    )
    .await
    .unwrap();
    let offline_rule = conn.last_insert_id().unwrap();
    drop(conn);

    let node = start_node(&format!("ws://127.0.0.1:{}/", s.ws_port), &[]).await;
    s.eventually_within(60, "the heap alarm reaches the receiver", || async { !on(&inbox, "/heap").is_empty() }).await;
    let (ts, signature, body) = on(&inbox, "/heap").remove(0);
    let body_json: Value = serde_json::from_str(&body).unwrap();
    let message = body_json["message"].as_str().unwrap();
    assert!(message.starts_with("heap ") && message.contains(&format!("pid {}", node.app_pid)), "{message}");
    assert!(message.contains("[heapsnapshot: ") && message.contains("http://console.test/app/1/file]"), "the snapshot is named: {message}");
    assert!(body_json["link"].as_str().unwrap().ends_with(&format!("tab=process&agentId={AGENT_ID}&pid={}", node.app_pid)));
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"k").unwrap();
    mac.update(format!("{}.{body}", ts.unwrap()).as_bytes());
    assert_eq!(signature.unwrap(), format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
    let day = chrono::Local::now().format("%d").to_string();
    assert!(s.count(&format!("SELECT COUNT(*) FROM alarm_{day} WHERE strategy = {heap_rule} AND pid = {}", node.app_pid)).await >= 1);

    // The snapshot is the real xprofiler's: recorded by the System user, marked created when the agent is done.
    let pool = s.env.console_db();
    s.eventually_within(60, "the heap snapshot is written and its row created", || {
        let pool = pool.clone();
        async move {
            let mut conn = pool.get_conn().await.unwrap();
            let row: Option<(String, u8, u64)> = conn
                .query_first(format!("SELECT file, status, user FROM files WHERE app = 1 AND agent = '{AGENT_ID}' AND type = 'heapsnapshot'"))
                .await
                .unwrap();
            matches!(row, Some((file, 1, 999_999)) if std::path::Path::new(&file).exists())
        }
    })
    .await;

    // Stopping the agent closes its socket: one offline alarm.
    node.stop().await;
    s.eventually_within(30, "the offline alarm", || async { on(&inbox, "/offline").len() == 1 }).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(on(&inbox, "/offline").len(), 1, "once");
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM alarm_{day} WHERE strategy = {offline_rule}")).await, 1);
    let offline: Value = serde_json::from_str(&on(&inbox, "/offline")[0].2).unwrap();
    assert_eq!(offline["message"], format!("{AGENT_ID} offline"));
    s.finish().await;
}
