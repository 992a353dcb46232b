//! The manager's `/xprofiler/*` routes, as the console calls them (signed with the shared secret): the live agent
//! registry, error logs and modules in Redis, and commands relayed to agents.

use std::time::Duration;

use common::client::{CallError, ServiceClient};
use protocol::service::Reply;
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Clone)]
pub struct Manager {
    client: ServiceClient,
    base: String,
}

impl Manager {
    pub fn new(client: ServiceClient, base: String) -> Self {
        Manager { client, base }
    }

    /// POSTs `body` to the manager's `path`; a command may name a longer `timeout` than the default.
    pub async fn call<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B, timeout: Option<Duration>) -> Result<Reply<R>, CallError> {
        self.client.call(&self.base, path, body, timeout).await
    }
}
