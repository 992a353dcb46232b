//! The `ezm-analyze` binary on the committed fixtures: text by default, the report's JSON with `--json`.

use std::process::Command;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ezm-analyze")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn heap_json_names_its_parts_plainly() {
    let (ok, out, err) = run(&["heap", &fixture("leaky-node20.heapsnapshot.gz"), "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for part in ["total_size", "leak_suspects", "classes", "largest_objects", "dominator_tree", "statistics"] {
        assert!(v["heap"].get(part).is_some(), "no {part}");
    }
    assert!(v["heap"]["leak_suspects"][0]["description"].as_str().unwrap().contains("global.sessionCache"));
}

#[test]
fn heap_text_leads_with_totals_and_suspects() {
    let (ok, out, err) = run(&["heap", &fixture("leaky-node20.heapsnapshot.gz")]);
    assert!(ok, "{err}");
    assert!(out.starts_with("Heap snapshot: "), "{out}");
    assert!(out.contains("Leak suspects (3):"), "{out}");
}

#[test]
fn a_broken_file_is_a_clear_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("ezm-analyze-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.heapsnapshot");
    std::fs::write(&empty, b"").unwrap();
    let (ok, _, err) = run(&["heap", empty.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("the input is empty"), "{err}");
    let truncated = dir.join("cut.heapsnapshot");
    std::fs::write(&truncated, br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["synthetic"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element"]]},"node_count":1,"edge_count":0},"nodes":[0,0,1"#).unwrap();
    let (ok, _, err) = run(&["heap", truncated.to_str().unwrap()]);
    assert!(!ok && err.contains("truncated"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cpu_profiles_from_xprofiler_are_read_with_one_based_lines() {
    // Captured from xprofiler 3.1.0 on Node 20 (shared/fixtures/xtransit-3.1.0/artifacts/sample.cpuprofile).
    let file = fixture("xprofiler-sample.cpuprofile");
    let (ok, out, err) = run(&["cpu", &file, "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cpu"]["format"], "xprofiler");
    let on_incoming =
        v["cpu"]["functions"].as_array().unwrap().iter().find(|f| f["name"] == "parserOnIncoming").unwrap();
    assert_eq!(on_incoming["function"]["line"], 1026, "xprofiler's line numbers are already 1-based");
    let (ok, out, err) = run(&["cpu", &file, "--base", &file]);
    assert!(ok, "{err}");
    assert!(out.contains("new functions: 0, vanished: 0"), "{out}");
}

#[test]
fn heap_profiles_list_top_allocators() {
    // Written by `node --heap-prof` (Node 20) for a script that allocates 200,000 objects.
    let (ok, out, err) = run(&["heapprofile", &fixture("node20.heapprofile")]);
    assert!(ok, "{err}");
    assert!(out.contains("Top allocators:") && out.contains("[eval]:1:1"), "{out}");
}
