//! Reading stored files: `GET /file/download` streams the stored gzip as it is, with `content-encoding: gzip` (so
//! browsers and the bundled viewers see the plain profile), and the analysis launchers `GET /dashboard/*` redirect
//! to the bundled speedscope, which fetches the file through the download, and to the web UI's analysis page (the
//! original bundled DevTools; reference §1.11).

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::{self, NamedFile};
use crate::domain::files as rules;
use crate::error::ConsoleError;
use crate::reasons::{self, Reason};
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// The stored object of a file, or the original's refusal when it has none yet.
fn stored<'a>(file: &'a NamedFile, refusal: &'static Reason) -> Result<&'a str, ConsoleError> {
    match file.storage() {
        "" => Err(ConsoleError::Declined(refusal.into())),
        name => Ok(name),
    }
}

/// `GET /file/download?fileId&fileType`: the stored object, streamed (never read whole), under its display name.
/// `fileType=executable` gives a core's node binary.
pub async fn download(state: State, access: auth::FileAccess) -> Handled {
    let file = access.single()?;
    let name = stored(file, &reasons::NOT_TRANSFERRED)?;
    let reader = match state.storage.read(name).await {
        Ok(reader) => reader,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file_id = file.id, object = name, "a transferred file is missing from storage");
            return Err(ConsoleError::NotFound((&reasons::NOT_IN_STORAGE).into()));
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = HttpResponse::Ok();
    response
        .content_type("application/octet-stream")
        .insert_header((header::CONTENT_ENCODING, "gzip"))
        .insert_header((header::CONTENT_DISPOSITION, rules::content_disposition(rules::display_name(name))))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    Ok(match reader.size {
        Some(size) => response.body(SizedStream::new(size, reader.chunks)),
        None => response.streaming(reader.chunks),
    })
}

/// The original front-end's DevTools launchers also send `fileName` and `selectedTab`; neither is needed.
#[derive(Deserialize)]
pub struct DevToolsQuery {}

/// `GET /dashboard/devtools-new`: 302 to the web UI's analysis page of the file (the original opened its bundled
/// DevTools, which we do not ship).
pub async fn devtools_new(state: web::Data<AppState>, access: auth::FileAccess<DevToolsQuery>) -> Handled {
    devtools(&state, &access)
}

/// `GET /dashboard/devtools-old`: the same as `devtools-new`.
pub async fn devtools_old(state: web::Data<AppState>, access: auth::FileAccess<DevToolsQuery>) -> Handled {
    devtools(&state, &access)
}

fn devtools(state: &AppState, access: &auth::FileAccess<DevToolsQuery>) -> Handled {
    let file = access.single()?;
    stored(file, &reasons::NOT_TRANSFERRED_VIEWER)?;
    let location = rules::devtools_location(&state.base_path, file.app(), &file.file_type, file.id);
    Ok(HttpResponse::Found().insert_header((header::LOCATION, location)).finish())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpeedscopeQuery {
    download_path: String,
}

/// `GET /dashboard/speedscope`: 302 to the bundled speedscope, which fetches `downloadPath` (a path on this
/// console: the viewer is never sent to another site).
pub async fn speedscope(state: web::Data<AppState>, access: auth::FileAccess<SpeedscopeQuery>) -> Handled {
    let file = access.single()?;
    let name = stored(file, &reasons::NOT_TRANSFERRED_VIEWER)?;
    let path = &access.params.download_path;
    if !rules::is_local_path(path) {
        return Err(ConsoleError::bad(format!("downloadPath must be a path on this console, not {path:?}")));
    }
    let location = rules::speedscope_location(&state.base_path, path, file.id, &file.file_type, rules::display_name(name));
    Ok(HttpResponse::Found().insert_header((header::LOCATION, location)).finish())
}
