//! `POST /xapi/upload_from_xtransit`: the agent's `upload_file` child posts a profile here (protocol reference 4.7).
//!
//! Query: `fileId`, `fileType`, `nonce`, `timestamp` (ms), `signature` = HMAC-SHA1 keyed by the row's one-time
//! token. Body: multipart, one gzip part per file (a core dump sends the core, then the node executable).
//! Answers `{"ok":true,"data":{"storage":"<name>[\u0000<name>]"}}`; refusals are `{"ok":false,"message"}` with
//! HTTP 200, which the agent prints as `transfer failed: <message>`.
//!
//! Stricter than the original, on purpose:
//! - the row must be awaiting an upload (status 2) with a non-empty token, so nobody can overwrite a stored file
//!   by guessing ids (the original accepted an empty-token HMAC);
//! - timestamps too far in the future are refused, and the nonce is recorded only once the signature is valid;
//! - nothing is read from the body before those checks pass, and the body may not exceed
//!   `console.max_upload_bytes` (413);
//! - the row is updated here (status 3, storage, token consumed) and the previous objects are deleted only after
//!   that commit, so a reply lost on the way back through the agent leaves a correct row.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use common::error::{Group, ServiceError};
use deadpool_redis::redis;
use futures_util::StreamExt;
use protocol::service::Reply;
use serde::Serialize;
use store::console_db::{coredumps, files};

use crate::clients::storage::{PendingObject, Storage};
use crate::domain::node_display_name;
use crate::error::UploadError;
use crate::state::AppState;

#[derive(Serialize)]
struct Stored {
    storage: String,
}

pub async fn from_xtransit(state: web::Data<AppState>, req: HttpRequest, query: web::Query<HashMap<String, String>>, payload: web::Payload) -> HttpResponse {
    let started = std::time::Instant::now();
    match receive(&state, &req, &query, payload).await {
        Ok((file_id, names, bytes)) => {
            tracing::info!(file_id, bytes, elapsed_ms = started.elapsed().as_millis() as u64, "upload stored");
            state.stats.upload("stored");
            HttpResponse::Ok().json(Reply::ok(Stored { storage: names.join("\u{0}") }))
        }
        Err(e) => {
            match e.code().group {
                Group::Internal => tracing::error!(query = ?redacted(&query), error = %e, "upload failed"),
                _ => tracing::warn!(query = ?redacted(&query), error = %e, "upload refused"),
            }
            state.stats.upload(if e.code().group == Group::Internal { "failed" } else { "refused" });
            actix_web::ResponseError::error_response(&e)
        }
    }
}

/// The query without its signature (logs never carry credentials).
fn redacted(query: &HashMap<String, String>) -> Vec<(&str, &str)> {
    let mut v: Vec<_> = query.iter().filter(|(k, _)| *k != "signature").map(|(k, v)| (k.as_str(), v.as_str())).collect();
    v.sort_unstable();
    v
}

/// Checks, stores and records one upload. Returns the file id, the stored names and the bytes received.
async fn receive(state: &AppState, req: &HttpRequest, query: &HashMap<String, String>, payload: web::Payload) -> Result<(u64, Vec<String>, u64), UploadError> {
    let param = |name: &str| query.get(name).filter(|v| !v.is_empty()).ok_or_else(|| UploadError::refused(format!("missing parameter {name}")));
    let (file_id, file_type, nonce, timestamp, signature) = (param("fileId")?, param("fileType")?, param("nonce")?, param("timestamp")?, param("signature")?);
    let id: u64 = file_id.parse().map_err(|_| UploadError::refused("fileId must be a number"))?;
    let sent_ms: i64 = timestamp.parse().map_err(|_| UploadError::refused("timestamp must be milliseconds"))?;
    let window_ms = state.upload.window_secs as i64 * 1000;
    if (chrono::Utc::now().timestamp_millis() - sent_ms).abs() > window_ms {
        return Err(UploadError::refused("request expired (timestamp outside the upload window; check the agent's clock)"));
    }
    let limit = state.upload.max_bytes;
    if let Some(len) = req.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) {
        if len > limit {
            return Err(UploadError::TooLarge(limit));
        }
    }

    let target = Target::load(&state.console_db, id, file_type).await?;
    if target.token.is_empty() || !target.awaiting {
        return Err(UploadError::refused("file is not waiting for an upload (start a transfer from the console)"));
    }
    if !protocol::sign::verify_upload_signature(&target.token, &target.agent, file_id, file_type, nonce, timestamp, signature) {
        return Err(UploadError::refused("signature mismatch"));
    }
    let mut redis = state.redis.get().await?;
    let fresh: Option<String> = redis::cmd("SET")
        .arg(state.keys.upload_nonce(nonce))
        .arg(1)
        .arg("NX")
        .arg("EX")
        // Timestamps are accepted up to one window old or ahead, so a nonce must outlive two windows.
        .arg(2 * state.upload.window_secs.max(1))
        .query_async(&mut redis)
        .await?;
    drop(redis);
    if fresh.is_none() {
        return Err(UploadError::refused("replayed request (nonce already used)"));
    }

    let multipart = Multipart::new(req.headers(), payload);
    let (objects, bytes) = store_parts(&state.storage, multipart, &target.display_names, limit).await?;
    let names: Vec<String> = objects.iter().map(|(name, _)| name.clone()).collect();
    for (_, object) in objects {
        object.commit().await?;
    }
    match target.record(&state.console_db, id, &names).await {
        Ok(true) => {}
        Ok(false) => {
            discard(&state.storage, &names).await;
            return Err(UploadError::refused("file is no longer waiting for an upload"));
        }
        Err(e) => {
            discard(&state.storage, &names).await;
            return Err(e.into());
        }
    }
    discard(&state.storage, &target.previous).await;
    Ok((id, names, bytes))
}

