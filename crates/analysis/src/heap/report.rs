//! The heap snapshot report: what the console stores and pages, and what `ezm-analyze heap --json` prints.

use serde::{Deserialize, Serialize};

use crate::heap::analyze::{ClassSummary, HeapAnalysis, Statistics};
use crate::heap::paths::RetainerPath;
use crate::heap::suspects::{self, LeakSuspect};

/// How many rows the report keeps of each list; the full lists stay queryable on a `HeapAnalysis`.
#[derive(Debug, Clone)]
pub struct ReportLimits {
    pub classes: usize,
    pub largest_objects: usize,
    pub dominator_children: usize,
    pub dominator_depth: usize,
    pub duplicated_strings: usize,
    pub retainer_paths: usize,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits {
            classes: 200,
            largest_objects: 50,
            dominator_children: 20,
            dominator_depth: 3,
            duplicated_strings: 20,
            retainer_paths: 3,
        }
    }
}

/// One object, as every list of the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectInfo {
    /// V8's object id (stable across snapshots of one process).
    pub id: u32,
    /// Position in the snapshot's node list (valid only for this snapshot).
    pub ordinal: u32,
    pub node_type: String,
    pub class_name: String,
    /// The node's own name: a function's name, a string's first 1024 characters, a native's description.
    pub name: String,
    pub self_size: u64,
    pub retained_size: u64,
    /// Edges from a GC root; -5 when unreachable, 100000000 and up when reached only through system roots.
    pub distance: i32,
}

