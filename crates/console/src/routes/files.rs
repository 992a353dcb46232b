//! The files page: the list of an app's files and cores, their status machine (0 creating → 1 created on the agent →
//! 2 transferring → 3 in storage; 99 creation failed), the transfer from the agent into storage, favourites and
//! deletion. Every route but the list names its files and is guarded by [`auth::FileAccess`].

use actix_web::{web, HttpResponse};
use futures_util::future::join_all;
use protocol::lenient;
use protocol::service::{FileStatusCommand, Reply, TransferFile};
use protocol::AgentId;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use store::console_db::coredumps::{self, SYSTEM_USER, UPLOAD_AGENT};
use store::console_db::files::{self, ListFilter, Listed, Source};
use store::console_db::users;

use crate::auth::{self, FileRecord, NamedFile};
use crate::clients::manager::{self, Outcome};
use crate::domain::files::{self as rules, status, StatusStep};
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// How long the agent may take to say whether a file exists.
const CHECK_MS: u64 = 15_000;
/// The largest page the list serves (the front-end asks for 10).
const MAX_PAGE_SIZE: u64 = 100;

fn done() -> Handled {
    Ok(HttpResponse::Ok().json(Reply::done()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// all, favor, core or a file type.
    filter_type: String,
    #[serde(deserialize_with = "lenient::uint")]
    current_page: u64,
    #[serde(deserialize_with = "lenient::uint")]
    page_size: u64,
}

/// `GET /xapi/files`: one page of the app's files and cores, newest first, and how many there are. `filterType` is
/// `all`, `favor`, `core` or a file type.
pub async fn list(state: State, access: auth::AppMember<ListQuery>) -> Handled {
    let q = access.params;
    let filter = match q.filter_type.as_str() {
        "all" => ListFilter::All,
        "favor" => ListFilter::Favor,
        "core" => ListFilter::Core,
        kind if rules::FILE_TYPES.contains(&kind) => ListFilter::Type(kind.to_owned()),
        other => return Err(ConsoleError::bad(format!("unknown filterType {other:?}"))),
    };
    if q.page_size == 0 || q.page_size > MAX_PAGE_SIZE {
        return Err(ConsoleError::bad(format!("pageSize must be 1 to {MAX_PAGE_SIZE}")));
    }
    let page = q.current_page.max(1);
    let offset = (page - 1).saturating_mul(q.page_size);
    let db = &state.console_db;
    let app = access.app.id;
    // With the last count as a hint, the count and the page are read at once; a deep page starts at a seek point.
    let hint = state.file_hints.get(app, &filter).await;
    let given = hint.seeks.clone();
    let files::Page { count, rows, hint } = files::page(db, app, &filter, offset, q.page_size, hint, files::Seeking::DEFAULT).await?;
    // A long list's deep pages read from seek points: taken now in the background, the first deep page finds them.
    let without = state.file_hints.keep_page(app, filter.clone(), given, hint).await;
    if without && files::has_deep_pages(count, files::Seeking::DEFAULT) {
        state.file_hints.take_points(db.clone(), app, filter, files::Seeking::DEFAULT);
    }
    let mut ids: Vec<u64> = rows.iter().map(|r| r.user).filter(|u| u64::from(SYSTEM_USER) != *u).collect();
    ids.sort_unstable();
    ids.dedup();
    let people = users::by_ids(db, &ids).await?;
    let creator = |id: u64| match people.iter().find(|u| u.id == id) {
        _ if id == u64::from(SYSTEM_USER) => json!("System"),
        Some(u) => json!(u.nick),
        None => json!(id),
    };
    let list: Vec<Value> = rows.iter().map(|row| list_item(row, creator(row.user))).collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list, "count": count}))))
}

/// A row as the files page reads it.
fn list_item(row: &Listed, creator: Value) -> Value {
    let basename = rules::basename(&row.file);
    match row.source {
        Source::File => json!({
            "fileId": row.id, "fileType": row.kind, "file": row.file, "agent": row.agent, "status": row.status,
            "favor": row.favor, "creator": creator, "time": row.time, "basename": basename,
        }),
        Source::Core => json!({
            "fileId": row.id, "fileType": "core", "coreFile": row.file, "executableFile": rules::executable_label(&row.node),
            "agent": row.agent, "status": row.status, "favor": row.favor, "executableStatus": row.node_status,
            "creator": creator, "time": row.time, "basename": basename,
        }),
    }
}

#[derive(Deserialize)]
pub struct StatusBody {
    files: Vec<StatusEntry>,
}

#[derive(Deserialize)]
pub struct StatusEntry {
    /// The row's position on the page, echoed back (the front-end matches answers by it).
    #[serde(default)]
    index: Value,
}

