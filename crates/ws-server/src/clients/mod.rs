//! The ws-server's one peer, the manager: app secrets (cached) and the forwarding of agent messages (batched).

pub mod forward;
pub mod secrets;
