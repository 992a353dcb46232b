//! `/healthz` (the process answers), `/readyz` (its MySQL and Redis answer), `/metrics` (OpenMetrics text).

use actix_web::{web, HttpResponse};
use common::health::{healthz, readiness};

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz)).route("/metrics", web::get().to(metrics));
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let console = common::mysql::ping(&state.console_db).await.map_err(|e| e.to_string());
    let logs = common::mysql::ping(&state.logs_db).await.map_err(|e| e.to_string());
    let redis = state.redis.ping().await.map_err(|e| e.to_string());
    readiness(vec![("console_mysql", console), ("logs_mysql", logs), ("redis", redis)])
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    common::metrics::respond(state.stats.registry())
}
