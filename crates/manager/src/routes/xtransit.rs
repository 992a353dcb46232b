//! Routes the ws-server calls (`/xtransit/*`): the original five, and `/xtransit/batch` (ours), which carries several
//! of them in one signed request and runs each through the same code.

use actix_web::{web, HttpResponse};
use common::signed::{ParamError, Signed};
use mysql_async::prelude::Queryable;
use protocol::service::{AppSecret, Batch, BatchResults, ItemResult, Reply};
use protocol::AppId;
use serde_json::Value;

use crate::error::ManagerError;
use crate::ingest;
use crate::registry::{self, ClientEntry};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/xtransit/app_secret", web::post().to(app_secret))
        .route("/xtransit/update_client", web::post().to(|s, b| reply(s, b, update_client)))
        .route("/xtransit/remove_client", web::post().to(|s, b| reply(s, b, remove_client)))
        .route("/xtransit/log", web::post().to(|s, b| reply(s, b, |s, b| log(s, b, true))))
        .route("/xtransit/update_action_status", web::post().to(|s, b| reply(s, b, update_action_status)))
        .route("/xtransit/batch", web::post().to(batch));
}

type Handled = Result<HttpResponse, ManagerError>;

/// Runs one of the four forwarding routes and answers `{ok:true}`.
async fn reply<F, Fut>(state: web::Data<AppState>, body: Signed, route: F) -> Handled
where
    F: FnOnce(web::Data<AppState>, Signed) -> Fut,
    Fut: std::future::Future<Output = Result<(), ManagerError>>,
{
    route(state, body).await?;
    Ok(HttpResponse::Ok().json(Reply::done()))
}

async fn app_secret(state: web::Data<AppState>, body: Signed) -> Handled {
    body.require(&["appId"])?;
    let app: AppId = body.get("appId")?;
    let secret = match app.as_u64() {
        Some(id) => {
            let mut conn = state.console_db.get_conn().await?;
            conn.exec_first::<String, _, _>("SELECT secret FROM apps WHERE id = ?", (id,)).await?
        }
        None => None,
    };
    Ok(HttpResponse::Ok().json(Reply::ok(AppSecret { secret })))
}

async fn update_client(state: web::Data<AppState>, body: Signed) -> Result<(), ManagerError> {
    body.require(&["appId", "agentId", "clientId", "server", "timestamp"])?;
    let app: AppId = body.get("appId")?;
    let agent = body.text("agentId")?;
    let entry = ClientEntry { client_id: body.text("clientId")?, server: body.text("server")?, timestamp: body.uint("timestamp")? as i64 };
    state.stats.heartbeats.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    registry::update_client(&state, &app, &agent, entry).await
}

async fn remove_client(state: web::Data<AppState>, body: Signed) -> Result<(), ManagerError> {
    body.require(&["appId", "agentId", "clientId"])?;
    let app: AppId = body.get("appId")?;
    registry::remove_client(&state, &app.to_string(), &body.text("agentId")?, &body.text("clientId")?).await?;
    Ok(())
}

/// The hot route: the body is deserialized straight from the raw text (logs can be megabytes).
/// `maybe_seen`: the post may repeat one already stored (always possible on the original route; in a batch, only for
/// items marked `retry`), so its traceId is looked up first.
async fn log(state: web::Data<AppState>, body: Signed, maybe_seen: bool) -> Result<(), ManagerError> {
    #[derive(serde::Deserialize)]
    struct LogBody<'a> {
        #[serde(rename = "appId")]
        app_id: Option<AppId>,
        #[serde(rename = "agentId")]
        agent_id: Option<Value>,
        #[serde(borrow)]
        log: Option<&'a serde_json::value::RawValue>,
        #[serde(rename = "traceId")]
        trace_id: Option<String>,
    }
    let parsed: LogBody<'_> = body.typed()?;
    let app = parsed.app_id.ok_or(ParamError::Missing("appId"))?;
    let agent = match parsed.agent_id.ok_or(ParamError::Missing("agentId"))? {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let log = parsed.log.ok_or(ParamError::Missing("log"))?;
    ingest::ingest(&state, &app.to_string(), &agent, log.get(), parsed.trace_id.as_deref(), maybe_seen).await
}

async fn update_action_status(state: web::Data<AppState>, body: Signed) -> Result<(), ManagerError> {
    body.require(&["appId", "agentId", "filePath"])?;
    let app: AppId = body.get("appId")?;
    let Some(app) = app.as_u64() else { return Err(ManagerError::bad("appId is not a number")) };
    let mut conn = state.console_db.get_conn().await?;
    conn.exec_drop(
        "UPDATE files SET status = 1 WHERE app = ? AND agent = ? AND file = ? AND status = 0",
        (app, body.text("agentId")?, body.text("filePath")?),
    )
    .await?;
    Ok(())
}

/// Items run concurrently (they come from different agent sockets), so their metric rows share INSERTs.
async fn batch(state: web::Data<AppState>, body: Signed) -> Handled {
    let batch: Batch<'_> = body.typed()?;
    let runs = batch.items.iter().map(|item| {
        let state = state.clone();
        let item_body = Signed::trusted(item.body.get());
        async move {
            let outcome = match item.route.as_ref() {
                "update_client" => update_client(state, item_body).await,
                "remove_client" => remove_client(state, item_body).await,
                "log" => log(state, item_body, item.retry).await,
                "update_action_status" => update_action_status(state, item_body).await,
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
