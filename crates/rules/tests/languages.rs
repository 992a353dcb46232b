//! Table-driven tests of the expression and template languages: precedence, strings, loose typing, every preset
//! of the reference, invalid inputs with their positions, and random inputs that must never panic.

use std::collections::BTreeMap;

use rules::presets::PRESETS;
use rules::{Expression, Template, Value};

fn vars(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn num(n: f64) -> Value {
    Value::Num(n)
}

fn sample() -> BTreeMap<String, Value> {
    vars(&[
        ("a", num(2.0)),
        ("b", num(3.0)),
        ("c", num(4.0)),
        ("heap_used", num(80.0)),
        ("heap_limit", num(100.0)),
        ("type", Value::from("TypeError")),
        ("s", Value::from("10")),
        ("zero", num(0.0)),
        ("yes", Value::Bool(true)),
        ("stack", Value::from("TypeError: x is not a function\n    at f (/srv/a.js:1:1)")),
    ])
}

fn value(expr: &str) -> Value {
    Expression::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}")).evaluate(&sample()).expect("within budget")
}

#[test]
fn precedence_is_javascripts() {
    let cases: &[(&str, f64)] = &[
        ("@a + @b * @c", 14.0),
        ("(@a + @b) * @c", 20.0),
        ("@a * (@b + @c)", 14.0),
        ("@c - @b - @a", -1.0),
        ("@c / @a / @a", 1.0),
        ("@c % @b + 1", 2.0),
        ("-@a + 5", 3.0),
        ("- -@a", 2.0),
        ("((((@a))))", 2.0),
        ("1.5 * 2", 3.0),
        ("@s * 2", 20.0),
        ("@s - 1", 9.0),
    ];
    for (expr, expected) in cases {
        assert_eq!(value(expr), num(*expected), "{expr}");
    }
}

#[test]
fn conditions_decide_as_in_javascript() {
    let cases: &[(&str, bool)] = &[
        ("@heap_used / @heap_limit > 0.7", true),
        ("@heap_used / @heap_limit > 0.8", false),
        ("@heap_used / @heap_limit >= 0.8", true),
        ("@a < @b && @b < @c", true),
        ("@a > @b || @b < @c", true),
        ("@a > @b || @b > @c && @c > 0", false),
        ("(@a > @b || @b < @c) && @c > 10", false),
        ("@a > @b || (@b < @c && @c > 0)", true),
        ("!(@a > @b)", true),
        ("!@zero", true),
        ("!!@yes", true),
        ("@type == \"TypeError\"", true),
        ("@type == 'TypeError' || @type == 'RangeError'", true),
        ("@type != \"TypeError\"", false),
        ("@type === \"TypeError\"", true),
        ("@s == 10", true),
        ("@s === 10", false),
        ("@s !== 10", true),
        ("@missing > 0", false),
        ("@missing < 0", false),
        ("@missing == 0", false),
        ("@missing", false),
        ("@yes", true),
        ("@stack include \"is not a function\"", true),
        ("@stack include 'ReferenceError'", false),
        ("@type include \"Type\" && @a == 2", true),
        ("\"b\" > \"a\"", true),
        ("\"10\" < \"9\"", true),
        ("@s < 9", false),
        ("@a + \"1\" == \"21\"", true),
        ("@a == 2 == true", true),
        ("1 < 2 < 3", true),
        ("3 > 2 > 1", false),
        ("true", true),
        ("false || @zero", false),
        ("@a / @zero > 1000", true),
    ];
    let vars = sample();
    for (expr, expected) in cases {
        let e = Expression::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
        assert_eq!(e.matches(&vars), *expected, "{expr}");
    }
}

#[test]
fn and_or_give_an_operand() {
    assert_eq!(value("@zero || @type"), Value::from("TypeError"));
    assert_eq!(value("@a && @b"), num(3.0));
    assert_eq!(value("@zero && @b"), num(0.0));
}

