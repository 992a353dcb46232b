//! Who is asking: the [`CurrentUser`] extractor (a session cookie, or HTTP Basic credentials when allowed), the
//! per-app [`Role`] checks every app-scoped route makes, the per-file check of the file routes ([`FileAccess`]), and
//! the CSRF middleware (the original's double submit: a `csrfToken` cookie echoed in the `x-csrf-token` header on
//! every state-changing request).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use base64::Engine;
use store::console_db::{apps, coredumps, files, members, strategies, users};

use crate::accounts;
use crate::clients::sessions::COOKIE;
use crate::error::ConsoleError;
use crate::reasons;
use crate::routes::params::Params;
use crate::state::AppState;

pub const CSRF_COOKIE: &str = "csrfToken";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub use crate::accounts::CurrentUser;

impl FromRequest for CurrentUser {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(user) = req.extensions().get::<CurrentUser>() {
            let user = user.clone();
            return Box::pin(async move { Ok(user) });
        }
        let state = req.app_data::<web::Data<AppState>>().cloned().expect("the console registers its state");
        let token = req.cookie(COOKIE).map(|c| c.value().to_owned());
        let basic = basic_credentials(req);
        let address = client_address(req);
        let req = req.clone();
        Box::pin(async move {
            let now_ms = chrono::Utc::now().timestamp_millis();
            if let Some(session) = match &token {
                Some(token) => state.sessions.get(token, now_ms).await?,
                None => None,
            } {
                let user = users::by_id(&state.console_db, session.user).await?.ok_or(ConsoleError::Unauthenticated)?;
                let user = CurrentUser::load(&state.console_db, user).await?;
                req.extensions_mut().insert(user.clone());
                return Ok(user);
            }
            match basic {
                Some((name, password)) if state.auth.basic_auth => {
                    let user = accounts::sign_in_basic(&state, &name, &password, &address).await.map_err(|e| match e {
                        ConsoleError::BadCredentials(message) => ConsoleError::BadBasicCredentials(message),
                        other => other,
                    })?;
                    req.extensions_mut().insert(user.clone());
                    Ok(user)
                }
                _ => Err(ConsoleError::Unauthenticated),
            }
        })
    }
}

/// `Authorization: Basic base64(name:password)`.
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_owned(), password.to_owned()))
}

