//! The ws-server: holds the WebSocket of every xtransit agent, verifies each signed frame, forwards heartbeats,
//! logs and actions to the manager, and relays the manager's commands to agents.
//!
//! Invariant: the ws-server keeps no durable state. Everything it knows (sockets, pending commands, cached app
//! secrets) is rebuilt when agents reconnect; the manager owns the registry in Redis.

//!
//! Layout: `routes/` (HTTP and the socket upgrade), `session` (one loop per agent socket), `domain/` (the in-memory
//! registry), `clients/` (the manager: secrets and forwarding); `startup` builds them into the `state`.

pub mod clients;
pub mod domain;
pub mod error;
pub mod routes;
pub mod session;
pub mod startup;
pub mod state;
pub mod stats;
