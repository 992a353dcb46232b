//! The console's route table. Every route is one line of [`ROUTES`], naming who may call it ([`Guard`]); routes
//! are registered only from that table, so a new route cannot be added without saying who may use it, and the
//! authorization tests walk the same table. API routes (`route!`) make the OpenAPI document; the web UI's pages and
//! files (`page!`, all public) are in the table too but not in the document. Requests no route takes go to
//! [`ui::fallback`] (the default service, not a route): the SPA's client routes get `index.html`, API misses the
//! JSON envelope, anything else a plain 404.

pub mod actions;
pub mod admin;
pub mod alarm;
pub mod apps;
pub mod auth;
pub mod browser_upload;
pub mod download;
pub mod files;
mod health;
pub mod instance;
pub mod logs;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod settings;
pub mod team;
pub mod ui;
pub mod upload;

use actix_web::http::Method;
use actix_web::web;

/// Who may call a route. The handler enforces it (through `crate::auth`); the table says it, for review and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone (health, the sign-in page and API).
    Public,
    /// Agents, authenticated by the upload's own signature (a one-time token per file).
    AgentSignature,
    /// Any signed-in user.
    User,
    /// A user with a pending invitation to the app.
    Invitee,
    /// The app's owner or a joined member (or an administrator).
    Member,
    /// The app's owner (or an administrator).
    Owner,
    /// A member of the app an alarm rule (`strategyId`) belongs to: owner, joined member or administrator.
    Strategy,
    /// A global administrator (the administration routes).
    Admin,
    /// Each file the request names (`fileId` + `fileType`, or `files`) exists and belongs to an app the user is a
    /// member of (or an administrator): the original's `fileAccessibleRequired`.
    File,
}

pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
    /// The handler's path (`apps::list`), for the OpenAPI document.
    pub name: &'static str,
    /// The route's own parameters (besides those its guard reads), for the OpenAPI document.
    pub params: fn() -> Vec<utoipa::openapi::path::Parameter>,
    /// Part of the JSON API (and of the OpenAPI document); false for the web UI's pages and files (`page!`).
    pub api: bool,
    register: fn(&mut web::ServiceConfig),
}

/// `route!(GET "/path", Guard, handler)`, or with the type its parameters are parsed into: `…, handler, Params)`.
macro_rules! route {
    ($method:ident $path:literal, $guard:ident, $handler:path) => {
        route!($method $path, $guard, $handler, openapi::NoParams)
    };
    ($method:ident $path:literal, $guard:ident, $handler:path, $params:ty) => {
        route!(@api true; $method $path, $guard, $handler, $params)
    };
    (@api $api:literal; $method:ident $path:literal, $guard:ident, $handler:path, $params:ty) => {
        RouteSpec {
            method: Method::$method,
            path: $path,
            guard: Guard::$guard,
            name: stringify!($handler),
            params: {
                fn params() -> Vec<utoipa::openapi::path::Parameter> {
                    <$params as utoipa::IntoParams>::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query))
                }
                params
            },
            api: $api,
            register: {
                fn register(cfg: &mut web::ServiceConfig) {
                    cfg.route($path, web::method(Method::$method).to($handler));
                }
                register
            },
        }
    };
}

/// `page!(GET "/path", handler)`: a public page or file of the web UI, not part of the API.
macro_rules! page {
    ($method:ident $path:literal, $handler:path) => {
        route!(@api false; $method $path, Public, $handler, openapi::NoParams)
    };
}

