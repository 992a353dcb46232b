//! Background work: the batching metric writer, the daily retention run, and the alarm engine.

pub mod alarms;
pub mod retention;
pub mod writer;
