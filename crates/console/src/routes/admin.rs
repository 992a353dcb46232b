//! Administration (global administrators only): every account and every app, for the web UI's administration page.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use protocol::service::Reply;
use serde_json::json;
use store::console_db::{apps, users};

use crate::auth::Administrator;
use crate::error::ConsoleError;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

/// `GET /xapi/admin/users`: `{list: [{userId, account, nick, identity, admin, createdAt}]}`.
pub async fn users(state: State, _: Administrator) -> Handled {
    let list: Vec<_> = users::all(&state.console_db)
        .await?
        .into_iter()
        .map(|u| {
            json!({"userId": u.user.id, "account": u.user.name, "nick": u.user.nick, "identity": u.user.identity,
                   "admin": u.admin, "createdAt": u.created_ms})
        })
        .collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list}))))
}

/// `GET /xapi/admin/apps`: `{list: [{appId, name, ownerId, ownerInfo, createdAt}]}` (never the secrets).
pub async fn apps(state: State, _: Administrator) -> Handled {
    let all = apps::all_by_id(&state.console_db).await?;
    let mut owners: Vec<u64> = all.iter().map(|a| a.owner).collect();
    owners.sort_unstable();
    owners.dedup();
    let names: HashMap<u64, String> = users::by_ids(&state.console_db, &owners)
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} ({})", if u.nick.is_empty() { &u.name } else { &u.nick }, u.identity)))
        .collect();
    let list: Vec<_> = all
        .into_iter()
        .map(|a| {
            json!({"appId": a.id, "name": a.name, "ownerId": a.owner,
                   "ownerInfo": names.get(&a.owner).cloned().unwrap_or_default(), "createdAt": a.created_ms})
        })
        .collect();
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list}))))
}
