//! The ws-server's route table: `/healthz`, `/readyz`, `/metrics`, the signed `/xapi/*` API the manager calls, and
//! the agents' WebSocket on every other path (agents may be configured with any path, e.g. `/` or `/chat`).

mod health;
mod xapi;

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use crate::error::WsError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure).configure(xapi::configure).default_service(web::to(agent_socket));
}

/// Upgrades any other request to the agent WebSocket. No subprotocol; permessage-deflate is declined (not offered
/// back), which the agent accepts.
async fn agent_socket(state: web::Data<AppState>, req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let is_upgrade = req.headers().get("upgrade").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return Err(WsError::NotAnUpgrade.into());
    }
    // actix-ws makes the handshake response and the sending `Session`; the session reads the request payload itself
    // (see `session::Frames`), so actix-ws is handed an empty one and its `MessageStream` over it is dropped.
    let empty = web::Payload::from_request(&req, &mut actix_web::dev::Payload::None).await?;
    let (response, session, _unused) = actix_ws::handle(&req, empty)?;
    actix_web::rt::spawn(crate::session::run(state, session, body.into_inner(), req.peer_addr()));
    Ok(response)
}
