//! A whole back end for one test, and a scripted agent.

use std::time::Duration;

use common::client::ServiceClient;
use common::testing::TestEnv;
use console::testing::TestConsole;
use futures_util::{SinkExt, StreamExt};
use loadgen::frame::{build_frame, new_client_id, trace_id, Identity};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

pub const SECRET: &str = "test-secret";
/// The console's first administrator in every stack (the console creates it at start-up).
pub const ADMIN: &str = "root@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct Stack {
    pub env: TestEnv,
    pub manager: String,
    pub ws_port: u16,
    client: ServiceClient,
}

impl Stack {
    pub async fn start(overrides: &[(&str, &str)]) -> Stack {
        let mut all = vec![("EZM__CONSOLE__ADMIN_USER", ADMIN), ("EZM__CONSOLE__ADMIN_PASSWORD", ADMIN_PASSWORD)];
        all.extend_from_slice(overrides);
        let env = TestEnv::new(&all).await;
        let (manager_port, _) = manager::startup::Application::build(env.settings.clone()).await.expect("manager starts").spawn();
        let manager = format!("http://127.0.0.1:{manager_port}");
        let mut settings = env.settings.clone();
        settings.ws_server.manager_base_url = manager.clone();
        let (ws_port, _) = ws_server::startup::Application::build(settings).await.expect("ws-server starts").spawn();
        env.add_app(1, SECRET).await;
        let client = ServiceClient::new(env.secret().clone(), Duration::from_secs(30));
        Stack { env, manager, ws_port, client }
    }

    /// A signed call to the manager, as the console makes it.
    pub async fn manager_call(&self, path: &str, body: Value) -> Value {
        let reply = self.client.call::<_, Value>(&self.manager, path, &body, None).await.expect("manager answers");
        serde_json::to_value(reply).unwrap()
    }

    /// A signed call to the ws-server, as the manager makes it.
    pub async fn xapi(&self, path: &str, body: Value) -> Value {
        let base = format!("127.0.0.1:{}", self.ws_port);
        let reply = self.client.call::<_, Value>(&base, path, &body, None).await.expect("ws-server answers");
        serde_json::to_value(reply).unwrap()
    }

    pub async fn agent(&self, agent_id: &str) -> Agent {
        self.agent_on("/chat", agent_id, SECRET).await
    }

    pub async fn agent_on(&self, path: &str, agent_id: &str, secret: &str) -> Agent {
        let url = format!("ws://127.0.0.1:{}{path}", self.ws_port);
        let config = WebSocketConfig { max_message_size: Some(128 << 20), max_frame_size: Some(128 << 20), ..Default::default() };
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false).await.expect("websocket upgrade");
        let id = Identity { app_id_json: "1".into(), agent_id: agent_id.into(), client_id: new_client_id() };
        Agent { ws, id, secret: secret.into() }
    }

    /// Polls `check` until it holds (or fails the test after 10 s).
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.eventually_within(10, what, check).await
    }

    pub async fn eventually_within<F, Fut>(&self, secs: u64, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        common::testing::eventually(secs, what, check).await
    }

    pub async fn clients(&self) -> Vec<String> {
        let reply = self.manager_call("/xprofiler/clients", json!({"appId": "1"})).await;
        reply["data"]["clients"].as_array().map(|c| c.iter().map(|c| c["agentId"].as_str().unwrap().to_owned()).collect()).unwrap_or_default()
    }

    pub async fn count(&self, sql: &str) -> u64 {
        self.env.count(sql).await
    }

    /// A console sharing this stack's databases and Redis, storing uploads in a temporary directory; its
    /// `console.base_url` is its own URL (where transfers send the agent).
    pub async fn start_console(&self) -> TestConsole {
        let mut settings = self.env.settings.clone();
        settings.console.manager_base_url = self.manager.clone();
        TestConsole::start(settings, &self.env.id).await
    }

    /// A `files` row awaiting an upload (status 2, as the console's transfer sets it); returns its id.
    pub async fn file_awaiting_upload(&self, path: &str, token: &str) -> u64 {
        let mut conn = self.env.console_db().get_conn().await.unwrap();
        conn.exec_drop(
            "INSERT INTO files (app, agent, type, file, user, status, token) VALUES (1, ?, 'cpuprofile', ?, 1, 2, ?) \
             ON DUPLICATE KEY UPDATE status = 2, token = VALUES(token)",
            (crate::real_agent::AGENT_ID, path, token),
        )
        .await
        .unwrap();
        conn.exec_first("SELECT id FROM files WHERE app = 1 AND file = ?", (path,)).await.unwrap().unwrap()
    }

    pub async fn file_status(&self, id: u64) -> (u8, String) {
        let mut conn = self.env.console_db().get_conn().await.unwrap();
        conn.exec_first("SELECT status, storage FROM files WHERE id = ?", (id,)).await.unwrap().unwrap()
    }

    /// The console's transfer, through the manager: the agent uploads `path` to `console_base`. Returns the
    /// stored object name the agent printed.
    pub async fn transfer(&self, file_id: u64, path: &str, console_base: &str, token: &str) -> String {
        let reply = self
            .manager_call(
                "/xprofiler/transfer_file",
                json!({"appId": "1", "agentId": crate::real_agent::AGENT_ID, "fileId": file_id, "fileType": "cpuprofile",
                       "filePath": path, "server": console_base, "token": token, "expiredTime": 120_000}),
            )
            .await;
        let out = crate::real_agent::stdout_json(&reply);
        out["storage"].as_str().unwrap_or_else(|| panic!("no storage in {out}")).to_owned()
    }

    pub async fn finish(self) {
        self.env.finish().await;
    }
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Agent {
    pub ws: Ws,
    pub id: Identity,
    pub secret: String,
}

impl Agent {
    pub fn frame(&self, kind: &str, data: &str, timestamp: i64, trace: &str) -> String {
        build_frame(self.secret.as_bytes(), &self.id, trace, timestamp, kind, data)
    }

    pub async fn send(&mut self, kind: &str, data: &str) {
        let frame = self.frame(kind, data, now(), &trace_id());
        self.ws.send(Message::text(frame)).await.expect("send");
    }

    pub async fn send_raw(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next text frame from the server, skipping pings; `None` on close or after `secs`.
    pub async fn next_text(&mut self, secs: u64) -> Option<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()??.ok()?;
            match msg {
                Message::Text(t) => return Some(t.to_string()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Waits for the server's close frame and returns (code, reason).
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) => return Some((frame.code.into(), frame.reason.to_string())),
                Ok(Some(Ok(Message::Close(None)))) | Ok(None) | Ok(Some(Err(_))) => return Some((0, String::new())),
                Ok(Some(Ok(_))) => continue,
                Err(_) => return None,
            }
        }
    }
}

pub use common::testing::now_ms as now;

/// A captured log `data` from the real agent with its collection time set to now.
pub fn captured_log(kind: &str) -> String {
    common::testing::captured_log(kind).to_string()
}
