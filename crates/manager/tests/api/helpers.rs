//! Starts a manager for one test and calls it the way the ws-server and the console do.

use std::time::Duration;

use common::client::ServiceClient;
use common::testing::TestEnv;
use manager::clients::registry::ClientEntry;
use manager::startup::Application;
use manager::state::AppState;
use mysql_async::prelude::Queryable;
use protocol::AgentFrame;
use serde_json::{json, Value};

pub struct TestManager {
    pub env: TestEnv,
    pub base: String,
    pub state: AppState,
    pub client: ServiceClient,
}

impl TestManager {
    pub async fn start() -> TestManager {
        Self::start_with(&[]).await
    }

    pub async fn start_with(overrides: &[(&str, &str)]) -> TestManager {
        let env = TestEnv::new(overrides).await;
        let app = Application::build(env.settings.clone()).await.expect("manager starts");
        let (port, state) = app.spawn();
        let client = ServiceClient::new(env.secret().clone(), Duration::from_secs(10));
        TestManager { base: format!("http://127.0.0.1:{port}"), env, state, client }
    }

    /// A signed call; returns the reply envelope.
    pub async fn call(&self, path: &str, body: Value) -> Value {
        let reply = self.client.call::<_, Value>(&self.base, path, &body, None).await.expect("manager answers");
        serde_json::to_value(reply).expect("a reply serializes")
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, String) {
        let r = reqwest::Client::new().post(format!("{}{path}", self.base)).body(body.to_owned()).send().await.expect("manager answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    pub async fn add_app(&self, id: u32, secret: &str) {
        store::console_db::apps::insert(&self.env.console_db(), id.into(), &format!("app{id}"), 1, secret).await.unwrap();
    }

    /// The registry entry of agent `agent` of app 1.
    pub async fn entry(&self, agent: &str) -> Option<ClientEntry> {
        self.state.registry.get_entry(&protocol::AppId::from(1), &agent.into()).await.unwrap()
    }

    pub async fn count(&self, sql: &str) -> u64 {
        let mut conn = self.env.logs_db().get_conn().await.unwrap();
        conn.query_first::<u64, _>(sql).await.unwrap().unwrap_or(0)
    }

    pub async fn finish(self) {
        self.env.finish().await;
    }
}

/// The `data` of every `log` frame captured from the real agent, by kind.
pub fn captured_logs() -> Vec<(String, Value)> {
    let text = include_str!("../../../protocol/fixtures/agent-frames.jsonl");
    text.lines()
        .filter_map(|line| {
            let frame = AgentFrame::parse(line).ok()?;
            let kind = frame.log_type()?;
            Some((kind, serde_json::from_str(frame.data.get()).ok()?))
        })
        .collect()
}

/// A captured log with its collection time moved to now (so it lands in today's tables).
pub fn fresh(mut log: Value) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    if let Some(data) = log.get_mut("data").and_then(Value::as_object_mut) {
        if data.contains_key("log_timestamp") {
            data.insert("log_timestamp".into(), json!(now));
        }
    }
    log
}

pub fn today() -> String {
    chrono::Local::now().format("%d").to_string()
}
