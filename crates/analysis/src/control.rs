//! Cancellation and progress for a long analysis, shared between the thread that runs it and the one that started it
//! (the console's job runner, say).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The step an analysis is in, for a progress display. Parsing is the longest (about 40 % of the time), then the
/// graph step (dominators and distances).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Step {
    NotStarted = 0,
    Parsing = 1,
    Graph = 2,
    Classes = 3,
    Done = 4,
}

/// A cancel flag the analysis checks between its steps and every million records while parsing, and the current
/// step. Clones share the same state.
#[derive(Debug, Clone, Default)]
pub struct Control {
    cancelled: Arc<AtomicBool>,
    step: Arc<AtomicU8>,
}

impl Control {
    pub fn new() -> Control {
        Control::default()
    }

    /// Asks the analysis to stop; it returns `Error::Cancelled` at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn step(&self) -> Step {
        match self.step.load(Ordering::Relaxed) {
            1 => Step::Parsing,
            2 => Step::Graph,
            3 => Step::Classes,
            4 => Step::Done,
            _ => Step::NotStarted,
        }
    }

    /// Moves to `step`, unless the analysis was cancelled.
    pub(crate) fn enter(&self, step: Step) -> Result<()> {
        self.check()?;
        self.step.store(step as u8, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(())
    }
}
