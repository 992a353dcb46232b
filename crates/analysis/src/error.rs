//! The one error type of the crate: what was wrong with the input, and where.

/// Why a file could not be analysed. Every malformed input ends here; the parsers never panic on bad data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading the input failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the input is empty")]
    Empty,
    #[error("the input ends early (truncated file) at byte {offset} while reading {context}")]
    Truncated { offset: u64, context: &'static str },
    #[error("the gzip stream ends early (truncated file)")]
    TruncatedGzip,
    #[error("malformed JSON at byte {offset}: {message}")]
    Syntax { offset: u64, message: String },
    #[error("the snapshot header is malformed: {0}")]
    Header(String),
    #[error("the snapshot is inconsistent: {0}")]
    Inconsistent(String),
    #[error("the snapshot needs about {needed_bytes} bytes of memory, more than the budget of {budget_bytes} bytes")]
    OverBudget { needed_bytes: u64, budget_bytes: u64 },
    #[error("the analysis was cancelled")]
    Cancelled,
    #[error("the profile is malformed: {0}")]
    Profile(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