/// The client's address: the peer, or, when the peer is a proxy on a loopback or private address (our nginx), the
/// address that proxy saw (`X-Real-IP`, else the last `X-Forwarded-For` hop). A client cannot choose it by sending
/// those headers itself to a proxy that overwrites or appends them.
pub fn client_address(req: &HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let behind_proxy = match peer {
        Some(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Some(IpAddr::V6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        None => false,
    };
    let forwarded = || {
        let real = req.headers().get("x-real-ip").and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
        let last_hop = || {
            let chain = req.headers().get("x-forwarded-for")?.to_str().ok()?;
            chain.rsplit(',').map(str::trim).find(|v| !v.is_empty())
        };
        real.or_else(last_hop).map(str::to_owned)
    };
    match behind_proxy {
        true => forwarded().or_else(|| peer.map(|p| p.to_string())).unwrap_or_default(),
        false => peer.map(|p| p.to_string()).unwrap_or_default(),
    }
}

/// True when the browser reached us over https (directly, or through our proxy's `X-Forwarded-Proto`).
pub fn is_https(req: &HttpRequest) -> bool {
    let forwarded = req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"));
    forwarded || req.connection_info().scheme() == "https"
}

/// What a user is to an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Member,
    Invitee,
    /// A global administrator who is neither owner nor member: may do what an owner may.
    Admin,
}

impl Role {
    pub fn is_member(self) -> bool {
        matches!(self, Role::Owner | Role::Member | Role::Admin)
    }

    pub fn is_owner(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// The app and what `user` is to it; `None` when they have nothing to do with it. A missing app is
/// [`ConsoleError::NotFound`].
pub async fn role(db: &mysql_async::Pool, user: &CurrentUser, app_id: u64) -> Result<(apps::App, Option<Role>), ConsoleError> {
    let app = apps::by_id(db, app_id).await?.ok_or_else(|| ConsoleError::NotFound(reasons::APP_NOT_FOUND.arg("appId", app_id)))?;
    if app.owner == user.id {
        return Ok((app, Some(Role::Owner)));
    }
    let role = match members::status(db, app_id, user.id).await? {
        Some(members::JOINED) => Some(Role::Member),
        _ if user.admin => Some(Role::Admin),
        Some(members::INVITED) => Some(Role::Invitee),
        _ => None,
    };
    Ok((app, role))
}

/// The rule, its app and what `user` is to that app, for [`StrategyAccess`].
async fn require_strategy(db: &mysql_async::Pool, user: &CurrentUser, strategy_id: u64) -> Result<(strategies::Strategy, apps::App, Role), ConsoleError> {
    let Some(strategy) = strategies::by_id(db, strategy_id).await? else {
        return Err(ConsoleError::NotFound((&reasons::RULE_NOT_FOUND).into()));
    };
    match role(db, user, strategy.app).await? {
        (app, Some(role)) if role.is_member() => Ok((strategy, app, role)),
        _ => Err(ConsoleError::Forbidden((&reasons::RULE_FORBIDDEN).into())),
    }
}

/// Extractors that check access to the app named by the request's `appId` before anything else of the request is
/// looked at: the user first (401), then `appId` (400), then the role (403 / 404), and only then the route's own
/// parameters `T` (so a caller without access learns nothing, not even which parameters are missing).
macro_rules! app_guard {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        pub struct $name<T = Nothing> {
            pub user: CurrentUser,
            pub app: apps::App,
            pub role: Role,
            pub params: T,
        }

        impl<T: serde::de::DeserializeOwned + 'static> FromRequest for $name<T> {
            type Error = ConsoleError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let state = req.app_data::<web::Data<AppState>>().cloned().expect("the console registers its state");
                let user = CurrentUser::from_request(req, payload);
                let app_ref = Params::<AppRef>::from_request(req, payload);
                let params = Params::<T>::from_request(req, payload);
                Box::pin(async move {
                    let user = user.await?;
                    let Params(AppRef { app_id }) = app_ref.await?;
                    let (app, role) = role(&state.console_db, &user, app_id).await?;
                    let check: fn(Option<Role>) -> Result<Role, ConsoleError> = $check;
                    let role = check(role)?;
                    let Params(params) = params.await?;
                    Ok($name { user, app, role, params })
                })
            }
        }
    };
}

/// No parameters beyond `appId`.
#[derive(serde::Deserialize)]
pub struct Nothing {}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppRef {
    #[serde(deserialize_with = "protocol::lenient::uint")]
    app_id: u64,
}

app_guard!(
    /// The app's owner or a joined member (or an administrator): the original's `appMemberRequired`.
    AppMember,
    |role| role.filter(|r| r.is_member()).ok_or_else(|| ConsoleError::Forbidden((&reasons::NOT_APP_MEMBER).into()))
);
app_guard!(
    /// The app's owner (or an administrator): the original's `appOwnerRequired`.
    AppOwner,
    |role| role.filter(|r| r.is_owner()).ok_or_else(|| ConsoleError::Forbidden((&reasons::OWNER_ONLY).into()))
);
app_guard!(
    /// A user with a pending invitation to the app: the original's `appInvitationRequired`.
    AppInvitee,
    |role| role.filter(|r| *r == Role::Invitee).ok_or_else(|| ConsoleError::Forbidden((&reasons::NO_INVITATION).into()))
);

/// The original's `strategyAccessibleRequired` as an extractor: the user first (401), then `strategyId` (400), then
/// the rule (404) and what the user is to its app (403: owner, joined member or administrator may), and only then
/// the route's own parameters `T`, so a caller without access learns nothing of them.
pub struct StrategyAccess<T = Nothing> {
    pub user: CurrentUser,
    pub strategy: strategies::Strategy,
    pub app: apps::App,
    pub params: T,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StrategyRef {
    #[serde(deserialize_with = "protocol::lenient::uint")]
    strategy_id: u64,
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for StrategyAccess<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned().expect("the console registers its state");
        let user = CurrentUser::from_request(req, payload);
        let strategy_ref = Params::<StrategyRef>::from_request(req, payload);
        let params = Params::<T>::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            let Params(StrategyRef { strategy_id }) = strategy_ref.await?;
            let (strategy, app, _) = require_strategy(&state.console_db, &user, strategy_id).await?;
            let Params(params) = params.await?;
            Ok(StrategyAccess { user, strategy, app, params })
        })
    }
}

