//! Tokens of the expression language, each with its character offset. In a template the lexer stops at the `}`
//! that closes `${`.

use crate::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str(String),
    Var(String),
    True,
    False,
    Include,
    LParen,
    RParen,
    Not,
    And,
    Or,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(_) => "a string".into(),
            Tok::Var(v) => format!("@{v}"),
            Tok::True => "true".into(),
            Tok::False => "false".into(),
            Tok::Include => "include".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Not => "'!'".into(),
            Tok::And => "'&&'".into(),
            Tok::Or => "'||'".into(),
            Tok::Eq => "'=='".into(),
            Tok::Ne => "'!='".into(),
            Tok::StrictEq => "'==='".into(),
            Tok::StrictNe => "'!=='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Le => "'<='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Ge => "'>='".into(),
            Tok::Plus => "'+'".into(),
            Tok::Minus => "'-'".into(),
            Tok::Star => "'*'".into(),
            Tok::Slash => "'/'".into(),
            Tok::Percent => "'%'".into(),
        }
    }
}

/// Lexes `chars[start..]`; with `in_template`, stops at an unmatched `}` and returns the offset just after it.
/// Offsets are indexes into `chars`.
pub(crate) fn lex(chars: &[char], start: usize, in_template: bool) -> Result<(Vec<(usize, Tok)>, usize), ParseError> {
    let err = |offset: usize, message: String| ParseError { offset, message };
    let mut out = Vec::new();
    let mut i = start;
    let at = |i: usize| chars.get(i).copied();
    loop {
        let Some(c) = at(i) else {
            if in_template {
                return Err(err(start.saturating_sub(2), "'${' is never closed by '}'".into()));
            }
            return Ok((out, i));
        };
        let begin = i;
        let two = |a: char, b: char| c == a && at(i + 1) == Some(b);
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '}' if in_template => return Ok((out, i + 1)),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '%' => (Tok::Percent, 1),
            _ if two('&', '&') => (Tok::And, 2),
            _ if two('|', '|') => (Tok::Or, 2),
            '&' => return Err(err(i, "'&' is not an operator (use '&&')".into())),
            '|' => return Err(err(i, "'|' is not an operator (use '||')".into())),
            _ if two('=', '=') && at(i + 2) == Some('=') => (Tok::StrictEq, 3),
            _ if two('=', '=') => (Tok::Eq, 2),
            '=' => return Err(err(i, "'=' is not an operator (use '==')".into())),
            _ if two('!', '=') && at(i + 2) == Some('=') => (Tok::StrictNe, 3),
            _ if two('!', '=') => (Tok::Ne, 2),
            '!' => (Tok::Not, 1),
            _ if two('<', '=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            _ if two('>', '=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '@' => {
                let mut j = i + 1;
                match at(j) {
                    Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
                    _ => return Err(err(i, "'@' must be followed by a variable name".into())),
                }
                while at(j).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    j += 1;
                }
                (Tok::Var(chars[i + 1..j].iter().collect()), j - i)
            }
            '0'..='9' => {
                let mut j = i;
                while at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                if at(j) == Some('.') && at(j + 1).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                    while at(j).is_some_and(|c| c.is_ascii_digit()) {
                        j += 1;
                    }
                }
                let text: String = chars[i..j].iter().collect();
                // Digits with an optional fraction always parse (a long run of digits is just a large float).
                (Tok::Num(text.parse().unwrap_or(f64::INFINITY)), j - i)
            }
            '"' | '\'' => {
                let (text, len) = string(chars, i)?;
                (Tok::Str(text), len)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i;
                while at(j).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                let tok = match word.as_str() {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "include" => Tok::Include,
                    _ => return Err(err(i, format!("unknown word {word:?} (variables start with '@', strings are quoted)"))),
                };
                (tok, j - i)
            }
            other => return Err(err(i, format!("unexpected character {other:?}"))),
        };
        out.push((begin, tok));
        i += len;
    }
}

/// A quoted string at `chars[start]` with JavaScript's escapes: its text and its length in characters.
fn string(chars: &[char], start: usize) -> Result<(String, usize), ParseError> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    let unterminated = || ParseError { offset: start, message: "string is never closed".into() };
    loop {
        let Some(&c) = chars.get(i) else { return Err(unterminated()) };
        i += 1;
        match c {
            c if c == quote => return Ok((text, i - start)),
            '\\' => {
                let Some(&e) = chars.get(i) else { return Err(unterminated()) };
                i += 1;
                match e {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    'r' => text.push('\r'),
                    'b' => text.push('\u{8}'),
                    'f' => text.push('\u{c}'),
                    'v' => text.push('\u{b}'),
                    '0' => text.push('\0'),
                    'x' | 'u' => {
                        let digits = if e == 'x' { 2 } else { 4 };
                        let hex: String = chars.get(i..i + digits).map(|d| d.iter().collect()).unwrap_or_default();
                        let code = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == digits).and_then(char::from_u32);
                        let Some(ch) = code else {
                            return Err(ParseError { offset: i - 2, message: format!("bad \\{e} escape") });
                        };
                        text.push(ch);
                        i += digits;
                    }
                    // JavaScript: any other escaped character is itself (`\"`, `\\`, `\'`, `\s` → s).
                    other => text.push(other),
                }
            }
            c => text.push(c),
        }
    }
}
