//! The console database (`xprofiler_console`): one module per table group.

pub mod alarm_actions;
pub mod apps;
pub mod contacts;
pub mod coredumps;
pub mod files;
pub mod members;
pub mod strategies;
pub mod users;

/// MySQL's duplicate-key error (1062), which several writes turn into a business answer.
pub(crate) fn is_duplicate(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if s.code == 1062)
}
