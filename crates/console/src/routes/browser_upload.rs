//! `POST /xapi/upload_file?appId&fileType`: a profile uploaded from the browser (multipart parts named `file`; a
//! core sends two, the core then its node executable). Each part is gzip-compressed on its way into storage (all
//! stored files are gzip) and recorded as a transferred file of the agent `upload`.
//!
//! Stricter than the original: the type must be one of the seven, each part's name a plain base name with the
//! type's extension (`.core` and `.node` for a core; the front-end enforces the same), and all parts together at
//! most `console.max_upload_bytes`. A refused or failed upload leaves no object and no row.

use actix_multipart::{Field, Multipart};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use protocol::service::Reply;
use serde::Deserialize;
use serde_json::json;
use store::console_db::coredumps::{self, UPLOAD_AGENT};
use store::console_db::files;

use crate::auth;
use crate::clients::storage::gzip::GzipObject;
use crate::clients::storage::Storage;
use crate::domain::files as rules;
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadQuery {
    file_type: String,
}

/// A part received: its display name, its object name, and the object (not yet visible).
struct Part {
    display: String,
    name: String,
    object: GzipObject,
}

fn too_large(limit: u64) -> ConsoleError {
    ConsoleError::Declined(reasons::UPLOAD_TOO_LARGE.arg("limit", limit))
}

pub async fn upload(state: State, req: HttpRequest, access: auth::AppMember<UploadQuery>, payload: web::Payload) -> Handled {
    let (app, user, file_type) = (access.app, access.user, access.params.file_type);
    let extensions = rules::upload_extensions(&file_type).map_err(|e| ConsoleError::Declined(e.refusal()))?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.starts_with("multipart/form-data") {
        return Err(ConsoleError::bad("the upload is a multipart/form-data body"));
    }
    let limit = state.upload.max_bytes;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    let parts = receive(&state.storage, Multipart::new(req.headers(), payload), &extensions, limit).await?;
    let bytes: u64 = parts.iter().map(|p| p.object.read()).sum();
    let mut stored: Vec<(String, String)> = Vec::with_capacity(parts.len());
    for part in parts {
        if let Err(e) = part.object.commit().await {
            discard(&state.storage, &stored).await;
            return Err(e.into());
        }
        stored.push((part.display, part.name));
    }
    let db = &state.console_db;
    let recorded = match stored.as_slice() {
        [(core, core_name), (node, node_name)] => {
            coredumps::insert_uploaded(db, app.id, core, node, user.id, core_name, node_name).await.map_err(ConsoleError::from)
        }
        [(file, name)] => files::insert_stored(db, app.id, UPLOAD_AGENT, &file_type, file, user.id, name).await.map_err(ConsoleError::from),
        _ => Err(ConsoleError::Internal("an upload has one part, or two for a core".into())),
    };
    let id = match recorded {
        Ok(id) => id,
        Err(e) => {
            discard(&state.storage, &stored).await;
            return Err(e);
        }
    };
    // `receive` returned one part at least (the types take one or two).
    let file = stored[0].0.clone();
    tracing::info!(app_id = app.id, user_id = user.id, file_id = id, file_type = %file_type, file = %file, bytes, "file uploaded");
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"file": file}))))
}

/// Streams the `file` parts, in order, through gzip into new objects (not yet committed).
async fn receive(storage: &Storage, mut multipart: Multipart, extensions: &[&str], limit: u64) -> Result<Vec<Part>, ConsoleError> {
    let mut parts: Vec<Part> = Vec::with_capacity(extensions.len());
    let mut total = 0u64;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| ConsoleError::bad(format!("multipart body: {e}")))?;
        if field.name() != Some("file") {
            return Err(ConsoleError::bad(format!("unexpected part {:?}: files are sent as parts named file", field.name().unwrap_or_default())));
        }
        let Some(expected) = extensions.get(parts.len()) else {
            return Err(ConsoleError::Declined(reasons::UPLOAD_FILE_COUNT.arg("count", extensions.len())));
        };
        let file_name = part_file_name(&field).ok_or_else(|| ConsoleError::Declined((&reasons::UPLOAD_NO_NAME).into()))?;
        let display = rules::check_upload_name(&file_name, expected).map_err(|e| ConsoleError::Declined(e.refusal()))?.to_owned();
        let name = Storage::new_name(&display);
        let mut object = GzipObject::new(storage.create(&name).await?);
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ConsoleError::bad(format!("multipart body: {e}")))?;
            total += chunk.len() as u64;
            if total > limit {
                return Err(too_large(limit));
            }
            object.write(&chunk).await?;
        }
        if object.read() == 0 {
            return Err(ConsoleError::Declined(reasons::UPLOAD_EMPTY.arg("name", display)));
        }
        parts.push(Part { display, name, object });
    }
    if parts.len() != extensions.len() {
        return Err(ConsoleError::Declined(reasons::UPLOAD_FILE_COUNT.arg("count", extensions.len())));
    }
    Ok(parts)
}

/// The file name a part was sent under (`filename`, else an UTF-8 `filename*`).
fn part_file_name(field: &Field) -> Option<String> {
    let disposition = field.content_disposition()?;
    if let Some(name) = disposition.get_filename() {
        return Some(name.to_owned());
    }
    let extended = disposition.get_filename_ext()?;
    String::from_utf8(extended.value.clone()).ok()
}

async fn discard(storage: &Storage, stored: &[(String, String)]) {
    for (_, name) in stored {
        if let Err(e) = storage.delete(name).await {
            tracing::warn!(name, error = %e, "could not delete a storage object");
        }
    }
}
