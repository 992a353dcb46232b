//! What the console talks to besides MySQL (whose SQL is in the `store` crate): sessions in Redis, the manager, and
//! the profile store.

pub mod manager;
pub mod sessions;
pub mod storage;
