//! The ws-server: holds the WebSocket of every xtransit agent, verifies each signed frame, forwards heartbeats,
//! logs and actions to the manager, and relays the manager's commands to agents.
//!
//! Invariant: the ws-server keeps no durable state. Everything it knows (sockets, pending commands, cached app
//! secrets) is rebuilt when agents reconnect; the manager owns the registry in Redis.

pub mod forward;
pub mod registry;
pub mod routes;
pub mod secrets;
pub mod session;
pub mod startup;
pub mod stats;
