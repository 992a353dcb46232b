//! What the manager talks to besides MySQL (whose SQL lives in the `store` crate): the agent registry and the log
//! store in Redis, and the ws-servers that hold the agents.

pub mod logstore;
pub mod registry;
pub mod relay;
pub mod ws_server;
