//! Shared infrastructure of the three services: layered configuration, telemetry, MySQL and Redis pools and the
//! signed HTTP client the services use to call each other. Never depended on by `protocol` (which does no IO).

pub mod client;
pub mod health;
pub mod mysql;
pub mod redis;
pub mod settings;
pub mod signed;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use settings::Settings;
