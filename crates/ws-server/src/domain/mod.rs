//! Pure parts, no IO: the in-memory registry of sockets and pending commands.

pub mod registry;
