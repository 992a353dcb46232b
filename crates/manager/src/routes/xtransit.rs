//! Routes the ws-server calls (`/xtransit/*`): the original five, and `/xtransit/batch` (ours), which carries several
//! of them in one signed request and runs each through the same code.

use actix_web::{web, HttpResponse};
use common::signed::{parse, Signed, Verified};
use protocol::service::{AppSecret, AppSecretQuery, Batch, BatchResults, ItemResult, LogPost, RemoveClient, Reply, UpdateActionStatus, UpdateClient};
use store::console_db::{apps, files};

use crate::clients::registry::ClientEntry;
use crate::error::ManagerError;
use crate::jobs::alarms::Event;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/xtransit/app_secret", web::post().to(app_secret))
        .route("/xtransit/update_client", web::post().to(|s, Signed(b)| done(update_client(s, b))))
        .route("/xtransit/remove_client", web::post().to(|s, Signed(b)| done(remove_client(s, b))))
        .route("/xtransit/log", web::post().to(|s, Signed(b)| done(log(s, b, true))))
        .route("/xtransit/update_action_status", web::post().to(|s, Signed(b)| done(update_action_status(s, b))))
        .route("/xtransit/batch", web::post().to(batch));
}

type Handled = Result<HttpResponse, ManagerError>;
type State = web::Data<AppState>;

/// Runs one of the four forwarding routes and answers `{ok:true}`.
async fn done(route: impl std::future::Future<Output = Result<(), ManagerError>>) -> Handled {
    route.await?;
    Ok(HttpResponse::Ok().json(Reply::done()))
}

async fn app_secret(state: State, Signed(body): Signed<AppSecretQuery>) -> Handled {
    let secret = match body.app_id.as_u64() {
        Some(id) => apps::secret(&state.console_db, id).await?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(Reply::ok(AppSecret { secret })))
}

async fn update_client(state: State, body: UpdateClient) -> Result<(), ManagerError> {
    let entry = ClientEntry { client_id: body.client_id, server: body.server, timestamp: body.timestamp };
    state.stats.heartbeats.inc();
    state.registry.update_client(&body.app_id, &body.agent_id, entry).await
}

/// A closed socket. When it was the agent's registered connection, the agent is offline: the alarm engine raises
/// `agentOffline` once (the original raised it on every close, stale and replaced connections included).
async fn remove_client(state: State, body: RemoveClient) -> Result<(), ManagerError> {
    let removed = state.registry.remove_client(&body.app_id, &body.agent_id, &body.client_id).await?;
    if let (true, Some(app)) = (removed, body.app_id.as_u64()) {
        let event = Event::Offline { app, agent: body.agent_id.as_str().to_owned(), client: body.client_id.as_str().to_owned() };
        state.alarms.submit(event);
    }
    Ok(())
}

/// The hot route. `maybe_seen`: the post may repeat one already stored (always possible on the original route; in
/// a batch, only for items marked `retry`), so its traceId is looked up first.
async fn log(state: State, body: LogPost, maybe_seen: bool) -> Result<(), ManagerError> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    state.ingest.ingest(&body.app_id, &body.agent_id, body.log.get(), body.trace_id.as_deref(), maybe_seen, now_ms).await
}

async fn update_action_status(state: State, body: UpdateActionStatus) -> Result<(), ManagerError> {
    let Some(app) = body.app_id.as_u64() else { return Err(ManagerError::bad("appId is not a number")) };
    files::mark_created(&state.console_db, app, &body.agent_id, &body.file_path).await?;
    Ok(())
}

/// Items run concurrently (they come from different agent sockets), so their metric rows share INSERTs. Each item's
/// body was covered by the batch's signature and is parsed into its route's type.
async fn batch(state: State, body: Verified) -> Handled {
    let batch: Batch<'_> = body.parse()?;
    let runs = batch.items.iter().map(|item| {
        let state = state.clone();
        async move {
            let text = item.body.get();
            let outcome = match item.route.as_ref() {
                "update_client" => async { update_client(state, parse(text)?).await }.await,
                "remove_client" => async { remove_client(state, parse(text)?).await }.await,
                "log" => async { log(state, parse(text)?, item.retry).await }.await,
                "update_action_status" => async { update_action_status(state, parse(text)?).await }.await,
                other => Err(ManagerError::bad(format!("unknown batch route {other:?}"))),
            };
            match outcome {
                Ok(()) => ItemResult { ok: true, message: None, retry: false },
                Err(e) => {
                    let retry = e.is_internal();
                    if retry {
                        tracing::error!(route = %item.route, error = %e, "batch item failed");
                    }
                    ItemResult { ok: false, message: Some(e.to_string()), retry }
                }
            }
        }
    });
    let results = futures_util::future::join_all(runs).await;
    Ok(HttpResponse::Ok().json(Reply::ok(BatchResults { results })))
}
