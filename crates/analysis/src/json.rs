//! A streaming JSON tokenizer over a `BufRead`, made for the shape of V8's heap snapshots: one top-level object
//! whose big members are flat arrays of unsigned integers (`nodes`, `edges`, `locations`) and one array of strings.
//!
//! Why hand-written: serde_json's reader goes through a per-byte `Read` abstraction and would hand every one of the
//! hundreds of millions of integers to a visitor; this scans the `fill_buf` buffer in place and calls a sink per
//! number, which is what makes a 1 GB snapshot parse in seconds. The small `snapshot` header is captured (bounded)
//! and given to serde_json; strings are unescaped here because V8 writes lone surrogates that serde_json rejects.
//! Nothing here holds more than one value of the input at a time, and every captured value has a byte limit.

use std::io::BufRead;

use crate::error::{Error, Result};

pub struct Tokenizer<R> {
    reader: R,
    offset: u64,
}

impl<R: BufRead> Tokenizer<R> {
    pub fn new(reader: R) -> Self {
        Tokenizer { reader, offset: 0 }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn syntax(&self, message: impl Into<String>) -> Error {
        Error::Syntax { offset: self.offset, message: message.into() }
    }

    fn truncated(&self, context: &'static str) -> Error {
        Error::Truncated { offset: self.offset, context }
    }

    fn consume(&mut self, n: usize) {
        self.reader.consume(n);
        self.offset += n as u64;
    }

    /// The next byte that is not whitespace, without consuming it; `None` at the end of the input.
    pub fn peek(&mut self) -> Result<Option<u8>> {
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let b = buf[i];
                    self.consume(i);
                    return Ok(Some(b));
                }
                None => {
                    let n = buf.len();
                    self.consume(n);
                }
            }
        }
    }

    /// The next non-whitespace byte, consumed.
    pub fn next_byte(&mut self, context: &'static str) -> Result<u8> {
        match self.peek()? {
            Some(b) => {
                self.consume(1);
                Ok(b)
            }
            None => Err(self.truncated(context)),
        }
    }

    pub fn expect(&mut self, want: u8, context: &'static str) -> Result<()> {
        let got = self.next_byte(context)?;
        if got != want {
            return Err(self.syntax(format!("expected '{}' in {context}, found '{}'", want as char, got as char)));
        }
        Ok(())
    }

    /// Reads a JSON string (the opening quote not yet consumed) and returns it unescaped. Lone surrogates become
    /// U+FFFD and invalid UTF-8 is replaced, as a viewer would show them. Strings longer than `limit` bytes are an
    /// error, so a file without a closing quote cannot take unbounded memory.
    pub fn read_string(&mut self, limit: usize, context: &'static str) -> Result<String> {
        self.expect(b'"', context)?;
        let mut raw = Vec::new();
        let mut escaped = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Err(self.truncated(context));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    end = Some(i);
                    break;
                }
            }
            let take = end.unwrap_or(buf.len());
            if raw.len() + take > limit {
                return Err(self.syntax(format!("a string in {context} is longer than {limit} bytes")));
            }
            raw.extend_from_slice(&buf[..take]);
            match end {
                Some(i) => {
                    self.consume(i + 1);
                    return Ok(unescape(&raw));
                }
                None => {
                    let n = buf.len();
                    self.consume(n);
                }
            }
        }
    }

    /// Skips one value of any kind without keeping it.
    pub fn skip_value(&mut self, context: &'static str) -> Result<()> {
        self.walk_value(None, usize::MAX, context)
    }

    /// Copies the raw bytes of one value (at most `limit` of them) so serde_json can parse it.
    pub fn capture_value(&mut self, limit: usize, context: &'static str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.walk_value(Some(&mut out), limit, context)?;
        Ok(out)
    }

    fn walk_value(&mut self, mut out: Option<&mut Vec<u8>>, limit: usize, context: &'static str) -> Result<()> {
        let first = self.peek()?.ok_or_else(|| self.truncated(context))?;
        let mut depth: usize = 0;
        let mut in_string = false;
        let mut escaped = false;
        // A scalar (number, true, false, null) ends at the first delimiter; a string or container at its close.
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut copied = 0usize;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                if scalar && depth == 0 {
                    return Ok(());
                }
                return Err(self.truncated(context));
            }
            let mut done = None;
            for (i, &b) in buf.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            done = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if scalar || depth == 0 => {
                        done = Some(i);
                        break;
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            done = Some(i + 1);
                            break;
                        }
                    }
                    b',' if scalar => {
                        done = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let take = done.unwrap_or(buf.len());
            if let Some(out) = out.as_deref_mut() {
                copied += take;
                if copied > limit {
                    return Err(self.syntax(format!("{context} is longer than {limit} bytes")));
                }
                out.extend_from_slice(&buf[..take]);
            }
            self.consume(take);
            if done.is_some() {
                return Ok(());
            }
        }
    }

    /// Reads an array of unsigned integers (the `[` not yet consumed), handing each to `sink` in order. This is the
    /// hot loop of the snapshot parser: it works on the reader's buffer directly and carries a number that spans two
    /// buffers over in `value`/`in_number`.
    pub fn read_uint_array(&mut self, context: &'static str, mut sink: impl FnMut(u64) -> Result<()>) -> Result<()> {
        self.expect(b'[', context)?;
        let mut value: u64 = 0;
        let mut in_number = false;
        // After a number or '[': whether a ',' may come next; guards against "1,,2" and "[,1]".
        let mut expect_comma = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Err(self.truncated(context));
            }
            let mut i = 0;
            let n = buf.len();
            let mut end = None;
            let mut bad = None;
            while i < n {
                let b = buf[i];
                let d = b.wrapping_sub(b'0');
                if d < 10 {
                    if !in_number && expect_comma {
                        bad = Some("two numbers without a comma between them");
                        break;
                    }
                    match value.checked_mul(10).and_then(|v| v.checked_add(d as u64)) {
                        Some(v) => value = v,
                        None => {
                            bad = Some("a number does not fit in 64 bits");
                            break;
                        }
                    }
                    in_number = true;
                    i += 1;
                    continue;
                }
                if in_number {
                    sink(value).map_err(|e| match e {
                        Error::Inconsistent(m) => {
                            Error::Inconsistent(format!("{m} (at byte {})", self.offset + i as u64))
                        }
                        other => other,
                    })?;
                    value = 0;
                    in_number = false;
                    expect_comma = true;
                }
                match b {
                    b',' if expect_comma => expect_comma = false,
                    b']' => {
                        end = Some(i);
                        break;
                    }
                    b' ' | b'\n' | b'\r' | b'\t' => {}
                    b'-' => {
                        bad = Some("a negative number where only unsigned integers may be");
                        break;
                    }
                    b'.' | b'e' | b'E' => {
                        bad = Some("a fraction where only integers may be");
                        break;
                    }
                    _ => {
                        bad = Some("an unexpected character in an integer array");
                        break;
                    }
                }
                i += 1;
            }
            if let Some(message) = bad {
                self.consume(i);
                return Err(self.syntax(format!("{message} in {context}")));
            }
            match end {
                Some(i) => {
                    self.consume(i + 1);
                    return Ok(());
                }
                None => self.consume(n),
            }
        }
    }
}

