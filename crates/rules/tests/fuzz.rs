//! A bounded fuzz run of the parsers: mutations of the preset rules and of random token soup (insert, delete,
//! replace, duplicate spans), for `RULES_FUZZ_SECS` seconds (default 2; CI runs it through `cargo test`). Every
//! input must parse or be refused with a position inside the text, and evaluate and render without panicking.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rules::presets::PRESETS;
use rules::{Expression, Template, Value};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const ALPHABET: &[char] = &[
    '@',
    'a',
    'z',
    '_',
    '0',
    '9',
    '.',
    '(',
    ')',
    '!',
    '-',
    '+',
    '*',
    '/',
    '%',
    '&',
    '|',
    '=',
    '<',
    '>',
    '"',
    '\'',
    '\\',
    ' ',
    '\n',
    '$',
    '{',
    '}',
    'e',
    'x',
    'u',
    '告',
    '\u{0}',
    '\u{10ffff}',
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 => chars.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            2 if at < chars.len() => chars[at] = ALPHABET[rng.below(ALPHABET.len())],
            _ => {
                let end = (at + rng.below(8)).min(chars.len());
                let span: Vec<char> = chars[at.min(end)..end].to_vec();
                let to = rng.below(chars.len() + 1);
                for (i, c) in span.into_iter().enumerate() {
                    chars.insert((to + i).min(chars.len()), c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_rules_never_panic_and_errors_point_inside_the_text() {
    let secs: u64 = std::env::var("RULES_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let vars: BTreeMap<String, Value> =
        [("heap_used", Value::Num(80.0)), ("heap_limit", Value::Num(100.0)), ("pid", Value::from("7")), ("a", Value::from("x"))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    let mut seeds: Vec<String> = PRESETS.iter().flat_map(|(_, _, e, c)| [e.to_string(), c.to_string()]).collect();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let seed = seeds[rng.below(seeds.len())].clone();
        let text = mutate(&mut rng, &seed);
        let len = text.chars().count();
        match Expression::parse(&text) {
            Ok(e) => {
                let _ = e.evaluate(&vars);
                if seeds.len() < 500 {
                    seeds.push(text.clone());
                }
            }
            Err(err) => assert!(err.offset <= len, "{text:?}: {err}"),
        }
        match Template::parse(&text) {
            Ok(t) => drop(t.render(&vars)),
            Err(err) => assert!(err.offset <= len, "{text:?}: {err}"),
        }
        runs += 1;
    }
    assert!(runs > 1000, "{runs} inputs in {secs} s");
}
