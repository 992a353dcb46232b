//! What the console's routes can reach. Cheap to clone.

use common::redis::RedisPool;
use store::keys::Keys;

use crate::clients::storage::Storage;

#[derive(Clone)]
pub struct AppState {
    pub console_db: mysql_async::Pool,
    pub redis: RedisPool,
    pub keys: Keys,
    pub storage: Storage,
    pub upload: UploadLimits,
}

#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_bytes: u64,
    pub window_secs: u64,
}
