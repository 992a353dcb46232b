//! `loadgen`: simulates many xtransit 3.1.0 agents against the easy-monitor ws-server, measures command round trips
//! through the manager, and carries a small verifying sink to test itself. Loopback targets only.

pub mod agent;
pub mod cli;
pub mod command;
pub mod frame;
pub mod net;
pub mod payload;
pub mod run;
pub mod sink;
pub mod stats;
