//! Background work: the batching metric writer and the daily retention run.

pub mod retention;
pub mod writer;
