//! The manager: ingests agent logs into MySQL and Redis, keeps the registry of online agents, and relays console
//! commands to the ws-server holding each agent. Wire-compatible with the original xtransit-manager's 17 routes.
//!
//! Layout: `routes/` (HTTP), `ingest` (one agent log → rows and entries), `domain/` (pure rules), `clients/`
//! (Redis registry and log store, the ws-servers), `jobs/` (metric writer, retention); `startup` builds them into
//! the `state`. SQL and key names live in the `store` crate.
//!
//! Invariant: the manager is the only service that writes the metric tables (`process_DD`, `osinfo_DD`).

pub mod clients;
pub mod domain;
pub mod error;
pub mod ingest;
pub mod jobs;
pub mod routes;
pub mod startup;
pub mod state;
pub mod stats;
