//! The console. This version serves the agents' profile uploads (`/xapi/upload_from_xtransit`, see
//! [`routes::upload`]) and `/healthz`, `/readyz`; users, apps, metrics, files and alarms come with the console issues.
//!
//! Layout: `routes/` (HTTP), `domain/` (pure rules), `clients/` (the profile store); `startup` builds them into the
//! `state`. SQL and key names live in the `store` crate.

pub mod clients;
pub mod domain;
pub mod error;
pub mod routes;
pub mod startup;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;

pub use startup::Application;
