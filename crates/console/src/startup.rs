//! Builds the console: its database and tables, the profile store, and the HTTP server on its listener.

use std::net::TcpListener;

use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use common::client::ServiceClient;
use common::redis::RedisPool;
use common::Settings;
use store::keys::Keys;

use crate::clients::manager::Manager;
use crate::clients::sessions::{Sessions, SignInLimits};
use crate::clients::storage::Storage;
use crate::frontend::Frontend;
use crate::state::{AppState, AuthPolicy, UploadLimits};

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let frontend = std::sync::Arc::new(Frontend::from_setting(&settings.console.ui_dir)?);
        tracing::info!(frontend = %frontend.describe(), "front-end");
        let storage = Storage::from_settings(&settings.console).await?;
        tracing::info!(storage = %storage.describe(), "profile storage");
        // The console owns its database: it creates it and its tables (idempotently) before serving.
        common::mysql::ensure_database(&settings.console_mysql).await?;
        let console_db = common::mysql::pool(&settings.console_mysql);
        store::schema::ensure_console(&console_db).await?;
        // Read only, and the manager's to create: the pool connects lazily, so the console starts without it.
        let logs_db = common::mysql::pool(&settings.logs_mysql);
        let redis = RedisPool::new(&settings.redis)?;
        let c = &settings.console;
        let client = ServiceClient::new(settings.shared.secret.clone(), Duration::from_millis(settings.shared.http_timeout_ms));
        let state = AppState {
            console_db,
            logs_db,
            keys: Keys::new(redis.prefix()),
            storage,
            upload: UploadLimits { max_bytes: c.max_upload_bytes, window_secs: c.upload_window_secs },
            sessions: Sessions::new(redis.clone(), c.session_idle_secs, c.session_max_secs),
            signin_limits: SignInLimits::new(redis.clone(), c.signin_max_failures_per_account, c.signin_max_failures_per_address, c.signin_window_secs),
            auth: AuthPolicy { basic_auth: c.basic_auth, basic_challenge: c.basic_challenge, self_registration: c.self_registration },
            manager: Manager::new(client, c.manager_base_url.clone()),
            agent_server_url: c.agent_server_url.clone(),
            stats: std::sync::Arc::new(crate::stats::Stats::default()),
            basic_cache: std::sync::Arc::new(crate::accounts::BasicCache::default()),
            console_base_url: c.base_url.trim_end_matches('/').to_owned(),
            base_path: c.base_path.clone(),
            frontend: frontend.clone(),
            cards: crate::cache::CardCache::new(Duration::from_millis(c.overview_cache_ttl_ms)),
            trend_reads: crate::cache::TrendReads::new(
                Duration::from_millis(c.trend_cache_ttl_ms),
                Duration::from_millis(c.trend_day_cache_ttl_ms),
                c.trend_day_cache_mb << 20,
            ),
            file_hints: crate::cache::FileHints::default(),
            redis,
        };
        crate::accounts::ensure_first_admin(&state, &c.admin_user, &c.admin_password).await?;
        if c.self_registration {
            tracing::warn!("console.self_registration is on: anyone who can reach the console can create an account by signing in");
        }
        let listener = TcpListener::bind((settings.console.host.as_str(), settings.console.port))?;
        let port = listener.local_addr()?.port();
        let challenge = state.auth.basic_challenge;
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::Condition::new(challenge, middleware::from_fn(crate::auth::basic_challenge)))
                .wrap(middleware::from_fn(crate::auth::csrf))
                .wrap(middleware::from_fn(crate::stats::record))
                .wrap(common::RequestSpans::default())
                .app_data(data.clone())
                .configure(crate::routes::configure)
        })
        .listen(listener)?
        .run();
        tracing::info!(port, web_ui = frontend.has_index(), "console listening");
        if !cfg!(debug_assertions) {
            tokio::spawn(crate::routes::ui::warm(frontend));
        }
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
