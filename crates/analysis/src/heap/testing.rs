//! Small synthetic snapshots for unit tests, written in V8's JSON format with Node 20's meta.

/// A node: type, name, self size, and edges (type, name, target node position).
pub struct N<'a>(pub &'a str, pub &'a str, pub u64, pub Vec<(&'a str, &'a str, usize)>);

const NODE_TYPES: &str = r#"["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape","wasm object"]"#;
const EDGE_TYPES: &str = r#"["context","element","property","internal","hidden","shortcut","weak"]"#;

/// Writes the JSON of a snapshot whose node 0 is the root; ids are 1, 3, 5, ...
pub fn snapshot_json(nodes: &[N]) -> String {
    let node_types: Vec<String> = serde_json::from_str(NODE_TYPES).unwrap();
    let edge_types: Vec<String> = serde_json::from_str(EDGE_TYPES).unwrap();
    let mut strings: Vec<String> = vec!["<dummy>".into()];
    let mut intern = |s: &str| match strings.iter().position(|x| x == s) {
        Some(i) => i,
        None => {
            strings.push(s.to_owned());
            strings.len() - 1
        }
    };
    let mut node_nums = Vec::new();
    let mut edge_nums = Vec::new();
    let mut edge_count = 0;
    for (i, N(ty, name, size, edges)) in nodes.iter().enumerate() {
        let t = node_types.iter().position(|x| x == ty).unwrap();
        node_nums.push(format!("{t},{},{},{size},{},0,0", intern(name), 2 * i + 1, edges.len()));
        for (ety, ename, to) in edges {
            let et = edge_types.iter().position(|x| x == ety).unwrap();
            let name = if *ety == "element" || *ety == "hidden" { ename.parse().unwrap() } else { intern(ename) };
            edge_nums.push(format!("{et},{name},{}", to * 7));
            edge_count += 1;
        }
    }
    format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[{NODE_TYPES},"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[{EDGE_TYPES},"string_or_number","node"],"location_fields":["object_index","script_id","line","column"]}},"node_count":{},"edge_count":{edge_count},"trace_function_count":0}},
"nodes":[{}],
"edges":[{}],
"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[],
"strings":{}}}"#,
        nodes.len(),
        node_nums.join(",\n"),
        edge_nums.join(",\n"),
        serde_json::to_string(&strings).unwrap()
    )
}

/// Parses and analyses a synthetic snapshot.
pub fn analyse(nodes: &[N]) -> crate::heap::HeapAnalysis {
    let snap = crate::heap::HeapSnapshot::parse(snapshot_json(nodes).as_bytes(), &Default::default()).unwrap();
    crate::heap::HeapAnalysis::new(snap)
}
