//! The signed API the manager calls (`/xapi/*`), with the original's contract and reply shapes.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use common::settings::DuplicateAgentPolicy;
use common::signed::{ParamError, Signed};
use protocol::service::{ClientRef, Reply, XPROFILER_EXPIRED, XPROFILER_NO_CLIENT};
use protocol::{AppId, ServerFrame};

use crate::registry::{ClientKey, Outgoing};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/xapi/exec_command", web::post().to(exec_command))
        .route("/xapi/shutdown", web::post().to(shutdown))
        .route("/xapi/check_client_alive", web::post().to(check_client_alive));
}

type Handled = Result<HttpResponse, ParamError>;

/// The agent's default when a command names no timeout is 3 s; the original sends 15 s.
const DEFAULT_EXPIRED_MS: u64 = 15_000;

fn key(app: &AppId, agent: String, client: String) -> ClientKey {
    ClientKey { app: app.to_string(), agent, client }
}

async fn exec_command(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "clientId", "command"])?;
    let app: AppId = body.get("appId")?;
    let command = body.text("command")?;
    let expired_ms = body.opt_uint("expiredTime").unwrap_or(DEFAULT_EXPIRED_MS).max(1);
    let client = key(&app, body.text("agentId")?, body.text("clientId")?);
    state.stats.commands.fetch_add(1, Relaxed);
    let no_client = || {
        let message = format!("client {}::{}::{} not connected", client.app, client.agent, client.client);
        HttpResponse::Ok().json(Reply::<()>::fail(message, Some(XPROFILER_NO_CLIENT.into())))
    };
    let Some(tx) = state.registry.sender(&client) else { return Ok(no_client()) };
    let trace_id = uuid::Uuid::new_v4().to_string();
    let answer = state.registry.expect_response(&trace_id);
    let frame = ServerFrame::exec_command_text(&trace_id, &command, expired_ms);
    if tx.send(Outgoing::Text(frame)).await.is_err() {
        state.registry.forget_response(&trace_id);
        return Ok(no_client());
    }
    match tokio::time::timeout(Duration::from_millis(expired_ms), answer).await {
        // `data` is the agent's JSON exactly as it sent it.
        Ok(Ok(data)) => Ok(HttpResponse::Ok().content_type("application/json").body(format!(r#"{{"ok":true,"data":{data}}}"#))),
        _ => {
            state.registry.forget_response(&trace_id);
            state.stats.commands_expired.fetch_add(1, Relaxed);
            tracing::info!(app_id = %app, agent_id = %client.agent, command = %command, expired_ms, "command got no answer in time");
            let message = format!("execute command {command} expired after {expired_ms} ms");
            Ok(HttpResponse::Ok().json(Reply::<()>::fail(message, Some(XPROFILER_EXPIRED.into()))))
        }
    }
}

/// The manager saw a newer clientId for this appId + agentId. What happens to the old one is our policy:
/// see `ws_server.duplicate_agent_policy`.
async fn shutdown(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId", "agentId", "oldClientId"])?;
    let app: AppId = body.get("appId")?;
    let client = key(&app, body.text("agentId")?, body.text("oldClientId")?);
    let policy = state.settings.ws_server.duplicate_agent_policy;
    let Some(tx) = state.registry.sender(&client) else { return Ok(HttpResponse::Ok().json(Reply::done())) };
    tracing::info!(app_id = %client.app, agent_id = %client.agent, old_client_id = %client.client, ?policy, "duplicate agent");
    match policy {
        DuplicateAgentPolicy::KeepBoth => {}
        DuplicateAgentPolicy::CloseOld => {
            let _ = tx.send(Outgoing::Close("a newer agent with the same appId and agentId connected".into())).await;
        }
        DuplicateAgentPolicy::ShutdownOld => {
            state.stats.shutdowns_sent.fetch_add(1, Relaxed);
            let frame = ServerFrame::shutdown_text(&uuid::Uuid::new_v4().to_string());
            let _ = tx.send(Outgoing::Text(frame)).await;
        }
    }
    Ok(HttpResponse::Ok().json(Reply::done()))
}

async fn check_client_alive(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["clients"])?;
    let clients: Vec<ClientRef> = body.get("clients")?;
    let alive: BTreeMap<String, bool> = clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i.to_string(), state.registry.contains(&key(&c.app_id, c.agent_id, c.client_id))))
        .collect();
    Ok(HttpResponse::Ok().json(Reply::ok(alive)))
}
