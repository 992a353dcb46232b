//! The signed API the manager calls (`/xapi/*`), with the original's contract and reply shapes.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use actix_ws::{CloseCode, CloseReason};
use common::settings::DuplicateAgentPolicy;
use common::signed::Signed;
use protocol::service::{CheckClientAlive, ExecCommandRequest, Reply, ShutdownRequest};
use protocol::ServerFrame;

use crate::domain::registry::ClientKey;
use crate::error::WsError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/xapi")
            .wrap(common::RequestSpans::default())
            .route("/exec_command", web::post().to(exec_command))
            .route("/shutdown", web::post().to(shutdown))
            .route("/check_client_alive", web::post().to(check_client_alive)),
    );
}

type Handled = Result<HttpResponse, WsError>;
type State = web::Data<AppState>;

/// The agent's default when a command names no timeout is 3 s; the original sends 15 s.
const DEFAULT_EXPIRED_MS: u64 = 15_000;

async fn exec_command(state: State, Signed(body): Signed<ExecCommandRequest>) -> Handled {
    let expired_ms = body.expired_time.unwrap_or(DEFAULT_EXPIRED_MS).max(1);
    let client = ClientKey { app: body.app_id, agent: body.agent_id, client: body.client_id };
    let command = body.command;
    state.stats.commands.inc();
    let no_client = || WsError::NoClient(format!("client {}::{}::{} not connected", client.app, client.agent, client.client));
    let Some(mut session) = state.registry.session(&client) else { return Err(no_client()) };
    let trace_id = uuid::Uuid::new_v4().to_string();
    let answer = state.registry.expect_response(&trace_id);
    let frame = ServerFrame::exec_command_text(&trace_id, &command, expired_ms);
    if session.text(frame).await.is_err() {
        state.registry.forget_response(&trace_id);
        return Err(no_client());
    }
    match tokio::time::timeout(Duration::from_millis(expired_ms), answer).await {
        // `data` is the agent's JSON exactly as it sent it.
        Ok(Ok(data)) => Ok(HttpResponse::Ok().content_type("application/json").body(format!(r#"{{"ok":true,"data":{data}}}"#))),
        _ => {
            state.registry.forget_response(&trace_id);
            state.stats.commands_expired.inc();
            tracing::info!(app_id = %client.app, agent_id = %client.agent, command = %command, expired_ms, "command got no answer in time");
            Err(WsError::Expired(format!("execute command {command} expired after {expired_ms} ms")))
        }
    }
}

/// The manager saw a newer clientId for this appId + agentId. What happens to the old one is our policy:
/// see `ws_server.duplicate_agent_policy`.
async fn shutdown(state: State, Signed(body): Signed<ShutdownRequest>) -> Handled {
    let client = ClientKey { app: body.app_id, agent: body.agent_id, client: body.old_client_id };
    let policy = state.duplicate_agent_policy;
    let Some(mut session) = state.registry.session(&client) else { return Ok(HttpResponse::Ok().json(Reply::done())) };
    tracing::info!(app_id = %client.app, agent_id = %client.agent, old_client_id = %client.client, ?policy, "duplicate agent");
    match policy {
        DuplicateAgentPolicy::KeepBoth => {}
        DuplicateAgentPolicy::CloseOld => {
            let reason = "a newer agent with the same appId and agentId connected";
            let _ = session.close(Some(CloseReason { code: CloseCode::Normal, description: Some(reason.into()) })).await;
        }
        DuplicateAgentPolicy::ShutdownOld => {
            state.stats.shutdowns_sent.inc();
            let frame = ServerFrame::shutdown_text(&uuid::Uuid::new_v4().to_string());
            let _ = session.text(frame).await;
        }
    }
    Ok(HttpResponse::Ok().json(Reply::done()))
}

async fn check_client_alive(state: State, Signed(body): Signed<CheckClientAlive>) -> Handled {
    let alive: BTreeMap<String, bool> = body
        .clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i.to_string(), state.registry.contains(&ClientKey { app: c.app_id, agent: c.agent_id, client: c.client_id })))
        .collect();
    Ok(HttpResponse::Ok().json(Reply::ok(alive)))
}
