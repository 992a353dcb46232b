//! What the routes can reach: each part owns only its own dependencies, built in `startup`. Cheap to clone.

use std::sync::Arc;

use common::redis::RedisPool;

use crate::clients::logstore::LogStore;
use crate::clients::registry::AgentRegistry;
use crate::clients::relay::Relay;
use crate::ingest::Ingest;
use crate::jobs::alarms::{Alarms, Engine};
use crate::jobs::retention::Retention;
use crate::stats::Stats;

#[derive(Clone)]
pub struct AppState {
    /// `apps` (secrets) and `files` (action status) are read and written through `store::console_db`.
    pub console_db: mysql_async::Pool,
    pub logs_db: mysql_async::Pool,
    pub redis: RedisPool,
    pub ingest: Ingest,
    pub registry: AgentRegistry,
    pub logs: LogStore,
    pub relay: Relay,
    pub retention: Retention,
    pub stats: Arc<Stats>,
    pub engine: Engine,
    pub alarms: Alarms,
}
