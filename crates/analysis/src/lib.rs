//! Server-side analysis of what the Node.js agents upload: V8 heap snapshots, CPU profiles and sampling heap
//! profiles. A `Read` goes in, serde-serializable results come out.
//!
//! Invariant: this crate does no IO of its own (no files, no network, no actix); the console and the `ezm-analyze`
//! tool hand it readers. It never panics on malformed input and never allocates beyond what the input's data (and a
//! caller's memory budget) allow: every failure is an [`Error`].
//!
//! Heap snapshots are parsed in a stream (`json`, a tokenizer made for V8's integer arrays; gzip inflated on a second
//! thread by flate2 with the zlib-rs backend) into compact arrays, then analysed the way Chrome DevTools does
//! (`heap::analyze`): same essential edges, class names, shallow-size reattribution, dominators and retained sizes.

pub mod cpu;
pub mod error;
pub mod heap;
pub mod heapprofile;
mod inflate;
mod json;
mod profile_input;
pub mod text;

pub use error::{Error, Result};
