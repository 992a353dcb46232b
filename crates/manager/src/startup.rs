//! Builds the manager: pools, schema, background jobs, and the HTTP server on its listener.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use common::client::ServiceClient;
use common::redis::RedisPool;
use common::Settings;

use crate::stats::Stats;
use crate::writer::MetricWriter;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub console_db: mysql_async::Pool,
    pub logs_db: mysql_async::Pool,
    pub redis: RedisPool,
    pub client: ServiceClient,
    pub writer: MetricWriter,
    pub stats: Arc<Stats>,
}

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let console_db = common::mysql::pool(&settings.console_mysql);
        let logs_db = common::mysql::pool(&settings.logs_mysql);
        if settings.manager.create_schema {
            crate::schema::ensure(&settings.console_mysql, &console_db, &settings.logs_mysql, &logs_db).await?;
        }
        let redis = RedisPool::new(&settings.redis)?;
        let stats = Arc::new(Stats::default());
        let writer = MetricWriter::start(logs_db.clone(), 2, settings.manager.insert_batch_rows, stats.clone());
        let client = ServiceClient::new(settings.shared.secret.clone(), Duration::from_millis(settings.shared.http_timeout_ms));
        let state = AppState { settings: settings.clone(), console_db, logs_db, redis, client, writer, stats };

        let listener = TcpListener::bind((settings.manager.host.as_str(), settings.manager.port))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        let secret = web::Data::new(common::signed::SharedSecret(settings.shared.secret.clone()));
        let max_body = settings.manager.max_body_bytes;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(secret.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .configure(crate::routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        tracing::info!(port, "manager listening");
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT (actix drains in-flight requests for up to 30 s), with the retention job beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let retention = tokio::spawn(crate::retention::schedule(self.state.clone()));
        let result = self.server.await;
        retention.abort();
        result
    }

    /// For tests: serve in the background without the daily job (tests call `retention::run_once` directly).
    pub fn spawn(self) -> (u16, AppState) {
        let Application { port, server, state } = self;
        tokio::spawn(server);
        (port, state)
    }
}
