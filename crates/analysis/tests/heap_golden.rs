//! Golden tests: our analysis of a real Node snapshot equals what DevTools' own code computes for it.
//!
//! `tests/fixtures/leaky-node20.heapsnapshot.gz` was written by `leaky-app.js` (planted leaks: a growing Map of
//! closures, an array of detached-style widgets, duplicated strings, an emitter with 50 listeners) on Node 20, and
//! `leaky-node20.devtools.json` holds heap-snapshot-toolkit 1.1.3's statistics and `aggregatesWithFilter({})` for it;
//! `tests/fixtures/generate.sh` regenerates both.

use std::collections::BTreeMap;

use analysis::heap::{HeapAnalysis, HeapSnapshot, ParseOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    statistics: ExpectedStatistics,
    classes: BTreeMap<String, ExpectedClass>,
}

#[derive(Deserialize)]
struct ExpectedStatistics {
    total: u64,
    native: ExpectedNative,
    v8heap: ExpectedV8,
}

#[derive(Deserialize)]
struct ExpectedNative {
    total: u64,
    #[serde(rename = "typedArrays")]
    typed_arrays: u64,
}

#[derive(Deserialize)]
struct ExpectedV8 {
    total: u64,
    code: u64,
    #[serde(rename = "jsArrays")]
    js_arrays: u64,
    strings: u64,
    system: u64,
}

#[derive(Deserialize, Debug, PartialEq)]
struct ExpectedClass {
    name: String,
    count: u64,
    #[serde(rename = "self")]
    self_size: u64,
    retained: u64,
    distance: i32,
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn leaky_node20() -> HeapAnalysis {
    let file = std::fs::File::open(fixture("leaky-node20.heapsnapshot.gz")).unwrap();
    HeapAnalysis::new(HeapSnapshot::from_reader(file, &ParseOptions::default()).unwrap())
}

#[test]
fn node20_snapshot_matches_devtools_statistics_and_classes() {
    let expected: Expected =
        serde_json::from_slice(&std::fs::read(fixture("leaky-node20.devtools.json")).unwrap()).unwrap();
    let a = leaky_node20();
    let s = &a.statistics;
    let e = &expected.statistics;
    assert_eq!(
        (s.total, s.native, s.typed_arrays, s.v8heap, s.code, s.js_arrays, s.strings, s.system),
        (
            e.total,
            e.native.total,
            e.native.typed_arrays,
            e.v8heap.total,
            e.v8heap.code,
            e.v8heap.js_arrays,
            e.v8heap.strings,
            e.v8heap.system
        )
    );
    let ours: BTreeMap<String, ExpectedClass> = a
        .classes
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| {
            let class = ExpectedClass {
                name: c.name.clone(),
                count: c.count,
                self_size: c.self_size,
                retained: c.retained_size,
                distance: c.distance,
            };
            (c.key.clone(), class)
        })
        .collect();
    let mut diffs = Vec::new();
    for (key, want) in &expected.classes {
        match ours.get(key) {
            Some(got) if got == want => {}
            got => diffs.push(format!("{key}: ours {got:?}, DevTools {want:?}")),
        }
    }
    for key in ours.keys().filter(|k| !expected.classes.contains_key(*k)) {
        diffs.push(format!("{key}: only ours {:?}", ours[key]));
    }
    assert!(diffs.is_empty(), "{} classes differ:\n{}", diffs.len(), diffs.join("\n"));
}
