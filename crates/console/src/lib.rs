//! The console. This first version serves only `/healthz` and `/readyz`; users, apps, metrics, files and alarms
//! come with the console issue.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use common::redis::RedisPool;
use common::Settings;
use common::health::{healthz, readiness};

#[derive(Clone)]
pub struct AppState {
    pub console_db: mysql_async::Pool,
    pub redis: RedisPool,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let state = AppState { console_db: common::mysql::pool(&settings.console_mysql), redis: RedisPool::new(&settings.redis)? };
        let listener = TcpListener::bind((settings.console.host.as_str(), settings.console.port))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
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
