//! The console's API against a real console, MariaDB and Redis: one binary, a module per area.

mod accounts;
mod alarm;
mod apps;
mod authz;
mod files;
mod helpers;
mod metrics;
mod openapi;
mod ui;
mod upload;
