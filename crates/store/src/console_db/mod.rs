//! The console database (`xprofiler_console`): one module per table group. The other tables of `db/console.sql`
//! (`user`, `members`, `strategies`, `contacts`) get their module with their first query (the console's accounts,
//! teams and alarm rules).

pub mod apps;
pub mod coredumps;
pub mod files;
