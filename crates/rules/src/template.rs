//! Message templates: literal text with `${ expression }` parts. Each part's value is formatted as the
//! original's (`toFixed(2)` for numbers with a fraction), and the text is kept verbatim.

use crate::expr::{parse_tokens, Expression};
use crate::lexer::lex;
use crate::limits::{MAX_STRING_BYTES, MAX_TEXT_CHARS};
use crate::value::{format_number, Value, Vars};
use crate::ParseError;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expression),
}

/// A parsed message template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, ParseError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_TEXT_CHARS {
            return Err(ParseError { offset: MAX_TEXT_CHARS, message: format!("longer than {MAX_TEXT_CHARS} characters") });
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut nodes = 0;
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            if c == '$' && chars.get(i + 1) == Some(&'{') {
                let (tokens, after) = lex(&chars, i + 2, true)?;
                if tokens.is_empty() {
                    return Err(ParseError { offset: i, message: "'${}' holds no expression".into() });
                }
                // `after` is just past the closing brace: the tokens end where it is.
                let node = parse_tokens(&tokens, after - 1, &mut nodes)?;
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Expr(Expression::from_node(node)));
                i = after;
                continue;
            }
            literal.push(c);
            i += 1;
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The message for `vars`. A part that exceeds its budget renders as `…`.
    pub fn render(&self, vars: &dyn Vars) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => match e.evaluate(vars) {
                    Ok(Value::Num(n)) => out.push_str(&format_number(n)),
                    Ok(v) => out.push_str(&v.to_js_string()),
                    Err(_) => out.push('…'),
                },
            }
            if out.len() > MAX_STRING_BYTES {
                let mut cut = MAX_STRING_BYTES;
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.truncate(cut);
                break;
            }
        }
        out
    }

    /// The variables its expressions read, each once.
    pub fn variables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Expr(e) = part {
                for v in e.variables() {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
            }
        }
        out
    }
}
