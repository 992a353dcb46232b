//! Shared infrastructure of the three services: layered configuration, telemetry, MySQL and Redis pools and the
//! signed HTTP client the services use to call each other. Never depended on by `protocol` (which does no IO).

pub mod batch;
pub mod client;
pub mod error;
pub mod health;
pub mod metrics;
pub mod mysql;
pub mod redis;
pub mod retry;
pub mod settings;
pub mod signed;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod url;

pub use settings::Settings;
/// One tracing span per HTTP request (method, route, status, latency): `App::new().wrap(RequestSpans::default())`.
pub use tracing_actix_web::TracingLogger as RequestSpans;