/// Undoes JSON escapes. `\uD83D\uDE00` pairs become one character; a lone surrogate becomes U+FFFD.
fn unescape(raw: &[u8]) -> String {
    if !raw.contains(&b'\\') {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            continue;
        }
        if e != b'u' {
            out.push(e);
            continue;
        }
        let Some(hi) = hex4(raw, i) else {
            out.extend_from_slice("\u{FFFD}".as_bytes());
            continue;
        };
        i += 4;
        let c = if (0xD800..0xDC00).contains(&hi) {
            let lo = (raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u')).then(|| hex4(raw, i + 2)).flatten();
            match lo {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    i += 6;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                }
                _ => None,
            }
        } else {
            char::from_u32(hi)
        };
        let mut tmp = [0u8; 4];
        out.extend_from_slice(c.unwrap_or('\u{FFFD}').encode_utf8(&mut tmp).as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let s = raw.get(at..at + 4)?;
    let s = std::str::from_utf8(s).ok()?;
    u32::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Tokenizer<std::io::BufReader<&[u8]>> {
        // A 3-byte buffer makes every value straddle buffer boundaries.
        Tokenizer::new(std::io::BufReader::with_capacity(3, s.as_bytes()))
    }

    #[test]
    fn uint_arrays_parse_across_buffer_boundaries() {
        let mut got = Vec::new();
        tok(" [ 12345,0 ,\n 18446744073709551615]")
            .read_uint_array("t", |v| {
                got.push(v);
                Ok(())
            })
            .unwrap();
        assert_eq!(got, vec![12345, 0, u64::MAX]);
        let mut got = Vec::new();
        tok("[]")
            .read_uint_array("t", |v| {
                got.push(v);
                Ok(())
            })
            .unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn malformed_uint_arrays_are_errors_not_panics() {
        for bad in ["[1,2", "[1 2]", "[1,,2]", "[-1]", "[1.5]", "[18446744073709551616]", "[x]", ""] {
            assert!(tok(bad).read_uint_array("t", |_| Ok(())).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_unescape_pairs_and_replace_lone_surrogates() {
        assert_eq!(tok(r#""a\"b\\\n\u00e9""#).read_string(100, "t").unwrap(), "a\"b\\\né");
        assert_eq!(tok(r#""\ud83d\ude00""#).read_string(100, "t").unwrap(), "😀");
        assert_eq!(tok(r#""x\ud83dy""#).read_string(100, "t").unwrap(), "x\u{FFFD}y");
        assert!(tok(r#""abcdef""#).read_string(3, "t").is_err());
        assert!(tok(r#""abc"#).read_string(100, "t").is_err());
    }

    #[test]
    fn values_are_skipped_and_captured_whole() {
        let mut t = tok(r#"{"a":[1,{"b":"]}"}]} , 7 ]"#);
        assert_eq!(t.capture_value(100, "t").unwrap(), br#"{"a":[1,{"b":"]}"}]}"#.to_vec());
        t.expect(b',', "t").unwrap();
        t.skip_value("t").unwrap();
        assert_eq!(t.next_byte("t").unwrap(), b']');
        assert!(tok(r#"{"a":[1,2"#).skip_value("t").is_err());
        assert!(tok(r#"{"a":"long"}"#).capture_value(5, "t").is_err());
    }
}
