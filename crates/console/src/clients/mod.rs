//! What the console keeps outside MySQL and Redis: the profile store.

pub mod storage;