pub static ROUTES: &[RouteSpec] = &[
    page!(GET "/", ui::index),
    page!(GET "/signin", ui::index),
    page!(GET "/assets/{file:.+}", ui::asset),
    page!(GET "/speedscope/{file:.+}", ui::asset),
    route!(POST "/xapi/signin", Public, auth::sign_in, auth::SignIn),
    route!(POST "/xapi/signout", Public, auth::sign_out),
    route!(GET "/healthz", Public, common::health::healthz),
    route!(GET "/readyz", Public, health::readyz),
    route!(GET "/metrics", Public, health::metrics),
    route!(GET "/openapi.json", Public, openapi::serve),
    route!(POST "/xapi/upload_from_xtransit", AgentSignature, upload::from_xtransit),
    route!(GET "/xapi/user", User, auth::current),
    route!(GET "/xapi/admin/users", Admin, admin::users),
    route!(GET "/xapi/admin/apps", Admin, admin::apps),
    route!(GET "/xapi/apps", User, apps::list, apps::ListQuery),
    route!(POST "/xapi/app", User, apps::create, apps::NewApp),
    route!(GET "/xapi/app", Member, apps::one),
    route!(GET "/xapi/team_members", Member, team::list),
    route!(POST "/xapi/team_member", Member, team::invite, team::Invite),
    route!(PUT "/xapi/invitation", Invitee, team::answer, team::Answer),
    route!(DELETE "/xapi/leave_team", Member, team::leave),
    route!(DELETE "/xapi/team_member", Owner, team::remove, team::MemberRef),
    route!(POST "/xapi/team_ownership", Owner, team::transfer, team::MemberRef),
    route!(GET "/xapi/agents", Member, instance::agents),
    route!(GET "/xapi/agent", Member, instance::agent, instance::AgentQuery),
    route!(GET "/xapi/node_processes", Member, instance::node_processes, instance::AgentQuery),
    route!(GET "/xapi/xprofiler_status", Member, instance::xprofiler_status, instance::PidQuery),
    route!(GET "/xapi/overview_metrics", Member, metrics::overview_metrics),
    route!(GET "/xapi/main_metrics", Member, metrics::main_metrics, metrics::MainMetricQuery),
    route!(GET "/xapi/xprofiler_processes", Member, metrics::xprofiler_processes, metrics::AgentOnly),
    route!(GET "/xapi/process_trend", Member, metrics::process_trend, metrics::ProcessTrendQuery),
    route!(GET "/xapi/system_overview", Member, metrics::system_overview, metrics::AgentOnly),
    route!(GET "/xapi/system_trend", Member, metrics::system_trend, metrics::SystemTrendQuery),
    route!(GET "/xapi/error_files", Member, logs::error_files, instance::AgentQuery),
    route!(GET "/xapi/error_logs", Member, logs::error_logs, logs::ErrorLogsQuery),
    route!(GET "/xapi/module_files", Member, logs::module_files, instance::AgentQuery),
    route!(GET "/xapi/module", Member, logs::module, logs::ModuleQuery),
    route!(POST "/xapi/action", Member, actions::take, actions::ActionBody),
    route!(POST "/xapi/process_trend", Member, actions::save_trend, actions::PidBody),
    route!(GET "/xapi/files", Member, files::list, files::ListQuery),
    route!(POST "/xapi/file_status", File, files::status),
    route!(POST "/xapi/file_transfer", File, files::transfer),
    route!(POST "/xapi/file_favor", File, files::favor, files::FavorBody),
    route!(DELETE "/xapi/file_deletion", File, files::delete),
    route!(POST "/xapi/upload_file", Member, browser_upload::upload),
    route!(GET "/file/download", File, download::download),
    route!(GET "/dashboard/devtools-new", File, download::devtools_new),
    route!(GET "/dashboard/devtools-old", File, download::devtools_old),
    route!(GET "/dashboard/speedscope", File, download::speedscope),
    route!(GET "/xapi/settings", Owner, settings::show),
    route!(PUT "/xapi/settings_app_name", Owner, settings::rename, settings::Rename),
    route!(PUT "/xapi/settings_app_secret", Owner, settings::rotate_secret),
    route!(DELETE "/xapi/settings_app", Owner, settings::delete),
    route!(GET "/xapi/alarm_strategies", Member, alarm::list),
    route!(POST "/xapi/alarm_strategy", Member, alarm::create, alarm::RuleBody),
    route!(PUT "/xapi/alarm_strategy", Strategy, alarm::update, alarm::RuleBody),
    route!(PUT "/xapi/alarm_strategy_status", Strategy, alarm::set_status, alarm::StatusChange),
    route!(DELETE "/xapi/alarm_strategy", Strategy, alarm::delete),
    route!(GET "/xapi/alarm_strategy_history", Strategy, alarm::history, alarm::HistoryQuery),
    route!(GET "/xapi/alarm_strategy_contacts", Strategy, alarm::contacts),
    route!(POST "/xapi/alarm_strategy_contact", Strategy, alarm::add_contact, alarm::ContactRef),
    route!(DELETE "/xapi/alarm_strategy_contact", Strategy, alarm::remove_contact, alarm::ContactRef),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for route in ROUTES {
        (route.register)(cfg);
    }
    cfg.default_service(web::to(ui::fallback));
}