/// A file row a [`FileAccess`] guard loaded, as the request named it (`fileId` + `fileType`).
#[derive(Debug, Clone)]
pub struct NamedFile {
    pub id: u64,
    /// The type as asked: a `files` type, `core`, or `executable` (a core's node binary).
    pub file_type: String,
    pub record: FileRecord,
}

#[derive(Debug, Clone)]
pub enum FileRecord {
    Profile(files::FileRow),
    Core(coredumps::CoreRow),
}

impl NamedFile {
    pub fn app(&self) -> u64 {
        match &self.record {
            FileRecord::Profile(f) => f.app,
            FileRecord::Core(c) => c.app,
        }
    }

    pub fn agent(&self) -> &str {
        match &self.record {
            FileRecord::Profile(f) => &f.agent,
            FileRecord::Core(c) => &c.agent,
        }
    }

    /// `status`, or a core's `file_status`.
    pub fn status(&self) -> u8 {
        match &self.record {
            FileRecord::Profile(f) => f.status,
            FileRecord::Core(c) => c.file_status,
        }
    }

    /// The stored object the asked type names (`executable`: the core's node binary); empty until transferred.
    pub fn storage(&self) -> &str {
        match &self.record {
            FileRecord::Profile(f) => &f.storage,
            FileRecord::Core(c) if self.file_type == EXECUTABLE => &c.node_storage,
            FileRecord::Core(c) => &c.file_storage,
        }
    }

    /// Every stored object of the row (a core has two).
    pub fn all_storage(&self) -> Vec<String> {
        let names = match &self.record {
            FileRecord::Profile(f) => vec![f.storage.clone()],
            FileRecord::Core(c) => vec![c.file_storage.clone(), c.node_storage.clone()],
        };
        names.into_iter().filter(|n| !n.is_empty()).collect()
    }
}

/// The pseudo file type of a core's node binary.
pub const EXECUTABLE: &str = "executable";
/// The most files one request may name (the files page shows 10 a page).
const MAX_NAMED_FILES: usize = 100;

/// The original's `fileAccessibleRequired`: the user first (401), then the files the request names (`files: [{fileId,
/// fileType}]`, else `fileId` + `fileType`; 400 when neither), each of which must exist (404) and belong to an app
/// the user is a member of (403), and only then the route's own parameters `T`. `core` and `executable` name a
/// `coredumps` row, any other type the `files` row of that id and type.
pub struct FileAccess<T = Nothing> {
    pub user: CurrentUser,
    /// The named files, in the request's order.
    pub files: Vec<NamedFile>,
    pub params: T,
}

impl<T> FileAccess<T> {
    /// The one file a single-file route acts on; naming several is a caller mistake (not "the first of them").
    pub fn single(&self) -> Result<&NamedFile, ConsoleError> {
        match self.files.as_slice() {
            [file] => Ok(file),
            _ => Err(ConsoleError::bad("this route takes one file (fileId and fileType)")),
        }
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for FileAccess<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned().expect("the console registers its state");
        let user = CurrentUser::from_request(req, payload);
        let refs = Params::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        let params = Params::<T>::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            let Params(all) = refs.await?;
            let refs = file_refs(&all)?;
            let db = &state.console_db;
            let mut files = Vec::with_capacity(refs.len());
            for (id, file_type) in refs {
                let record = match file_type.as_str() {
                    "core" | EXECUTABLE => coredumps::by_id(db, id).await?.map(FileRecord::Core),
                    kind => files::by_id(db, id, kind).await?.map(FileRecord::Profile),
                };
                let record = record.ok_or_else(|| ConsoleError::NotFound(reasons::FILE_NOT_FOUND.arg("fileId", id).arg("fileType", &file_type)))?;
                files.push(NamedFile { id, file_type, record });
            }
            let mut members_of = std::collections::HashMap::new();
            for file in &files {
                let app = file.app();
                let member = match members_of.get(&app) {
                    Some(member) => *member,
                    None => {
                        let member = match role(db, &user, app).await {
                            Ok((_, Some(role))) => role.is_member(),
                            Ok((_, None)) | Err(ConsoleError::NotFound(_)) => false,
                            Err(e) => return Err(e),
                        };
                        members_of.insert(app, member);
                        member
                    }
                };
                if !member {
                    return Err(ConsoleError::Forbidden((&reasons::FILE_FORBIDDEN).into()));
                }
            }
            let Params(params) = params.await?;
            Ok(FileAccess { user, files, params })
        })
    }
}

