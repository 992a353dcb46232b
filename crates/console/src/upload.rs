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
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use deadpool_redis::redis;
use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use protocol::service::Reply;
use serde::Serialize;

use crate::storage::{PendingObject, Storage};
use crate::AppState;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The agent's request is wrong: answered `{ok:false, message}` with HTTP 200, like the original.
    #[error("{0}")]
    Refused(String),
    #[error("upload larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("console database: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error("redis: {0}")]
    Redis(#[from] common::redis::RedisError),
    #[error("redis: {0}")]
    RedisCmd(#[from] redis::RedisError),
    #[error("storage: {0}")]
    Storage(#[from] std::io::Error),
    #[error("upload body: {0}")]
    Body(String),
}

impl UploadError {
    fn refused(message: impl Into<String>) -> Self {
        UploadError::Refused(message.into())
    }

    fn response(&self) -> HttpResponse {
        let status = match self {
            UploadError::Refused(_) => StatusCode::OK,
            UploadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Body(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match status {
            StatusCode::INTERNAL_SERVER_ERROR => "internal error while storing the upload; retry the transfer".into(),
            _ => self.to_string(),
        };
        HttpResponse::build(status).json(Reply::<()>::fail(message, None))
    }
}

#[derive(Serialize)]
struct Stored {
    storage: String,
}

pub async fn from_xtransit(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    payload: web::Payload,
) -> HttpResponse {
    let started = std::time::Instant::now();
    match receive(&state, &req, &query, payload).await {
        Ok((file_id, names, bytes)) => {
            tracing::info!(file_id, bytes, elapsed_ms = started.elapsed().as_millis() as u64, "upload stored");
            HttpResponse::Ok().json(Reply::ok(Stored { storage: names.join("\u{0}") }))
        }
        Err(e) => {
            match &e {
                UploadError::Refused(_) | UploadError::TooLarge(_) | UploadError::Body(_) => {
                    tracing::warn!(query = ?redacted(&query), error = %e, "upload refused")
                }
                _ => tracing::error!(query = ?redacted(&query), error = %e, "upload failed"),
            }
            e.response()
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
async fn receive(
    state: &AppState,
    req: &HttpRequest,
    query: &HashMap<String, String>,
    payload: web::Payload,
) -> Result<(u64, Vec<String>, u64), UploadError> {
    let param = |name: &str| {
        query.get(name).filter(|v| !v.is_empty()).ok_or_else(|| UploadError::refused(format!("missing parameter {name}")))
    };
    let (file_id, file_type, nonce, timestamp, signature) =
        (param("fileId")?, param("fileType")?, param("nonce")?, param("timestamp")?, param("signature")?);
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
        .arg(state.redis.key(&format!("XTRANSIT_UPLOAD_NONCE::{nonce}")))
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
        let mut conn = pool.get_conn().await?;
        if file_type == "core" {
            type Row = (String, String, String, String, u8, String, String);
            let row: Option<Row> = conn
                .exec_first(
                    "SELECT agent, file, node, COALESCE(token, ''), COALESCE(file_status, 0), COALESCE(file_storage, ''), \
                     COALESCE(node_storage, '') FROM coredumps WHERE id = ?",
                    (id,),
                )
                .await?;
            let (agent, file, node, token, status, file_storage, node_storage) =
                row.ok_or_else(|| UploadError::refused("file not found"))?;
            Ok(Target {
                core: true,
                agent,
                token,
                awaiting: status == 2,
                display_names: vec![file, node_display_name(&node)],
                previous: vec![file_storage, node_storage],
            })
        } else {
            type Row = (String, String, String, u8, String);
            let row: Option<Row> = conn
                .exec_first(
                    "SELECT agent, file, COALESCE(token, ''), COALESCE(status, 0), COALESCE(storage, '') \
                     FROM files WHERE id = ? AND type = ?",
                    (id, file_type),
                )
                .await?;
            let (agent, file, token, status, storage) = row.ok_or_else(|| UploadError::refused("file not found"))?;
            Ok(Target { core: false, agent, token, awaiting: status == 2, display_names: vec![file], previous: vec![storage] })
        }
    }

    /// Marks the row transferred with the new objects, consuming the token. False if it stopped awaiting meanwhile.
    async fn record(&self, pool: &mysql_async::Pool, id: u64, names: &[String]) -> Result<bool, mysql_async::Error> {
        let mut conn = pool.get_conn().await?;
        if self.core {
            conn.exec_drop(
                "UPDATE coredumps SET file_status = 3, file_storage = ?, node_status = 3, node_storage = ?, token = '' \
                 WHERE id = ? AND file_status = 2 AND token = ?",
                (&names[0], &names[1], id, &self.token),
            )
            .await?;
        } else {
            conn.exec_drop(
                "UPDATE files SET status = 3, storage = ?, token = '' WHERE id = ? AND status = 2 AND token = ?",
                (&names[0], id, &self.token),
            )
            .await?;
        }
        Ok(conn.affected_rows() == 1)
    }
}

/// `node-v<version>` or `alinode-v<version>` from the row's `{"executable_path","alinode","version"}`; an uploaded
/// core's row holds the executable's plain file name instead.
fn node_display_name(node: &str) -> String {
    #[derive(serde::Deserialize)]
    struct NodeInfo {
        #[serde(default)]
        alinode: bool,
        version: Option<String>,
    }
    match serde_json::from_str::<NodeInfo>(node) {
        Ok(NodeInfo { alinode, version: Some(version) }) => {
            let version = version.trim_start_matches('v');
            format!("{}-v{version}", if alinode { "alinode" } else { "node" })
        }
        _ if !node.trim().is_empty() && !node.trim_start().starts_with('{') => node.to_string(),
        _ => "node".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_follow_the_original() {
        assert_eq!(node_display_name(r#"{"executable_path":"/usr/bin/node","alinode":false,"version":"v20.20.2"}"#), "node-v20.20.2");
        assert_eq!(node_display_name(r#"{"executable_path":"/x","alinode":true,"version":"v7.0.0"}"#), "alinode-v7.0.0");
        assert_eq!(node_display_name(r#"{"alinode":false,"version":"18.1.0"}"#), "node-v18.1.0");
        assert_eq!(node_display_name("node-v18"), "node-v18");
        assert_eq!(node_display_name("{}"), "node");
    }
}
