//! V8 heap snapshots: parsing, the DevTools-compatible analysis, leak suspects, retainer paths and comparisons.

pub mod analyze;
mod bits;
pub mod diff;
mod dominators;
pub mod paths;
pub mod queries;
pub mod report;
pub mod snapshot;
pub mod suspects;
#[cfg(test)]
pub(crate) mod testing;

pub use analyze::{ClassSummary, HeapAnalysis, Statistics};
pub use paths::{PathStep, RetainerPath};
pub use queries::Page;
pub use report::{DominatorNode, DuplicatedString, HeapReport, ObjectInfo, ReportLimits};
pub use snapshot::{memory_estimate, HeapSnapshot, Location, ParseOptions};
pub use suspects::{Explanation, LeakSuspect, SuspectKind};