/// `POST /xapi/file_status`: the status of each named file, advancing rows still at 0 by asking their agent
/// (reference §3.3), and putting back transfers that cannot still be running. Polled every second by the page.
pub async fn status(state: State, access: auth::FileAccess<StatusBody>) -> Handled {
    let checks = access.files.iter().map(|file| current_status(&state, file));
    let statuses = join_all(checks).await;
    let mut list = Vec::with_capacity(statuses.len());
    for ((file, entry), status) in access.files.iter().zip(&access.params.files).zip(statuses) {
        list.push(json!({"fileId": file.id, "fileType": file.file_type, "status": status?, "index": entry.index}));
    }
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list}))))
}

async fn current_status(state: &AppState, file: &NamedFile) -> Result<u8, ConsoleError> {
    let db = &state.console_db;
    let (kind, age_secs, modified_secs, path) = match &file.record {
        FileRecord::Profile(f) => (f.kind.as_str(), f.age_secs, f.modified_secs, f.file.as_str()),
        FileRecord::Core(c) => ("core", c.age_secs, c.modified_secs, c.file.as_str()),
    };
    let current = file.status();
    if current == status::TRANSFERRING && modified_secs > rules::STALE_TRANSFER_SECS as i64 {
        let aborted = match &file.record {
            FileRecord::Profile(_) => files::abort_stale_transfer(db, file.id, rules::STALE_TRANSFER_SECS).await?,
            FileRecord::Core(_) => coredumps::abort_stale_transfer(db, file.id, rules::STALE_TRANSFER_SECS).await?,
        };
        if aborted {
            tracing::warn!(file_id = file.id, file_type = %file.file_type, "a transfer left unfinished was put back");
        }
        return reread(state, file).await;
    }
    let otherwise = match rules::status_step(kind, current, age_secs) {
        StatusStep::Known(s) => return Ok(s),
        StatusStep::AskAgent { otherwise } => otherwise,
    };
    let agent = AgentId::new(file.agent());
    let body = FileStatusCommand { target: manager::target(file.app(), &agent, CHECK_MS), file_path: path.to_owned() };
    let exists = match state.manager.command("/xprofiler/check_file_status", &body, CHECK_MS).await? {
        Outcome::Done(out) => serde_json::from_str::<Value>(out.trim()).is_ok_and(|v| v["exists"] == true),
        Outcome::Failed(refusal) => {
            tracing::debug!(file_id = file.id, reason = %refusal, "the agent could not check a file");
            false
        }
    };
    let to = if exists { status::CREATED } else { otherwise };
    if to == status::CREATING {
        return Ok(to);
    }
    let moved = match &file.record {
        FileRecord::Profile(_) => files::set_status_from(db, file.id, status::CREATING, to).await?,
        FileRecord::Core(_) => coredumps::set_status_from(db, file.id, status::CREATING, to).await?,
    };
    if !moved {
        return reread(state, file).await;
    }
    tracing::info!(file_id = file.id, file_type = %file.file_type, status = to, "file status checked on the agent");
    Ok(to)
}

/// The row's status now (another request changed it); a row deleted meanwhile reads as failed.
async fn reread(state: &AppState, file: &NamedFile) -> Result<u8, ConsoleError> {
    let db = &state.console_db;
    let now = match &file.record {
        FileRecord::Profile(f) => files::by_id(db, file.id, &f.kind).await?.map(|f| f.status),
        FileRecord::Core(_) => coredumps::by_id(db, file.id).await?.map(|c| c.file_status),
    };
    Ok(now.unwrap_or(status::FAILED))
}

/// `POST /xapi/file_transfer`: the agent uploads the file (a core: the core and its executable) to this console
/// with a one-time token (status 2); the upload route records it (status 3). Answers when the agent is done. On
/// failure the row goes back to 3 if it still names a stored object, else to 1. The transfer runs on even if the
/// caller goes away (the page does not wait for it: it polls the status).
pub async fn transfer(state: State, access: auth::FileAccess) -> Handled {
    let file = access.single()?.clone();
    if file.agent() == UPLOAD_AGENT {
        return Err(ConsoleError::Declined((&reasons::UPLOADED_NO_TRANSFER).into()));
    }
    let (file_type, path) = match &file.record {
        FileRecord::Profile(f) if f.kind == "trend" => return Err(ConsoleError::Declined((&reasons::TREND_NO_TRANSFER).into())),
        FileRecord::Profile(f) => (f.kind.clone(), f.file.clone()),
        FileRecord::Core(c) => {
            let path = rules::core_transfer_path(&c.file, &c.node).ok_or_else(|| ConsoleError::Declined((&reasons::CORE_NO_EXECUTABLE).into()))?;
            ("core".to_owned(), path)
        }
    };
    let token = transfer_token();
    let db = &state.console_db;
    let started = match &file.record {
        FileRecord::Profile(_) => files::start_transfer(db, file.id, &token).await?,
        FileRecord::Core(_) => coredumps::start_transfer(db, file.id, &token).await?,
    };
    if !started {
        return Err(ConsoleError::Declined((&reasons::FILE_NOT_READY).into()));
    }
    let state = state.into_inner();
    let task = actix_web::rt::spawn(async move { run_transfer(&state, &file, file_type, path, token).await });
    task.await.map_err(|e| ConsoleError::Internal(format!("transfer task: {e}")))??;
    done()
}

