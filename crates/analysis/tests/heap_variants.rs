//! Format variants derived from the real Node 20 snapshot: what Node 24 and newer V8 write differently must not
//! change any result. Each variant rewrites the fixture's JSON and is compared with the original's analysis.

use std::io::Read;

use analysis::heap::{HeapAnalysis, HeapSnapshot, ParseOptions};
use serde_json::{json, Value};

fn original_json() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/leaky-node20.heapsnapshot.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn analyse(v: &Value) -> HeapAnalysis {
    let text = serde_json::to_vec(v).unwrap();
    HeapAnalysis::new(HeapSnapshot::parse(&text[..], &ParseOptions::default()).unwrap())
}

fn classes(a: &HeapAnalysis) -> Vec<(String, u64, u64, u64)> {
    let mut v: Vec<_> = a
        .classes
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| (c.key.clone(), c.count, c.self_size, c.retained_size))
        .collect();
    v.sort();
    v
}

/// Drops `trace_node_id` (Node 24 without allocation tracking: 6 node fields) while keeping the 7-entry type list
/// (Node 24.0's list that disagrees with the field count), and rescales every node index.
fn six_node_fields(v: &mut Value) {
    let meta = &mut v["snapshot"]["meta"];
    let fields: Vec<String> = serde_json::from_value(meta["node_fields"].clone()).unwrap();
    let drop = fields.iter().position(|f| f == "trace_node_id").unwrap();
    let old = fields.len() as u64;
    let new_fields: Vec<&String> = fields.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, f)| f).collect();
    meta["node_fields"] = json!(new_fields);
    let nodes: Vec<u64> = serde_json::from_value(v["nodes"].take()).unwrap();
    let kept: Vec<u64> = nodes.iter().enumerate().filter(|(i, _)| i % old as usize != drop).map(|(_, &n)| n).collect();
    v["nodes"] = json!(kept);
    let rescale = |x: u64| x / old * (old - 1);
    let mut edges: Vec<u64> = serde_json::from_value(v["edges"].take()).unwrap();
    for e in edges.chunks_mut(3) {
        e[2] = rescale(e[2]);
    }
    v["edges"] = json!(edges);
    let mut locations: Vec<u64> = serde_json::from_value(v["locations"].take()).unwrap();
    for l in locations.chunks_mut(4) {
        l[0] = rescale(l[0]);
    }
    v["locations"] = json!(locations);
}

/// V8 14's five location fields: `script_object_index` between `script_id` and `line`.
fn five_location_fields(v: &mut Value) {
    v["snapshot"]["meta"]["location_fields"] =
        json!(["object_index", "script_id", "script_object_index", "line", "column"]);
    let locations: Vec<u64> = serde_json::from_value(v["locations"].take()).unwrap();
    let five: Vec<u64> = locations.chunks(4).flat_map(|l| [l[0], l[1], 0, l[2], l[3]]).collect();
    v["locations"] = json!(five);
}

#[test]
fn node24_and_v8_14_layouts_give_the_same_results() {
    // One variant carries every change at once (6 node fields with a 7-entry type list, 5 location fields and
    // `extra_native_bytes`), so the slow debug-build JSON rewriting happens once.
    let mut v = original_json();
    let base = analyse(&v);
    six_node_fields(&mut v);
    five_location_fields(&mut v);
    v["snapshot"]["extra_native_bytes"] = json!(123_456);
    let variant = analyse(&v);
    let mut expected = base.statistics.clone();
    expected.total += 123_456;
    expected.native += 123_456;
    assert_eq!(variant.statistics, expected, "extra_native_bytes counts in the total and the native size");
    assert_eq!(classes(&variant), classes(&base));
}
