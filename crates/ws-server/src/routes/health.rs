//! `/healthz` (the process answers), `/readyz` (the manager answers), `/metrics` (Prometheus text).

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

/// The ws-server keeps no database of its own: it is ready when the manager it forwards to is.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let url = common::client::url(&state.settings.ws_server.manager_base_url, "/readyz");
    let manager = state.http.get(&url).timeout(std::time::Duration::from_secs(3)).send().await;
    match manager {
        Ok(r) if r.status().is_success() => HttpResponse::Ok().json(json!({"ok": true, "manager": "ok"})),
        Ok(r) => HttpResponse::ServiceUnavailable().json(json!({"ok": false, "manager": format!("HTTP {}", r.status())})),
        Err(e) => HttpResponse::ServiceUnavailable().json(json!({"ok": false, "manager": e.to_string()})),
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = state.stats.render(state.registry.len(), state.registry.pending_len());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body)
}
