//! The console: accounts and sign-in, apps, teams and settings, metrics, profiling files (actions, the files page,
//! transfers, downloads, browser uploads, the analysis launchers), alarm rules with their contacts and history, and
//! the agents' profile uploads (`/xapi/upload_from_xtransit`, see [`routes::upload`]).
//!
//! Layout: `routes/` (the route table with who may call each route, and the handlers), `auth` (who is asking, roles,
//! CSRF), `accounts` (sign-in, the first administrator), `frontend` (the embedded web UI or `console.ui_dir`), `cache` (the app cards' replies, briefly), `error` and `reasons` (every refusal, with its stable key), `domain/` (pure rules), `clients/` (sessions in Redis, the
//! manager, the profile store); `startup` builds them into the `state`. SQL and key names live in the `store` crate.

pub mod accounts;
pub mod auth;
pub mod cache;
pub mod clients;
pub mod domain;
pub mod error;
pub mod frontend;
pub mod reasons;
pub mod routes;
pub mod startup;
pub mod state;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;

pub use startup::Application;
