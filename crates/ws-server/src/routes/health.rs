//! `/healthz` (the process answers), `/readyz` (the manager process answers), `/metrics` (OpenMetrics text).

use actix_web::{web, HttpResponse};
use common::health::{healthz, readiness};

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz)).route("/metrics", web::get().to(metrics));
}

/// The ws-server keeps no database of its own: it is ready when the manager it forwards to answers at all. Only the
/// manager's liveness counts, not its readiness: a MySQL or Redis blip must not take every ws-server out of the load
/// balancer at once (agents keep their sockets; forwards are retried, secrets are cached).
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let url = common::client::url(&state.manager, "/healthz");
    let manager = match state.http.get(&url).timeout(std::time::Duration::from_secs(3)).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(e) => Err(e.to_string()),
    };
    readiness(vec![("manager", manager)])
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    common::metrics::respond(state.stats.registry(state.registry.len(), state.registry.pending_len()))
}
