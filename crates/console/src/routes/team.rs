//! Team members and invitations: list, invite by identity (工号), accept or decline, withdraw, remove, leave, hand
//! over ownership.

use actix_web::{web, HttpResponse};
use protocol::lenient;
use protocol::service::Reply;
use serde::Deserialize;
use serde_json::json;
use store::console_db::{apps, members, users};

use crate::auth;
use crate::error::ConsoleError;
use crate::reasons;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

fn done() -> Handled {
    Ok(HttpResponse::Ok().json(Reply::done()))
}

/// `GET /xapi/team_members`: the owner (status 0, since the app's creation, as the original) and every member or
/// invitee (since they joined or were invited).
pub async fn list(state: State, access: auth::AppMember) -> Handled {
    let db = &state.console_db;
    let (app, user) = (access.app, access.user);
    let rows = members::of_app(db, app.id).await?;
    let mut ids: Vec<u64> = rows.iter().map(|m| m.user).collect();
    ids.push(app.owner);
    let people = users::by_ids(db, &ids).await?;
    let info = |id: u64| match people.iter().find(|u| u.id == id) {
        Some(u) => format!("{} ({})", u.nick, u.identity),
        None => format!("Unknown ({id})"),
    };
    let mut list: Vec<_> = rows.iter().map(|m| json!({"userId": m.user, "status": m.status, "timestamp": m.since_ms, "userInfo": info(m.user)})).collect();
    list.push(json!({"userId": app.owner, "status": 0, "timestamp": app.created_ms, "userInfo": info(app.owner)}));
    Ok(HttpResponse::Ok().json(Reply::ok(json!({"list": list, "currentUserId": user.id}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// The invitee's identity (工号), as typed.
    #[serde(deserialize_with = "lenient::text")]
    user_id: String,
}

/// `POST /xapi/team_member`: any member may invite by identity.
pub async fn invite(state: State, access: auth::AppMember<Invite>) -> Handled {
    let body = access.params;
    let db = &state.console_db;
    let (app, user) = (access.app, access.user);
    let identity = body.user_id.trim();
    let Some(invitee) = users::by_identity(db, identity).await? else {
        return Err(ConsoleError::Declined(reasons::USER_NOT_FOUND.arg("user", identity)));
    };
    if invitee.id == user.id {
        return Err(ConsoleError::Declined((&reasons::INVITE_SELF).into()));
    }
    if invitee.id == app.owner {
        return Err(ConsoleError::Declined(reasons::ALREADY_IN_TEAM.arg("user", &invitee.nick)));
    }
    match members::status(db, app.id, invitee.id).await? {
        Some(members::JOINED) => return Err(ConsoleError::Declined(reasons::ALREADY_IN_TEAM.arg("user", &invitee.nick))),
        Some(_) => return Err(ConsoleError::Declined((&reasons::ALREADY_INVITED).into())),
        None => {}
    }
    if !members::invite(db, app.id, invitee.id).await? {
        return Err(ConsoleError::Declined((&reasons::ALREADY_INVITED).into()));
    }
    tracing::info!(app_id = app.id, user_id = user.id, invitee = invitee.id, "invited a user");
    done()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// 1 accept, 0 decline.
    #[serde(deserialize_with = "lenient::uint")]
    status: u64,
}

/// `PUT /xapi/invitation`: the invitee accepts (1) or declines (0).
pub async fn answer(state: State, access: auth::AppInvitee<Answer>) -> Handled {
    let body = access.params;
    let db = &state.console_db;
    let (app, user) = (access.app, access.user);
    match body.status {
        1 => {
            members::accept(db, app.id, user.id).await?;
        }
        0 => {
            members::remove(db, app.id, user.id).await?;
        }
        other => return Err(ConsoleError::bad(format!("status must be 1 (accept) or 0 (decline), not {other}"))),
    }
    done()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct MemberRef {
    /// A user's database id (as `team_members` lists it).
    #[serde(deserialize_with = "lenient::uint")]
    user_id: u64,
}

/// `DELETE /xapi/team_member`: the owner removes a member or withdraws an invitation.
pub async fn remove(state: State, access: auth::AppOwner<MemberRef>) -> Handled {
    let body = access.params;
    let db = &state.console_db;
    let app = access.app;
    if !members::remove(db, app.id, body.user_id).await? {
        return Err(ConsoleError::Declined(reasons::NOT_IN_TEAM.arg("userId", body.user_id)));
    }
    done()
}

/// `DELETE /xapi/leave_team`: a member leaves (the owner cannot: hand the app over first).
pub async fn leave(state: State, access: auth::AppMember) -> Handled {
    let db = &state.console_db;
    let (app, role, user) = (access.app, access.role, access.user);
    if role == auth::Role::Owner {
        return Err(ConsoleError::Declined((&reasons::OWNER_CANNOT_LEAVE).into()));
    }
    members::remove(db, app.id, user.id).await?;
    done()
}

/// `POST /xapi/team_ownership`: the owner hands the app to a joined member, and stays as a member.
pub async fn transfer(state: State, access: auth::AppOwner<MemberRef>) -> Handled {
    let body = access.params;
    let db = &state.console_db;
    let app = access.app;
    if body.user_id == app.owner {
        return Err(ConsoleError::Declined((&reasons::ALREADY_OWNER).into()));
    }
    if !apps::transfer(db, app.id, app.owner, body.user_id).await? {
        return Err(ConsoleError::Declined(reasons::NOT_A_MEMBER.arg("userId", body.user_id)));
    }
    tracing::info!(app_id = app.id, from = app.owner, to = body.user_id, "ownership transferred");
    done()
}