#[test]
fn strings_take_javascripts_escapes() {
    assert_eq!(value(r#""a\"b""#), Value::from("a\"b"));
    assert_eq!(value(r"'it\'s'"), Value::from("it's"));
    assert_eq!(value(r#""back\\slash""#), Value::from("back\\slash"));
    assert_eq!(value(r#""line\nbreak""#), Value::from("line\nbreak"));
    assert_eq!(value(r#""\u00e9\x41\s""#), Value::from("éAs"));
    assert_eq!(value("'\"'"), Value::from("\""));
    assert_eq!(value("\"告警\" + @a"), Value::from("告警2"));
}

#[test]
fn invalid_expressions_are_refused_with_their_position() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "expected an expression"),
        ("   ", 3, "expected an expression"),
        ("@a >", 4, "expected a value, found the end"),
        ("@a > > 1", 5, "expected a value, found '>'"),
        ("(@a > 1", 0, "'(' is never closed"),
        ("@a > 1 )", 7, "unexpected ')' after a complete expression"),
        ("@a > 1 foo", 7, "unknown word \"foo\""),
        ("@a > 1 @b", 7, "unexpected @b after a complete expression"),
        ("@a = 1", 3, "'=' is not an operator"),
        ("@a & @b", 3, "'&' is not an operator"),
        ("@a | @b", 3, "'|' is not an operator"),
        ("@ a", 0, "'@' must be followed"),
        ("@1a", 0, "'@' must be followed"),
        ("\"open", 0, "string is never closed"),
        ("'\\x4'", 1, "bad \\x escape"),
        ("@a # 1", 3, "unexpected character '#'"),
        ("(@a + 1))", 8, "unexpected ')'"),
        ("(@a + 1 @b)", 8, "expected ')' to close the '(' at character 1, found @b"),
        ("()", 1, "expected a value, found ')'"),
        ("告警 > 1", 0, "unexpected character '告'"),
    ];
    for (expr, offset, message) in cases {
        let err = Expression::parse(expr).expect_err(expr);
        assert_eq!(err.offset, *offset, "{expr:?}: {err}");
        assert!(err.message.starts_with(message), "{expr:?}: {:?} should start with {message:?}", err.message);
    }
    let err = Expression::parse("@a >").unwrap_err();
    assert_eq!(err.to_string(), "expected a value, found the end at character 5");
}

#[test]
fn limits_bound_parsing_and_evaluation() {
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert!(Expression::parse(&deep).unwrap_err().message.contains("nested more than"));
    let nots = format!("{}1", "!".repeat(1000));
    assert!(Expression::parse(&nots).is_err(), "unary chains are nested too");
    let wide = vec!["@a"; 300].join(" + ");
    assert!(Expression::parse(&wide).unwrap_err().message.contains("operators and operands"));
    let long = "1".repeat(5000);
    assert!(Expression::parse(&long).unwrap_err().message.contains("longer than"));
    // String doubling through a variable that is already large stops at the byte budget instead of growing.
    let big = vars(&[("x", Value::from("y".repeat(40_000)))]);
    let doubling = Expression::parse("@x + @x + @x").unwrap();
    assert!(doubling.evaluate(&big).is_err());
    assert!(!doubling.matches(&big));
    let fits = vec!["@a"; 199].join(" + ");
    assert_eq!(Expression::parse(&fits).unwrap().evaluate(&sample()), Ok(num(398.0)));
}

#[test]
fn templates_format_numbers_and_keep_their_text() {
    let v = vars(&[
        ("heap_used", num(75.0)),
        ("heap_limit", num(100.0)),
        ("pid", Value::from("4242")),
        ("ratio", num(0.5)),
        ("a", num(1.0)),
        ("b", num(2.0)),
        ("mounted_on", Value::from("/data")),
        ("disk_usage", num(91.0)),
    ]);
    let cases: &[(&str, &str)] = &[
        ("heap ${@heap_used / @heap_limit * 100}%", "heap 75%"),
        ("ratio ${@ratio}", "ratio 0.50"),
        ("${@heap_used / 7}", "10.71"),
        ("${@a}${@b}", "12"),
        ("${ @a + @b }", "3"),
        ("pid ${@pid}, missing ${@nope}", "pid 4242, missing undefined"),
        ("quote \" and 'single'", "quote \" and 'single'"),
        ("back\\slash \\s", "back\\slash \\s"),
        ("line\nbreak", "line\nbreak"),
        ("${\"}\"} brace in a string", "} brace in a string"),
        ("${@mounted_on + \" full\"}", "/data full"),
        ("price $5 {not a part}", "price $5 {not a part}"),
        ("$${@a}", "$1"),
        ("", ""),
        ("no parts", "no parts"),
        ("磁盘 ${@mounted_on} 占用 ${@disk_usage}%", "磁盘 /data 占用 91%"),
    ];
    for (text, expected) in cases {
        let t = Template::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(t.render(&v), *expected, "{text:?}");
    }
    assert_eq!(Template::parse("${@a} ${@b + @a}").unwrap().variables(), ["a", "b"]);
}

#[test]
fn invalid_templates_are_refused_with_their_position() {
    let cases: &[(&str, usize, &str)] = &[
        ("value ${@a", 6, "'${' is never closed"),
        ("value ${}", 6, "'${}' holds no expression"),
        ("x ${@a +}", 8, "expected a value, found the end"),
        ("x ${@a @b}", 7, "unexpected @b"),
        ("x ${\"open}", 4, "string is never closed"),
    ];
    for (text, offset, message) in cases {
        let err = Template::parse(text).expect_err(text);
        assert_eq!(err.offset, *offset, "{text:?}: {err}");
        assert!(err.message.starts_with(message), "{text:?}: {:?}", err.message);
    }
}

#[test]
fn every_preset_parses_and_fires_on_its_condition() {
    let firing: BTreeMap<&str, BTreeMap<String, Value>> = [
        ("heap", vars(&[("heap_used", num(80.0)), ("heap_limit", num(100.0)), ("pid", Value::from("7"))])),
        ("cpu", vars(&[("cpu_300", num(96.5)), ("pid", Value::from("7"))])),
        ("gc", vars(&[("gc_60", num(20.0)), ("pid", Value::from("7"))])),
        ("slow requests", vars(&[("expired_request", num(3.0))])),
        ("4xx/5xx ratio", vars(&[("code_4xx", num(40.0)), ("code_5xx", num(20.0)), ("http_response_sent", num(100.0))])),
        ("OS memory", vars(&[("os_mem_usage", num(85.12))])),
        ("OS CPU", vars(&[("os_cpu_usage", num(99.0))])),
        ("disk", vars(&[("disk_usage", num(90.0)), ("mounted_on", Value::from("/"))])),
        ("error type", vars(&[("error_type", Value::from("RangeError")), ("log_path", Value::from("/x.log")), ("stack", Value::from("RangeError: x"))])),
        ("npm vulnerabilities", vars(&[("critical", num(0.0)), ("high", num(2.0))])),
        ("coredump", vars(&[("core_count", num(1.0)), ("core_files", Value::from("/core.1"))])),
        ("agent offline", vars(&[("agentOffline", Value::Bool(true)), ("agentId", Value::from("host-1"))])),
    ]
    .into_iter()
    .collect();
    let quiet = vars(&[
        ("heap_used", num(10.0)),
        ("heap_limit", num(100.0)),
        ("cpu_300", num(3.0)),
        ("gc_60", num(1.0)),
        ("expired_request", num(0.0)),
        ("code_4xx", num(0.0)),
        ("code_5xx", num(0.0)),
        ("http_response_sent", num(10.0)),
        ("os_mem_usage", num(20.0)),
        ("os_cpu_usage", num(5.0)),
        ("disk_usage", num(10.0)),
        ("error_type", Value::from("Error")),
        ("critical", num(0.0)),
        ("high", num(0.0)),
        ("core_count", num(0.0)),
    ]);
    for (name, _context, expression, content) in PRESETS {
        assert!(expression.chars().count() <= 150 && content.chars().count() <= 150, "{name} fits the columns");
        let e = Expression::parse(expression).unwrap_or_else(|err| panic!("{name}: {err}"));
        let t = Template::parse(content).unwrap_or_else(|err| panic!("{name}: {err}"));
        let ctx = &firing[name];
        assert!(e.matches(ctx), "{name} fires");
        assert!(!e.matches(&quiet), "{name} stays quiet");
        assert!(!t.render(ctx).contains("undefined"), "{name}: {}", t.render(ctx));
    }
    let heap = Template::parse(PRESETS[0].3).unwrap().render(&firing["heap"]);
    assert_eq!(heap, "进程 7 堆内存占用 80% 超过 70%");
    let ratio = Template::parse(PRESETS[4].3).unwrap().render(&firing["4xx/5xx ratio"]);
    assert_eq!(ratio, "4xx/5xx 响应占比 60% 超过 50%");
    // With no responses the ratio is NaN, which never fires (as in JavaScript).
    let none = vars(&[("code_4xx", num(0.0)), ("code_5xx", num(0.0)), ("http_response_sent", num(0.0))]);
    assert!(!Expression::parse(PRESETS[4].2).unwrap().matches(&none));
}

/// A small deterministic generator (xorshift), so the random inputs are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn random_inputs_never_panic() {
    let pieces = [
        "@a",
        "@b",
        "@s",
        "@missing",
        "@",
        "1",
        "0.5",
        "99999999999999999999999",
        "(",
        ")",
        "!",
        "-",
        "+",
        "*",
        "/",
        "%",
        "&&",
        "||",
        "&",
        "|",
        "==",
        "===",
        "!=",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "include",
        "true",
        "false",
        "\"",
        "'",
        "\\",
        "\"x\"",
        "'y'",
        " ",
        "\n",
        "${",
        "}",
        "$",
        "{",
        "告",
        "\u{0}",
        "\\u12",
        "\\x",
        "e",
        ".",
        "@a_b9",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vars = sample();
    let mut parsed = 0;
    for _ in 0..20_000 {
        let len = 1 + rng.next() % 24;
        let text: String = (0..len).map(|_| rng.pick(&pieces)).collect();
        if let Ok(e) = Expression::parse(&text) {
            parsed += 1;
            let _ = e.evaluate(&vars);
        }
        if let Ok(t) = Template::parse(&text) {
            let _ = t.render(&vars);
        }
        let raw: String = (0..len).map(|_| char::from_u32((rng.next() % 0x3000) as u32).unwrap_or('?')).collect();
        let _ = Expression::parse(&raw).map(|e| e.matches(&vars));
        let _ = Template::parse(&raw).map(|t| t.render(&vars));
    }
    assert!(parsed > 100, "the generator also makes valid expressions ({parsed})");
}
