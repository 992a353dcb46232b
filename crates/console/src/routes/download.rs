//! Reading stored files: `GET /file/download` streams the stored gzip as it is, with `content-encoding: gzip` (so
//! browsers and the bundled viewers see the plain profile), and the analysis launchers `GET /dashboard/*` redirect
//! to the viewers the served front-end ships (the original xui's DevTools and speedscope pages, reference §1.11),
//! or else to our speedscope and the web UI's analysis page. The viewers fetch the file through the download.

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

/// The original front-end's DevTools launchers also send `fileName` (the agent's path), which is not needed: the
/// stored name is the file's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevToolsQuery {
    /// The panel the bundle's DevTools opens (`js_profiler` or `heap_profiler`); by the file's kind when absent.
    selected_tab: Option<String>,
}

/// `GET /dashboard/devtools-new`: 302 to the served front-end's new DevTools (the original xui's), or to the web
/// UI's analysis page of the file when it ships none.
pub async fn devtools_new(state: web::Data<AppState>, access: auth::FileAccess<DevToolsQuery>) -> Handled {
    devtools(&state, &access, rules::DevTools::New)
}

/// `GET /dashboard/devtools-old`: the same with the old DevTools.
pub async fn devtools_old(state: web::Data<AppState>, access: auth::FileAccess<DevToolsQuery>) -> Handled {
    devtools(&state, &access, rules::DevTools::Old)
}

fn devtools(state: &AppState, access: &auth::FileAccess<DevToolsQuery>, tools: rules::DevTools) -> Handled {
    let file = access.single()?;
    let name = stored(file, &reasons::NOT_TRANSFERRED_VIEWER)?;
    let location = match state.frontend.has(tools.page()) {
        true => {
            let tab = access.params.selected_tab.as_deref();
            rules::bundle_devtools_location(&state.base_path, tools, file.id, &file.file_type, rules::display_name(name), tab)
        }
        false => rules::devtools_location(&state.base_path, file.app(), &file.file_type, file.id),
    };
    Ok(HttpResponse::Found().insert_header((header::LOCATION, location)).finish())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpeedscopeQuery {
    download_path: String,
}

/// `GET /dashboard/speedscope`: 302 to the served front-end's speedscope (the original xui's), or to ours, which
/// fetches `downloadPath` (a path on this console: the viewer is never sent to another site).
pub async fn speedscope(state: web::Data<AppState>, access: auth::FileAccess<SpeedscopeQuery>) -> Handled {
    let file = access.single()?;
    let name = stored(file, &reasons::NOT_TRANSFERRED_VIEWER)?;
    let path = &access.params.download_path;
    if !rules::is_local_path(path) {
        return Err(ConsoleError::bad(format!("downloadPath must be a path on this console, not {path:?}")));
    }
    let title = rules::display_name(name);
    let location = match state.frontend.has(rules::BUNDLE_SPEEDSCOPE) {
        true => rules::bundle_speedscope_location(&state.base_path, path, file.id, &file.file_type, title),
        false => rules::speedscope_location(&state.base_path, path, file.id, &file.file_type, title),
    };
    Ok(HttpResponse::Found().insert_header((header::LOCATION, location)).finish())
}
