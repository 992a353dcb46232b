//! Server-side analysis of what the Node.js agents upload: V8 heap snapshots, CPU profiles and sampling heap
//! profiles. A `Read` goes in, serde-serializable results come out.
//!
//! Invariant: this crate does no IO of its own (no files, no network, no actix); the console and the `ezm-analyze`
//! tool hand it readers. It never panics on malformed input and never allocates beyond what the input's data (and a
//! caller's memory budget) allow: every failure is an [`Error`].
//!
//! Heap snapshots are parsed in a stream (`json`, a tokenizer made for V8's integer arrays: serde_json's reader would
//! visit hundreds of millions of integers one `Read` byte at a time, and rejects the lone surrogates V8 writes; gzip
//! is inflated on a second thread by flate2 with the zlib-rs backend) into compact arrays, then analysed the way
//! Chrome DevTools does (`heap::analyze`): same essential edges, class names, shallow-size reattribution, dominators
//! and retained sizes, so a user's numbers agree with DevTools'.
//!
//! Entry points:
//! - [`heap::HeapSnapshot::from_reader`] (plain or gzip, with [`heap::ParseOptions`]: a memory budget checked
//!   against the header by [`heap::memory_estimate`] before any large allocation), then [`heap::HeapAnalysis::new`]
//!   and [`heap::HeapAnalysis::report`] for the [`heap::HeapReport`]; paged follow-ups on the analysis
//!   (`class_instances`, `dominated_page`, `retainer_paths`); [`heap::diff::SnapshotSummary`] and
//!   [`heap::diff::compare`] / [`heap::diff::growth`] for comparisons.
//! - A [`Control`] in `ParseOptions` (and given to [`heap::HeapAnalysis::with_control`]) cancels a running
//!   analysis and tells which [`Step`] it is in; bytes read while parsing are best counted by wrapping the reader.
//! - [`cpu::CpuProfile::from_reader`], `report()`, and [`cpu::diff`].
//! - [`heapprofile::analyse`].
//!
//! Memory: about 41 bytes per node and 13 per edge stay resident after the analysis (17 and 9 of them the parsed
//! arrays); the dominator computation adds 36 bytes per node for its duration.

pub mod control;
pub mod cpu;
pub mod error;
pub mod heap;
pub mod heapprofile;
mod inflate;
mod json;
mod profile_input;
pub mod text;

pub use control::{Control, Step};
pub use error::{Error, Result};
