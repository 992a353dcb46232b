//! Starts a manager for one test and calls it the way the ws-server and the console do.

use std::time::Duration;

use common::client::ServiceClient;
use common::testing::TestEnv;
use manager::clients::registry::ClientEntry;
use manager::startup::Application;
use manager::state::AppState;
use serde_json::Value;

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
        self.env.add_app(id.into(), secret).await;
    }

    /// The registry entry of agent `agent` of app 1.
    pub async fn entry(&self, agent: &str) -> Option<ClientEntry> {
        self.state.registry.get_entry(&protocol::AppId::from(1), &agent.into()).await.unwrap()
    }

    pub async fn count(&self, sql: &str) -> u64 {
        self.env.count(sql).await
    }

    pub async fn finish(self) {
        self.env.finish().await;
    }
}

pub use common::testing::{captured_logs, fresh};

pub fn today() -> String {
    chrono::Local::now().format("%d").to_string()
}
