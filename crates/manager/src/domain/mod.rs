//! Pure rules, no IO: how agent logs become metric rows, and how a package file's dependencies are resolved.

pub mod modules;
pub mod rows;