impl ObjectInfo {
    pub fn of(a: &HeapAnalysis, n: u32) -> ObjectInfo {
        let mut name: String = a.snap.name(n).chars().take(200).collect();
        if name.len() < a.snap.name(n).len() {
            name.push('…');
        }
        ObjectInfo {
            id: a.snap.id(n),
            ordinal: n,
            node_type: a.snap.type_name(n).to_owned(),
            class_name: a.class_name(n).to_owned(),
            name,
            self_size: a.snap.self_size(n),
            retained_size: a.retained(n),
            distance: a.distance[n as usize],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DominatorNode {
    pub object: ObjectInfo,
    /// The largest dominated objects, largest first.
    pub children: Vec<DominatorNode>,
    /// How many dominated objects are not listed.
    pub more_children: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DuplicatedString {
    pub value: String,
    pub count: u64,
    /// Bytes that would be saved if one copy were shared: (count − 1) × size.
    pub wasted_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeapReport {
    pub node_count: u64,
    pub edge_count: u64,
    /// DevTools' total: root retained size plus `extra_native_bytes`.
    pub total_size: u64,
    pub statistics: Statistics,
    pub leak_suspects: Vec<LeakSuspect>,
    /// Largest retained size first.
    pub classes: Vec<ClassSummary>,
    pub class_count: u64,
    pub largest_objects: Vec<ObjectInfo>,
    /// From the root: the largest dominated objects, a few levels deep.
    pub dominator_tree: Vec<DominatorNode>,
    pub duplicated_strings: Vec<DuplicatedString>,
}

impl HeapAnalysis {
    /// Objects a user can act on: not the root, not synthetic or hidden (V8's internals).
    pub fn is_user_object(&self, n: u32) -> bool {
        let t = &self.snap.node_types;
        n != self.root() && !self.snap.is_type(n, t.synthetic) && !self.snap.is_type(n, t.hidden)
    }

    pub fn edge_type_name(&self, e: usize) -> &str {
        self.snap.edge_type_names.get(self.snap.edge_type(e) as usize).map_or("unknown", String::as_str)
    }

    /// The dominated objects of `n`, largest retained size first.
    pub fn dominated_by_size(&self, n: u32) -> Vec<u32> {
        let mut c = self.dominated(n).to_vec();
        c.sort_unstable_by_key(|&x| std::cmp::Reverse(self.retained(x)));
        c
    }

    pub fn dominator_tree(&self, n: u32, limits: &ReportLimits, depth: usize) -> Vec<DominatorNode> {
        let children = self.dominated_by_size(n);
        let shown = children.len().min(limits.dominator_children);
        children[..shown]
            .iter()
            .map(|&c| {
                let grandchildren = self.dominated(c).len();
                let (children, more) = if depth + 1 < limits.dominator_depth {
                    let list = self.dominator_tree(c, limits, depth + 1);
                    let more = (grandchildren - list.len()) as u64;
                    (list, more)
                } else {
                    (Vec::new(), grandchildren as u64)
                };
                DominatorNode { object: ObjectInfo::of(self, c), children, more_children: more }
            })
            .collect()
    }

    /// The objects with the largest retained sizes.
    pub fn largest_objects(&self, limit: usize) -> Vec<u32> {
        top_by(limit, (0..self.snap.node_count() as u32).filter(|&n| self.is_user_object(n)), |n| self.retained(n))
    }

    /// Strings whose content occurs more than once, most wasted bytes first (flat strings only: a concatenated
    /// string's content is not in the snapshot).
    pub fn duplicated_strings(&self, limit: usize) -> Vec<DuplicatedString> {
        let t = &self.snap.node_types;
        // Per string-table entry: (copies, largest size); strings are deduplicated in the table, so the index is the
        // content, and a dense array avoids hashing millions of nodes.
        let mut by_content: Vec<(u32, u32)> = vec![(0, 0); self.snap.strings.len()];
        for n in 0..self.snap.node_count() as u32 {
            if self.snap.is_type(n, t.string) {
                let e = &mut by_content[self.snap.name[n as usize] as usize];
                e.0 += 1;
                e.1 = e.1.max(self.snap.self_size(n).min(u32::MAX as u64) as u32);
            }
        }
        let wasted = |s: u32| {
            let (count, size) = by_content[s as usize];
            (count.max(1) as u64 - 1) * size as u64
        };
        let candidates = (0..by_content.len() as u32).filter(|&s| by_content[s as usize].0 > 1);
        top_by(limit, candidates, wasted)
            .into_iter()
            .map(|s| DuplicatedString {
                value: self.snap.string(s).chars().take(200).collect(),
                count: by_content[s as usize].0 as u64,
                wasted_size: wasted(s),
            })
            .collect()
    }

    /// For any object: its accumulation point, the K shortest retainer paths to that point, and the JavaScript-level
    /// explanation a leak suspect gets.
    pub fn explain(&self, n: u32, k: usize) -> (ObjectInfo, Vec<RetainerPath>, crate::heap::Explanation) {
        let (point, paths, explanation) = suspects::explain_object(self, n, k);
        (ObjectInfo::of(self, point), paths, explanation)
    }

    /// The K shortest distinct retainer paths to the object with this id.
    pub fn retainer_paths(&self, n: u32, k: usize) -> Vec<RetainerPath> {
        crate::heap::paths::retainer_paths(self, n, k)
    }

    pub fn report(&self, limits: &ReportLimits) -> HeapReport {
        let mut classes: Vec<ClassSummary> = self.classes.iter().filter(|c| c.count > 0).cloned().collect();
        let class_count = classes.len() as u64;
        classes.sort_unstable_by(|a, b| b.retained_size.cmp(&a.retained_size).then_with(|| a.key.cmp(&b.key)));
        classes.truncate(limits.classes);
        HeapReport {
            node_count: self.snap.node_count() as u64,
            edge_count: self.snap.edge_count() as u64,
            total_size: self.total_size(),
            statistics: self.statistics.clone(),
            leak_suspects: suspects::leak_suspects(self, limits),
            classes,
            class_count,
            largest_objects: self
                .largest_objects(limits.largest_objects)
                .into_iter()
                .map(|n| ObjectInfo::of(self, n))
                .collect(),
            dominator_tree: self.dominator_tree(self.root(), limits, 0),
            duplicated_strings: self.duplicated_strings(limits.duplicated_strings),
        }
    }
}

/// The `limit` items with the largest keys, largest first, without sorting everything.
pub fn top_by(limit: usize, items: impl Iterator<Item = u32>, key: impl Fn(u32) -> u64) -> Vec<u32> {
    let mut heap = std::collections::BinaryHeap::with_capacity(limit + 1);
    for i in items {
        let k = key(i);
        // Most items are smaller than the smallest kept one: skip them without touching the heap.
        if heap.len() == limit && heap.peek().is_some_and(|std::cmp::Reverse((min, _))| k <= *min) {
            continue;
        }
        heap.push(std::cmp::Reverse((k, std::cmp::Reverse(i))));
        if heap.len() > limit {
            heap.pop();
        }
    }
    let mut v: Vec<(u64, u32)> = heap.into_iter().map(|std::cmp::Reverse((k, std::cmp::Reverse(i)))| (k, i)).collect();
    v.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    v.into_iter().map(|(_, i)| i).collect()
}
