//! Values of the rule languages and JavaScript's loose rules for them (`ToNumber`, `ToString`, `==`, truthiness),
//! the semantics the original's compiled JavaScript had.

use std::collections::{BTreeMap, HashMap};

/// A value read from a context or computed by an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

/// Where `@name` is looked up. A missing name is `Undefined`.
pub trait Vars {
    fn var(&self, name: &str) -> Value;
}

impl Vars for BTreeMap<String, Value> {
    fn var(&self, name: &str) -> Value {
        self.get(name).cloned().unwrap_or(Value::Undefined)
    }
}

impl Vars for HashMap<String, Value> {
    fn var(&self, name: &str) -> Value {
        self.get(name).cloned().unwrap_or(Value::Undefined)
    }
}

impl Vars for serde_json::Map<String, serde_json::Value> {
    fn var(&self, name: &str) -> Value {
        self.get(name).map(Value::from).unwrap_or(Value::Undefined)
    }
}

impl From<&serde_json::Value> for Value {
    /// Objects and arrays become their JSON text (see the crate notes).
    fn from(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            other => Value::Str(other.to_string()),
        }
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Num(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl Value {
    /// JavaScript truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => !(n.is_nan() || *n == 0.0),
            Value::Str(s) => !s.is_empty(),
        }
    }

    /// JavaScript `ToNumber`.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Undefined => f64::NAN,
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Num(n) => *n,
            Value::Str(s) => string_to_number(s),
        }
    }

    /// JavaScript `ToString`.
    pub fn to_js_string(&self) -> String {
        match self {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => number_to_string(*n),
            Value::Str(s) => s.clone(),
        }
    }

    /// A rough byte size, for the string budget.
    pub(crate) fn weight(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            _ => 8,
        }
    }
}

fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).map(|n| n as f64).unwrap_or(f64::NAN);
    }
    // Rust's parser also takes "inf" and "nan", which JavaScript does not.
    let numeric = t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    match numeric {
        true => t.parse().unwrap_or(f64::NAN),
        false => f64::NAN,
    }
}

/// JavaScript's `Number.prototype.toString()` for the values agents send (integers without a fraction,
/// otherwise the shortest text that reads back the same).
fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.abs() >= 1e21 || n.abs() < 1e-6 {
        // JavaScript switches to exponent notation here: 1e+21, 1e-7.
        let text = format!("{n:e}");
        return match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        };
    }
    format!("{n}")
}

/// The original's template number formatting (contextex's `toFixed`): a number that is not an integer shows two
/// decimals, rounded as JavaScript's `toFixed(2)` (half away from zero); integers and other values as they are.
pub fn format_number(n: f64) -> String {
    if !n.is_finite() || n.fract() == 0.0 {
        return number_to_string(n);
    }
    if n.abs() >= 1e21 {
        return number_to_string(n);
    }
    let scaled = n * 100.0;
    // An exact tie (x.xx5 exactly representable: multiples of 1/8) rounds away from zero; Rust rounds it to even.
    let tie = (n * 8.0).fract() == 0.0 && (scaled.fract().abs() - 0.5).abs() < f64::EPSILON;
    let text = match tie {
        true => format!("{:.2}", (scaled + 0.5 * scaled.signum()).trunc() / 100.0),
        false => format!("{n:.2}"),
    };
    match text.as_str() {
        "-0.00" => "0.00".into(),
        _ => text,
    }
}

/// JavaScript's loose `==`.
pub(crate) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Undefined | Value::Null, Value::Undefined | Value::Null) => true,
        (Value::Undefined | Value::Null, _) | (_, Value::Undefined | Value::Null) => false,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => a.to_number() == b.to_number(),
    }
}

/// JavaScript's `===`.
pub(crate) fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_as_the_original_templates() {
        let cases = [
            (0.5, "0.50"),
            (3.0, "3"),
            (1.0 / 3.0, "0.33"),
            (0.125, "0.13"),
            (-0.125, "-0.13"),
            (2.675, "2.67"),
            (1.005, "1.00"),
            (99.999, "100.00"),
            (-0.001, "0.00"),
            (1234567.891, "1234567.89"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (1e21, "1e+21"),
            (-7.0, "-7"),
        ];
        for (n, text) in cases {
            assert_eq!(format_number(n), text, "{n}");
        }
    }

    #[test]
    fn loose_typing_is_javascripts() {
        assert_eq!(Value::from("12").to_number(), 12.0);
        assert_eq!(Value::from(" ").to_number(), 0.0);
        assert!(Value::from("inf").to_number().is_nan());
        assert!(Value::from("12px").to_number().is_nan());
        assert_eq!(Value::from("0x1f").to_number(), 31.0);
        assert!(loose_eq(&Value::from("1"), &Value::Num(1.0)));
        assert!(loose_eq(&Value::Bool(true), &Value::Num(1.0)));
        assert!(loose_eq(&Value::Undefined, &Value::Null));
        assert!(!loose_eq(&Value::Undefined, &Value::Num(0.0)));
        assert!(!loose_eq(&Value::Num(f64::NAN), &Value::Num(f64::NAN)));
        assert!(!strict_eq(&Value::from("1"), &Value::Num(1.0)));
        assert_eq!(Value::Num(0.1 + 0.2).to_js_string(), "0.30000000000000004");
        assert_eq!(Value::Num(1e-7).to_js_string(), "1e-7");
        assert_eq!(Value::Num(-0.0).to_js_string(), "0");
        assert!(!Value::Num(f64::NAN).truthy() && !Value::from("").truthy() && Value::from("0").truthy());
    }
}
