//! The alarm rules' two languages, as stored in `strategies.expression` and `strategies.content`:
//!
//! - [`Expression`]: the condition (`@heap_used / @heap_limit > 0.7 && @pid != "1"`), the original's boolex
//!   language with a real parser and normal (JavaScript) precedence;
//! - [`Template`]: the message (`heap at ${@heap_used / @heap_limit * 100}%`), the original's contextex language,
//!   with the original's number formatting.
//!
//! Both are parsed once ([`Expression::parse`], [`Template::parse`]) and evaluated against a context of
//! variables ([`Vars`]) with JavaScript's loose typing, as the original's compiled JavaScript did. Parse errors
//! carry the character position ([`ParseError`]). Evaluation is sandboxed (it can only read variables), bounded
//! ([`limits`]) and never panics.
//!
//! Invariant: no IO, no clock; everything here is a pure function of its input.
//!
//! Where we differ from the original on purpose (reference: xtransit-manager §6.3, §6.4, §9):
//! - parentheses are kept (boolex kept them only around `||`: `(@a + 1) * 2` became `@a + 1 * 2`);
//! - relational operators chain as in JavaScript (boolex ignored everything after a second one);
//! - unary `!`, `-` and `+` work (boolex rejected them); `===` and `!==` are strict;
//! - tokens left after a complete expression are an error (boolex ignored a trailing `)`);
//! - templates accept any expression in `${…}` (strings too), and their literal text is kept verbatim: quotes,
//!   backslashes and newlines are text (they broke or changed the original's templates);
//! - a template always renders text: `${@a}${@b}` with 1 and 2 is `12` (the original added them to `3`), an
//!   empty template is empty (the original gave `undefined`).
//! - objects and arrays in a context (`disks`, `vulnerabilities`) read as their JSON text (JavaScript would give
//!   `[object Object]`), so `@disks include "/data"` works.

mod expr;
mod lexer;
pub mod limits;
pub mod presets;
mod template;
mod value;

pub use expr::Expression;
pub use template::Template;
pub use value::{format_number, Value, Vars};

/// Why a text is not a valid expression or template, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset (0-based) in the text where the problem is.
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at character {}", self.message, self.offset + 1)
    }
}

impl std::error::Error for ParseError {}

/// Why an evaluation stopped: it would exceed [`limits::MAX_EVAL_STEPS`] or [`limits::MAX_STRING_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooCostly;

impl std::fmt::Display for TooCostly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("evaluation exceeded its cost limit")
    }
}

impl std::error::Error for TooCostly {}
