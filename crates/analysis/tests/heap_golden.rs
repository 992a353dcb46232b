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

#[test]
fn planted_leaks_are_the_top_suspects_with_their_accumulation_points() {
    let a = leaky_node20();
    let report = a.report(&analysis::heap::ReportLimits::default());
    let held: Vec<Option<&str>> = report.leak_suspects.iter().map(|s| s.explanation.held_by.as_deref()).collect();
    assert_eq!(
        held[..3],
        [Some("global.sessionCache → table"), Some("global.removedWidgets"), Some("global.duplicated")],
        "{:#?}",
        report.leak_suspects.iter().map(|s| &s.description).collect::<Vec<_>>()
    );

    let map = &report.leak_suspects[0];
    assert_eq!((map.kind, map.class_name.as_str()), (analysis::heap::SuspectKind::Object, "Map"));
    assert!(map.share > 0.25, "the Map of closures retains about a third of the heap: {}", map.share);
    // The accumulation point is the Map's hash table, reached through its `table` edge.
    let path = &map.retainer_paths[0].steps;
    assert_eq!(path.last().unwrap().object, map.accumulation_point);
    assert_eq!(path.last().unwrap().edge_name.as_deref(), Some("table"));
    let collection = map.explanation.collection.as_ref().unwrap();
    assert_eq!((collection.kind.as_str(), collection.entries), ("Map", 500));
    let closure = map.explanation.closure.as_ref().unwrap();
    assert_eq!(closure.variables, ["session", "scratch"]);
    assert!(closure.defined_at.as_deref().unwrap().ends_with("leaky-app.js:21:25"), "{closure:?}");
    assert!(map.related_classes.iter().any(|c| c.class_name == "Float64Array" && c.instance_count >= 500));

    let widgets = &report.leak_suspects[1];
    assert_eq!(widgets.explanation.collection.as_ref().map(|c| c.entries), Some(300));
    assert_eq!(widgets.explanation.closure, None, "the widgets' constructor below the array is not the story");
    assert!(widgets.related_classes.iter().any(|c| c.class_name == "DetachedWidget" && c.instance_count == 300));

    let strings = &report.leak_suspects[2];
    let dup = strings.explanation.duplicated_string.as_ref().unwrap();
    assert_eq!(dup.count, 1000);
    assert!(dup.value.starts_with("duplicated string value, "));
    assert!(report.duplicated_strings[0].count >= 1000, "the copies plus the original");
}

#[test]
fn retainer_paths_are_distinct_and_shortest_first() {
    let a = leaky_node20();
    let map = a.largest_objects(5).into_iter().find(|&n| a.snap.name(n) == "Map").unwrap();
    let paths = a.retainer_paths(map, 3);
    assert_eq!(paths.len(), 3);
    let lens: Vec<usize> = paths.iter().map(|p| p.steps.len()).collect();
    assert!(lens.windows(2).all(|w| w[0] <= w[1]), "{lens:?}");
    assert_eq!(
        paths[0].steps.iter().map(|s| s.edge_name.clone()).collect::<Vec<_>>(),
        [None, Some("sessionCache".into())]
    );
    let ids: std::collections::HashSet<Vec<u32>> =
        paths.iter().map(|p| p.steps.iter().map(|s| s.object.id).collect()).collect();
    assert_eq!(ids.len(), 3, "paths are distinct");
}

#[test]
fn any_object_is_explained_like_a_suspect_with_emitter_listeners() {
    let a = leaky_node20();
    let bus = (0..a.snap.node_count() as u32)
        .find(|&n| a.snap.name(n) == "EventEmitter" && a.class_name(n) == "EventEmitter");
    let bus = bus.expect("the fixture's emitter");
    let (point, _, explanation) = a.explain(bus, 1);
    // The emitter's memory accumulates in its listener array; the path to it is written JavaScript-style.
    assert_eq!(point.class_name, "Array");
    assert_eq!(explanation.held_by.as_deref(), Some("global.bus._events.tick"));
    let tick = explanation.listeners.iter().find(|l| l.event == "tick").unwrap();
    assert_eq!(tick.count, 50);
}
