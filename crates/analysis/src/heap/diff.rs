//! Comparing snapshots: per class count, shallow and retained deltas; objects new in the target and still alive
//! (by V8's object id, meaningful within one process); classes that grow across three or more snapshots.
//!
//! A comparison works on `SnapshotSummary`s, which keep per class its totals and the sorted (id, size) pairs of its
//! instances, so the graphs of both snapshots never need to be in memory together.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::heap::analyze::HeapAnalysis;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassTotals {
    /// DevTools' class key (script id based).
    pub key: String,
    /// The same key with the script's URL instead of its id, stable across process restarts.
    pub durable_key: String,
    pub name: String,
    pub count: u64,
    pub self_size: u64,
    pub retained_size: u64,
}

/// What a comparison needs of one analysed snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotSummary {
    pub total_size: u64,
    pub node_count: u64,
    pub max_id: u32,
    pub classes: Vec<ClassTotals>,
    /// Per class (same order), its instances' (id, self size), sorted by id.
    pub instances: Vec<Vec<(u32, u64)>>,
}

impl SnapshotSummary {
    pub fn of(a: &HeapAnalysis) -> SnapshotSummary {
        let urls = crate::heap::suspects::script_urls_by_id(a);
        let mut index = vec![u32::MAX; a.classes.len()];
        let mut classes = Vec::new();
        for (i, c) in a.classes.iter().enumerate() {
            if c.count == 0 {
                continue;
            }
            index[i] = classes.len() as u32;
            let durable_key = match c.key.split_once(',') {
                Some((script, rest)) if !script.is_empty() => {
                    let url = script.parse().ok().and_then(|id: u32| urls.get(&id)).map_or(script, String::as_str);
                    format!("{url},{rest}")
                }
                _ => c.key.clone(),
            };
            classes.push(ClassTotals {
                key: c.key.clone(),
                durable_key,
                name: c.name.clone(),
                count: c.count,
                self_size: c.self_size,
                retained_size: c.retained_size,
            });
        }
        let mut instances = vec![Vec::new(); classes.len()];
        for n in 0..a.snap.node_count() as u32 {
            let size = a.snap.self_size(n);
            let c = index[a.class_of[n as usize] as usize];
            if size == 0 || c == u32::MAX {
                continue;
            }
            instances[c as usize].push((a.snap.id(n), size));
        }
        for list in &mut instances {
            list.sort_unstable();
        }
        SnapshotSummary {
            total_size: a.total_size(),
            node_count: a.snap.node_count() as u64,
            max_id: a.snap.id.iter().copied().max().unwrap_or(0),
            classes,
            instances,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassDelta {
    pub key: String,
    pub name: String,
    pub base_count: u64,
    pub target_count: u64,
    pub count_delta: i64,
    pub self_size_delta: i64,
    pub retained_size_delta: i64,
    /// Instances in the target whose id is not in the base (same process only).
    pub added_count: u64,
    pub added_size: u64,
    /// Instances in the base whose id is gone from the target (same process only).
    pub removed_count: u64,
    pub removed_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Whether ids were compared: both snapshots look like one process (ids only grow within a process). When
    /// false, classes are matched by a key with script URLs instead of ids and no per-object delta is given.
    pub same_process: bool,
    pub total_size_delta: i64,
    pub node_count_delta: i64,
    /// Objects alive in the target that did not exist in the base (same process only).
    pub new_objects_count: u64,
    pub new_objects_size: u64,
    /// Classes with any change, largest retained growth first.
    pub classes: Vec<ClassDelta>,
}

fn delta(a: u64, b: u64) -> i64 {
    b as i64 - a as i64
}

/// Compares `target` with `base`, keeping the `limit` classes that changed most.
pub fn compare(base: &SnapshotSummary, target: &SnapshotSummary, limit: usize) -> Comparison {
    let same_process = target.max_id >= base.max_id;
    let key = |c: &ClassTotals| if same_process { c.key.clone() } else { c.durable_key.clone() };
    let base_index: HashMap<String, usize> = base.classes.iter().enumerate().map(|(i, c)| (key(c), i)).collect();
    let mut seen = vec![false; base.classes.len()];
    let mut classes = Vec::new();
    let (mut new_count, mut new_size) = (0, 0);
    for (ti, t) in target.classes.iter().enumerate() {
        let k = key(t);
        let bi = base_index.get(&k).copied();
        let mut d = ClassDelta { key: k, name: t.name.clone(), target_count: t.count, ..ClassDelta::default() };
        let (bc, bs, br) = match bi {
            Some(i) => {
                seen[i] = true;
                let b = &base.classes[i];
                (b.count, b.self_size, b.retained_size)
            }
            None => (0, 0, 0),
        };
        d.base_count = bc;
        d.count_delta = delta(bc, t.count);
        d.self_size_delta = delta(bs, t.self_size);
        d.retained_size_delta = delta(br, t.retained_size);
        if same_process {
            let empty = Vec::new();
            let b_ids = bi.map_or(&empty, |i| &base.instances[i]);
            let (added, removed) = merge_ids(b_ids, &target.instances[ti]);
            (d.added_count, d.added_size, d.removed_count, d.removed_size) = (added.0, added.1, removed.0, removed.1);
            new_count += added.0;
            new_size += added.1;
        }
        classes.push(d);
    }
    for (i, b) in base.classes.iter().enumerate().filter(|(i, _)| !seen[*i]) {
        let mut d = ClassDelta { key: key(b), name: b.name.clone(), base_count: b.count, ..ClassDelta::default() };
        d.count_delta = -(b.count as i64);
        d.self_size_delta = -(b.self_size as i64);
        d.retained_size_delta = -(b.retained_size as i64);
        if same_process {
            d.removed_count = base.instances[i].len() as u64;
            d.removed_size = base.instances[i].iter().map(|x| x.1).sum();
        }
        classes.push(d);
    }
    classes
        .retain(|d| d.count_delta != 0 || d.self_size_delta != 0 || d.retained_size_delta != 0 || d.added_count != 0);
    classes.sort_by(|x, y| y.retained_size_delta.cmp(&x.retained_size_delta).then_with(|| x.key.cmp(&y.key)));
    classes.truncate(limit);
    Comparison {
        same_process,
        total_size_delta: delta(base.total_size, target.total_size),
        node_count_delta: delta(base.node_count, target.node_count),
        new_objects_count: new_count,
        new_objects_size: new_size,
        classes,
    }
}

/// (added count, size), (removed count, size) between two id-sorted lists.
fn merge_ids(base: &[(u32, u64)], target: &[(u32, u64)]) -> ((u64, u64), (u64, u64)) {
    let (mut i, mut j) = (0, 0);
    let (mut added, mut removed) = ((0, 0), (0, 0));
    while i < base.len() || j < target.len() {
        match (base.get(i), target.get(j)) {
            (Some(b), Some(t)) if b.0 == t.0 => {
                i += 1;
                j += 1;
            }
            (Some(b), Some(t)) if b.0 < t.0 => {
                removed = (removed.0 + 1, removed.1 + b.1);
                i += 1;
            }
            (Some(b), None) => {
                removed = (removed.0 + 1, removed.1 + b.1);
                i += 1;
            }
            (_, Some(t)) => {
                added = (added.0 + 1, added.1 + t.1);
                j += 1;
            }
            (None, None) => break,
        }
    }
    (added, removed)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Growth {
    pub key: String,
    pub name: String,
    /// Per snapshot, oldest first.
    pub counts: Vec<u64>,
    pub retained_sizes: Vec<u64>,
}

/// Classes whose instance count and retained size grow from each snapshot to the next (memlab's "unbound growth"),
/// largest final retained size first. Snapshots are given oldest first.
pub fn growth(summaries: &[SnapshotSummary], limit: usize) -> Vec<Growth> {
    if summaries.len() < 2 {
        return Vec::new();
    }
    let same_process = summaries.windows(2).all(|w| w[1].max_id >= w[0].max_id);
    let key = |c: &ClassTotals| if same_process { c.key.clone() } else { c.durable_key.clone() };
    let maps: Vec<HashMap<String, &ClassTotals>> =
        summaries.iter().map(|s| s.classes.iter().map(|c| (key(c), c)).collect()).collect();
    let mut out: Vec<Growth> = Vec::new();
    for c in &summaries[summaries.len() - 1].classes {
        let k = key(c);
        let rows: Option<Vec<&ClassTotals>> = maps.iter().map(|m| m.get(&k).copied()).collect();
        let Some(rows) = rows else { continue };
        let grows = rows.windows(2).all(|w| w[1].count > w[0].count && w[1].retained_size > w[0].retained_size);
        if grows {
            out.push(Growth {
                key: k,
                name: c.name.clone(),
                counts: rows.iter().map(|r| r.count).collect(),
                retained_sizes: rows.iter().map(|r| r.retained_size).collect(),
            });
        }
    }
    out.sort_by(|x, y| y.retained_sizes.last().cmp(&x.retained_sizes.last()));
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::testing::{analyse, N};

    fn summary(nodes: &[N]) -> SnapshotSummary {
        SnapshotSummary::of(&analyse(nodes))
    }

    fn heap(sessions: usize) -> Vec<N<'static>> {
        // root → global → list → sessions; node ids follow positions, so the first sessions keep their ids.
        let mut nodes = vec![
            N("synthetic", "", 0, vec![("shortcut", "global", 1)]),
            N("object", "global", 10, vec![("property", "list", 2)]),
            N("object", "Array", 16, (0..sessions).map(|i| ("element", ["0", "1", "2", "3"][i], 3 + i)).collect()),
        ];
        nodes.extend((0..sessions).map(|_| N("object", "Session", 100, vec![])));
        nodes
    }

    #[test]
    fn comparison_counts_new_objects_by_id_and_deltas_by_class() {
        let (base, target) = (summary(&heap(1)), summary(&heap(3)));
        let c = compare(&base, &target, 10);
        assert!(c.same_process);
        assert_eq!((c.new_objects_count, c.new_objects_size, c.total_size_delta), (2, 200, 200));
        let session = c.classes.iter().find(|d| d.name == "Session").unwrap();
        assert_eq!((session.count_delta, session.self_size_delta, session.retained_size_delta), (2, 200, 200));
        assert_eq!((session.added_count, session.removed_count), (2, 0));
        // Ids that went down: another process, so classes are matched by key and no object is called new.
        let restarted = compare(&summary(&heap(3)), &summary(&heap(1)), 10);
        assert!(!restarted.same_process);
        assert_eq!(restarted.new_objects_count, 0);
        let session = restarted.classes.iter().find(|d| d.name == "Session").unwrap();
        assert_eq!((session.count_delta, session.added_count, session.removed_count), (-2, 0, 0));
        let g = growth(&[summary(&heap(1)), summary(&heap(2)), summary(&heap(4))], 10);
        assert_eq!(g.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Session"]);
        assert_eq!(g[0].counts, [1, 2, 4]);
    }
}
