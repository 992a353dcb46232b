//! Pure rules, no IO: how agent logs become metric rows and alarm contexts, what alarm messages say on each
//! channel, and how a package file's dependencies are resolved.

pub mod alarm;
pub mod audit;
pub mod modules;
pub mod rows;
