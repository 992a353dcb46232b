//! `/readyz`: the console's MySQL and Redis answer (`/healthz` is the shared one); `/metrics`: its counters.

use actix_web::{web, HttpResponse};
use common::health::readiness;

use crate::state::AppState;

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mysql = common::mysql::ping(&state.console_db).await.map_err(|e| e.to_string());
    let redis = state.redis.ping().await.map_err(|e| e.to_string());
    readiness(vec![("console_mysql", mysql), ("redis", redis)])
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    common::metrics::respond(state.stats.registry())
}
