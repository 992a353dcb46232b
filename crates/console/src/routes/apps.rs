//! Apps: the lists on the home page, one app's header, creating an app (with the agent configuration to paste).

use actix_web::{web, HttpResponse};
use protocol::lenient;
use protocol::service::Reply;
use serde::Deserialize;
use serde_json::json;
use store::console_db::{apps, members, users};

use crate::auth::{self, CurrentUser};
use crate::error::ConsoleError;
use crate::reasons;
use crate::routes::params::Params;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// The longest app name (the column is VARCHAR(50); the original's UI stopped at 30).
pub const MAX_NAME_CHARS: usize = 50;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    #[serde(rename = "type")]
    kind: String,
}

/// `GET /xapi/apps?type=myApps|joinedApps` (ours: `allApps` for administrators).
pub async fn list(state: State, user: CurrentUser, Params(q): Params<ListQuery>) -> Handled {
    let db = &state.console_db;
    let list = match q.kind.as_str() {
        "myApps" => apps::owned_by(db, user.id).await?,
        "joinedApps" => apps::with_member(db, user.id, members::JOINED).await?,
        "allApps" if user.admin => apps::all(db).await?,
        "allApps" => return Err(ConsoleError::Forbidden((&reasons::ALL_APPS_ADMIN_ONLY).into())),
        other => return Err(ConsoleError::bad(format!("type must be myApps or joinedApps, not {other:?}"))),
    };
    let invited = apps::with_member(db, user.id, members::INVITED).await?;
    let owners: Vec<u64> = invited.iter().map(|a| a.owner).collect();
    let owners = users::by_ids(db, &owners).await?;
    let invitations: Vec<_> = invited
        .iter()
        .map(|a| {
            let owner = owners.iter().find(|u| u.id == a.owner).map(|u| u.nick.clone()).unwrap_or_else(|| "Unknown".into());
            json!({"appId": a.id, "appName": a.name, "ownerInfo": owner})
        })
        .collect();
    let list: Vec<_> = list.iter().map(|a| json!({"name": a.name, "appId": a.id})).collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list, "invitations": invitations}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppQuery {
    #[serde(deserialize_with = "lenient::uint")]
    pub app_id: u64,
}

/// `GET /xapi/app`: the app's name and whether the caller owns it.
pub async fn one(access: auth::AppMember) -> Handled {
    let (app, role) = (access.app, access.role);
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"appName": app.name, "currentUserIsOwner": role.is_owner()}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct NewApp {
    new_app_name: String,
}

/// A checked app name: trimmed, 1 to 50 characters.
pub fn app_name(raw: &str) -> Result<String, ConsoleError> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(ConsoleError::Invalid((&reasons::APP_NAME_EMPTY).into())),
        n if n > MAX_NAME_CHARS => Err(ConsoleError::Invalid(reasons::APP_NAME_TOO_LONG.arg("max", MAX_NAME_CHARS))),
        _ => Ok(name.to_owned()),
    }
}

/// A new app secret: 32 hex characters of randomness (the original's shape, an md5 hex).
pub fn new_secret() -> String {
    crate::accounts::random_token()[..32].to_owned()
}

/// `POST /xapi/app`: creates an app owned by the caller.
pub async fn create(state: State, user: CurrentUser, Params(body): Params<NewApp>) -> Handled {
    let name = app_name(&body.new_app_name)?;
    let secret = new_secret();
    let Some(id) = apps::create(&state.console_db, &name, user.id, &secret).await? else {
        return Err(ConsoleError::Declined((&reasons::DUPLICATE_APP).into()));
    };
    tracing::info!(app_id = id, user_id = user.id, "app created");
    Ok(HttpResponse::Ok().json(Reply::ok(json!({
        "appName": name,
        "appId": id,
        "appSecret": secret,
        "agentConfig": agent_config(&state.agent_server_url, id, &secret),
    }))))
}

/// What an agent needs: xtransit's `server`, `appId`, `appSecret`, and the same as a config file to paste.
pub fn agent_config(server: &str, app_id: u64, secret: &str) -> serde_json::Value {
    let file = format!("module.exports = {{\n  server: '{server}',\n  appId: {app_id},\n  appSecret: '{secret}',\n}};\n");
    json!({"server": server, "appId": app_id, "appSecret": secret, "file": file})
}
