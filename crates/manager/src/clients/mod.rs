//! What the manager talks to besides MySQL (whose SQL lives in the `store` crate): the agent registry and the log
//! store in Redis, the ws-servers that hold the agents, the cached alarm rules, and where alarms are sent.

pub mod alarm_rules;
pub mod audit;
pub mod logstore;
pub mod notify;
pub mod registry;
pub mod relay;
pub mod ws_server;
