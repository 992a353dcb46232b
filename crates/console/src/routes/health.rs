//! `/healthz` (the process answers) and `/readyz` (its MySQL and Redis answer).

use actix_web::{web, HttpResponse};
use common::health::{healthz, readiness};

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mysql = common::mysql::ping(&state.console_db).await.map_err(|e| e.to_string());
    let redis = state.redis.ping().await.map_err(|e| e.to_string());
    readiness(vec![("console_mysql", mysql), ("redis", redis)])
}
