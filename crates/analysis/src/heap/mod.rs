//! V8 heap snapshots: parsing, the DevTools-compatible analysis, leak suspects, retainer paths and comparisons.

pub mod snapshot;
#[cfg(test)]
pub(crate) mod testing;

pub use snapshot::{memory_estimate, HeapSnapshot, Location, ParseOptions};
