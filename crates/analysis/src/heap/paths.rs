//! The K shortest distinct retainer paths from the GC roots to an object, with edge names.
//!
//! A best-first search backwards over retainers, ordered by path length plus the object's BFS distance from the
//! roots (an exact lower bound, so paths come out shortest first); each node is expanded at most K times and a
//! path never visits a node twice, which yields K distinct simple paths. Weak edges and edges from the root are
//! skipped as in DevTools' Retainers view; property and context edges win ties over internal ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::heap::analyze::{HeapAnalysis, NO_DISTANCE, SYSTEM_DISTANCE};
use crate::heap::report::ObjectInfo;

/// Upper bound on search steps per query, so a pathological graph answers quickly with fewer paths.
const MAX_EXPANSIONS: usize = 200_000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PathStep {
    /// The edge from the previous step's object (absent on the first step, a root).
    pub edge_name: Option<String>,
    pub edge_type: Option<String>,
    pub object: ObjectInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RetainerPath {
    /// From a GC root (or the global object) to the object.
    pub steps: Vec<PathStep>,
}

struct Partial {
    node: u32,
    /// Index of the previous partial (towards the target) in the arena, or `u32::MAX` at the target.
    prev: u32,
    len: u32,
}

fn is_start(a: &HeapAnalysis, n: u32) -> bool {
    let d = a.distance[n as usize];
    d == 1 || d == SYSTEM_DISTANCE + 1 || n == a.root()
}

/// Nodes with more edges than this are not scanned for the edge's type while searching (a huge array would make
/// every step through it slow); they rank as elements, and the shown edge is looked up once per found path.
const MAX_RANK_SCAN: usize = 256;

/// Edge preference: property and context edges are cheapest, then elements, then the rest; 3 means weak only.
fn edge_rank(a: &HeapAnalysis, from: u32, to: u32) -> u32 {
    let et = &a.snap.edge_types;
    if a.snap.edges(from).len() > MAX_RANK_SCAN {
        return 1;
    }
    a.snap
        .edges(from)
        .filter(|&e| a.snap.edge_to(e) == to && !a.snap.edge_is(e, et.weak))
        .map(|e| {
            if a.snap.edge_is(e, et.property) || a.snap.edge_is(e, et.context) {
                0
            } else if a.snap.edge_is(e, et.element) {
                1
            } else {
                2
            }
        })
        .min()
        .unwrap_or(3)
}

/// The edge from `from` to `to` that a path shows: the most preferred non-weak one.
fn best_edge(a: &HeapAnalysis, from: u32, to: u32) -> Option<usize> {
    let et = &a.snap.edge_types;
    a.snap.edges(from).filter(|&e| a.snap.edge_to(e) == to && !a.snap.edge_is(e, et.weak)).min_by_key(|&e| {
        if a.snap.edge_is(e, et.property) || a.snap.edge_is(e, et.context) {
            0
        } else if a.snap.edge_is(e, et.element) {
            1
        } else {
            2
        }
    })
}

/// Up to `k` shortest distinct retainer paths to `target`; empty when the object is unreachable.
pub fn retainer_paths(a: &HeapAnalysis, target: u32, k: usize) -> Vec<RetainerPath> {
    if k == 0 || a.distance[target as usize] == NO_DISTANCE {
        return Vec::new();
    }
    let h = |n: u32| -> u64 {
        let d = a.distance[n as usize];
        if d >= SYSTEM_DISTANCE {
            // Paths through system roots only are longer than any user path.
            (d - SYSTEM_DISTANCE) as u64 + 1_000_000
        } else {
            d.max(0) as u64
        }
    };
    let mut arena: Vec<Partial> = vec![Partial { node: target, prev: u32::MAX, len: 0 }];
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((h(target), 0u32, 0u32)));
    let mut expanded_nodes: std::collections::HashMap<u32, u8> = std::collections::HashMap::new();
    let mut found: Vec<RetainerPath> = Vec::new();
    let mut seen: std::collections::HashSet<Vec<u32>> = std::collections::HashSet::new();
    let mut steps = 0usize;
    while let Some(Reverse((_, _, idx))) = heap.pop() {
        steps += 1;
        if steps > MAX_EXPANSIONS || found.len() >= k {
            break;
        }
        let (node, len) = (arena[idx as usize].node, arena[idx as usize].len);
        let count = expanded_nodes.entry(node).or_insert(0);
        if *count as usize >= k {
            continue;
        }
        *count += 1;
        if is_start(a, node) {
            let mut nodes = Vec::new();
            let mut i = idx;
            while i != u32::MAX {
                nodes.push(arena[i as usize].node);
                i = arena[i as usize].prev;
            }
            if seen.insert(nodes.clone()) {
                found.push(render(a, &nodes));
            }
            continue;
        }
        for s in a.retainer_slots(node) {
            let from = a.retainers.node[s];
            if from == a.root() || a.distance[from as usize] == NO_DISTANCE {
                continue;
            }
            let rank = edge_rank(a, from, node);
            if rank == 3 {
                continue; // only weak edges
            }
            // No node twice on one path.
            let mut i = idx;
            let mut cycle = false;
            while i != u32::MAX {
                if arena[i as usize].node == from {
                    cycle = true;
                    break;
                }
                i = arena[i as usize].prev;
            }
            if cycle {
                continue;
            }
            arena.push(Partial { node: from, prev: idx, len: len + 1 });
            let id = (arena.len() - 1) as u32;
            heap.push(Reverse(((len + 1) as u64 + h(from), rank, id)));
        }
    }
    found
}

fn render(a: &HeapAnalysis, nodes: &[u32]) -> RetainerPath {
    // `nodes` runs from the root side to the target.
    let mut steps = Vec::with_capacity(nodes.len());
    for (i, &n) in nodes.iter().enumerate() {
        let edge = if i == 0 { None } else { best_edge(a, nodes[i - 1], n) };
        steps.push(PathStep {
            edge_name: edge.map(|e| a.snap.edge_name(e)),
            edge_type: edge.map(|e| a.edge_type_name(e).to_owned()),
            object: ObjectInfo::of(a, n),
        });
    }
    RetainerPath { steps }
}
