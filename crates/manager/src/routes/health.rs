//! `/healthz` (the process answers), `/readyz` (its MySQL and Redis answer), `/metrics` (Prometheus text).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let console = common::mysql::ping(&state.console_db).await;
    let logs = common::mysql::ping(&state.logs_db).await;
    let redis = state.redis.ping().await;
    let status = |r: Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(e) => json!(e),
    };
    let ready = console.is_ok() && logs.is_ok() && redis.is_ok();
    let body = json!({
        "ok": ready,
        "console_mysql": status(console.map_err(|e| e.to_string())),
        "logs_mysql": status(logs.map_err(|e| e.to_string())),
        "redis": status(redis.map_err(|e| e.to_string())),
    });
    match ready {
        true => HttpResponse::Ok().json(body),
        false => HttpResponse::ServiceUnavailable().json(body),
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.stats.render())
}
