//! The console database (`xprofiler_console`): one module per table group. `strategies` and `contacts` get their
//! module with their first query (the console's alarm rules).

pub mod apps;
pub mod coredumps;
pub mod files;
pub mod members;
pub mod users;

/// MySQL's duplicate-key error (1062), which several writes turn into a business answer.
pub(crate) fn is_duplicate(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if s.code == 1062)
}
