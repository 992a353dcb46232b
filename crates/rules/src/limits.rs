//! The bounds that keep parsing and evaluation cheap whatever the text (the columns hold 150 characters; these
//! leave room for longer rules of ours and still bound the work per log).

/// Longest expression or template text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most syntax nodes in one expression (or in all of a template's expressions).
pub const MAX_NODES: usize = 400;
/// Deepest nesting (parentheses, unary operators): the parser recurses this deep at most.
pub const MAX_DEPTH: usize = 48;
/// Operations one evaluation may do.
pub const MAX_EVAL_STEPS: usize = 2000;
/// Longest string an evaluation may build (concatenation, number formatting).
pub const MAX_STRING_BYTES: usize = 64 * 1024;
