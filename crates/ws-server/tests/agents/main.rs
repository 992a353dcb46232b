//! ws-server integration tests: a real manager and ws-server on port 0 (real MariaDB and Redis, own databases and
//! Redis prefix per test) and scripted agents that sign frames exactly as xtransit 3.1.0 does.

mod behind_nginx;
mod commands;
mod console_files;
mod helpers;
mod real_agent;
mod real_agent_alarms;
mod sessions;