async fn discard(storage: &Storage, names: &[String]) {
    for name in names.iter().filter(|n| !n.is_empty()) {
        if let Err(e) = storage.delete(name).await {
            tracing::warn!(name, error = %e, "could not delete a storage object");
        }
    }
}

/// Streams the expected parts, in order, into new storage objects (not yet committed).
async fn store_parts(
    storage: &Storage,
    mut multipart: Multipart,
    display_names: &[String],
    limit: u64,
) -> Result<(Vec<(String, PendingObject)>, u64), UploadError> {
    let mut objects = Vec::with_capacity(display_names.len());
    let mut total = 0u64;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| UploadError::Body(e.to_string()))?;
        let Some(display) = display_names.get(objects.len()) else {
            return Err(UploadError::Body(format!("expected {} file part(s), got more", display_names.len())));
        };
        let name = Storage::new_name(display);
        let mut object = storage.create(&name).await?;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| UploadError::Body(e.to_string()))?;
            total += chunk.len() as u64;
            if total > limit {
                return Err(UploadError::TooLarge(limit));
            }
            object.write(&chunk).await?;
        }
        if object.written() == 0 {
            return Err(UploadError::Body(format!("file part {} is empty", objects.len() + 1)));
        }
        objects.push((name, object));
    }
    if objects.len() != display_names.len() {
        return Err(UploadError::Body(format!("expected {} file part(s), got {}", display_names.len(), objects.len())));
    }
    Ok((objects, total))
}

/// The row an upload is for: a `coredumps` row for `core`, else the `files` row of that id and type.
struct Target {
    core: bool,
    agent: String,
    token: String,
    awaiting: bool,
    /// Display names of the expected parts, in order.
    display_names: Vec<String>,
    /// Objects the row points at now, deleted once the new ones are recorded.
    previous: Vec<String>,
}

impl Target {
    async fn load(pool: &mysql_async::Pool, id: u64, file_type: &str) -> Result<Target, UploadError> {
        let not_found = || UploadError::refused("file not found");
        if file_type == "core" {
            let row = coredumps::upload_row(pool, id).await?.ok_or_else(not_found)?;
            Ok(Target {
                core: true,
                agent: row.agent,
                token: row.token,
                awaiting: row.file_status == 2,
                display_names: vec![row.file, node_display_name(&row.node)],
                previous: vec![row.file_storage, row.node_storage],
            })
        } else {
            let row = files::upload_row(pool, id, file_type).await?.ok_or_else(not_found)?;
            Ok(Target {
                core: false,
                agent: row.agent,
                token: row.token,
                awaiting: row.status == 2,
                display_names: vec![row.file],
                previous: vec![row.storage],
            })
        }
    }

    /// Marks the row transferred with the new objects, consuming the token. False if it stopped awaiting meanwhile.
    async fn record(&self, pool: &mysql_async::Pool, id: u64, names: &[String]) -> Result<bool, mysql_async::Error> {
        match self.core {
            true => coredumps::record_upload(pool, id, &self.token, &names[0], &names[1]).await,
            false => files::record_upload(pool, id, &self.token, &names[0]).await,
        }
    }
}
