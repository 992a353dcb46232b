//! The manager: ingests agent logs into MySQL and Redis, keeps the registry of online agents, and relays console
//! commands to the ws-server holding each agent. Wire-compatible with the original xtransit-manager's 17 routes.
//!
//! Invariant: the manager is the only service that writes the metric tables (`process_DD`, `osinfo_DD`).

pub mod error;
pub mod ingest;
pub mod keys;
pub mod logstore;
pub mod registry;
pub mod relay;
pub mod retention;
pub mod routes;
pub mod rows;
pub mod schema;
pub mod startup;
pub mod stats;
pub mod writer;