/// `(fileId, fileType)` of each file a request names: the `files` array when there is one, else `fileId` and
/// `fileType`. Ids may be numbers or numeric strings.
fn file_refs(all: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<(u64, String)>, ConsoleError> {
    use serde_json::Value;
    fn one(object: &serde_json::Map<String, Value>) -> Result<(u64, String), ConsoleError> {
        let missing = |name: &str| ConsoleError::Param(common::signed::ParamError::Missing(name.into()));
        let id = match object.get("fileId") {
            None | Some(Value::Null) => return Err(missing("fileId")),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        let id = id.ok_or_else(|| ConsoleError::bad("fileId must be a number"))?;
        let file_type = match object.get("fileType") {
            None | Some(Value::Null) => return Err(missing("fileType")),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(ConsoleError::bad("fileType must be a file type")),
        };
        Ok((id, file_type))
    }
    let Some(Value::Array(list)) = all.get("files") else {
        return Ok(vec![one(all)?]);
    };
    if list.is_empty() || list.len() > MAX_NAMED_FILES {
        return Err(ConsoleError::bad(format!("files must name 1 to {MAX_NAMED_FILES} files")));
    }
    list.iter()
        .map(|entry| match entry {
            Value::Object(object) => one(object),
            _ => Err(ConsoleError::bad("files must be a list of {fileId, fileType}")),
        })
        .collect()
}

/// Refuses state-changing requests whose `x-csrf-token` header does not equal the `csrfToken` cookie, and gives
/// every response to a client without that cookie a fresh one (readable by scripts, as the original front-end needs).
/// The agents' upload is exempt: it is authenticated by its own signature.
pub async fn csrf(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let cookie = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty());
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let exempt = req.path() == "/xapi/upload_from_xtransit";
    if !safe && !exempt {
        let header = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let matches = match (&cookie, header) {
            (Some(cookie), Some(header)) => constant_time_eq(cookie.as_bytes(), header.as_bytes()),
            _ => false,
        };
        if !matches {
            return Err(ConsoleError::Csrf.into());
        }
    }
    let https = is_https(req.request());
    let mut response = next.call(req).await?;
    // Never on a response shared caches may keep (the UI's immutable files): a cached token would be handed to
    // every visitor behind the cache.
    let cache_control = response.response().headers().get(actix_web::http::header::CACHE_CONTROL);
    let shared = cache_control.and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("public"));
    if cookie.is_none() && !shared {
        let token = accounts::random_token();
        let cookie = Cookie::build(CSRF_COOKIE, token).path("/").same_site(SameSite::Lax).secure(https).finish();
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response)
}

/// With `console.basic_challenge`: a request refused for want of a session or credentials carries the HTTP Basic
/// challenge, as the original's answers did, so a front-end without a sign-in page (the original xui) gets the
/// browser's password prompt where its session ended. A failed sign-in form (`/xapi/signin`) does not: the browser
/// would put its own dialog over the sign-in page.
pub async fn basic_challenge(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let unauthenticated = response.response().error().and_then(|e| e.as_error::<ConsoleError>()).is_some_and(|e| matches!(e, ConsoleError::Unauthenticated));
    let headers = response.response_mut().headers_mut();
    if unauthenticated && !headers.contains_key(header::WWW_AUTHENTICATE) {
        headers.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(crate::error::BASIC_CHALLENGE));
    }
    Ok(response)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A signed-in global administrator (the administration routes); anyone else is refused.
pub struct Administrator(pub CurrentUser);

impl FromRequest for Administrator {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            if !user.admin {
                return Err(ConsoleError::Forbidden((&reasons::ADMIN_ONLY).into()));
            }
            Ok(Administrator(user))
        })
    }
}
