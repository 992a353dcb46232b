//! An app's settings (owner only): its name and secret, renaming, rotating the secret (ours), deleting the app with
//! everything that hangs off it.

use actix_web::{web, HttpResponse};
use protocol::service::Reply;
use serde::Deserialize;
use serde_json::json;
use store::console_db::apps;

use crate::auth;
use crate::error::ConsoleError;
use crate::reasons;
use crate::routes::apps::{agent_config, app_name, new_secret};
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// `GET /xapi/settings`: the only place the secret is shown again.
pub async fn show(state: State, access: auth::AppOwner) -> Handled {
    let app = access.app;
    let config = agent_config(&state.agent_server_url, app.id, &app.secret);
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"appId": app.id, "name": app.name, "secret": app.secret, "agentConfig": config}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct Rename {
    new_app_name: String,
}

/// `PUT /xapi/settings_app_name`. A name the owner already uses is refused (the original answered 500).
pub async fn rename(state: State, access: auth::AppOwner<Rename>) -> Handled {
    let body = access.params;
    let app = access.app;
    let name = app_name(&body.new_app_name)?;
    if !apps::rename(&state.console_db, app.id, &name).await? {
        return Err(ConsoleError::Declined((&reasons::DUPLICATE_APP).into()));
    }
    Ok(HttpResponse::Ok().json(Reply::done()))
}

/// `PUT /xapi/settings_app_secret` (ours): a new secret. Agents signing with the old one are refused from then on
/// (the ws-server re-reads a secret after a signature mismatch), so update their configuration.
pub async fn rotate_secret(state: State, access: auth::AppOwner) -> Handled {
    let (app, user) = (access.app, access.user);
    let secret = new_secret();
    apps::set_secret(&state.console_db, app.id, &secret).await?;
    tracing::info!(app_id = app.id, user_id = user.id, "app secret rotated");
    let config = agent_config(&state.agent_server_url, app.id, &secret);
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"appId": app.id, "secret": secret, "agentConfig": config}))))
}

/// `DELETE /xapi/settings_app`: the app, its members, files and cores with their stored objects, its alarm rules
/// and their contacts (the original kept rules and contacts). Metrics age out of the day tables on their own.
pub async fn delete(state: State, access: auth::AppOwner) -> Handled {
    let db = &state.console_db;
    let (app, user) = (access.app, access.user);
    let objects = apps::stored_objects(db, app.id).await?;
    apps::delete(db, app.id).await?;
    // After the rows are gone: a failure here leaves an unreferenced object, never a row pointing at nothing.
    for name in &objects {
        if let Err(e) = state.storage.delete(name).await {
            tracing::warn!(object = %name, error = %e, "could not delete a stored object of a deleted app");
        }
    }
    tracing::info!(app_id = app.id, user_id = user.id, objects = objects.len(), "app deleted");
    Ok(HttpResponse::Ok().json(Reply::done()))
}
