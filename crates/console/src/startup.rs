//! Builds the console: its database and tables, the profile store, and the HTTP server on its listener.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use common::redis::RedisPool;
use common::Settings;
use store::keys::Keys;

use crate::clients::storage::Storage;
use crate::state::{AppState, UploadLimits};

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let storage = Storage::from_settings(&settings.console).await?;
        tracing::info!(storage = %storage.describe(), "profile storage");
        // The console owns its database: it creates it and its tables (idempotently) before serving.
        common::mysql::ensure_database(&settings.console_mysql).await?;
        let console_db = common::mysql::pool(&settings.console_mysql);
        store::schema::ensure_console(&console_db).await?;
        let redis = RedisPool::new(&settings.redis)?;
        let state = AppState {
            console_db,
            keys: Keys::new(redis.prefix()),
            redis,
            storage,
            upload: UploadLimits { max_bytes: settings.console.max_upload_bytes, window_secs: settings.console.upload_window_secs },
        };
        let listener = TcpListener::bind((settings.console.host.as_str(), settings.console.port))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new().wrap(common::RequestSpans::default()).app_data(data.clone()).configure(crate::routes::configure)
        })
        .listen(listener)?
        .run();
        tracing::info!(port, "console listening");
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