/// 16 random bytes as hex: the per-transfer upload key (one command argument, within the 50-character column).
fn transfer_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

async fn run_transfer(state: &AppState, file: &NamedFile, file_type: String, path: String, token: String) -> Result<(), ConsoleError> {
    let agent = AgentId::new(file.agent());
    let body = TransferFile {
        target: manager::target(file.app(), &agent, rules::TRANSFER_TIMEOUT_MS),
        file_id: file.id.to_string(),
        file_type,
        file_path: path,
        server: state.console_base_url.clone(),
        token: token.clone(),
    };
    let started = std::time::Instant::now();
    let outcome = state.manager.command("/xprofiler/transfer_file", &body, rules::TRANSFER_TIMEOUT_MS).await;
    let failure = match outcome {
        Ok(Outcome::Done(out)) => match serde_json::from_str::<Value>(out.trim()) {
            Ok(answer) if answer["storage"].as_str().is_some_and(|s| !s.is_empty()) => {
                let elapsed_ms = started.elapsed().as_millis() as u64;
                tracing::info!(file_id = file.id, file_type = %file.file_type, elapsed_ms, "file transferred");
                return Ok(());
            }
            _ => ConsoleError::Declined(reasons::TRANSFER_FAILED.arg("detail", format!("{out:.200}"))),
        },
        Ok(Outcome::Failed(refusal)) => ConsoleError::Declined(refusal),
        Err(e) => e,
    };
    let db = &state.console_db;
    let restored = match &file.record {
        FileRecord::Profile(_) => files::abort_transfer(db, file.id, &token).await,
        FileRecord::Core(_) => coredumps::abort_transfer(db, file.id, &token).await,
    };
    match restored {
        Ok(_) => tracing::warn!(file_id = file.id, file_type = %file.file_type, error = %failure, "transfer failed"),
        Err(e) => tracing::error!(file_id = file.id, error = %e, "transfer failed and its status could not be put back"),
    }
    Err(failure)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FavorBody {
    /// 1 marks a favourite, 0 unmarks it.
    #[serde(deserialize_with = "lenient::uint")]
    favor: u64,
}

/// `POST /xapi/file_favor`: marks or unmarks a favourite; unchanged is declined (with the right wording: the
/// original's messages were swapped).
pub async fn favor(state: State, access: auth::FileAccess<FavorBody>) -> Handled {
    let file = access.single()?;
    let favor = match access.params.favor {
        0 => 0u8,
        1 => 1u8,
        other => return Err(ConsoleError::bad(format!("favor must be 0 or 1, not {other}"))),
    };
    let db = &state.console_db;
    let changed = match &file.record {
        FileRecord::Profile(_) => files::set_favor(db, file.id, favor).await?,
        FileRecord::Core(_) => coredumps::set_favor(db, file.id, favor).await?,
    };
    match (changed, favor) {
        (true, _) => {
            let app = file.app();
            state.file_hints.retake_points(db, app, Some(&ListFilter::Favor), files::Seeking::DEFAULT);
            done()
        }
        (false, 1) => Err(ConsoleError::Declined((&reasons::ALREADY_FAVORITE).into())),
        (false, _) => Err(ConsoleError::Declined((&reasons::NOT_FAVORITE).into())),
    }
}

/// `DELETE /xapi/file_deletion`: the row, then its stored objects (a core's two). The file on the agent's host stays.
pub async fn delete(state: State, access: auth::FileAccess) -> Handled {
    let file = access.single()?;
    let db = &state.console_db;
    let deleted = match &file.record {
        FileRecord::Profile(_) => files::delete(db, file.id).await?,
        FileRecord::Core(_) => coredumps::delete(db, file.id).await?,
    };
    // After the row is gone: a failure here leaves an unreferenced object, never a row pointing at nothing.
    for name in file.all_storage() {
        if let Err(e) = state.storage.delete(&name).await {
            tracing::warn!(object = %name, error = %e, "could not delete a stored object of a deleted file");
        }
    }
    tracing::info!(file_id = file.id, file_type = %file.file_type, user_id = access.user.id, deleted, "file deleted");
    if deleted {
        state.file_hints.retake_points(db, file.app(), None, files::Seeking::DEFAULT);
    }
    done()
}
