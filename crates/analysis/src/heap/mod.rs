//! V8 heap snapshots: parsing, the DevTools-compatible analysis, leak suspects, retainer paths and comparisons.

pub mod analyze;
mod bits;
mod dominators;
pub mod snapshot;
#[cfg(test)]
pub(crate) mod testing;

pub use analyze::{ClassSummary, HeapAnalysis, Statistics};
pub use snapshot::{memory_estimate, HeapSnapshot, Location, ParseOptions};
