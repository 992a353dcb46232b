//! The console. This version serves the agents' profile uploads (`/xapi/upload_from_xtransit`, see [`upload`]) and
//! `/healthz`, `/readyz`; users, apps, metrics, files and alarms come with the console issues.

pub mod storage;
pub mod upload;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use common::health::{healthz, readiness};
use common::redis::RedisPool;
use common::Settings;

use crate::storage::Storage;

#[derive(Clone)]
pub struct AppState {
    pub console_db: mysql_async::Pool,
    pub redis: RedisPool,
    pub storage: Storage,
    pub upload: UploadLimits,
}

#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_bytes: u64,
    pub window_secs: u64,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let storage = Storage::open(&settings.console.storage_dir).await.map_err(|e| {
            anyhow::anyhow!("console.storage_dir {:?} is not a writable directory: {e}", settings.console.storage_dir)
        })?;
        tracing::info!(dir = %storage.dir().display(), "profile storage");
        let state = AppState {
            console_db: common::mysql::pool(&settings.console_mysql),
            redis: RedisPool::new(&settings.redis)?,
            storage,
            upload: UploadLimits {
                max_bytes: settings.console.max_upload_bytes,
                window_secs: settings.console.upload_window_secs,
            },
        };
        let listener = TcpListener::bind((settings.console.host.as_str(), settings.console.port))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/xapi/upload_from_xtransit", web::post().to(upload::from_xtransit))
                .route("/healthz", web::get().to(healthz))
                .route("/readyz", web::get().to(readyz))
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

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mysql = common::mysql::ping(&state.console_db).await.map_err(|e| e.to_string());
    let redis = state.redis.ping().await.map_err(|e| e.to_string());
    readiness(vec![("console_mysql", mysql), ("redis", redis)])
}
