//! Wire types and signatures shared by `ws-server`, `manager` and `console`.
//!
//! Invariant: this crate does no IO. It parses and produces the exact bytes the xtransit agent, the original
//! egg.js services and our own services exchange, so that every service agrees on them in one place.

pub mod agent;
pub mod command;
pub mod ids;
pub mod lenient;
pub mod logs;
pub mod service;
pub mod sign;

pub use agent::{AgentFrame, FrameError, MessageKind, ServerFrame};
pub use command::{CommandError, ExecCommand};
pub use ids::{AgentId, AppId, ClientId};
pub use service::{Reply, SignError};
