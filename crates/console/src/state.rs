//! What the console's routes can reach. Cheap to clone.

use common::redis::RedisPool;
use store::keys::Keys;

use crate::clients::manager::Manager;
use crate::clients::sessions::{Sessions, SignInLimits};
use crate::clients::storage::Storage;
use crate::stats::Stats;

#[derive(Clone)]
pub struct AppState {
    pub console_db: mysql_async::Pool,
    /// The manager's metric and alarm day tables (read only; the manager creates that database).
    pub logs_db: mysql_async::Pool,
    pub redis: RedisPool,
    pub keys: Keys,
    pub storage: Storage,
    pub upload: UploadLimits,
    pub sessions: Sessions,
    pub signin_limits: SignInLimits,
    pub auth: AuthPolicy,
    pub manager: Manager,
    pub stats: std::sync::Arc<Stats>,
    /// HTTP Basic credentials verified recently (see `accounts::BasicCache`).
    pub basic_cache: std::sync::Arc<crate::accounts::BasicCache>,
    /// What a new app's agent configuration names as `server` (the ws-server as agents reach it).
    pub agent_server_url: String,
    /// The console as agents reach it (`console.base_url`, no trailing `/`): where a transfer tells them to upload.
    pub console_base_url: String,
    /// `console.base_path`: the web UI's `<base href>` (`/`, or the prefix a proxy strips).
    pub base_path: String,
    /// The front-end served at `/`: the embedded web UI or `console.ui_dir`.
    pub frontend: std::sync::Arc<crate::frontend::Frontend>,
    /// The app cards' replies, kept `console.overview_cache_ttl_ms`.
    pub cards: crate::cache::CardCache,
    /// The rows behind the trend charts: past days kept `console.trend_day_cache_ttl_ms`, the rest shared by the
    /// charts of a page for `console.trend_cache_ttl_ms`.
    pub trend_reads: crate::cache::TrendReads,
    /// The files list's last count and seek points per app and filter (hints, see `cache::FileHints`).
    pub file_hints: crate::cache::FileHints,
}

#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_bytes: u64,
    pub window_secs: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct AuthPolicy {
    pub basic_auth: bool,
    /// Answer the page and API calls without credentials with the HTTP Basic challenge (`console.basic_challenge`).
    pub basic_challenge: bool,
    pub self_registration: bool,
}
