//! Manager integration tests: the real server on port 0 against real MariaDB and Redis, one database pair and Redis
//! prefix per test. Data-driven from the frames captured from the real xtransit 3.1.0 agent.

mod alarms;
mod harness;
mod helpers;
mod ingestion;
mod registry;
mod retention;
mod signatures;
