//! Leak suspects in Eclipse MAT's style, explained in JavaScript terms.
//!
//! - Single-object suspects: walking down the dominator tree from the root through V8's containers (synthetic
//!   roots, hidden system objects, the global object), every object that retains at least 10 % of the total.
//! - Class-group suspects: classes (nested instances counted once) that retain at least 10 %, V8-internal classes
//!   (`(…)`, `system / …`) aside.
//! - The accumulation point: from the suspect, follow the largest dominated child while it keeps at least half of
//!   its parent's retained size (MAT's "big drop", v8-mat's ratio 0.5).
//! - The explanation: who holds it (the shortest retainer path, written like `global.sessionCache`), the collection
//!   on the way (Map/Set entries, Array length), the closure and its context variables, EventEmitter listener
//!   counts, detached native objects below it, and the script and npm package where its constructor or function
//!   was defined.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::heap::analyze::HeapAnalysis;
use crate::heap::paths::RetainerPath;
use crate::heap::report::{DuplicatedString, ObjectInfo, ReportLimits};

/// A suspect retains at least this share of the total.
pub const SUSPECT_SHARE: f64 = 0.10;
/// The accumulation point is where the largest child keeps less than this share of its parent.
const BIG_DROP_RATIO: f64 = 0.5;
/// Deepest descent looking for the accumulation point (a long linked list stops here).
const MAX_DESCENT: usize = 10_000;
/// Longest dominator chain an instance's weight is added along when locating a class's accumulation point.
const MAX_CHAIN: usize = 512;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SuspectKind {
    /// One object retains a large share of the heap.
    Object,
    /// The instances of one class together retain a large share of the heap.
    Class,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Collection {
    /// `Map`, `Set`, `WeakMap`, `WeakSet` or `Array`.
    pub kind: String,
    pub entries: u64,
    pub object: ObjectInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Closure {
    /// The function's name, or `(anonymous)`.
    pub function: String,
    /// The variables its context keeps alive.
    pub variables: Vec<String>,
    /// `url:line:column`, 1-based, when known.
    pub defined_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Listeners {
    pub event: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Explanation {
    /// The shortest path that holds the suspect, written like `global.sessionCache`.
    pub held_by: Option<String>,
    pub collection: Option<Collection>,
    pub closure: Option<Closure>,
    /// Per event of an EventEmitter on the way, its listener count.
    pub listeners: Vec<Listeners>,
    /// Native objects V8 marks as detached below the suspect.
    pub detached_natives: u64,
    /// Where the suspect's (or its instances') constructor or function was defined.
    pub script: Option<String>,
    /// The npm package of that script (`node_modules/<package>/`).
    pub package: Option<String>,
    /// The string most often repeated among the objects held at the accumulation point.
    pub duplicated_string: Option<DuplicatedString>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LeakSuspect {
    pub kind: SuspectKind,
    /// One line a person reads first.
    pub description: String,
    pub retained_size: u64,
    /// Of the total size, 0..1.
    pub share: f64,
    /// The suspect object (object suspects) or the largest instance (class suspects).
    pub object: ObjectInfo,
    pub class_name: String,
    pub instance_count: u64,
    /// Where the memory accumulates: for an object, its big drop; for a class, the object that directly holds most
    /// of the instances' retained size.
    pub accumulation_point: ObjectInfo,
    /// The shortest distinct paths from the GC roots to the accumulation point.
    pub retainer_paths: Vec<RetainerPath>,
    pub explanation: Explanation,
    /// Classes whose instances (10 % of the heap or more) accumulate here.
    pub related_classes: Vec<RelatedClass>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelatedClass {
    pub class_name: String,
    pub instance_count: u64,
    pub retained_size: u64,
}

fn is_container(a: &HeapAnalysis, n: u32, globals: &[u32]) -> bool {
    let t = &a.snap.node_types;
    n == a.root()
        || a.snap.is_type(n, t.synthetic)
        || a.snap.is_type(n, t.hidden)
        || globals.contains(&n)
        || a.snap.name(n).starts_with("system / NativeContext")
}

/// Whether `ancestor` dominates `n` (or is `n`).
fn dominates(a: &HeapAnalysis, parent: &[u32], ancestor: u32, n: u32) -> bool {
    let mut x = n;
    for _ in 0..MAX_DESCENT {
        if x == ancestor {
            return true;
        }
        if x == a.root() {
            return false;
        }
        x = parent[x as usize];
    }
    false
}

/// The top-level instances (no instance of the same class dominates them) of each candidate class, from one walk of
/// the dominator tree.
fn top_level_instances(a: &HeapAnalysis, candidates: &[usize]) -> Vec<Vec<u32>> {
    let mut slot = vec![u32::MAX; a.classes.len()];
    for (i, &c) in candidates.iter().enumerate() {
        slot[c] = i as u32;
    }
    let mut lists = vec![Vec::new(); candidates.len()];
    let mut active = vec![0u32; candidates.len()];
    let mut stack: Vec<(u32, bool)> = vec![(a.root(), false)];
    while let Some((n, exiting)) = stack.pop() {
        let s = slot[a.class_of[n as usize] as usize];
        let instance = s != u32::MAX && a.snap.self_size(n) != 0;
        if exiting {
            active[s as usize] -= 1;
            continue;
        }
        if instance {
            if active[s as usize] == 0 {
                lists[s as usize].push(n);
            }
            active[s as usize] += 1;
            stack.push((n, true));
        }
        stack.extend(a.dominated(n).iter().map(|&c| (c, false)));
    }
    lists
}

/// Node-sized scratch arrays for [`class_accumulation_point`], allocated once per report.
struct Scratch {
    sums: Vec<u64>,
    /// Which class pass last touched a node's sum (so the arrays need no clearing between classes).
    stamp: Vec<u32>,
    pass: u32,
}

/// A class's largest instance, and where its instances accumulate: the most specific object (smallest retained
/// size) that dominates top-level instances holding 80 % of what the class retains. Each instance's weight is added
/// along its dominator chain, at most `MAX_CHAIN` steps up (an instance deeper than that, at the end of a very long
/// linked list, does not count for the objects above it).
fn class_accumulation_point(
    a: &HeapAnalysis,
    parent: &[u32],
    instances: &[u32],
    sc: &mut Scratch,
) -> Option<(u32, u32)> {
    let largest = *instances.iter().max_by_key(|&&n| (a.retained(n), std::cmp::Reverse(n)))?;
    sc.pass += 1;
    let pass = sc.pass;
    let mut nodes: Vec<u32> = Vec::with_capacity(instances.len() * 2);
    let mut total = 0u64;
    for &n in instances {
        let r = a.retained(n);
        total += r;
        // Add the instance's weight to its dominator chain (chains are short: a few steps to the root).
        let mut x = n;
        for _ in 0..MAX_CHAIN {
            if sc.stamp[x as usize] != pass {
                sc.stamp[x as usize] = pass;
                sc.sums[x as usize] = 0;
                nodes.push(x);
            }
            sc.sums[x as usize] += r;
            if x == a.root() {
                break;
            }
            x = parent[x as usize];
        }
    }
    let point = nodes
        .into_iter()
        .filter(|&n| sc.sums[n as usize] as f64 >= 0.8 * total as f64)
        .min_by_key(|&n| (a.retained(n), std::cmp::Reverse(n)))
        .unwrap_or(largest);
    Some((largest, point))
}

fn duplicated_below(a: &HeapAnalysis, n: u32) -> Option<DuplicatedString> {
    let mut counts: HashMap<u32, (u64, u64)> = HashMap::new();
    for &c in a.dominated(n) {
        if a.snap.is_type(c, a.snap.node_types.string) {
            let e = counts.entry(a.snap.name[c as usize]).or_insert((0, 0));
            e.0 += 1;
            e.1 = e.1.max(a.snap.self_size(c));
        }
    }
    let (s, (count, size)) =
        counts.into_iter().filter(|(_, (c, _))| *c > 1).max_by_key(|&(s, (c, size))| (c * size, s))?;
    Some(DuplicatedString {
        value: a.snap.string(s).chars().take(200).collect(),
        count,
        wasted_size: (count - 1) * size,
    })
}

/// Follows the largest dominated child while it keeps at least half of its parent's retained size.
pub fn accumulation_point(a: &HeapAnalysis, n: u32) -> u32 {
    let mut cur = n;
    for _ in 0..MAX_DESCENT {
        let Some(&largest) = a.dominated(cur).iter().max_by_key(|&&c| a.retained(c)) else {
            break;
        };
        if (a.retained(largest) as f64) < BIG_DROP_RATIO * a.retained(cur) as f64 {
            break;
        }
        cur = largest;
    }
    cur
}

/// Script URLs by V8 script id, from the functions that carry one (closure → shared → script_or_debug_info).
pub fn script_urls_by_id(a: &HeapAnalysis) -> HashMap<u32, String> {
    script_urls(a)
}

fn script_urls(a: &HeapAnalysis) -> HashMap<u32, String> {
    let mut urls = HashMap::new();
    let snap = &a.snap;
    for l in &snap.locations {
        if urls.contains_key(&l.script_id) || !snap.is_type(l.ordinal, snap.node_types.closure) {
            continue;
        }
        if let Some(url) = closure_script(a, l.ordinal) {
            urls.insert(l.script_id, url);
        }
    }
    urls
}

fn child_named(a: &HeapAnalysis, n: u32, name: &str) -> Option<u32> {
    a.snap.edges(n).find(|&e| a.snap.edge_name_str(e) == Some(name)).map(|e| a.snap.edge_to(e))
}

fn closure_script(a: &HeapAnalysis, closure: u32) -> Option<String> {
    let shared = child_named(a, closure, "shared")?;
    let script = child_named(a, shared, "script_or_debug_info").or_else(|| child_named(a, shared, "script"))?;
    let name = a.snap.name(script);
    (!name.is_empty() && !name.starts_with("system /")).then(|| name.to_owned())
}

/// `node_modules/<package>/` (or `@scope/package`) in a script URL; the last one wins for nested installs.
pub fn npm_package(url: &str) -> Option<String> {
    let at = url.rfind("node_modules/")?;
    let rest = &url[at + "node_modules/".len()..];
    let mut parts = rest.split('/');
    let first = parts.next()?;
    if first.is_empty() {
        return None;
    }
    if first.starts_with('@') {
        let second = parts.next()?;
        return Some(format!("{first}/{second}"));
    }
    Some(first.to_owned())
}

fn collection_of(a: &HeapAnalysis, n: u32) -> Option<Collection> {
    let snap = &a.snap;
    if !snap.is_type(n, snap.node_types.object) {
        return None;
    }
    let kind = snap.name(n);
    let et = &snap.edge_types;
    let entries = match kind {
        "Map" | "Set" | "WeakMap" | "WeakSet" => {
            let table = child_named(a, n, "table")?;
            // The hash table lists keys and values (Map) or values (Set) as internal edges named by number.
            let slots = snap
                .edges(table)
                .filter(|&e| {
                    snap.edge_is(e, et.internal) && snap.edge_name_str(e).is_some_and(|s| s.parse::<u64>().is_ok())
                })
                .count() as u64;
            if kind.ends_with("Map") {
                slots / 2
            } else {
                slots
            }
        }
        "Array" => {
            let own = snap.edges(n).filter(|&e| snap.edge_is(e, et.element)).count() as u64;
            let elements = child_named(a, n, "elements")
                .map_or(0, |el| snap.edges(el).filter(|&e| snap.edge_is(e, et.element)).count() as u64);
            own + elements
        }
        _ => return None,
    };
    Some(Collection { kind: kind.to_owned(), entries, object: ObjectInfo::of(a, n) })
}

fn closure_of(a: &HeapAnalysis, n: u32, urls: &HashMap<u32, String>) -> Option<Closure> {
    let snap = &a.snap;
    if !snap.is_type(n, snap.node_types.closure) {
        return None;
    }
    let context = child_named(a, n, "context");
    let variables = context.map_or_else(Vec::new, |c| {
        snap.edges(c).filter(|&e| snap.edge_is(e, snap.edge_types.context)).map(|e| snap.edge_name(e)).collect()
    });
    let name = snap.name(n);
    let url = snap.location(n).and_then(|l| urls.get(&l.script_id).map(|u| (u, l)));
    Some(Closure {
        function: if name.is_empty() { "(anonymous)".into() } else { name.to_owned() },
        variables,
        defined_at: url.map(|(u, l)| format!("{u}:{}:{}", l.line + 1, l.column + 1)),
    })
}

fn listeners_of(a: &HeapAnalysis, n: u32) -> Vec<Listeners> {
    let snap = &a.snap;
    let Some(events) = child_named(a, n, "_events") else {
        return Vec::new();
    };
    snap.edges(events)
        .filter(|&e| snap.edge_is(e, snap.edge_types.property) && snap.edge_name_str(e) != Some("__proto__"))
        .map(|e| {
            let to = snap.edge_to(e);
            let count = if snap.is_type(to, snap.node_types.closure) {
                1
            } else {
                collection_of(a, to).map_or(0, |c| c.entries)
            };
            Listeners { event: snap.edge_name(e), count }
        })
        .filter(|l| l.count > 0)
        .collect()
}

/// How many of the snapshot's detached native objects `n` dominates. Node marks only a handful of objects as
/// detached, so walking each one up the dominator tree is cheaper than walking the suspect's subtree.
fn detached_below(a: &HeapAnalysis, parent: &[u32], n: u32, detached: &[u32]) -> u64 {
    detached.iter().filter(|&&d| dominates(a, parent, n, d)).count() as u64
}

/// Writes a path like `global.sessionCache` or `(GC roots) → (Global handles)[3]`.
fn held_by(path: &RetainerPath) -> String {
    let mut out = String::new();
    for (i, step) in path.steps.iter().enumerate() {
        let label = if step.object.node_type == "synthetic" || step.object.class_name.is_empty() {
            step.object.name.clone()
        } else {
            step.object.class_name.clone()
        };
        match (i, step.edge_type.as_deref(), step.edge_name.as_deref()) {
            (0, _, _) => out.push_str(if label.is_empty() { "(root)" } else { &label }),
            (_, Some("element"), Some(name)) => out.push_str(&format!("[{name}]")),
            (_, Some("property"), Some(name)) | (_, Some("context"), Some(name)) => out.push_str(&format!(".{name}")),
            (_, _, Some(name)) => out.push_str(&format!(" → {name}")),
            _ => out.push_str(" → ?"),
        }
    }
    out
}

fn explain(
    a: &HeapAnalysis,
    parent: &[u32],
    suspect: u32,
    point: u32,
    paths: &[RetainerPath],
    urls: &HashMap<u32, String>,
    detached: &[u32],
) -> Explanation {
    // The objects from the suspect down to the accumulation point, then the path that holds the suspect.
    let mut chain = vec![point];
    let mut x = point;
    while x != suspect && x != a.root() && chain.len() < MAX_DESCENT {
        x = parent[x as usize];
        chain.push(x);
    }
    chain.reverse();
    let path_nodes: Vec<u32> =
        paths.first().map_or_else(Vec::new, |p| p.steps.iter().rev().map(|s| s.object.ordinal).collect());
    let candidates: Vec<u32> = chain.iter().copied().chain(path_nodes.iter().copied()).collect();
    let collection = candidates.iter().find_map(|&n| collection_of(a, n));
    let closure = candidates.iter().find_map(|&n| closure_of(a, n, urls)).or_else(|| {
        // Memory accumulating in closures (a Map of callbacks): the largest object held there is one, and its
        // context tells what they all keep. Any other closure below is incidental (a constructor, say).
        let largest = a.dominated(point).iter().copied().max_by_key(|&c| (a.retained(c), std::cmp::Reverse(c)))?;
        closure_of(a, largest, urls)
    });
    let listeners = candidates.iter().map(|&n| listeners_of(a, n)).find(|l| !l.is_empty()).unwrap_or_default();
    let script = candidates
        .iter()
        .chain(std::iter::once(&suspect))
        .find_map(|&n| {
            a.snap
                .location(n)
                .and_then(|l| urls.get(&l.script_id).map(|u| format!("{u}:{}:{}", l.line + 1, l.column + 1)))
        })
        .or_else(|| closure.as_ref().and_then(|c| c.defined_at.clone()));
    let package = script.as_deref().and_then(npm_package);
    Explanation {
        held_by: paths.first().map(held_by),
        collection,
        closure,
        listeners,
        detached_natives: detached_below(a, parent, suspect, detached),
        script,
        package,
        duplicated_string: duplicated_below(a, point),
    }
}

fn describe(a: &HeapAnalysis, kind: SuspectKind, n: u32, count: u64, share: f64, e: &Explanation) -> String {
    let what = match kind {
        SuspectKind::Object => {
            format!("One {} ({}) retains {:.1} % of the heap", a.class_name(n), a.snap.type_name(n), share * 100.0)
        }
        SuspectKind::Class => {
            format!("{count} instances of {} retain {:.1} % of the heap", a.class_name(n), share * 100.0)
        }
    };
    let mut parts = vec![what];
    if let Some(h) = &e.held_by {
        parts.push(format!("held by {h}"));
    }
    if let Some(c) = &e.collection {
        parts.push(format!("accumulated in a {} of {} entries", c.kind, c.entries));
    }
    if let Some(c) = &e.closure {
        if !c.variables.is_empty() {
            parts.push(format!("closures of {} keep {}", c.function, c.variables.join(", ")));
        }
    }
    if let Some(l) = e.listeners.iter().max_by_key(|l| l.count) {
        parts.push(format!("{} listeners for '{}'", l.count, l.event));
    }
    if let Some(d) = &e.duplicated_string {
        let value: String = d.value.chars().take(40).collect();
        parts.push(format!("{} copies of the string {value:?}", d.count));
    }
    if let Some(p) = &e.package {
        parts.push(format!("from package {p}"));
    }
    parts.join("; ")
}

pub fn leak_suspects(a: &HeapAnalysis, limits: &ReportLimits) -> Vec<LeakSuspect> {
    let total = a.total_size().max(1);
    let threshold = (total as f64 * SUSPECT_SHARE) as u64;
    let root = a.root();
    let globals: Vec<u32> = a
        .snap
        .edges(root)
        .filter(|&e| a.snap.edge_is(e, a.snap.edge_types.shortcut))
        .map(|e| a.snap.edge_to(e))
        .collect();
    let urls = script_urls(a);
    // The analysis keeps the dominator tree as children lists; the walks up the tree here need each node's parent.
    let parent = a.dominator_parents();
    let detached: Vec<u32> =
        (0..a.snap.node_count() as u32).filter(|&n| a.snap.detachedness(n) == 2).take(100_000).collect();
    let mut suspects = Vec::new();

    let mut stack: Vec<u32> = vec![root];
    let mut objects = Vec::new();
    while let Some(n) = stack.pop() {
        if !is_container(a, n, &globals) {
            objects.push(n);
            continue;
        }
        stack.extend(a.dominated(n).iter().copied().filter(|&c| a.retained(c) >= threshold));
    }
    for n in objects {
        let point = accumulation_point(a, n);
        let paths = a.retainer_paths(point, limits.retainer_paths);
        let explanation = explain(a, &parent, n, point, &paths, &urls, &detached);
        let share = a.retained(n) as f64 / total as f64;
        suspects.push(LeakSuspect {
            kind: SuspectKind::Object,
            description: describe(a, SuspectKind::Object, n, 1, share, &explanation),
            retained_size: a.retained(n),
            share,
            object: ObjectInfo::of(a, n),
            class_name: a.class_name(n).to_owned(),
            instance_count: 1,
            accumulation_point: ObjectInfo::of(a, point),
            retainer_paths: paths,
            explanation,
            related_classes: Vec::new(),
        });
    }

    let object_suspects: Vec<u32> = suspects.iter().map(|s| s.object.ordinal).collect();
    let candidates: Vec<usize> = a
        .classes
        .iter()
        .enumerate()
        .filter(|(_, class)| {
            let internal = class.name.starts_with('(') || class.name.starts_with("system /") || class.name.is_empty();
            class.retained_size >= threshold && !internal && class.count >= 2
        })
        .map(|(i, _)| i)
        .collect();
    let instances = if candidates.is_empty() { Vec::new() } else { top_level_instances(a, &candidates) };
    let mut scratch = Scratch { sums: Vec::new(), stamp: Vec::new(), pass: 0 };
    if !candidates.is_empty() {
        scratch = Scratch { sums: vec![0; a.snap.node_count()], stamp: vec![0; a.snap.node_count()], pass: 0 };
    }
    for (&ci, instances) in candidates.iter().zip(instances) {
        let class = &a.classes[ci];
        let Some((largest, point)) = class_accumulation_point(a, &parent, &instances, &mut scratch) else { continue };
        if is_container(a, point, &globals) {
            // Spread over the whole application: no single place to look at.
            continue;
        }
        let related = RelatedClass {
            class_name: class.name.clone(),
            instance_count: class.count,
            retained_size: class.retained_size,
        };
        // Instances that accumulate inside an object suspect are that suspect's story, not a new one.
        if let Some(owner) = object_suspects.iter().position(|&o| dominates(a, &parent, o, point)) {
            suspects[owner].related_classes.push(related);
            continue;
        }
        let paths = a.retainer_paths(point, limits.retainer_paths);
        let mut explanation = explain(a, &parent, point, point, &paths, &urls, &detached);
        if explanation.closure.is_none() {
            explanation.closure = closure_of(a, largest, &urls);
        }
        if explanation.script.is_none() {
            explanation.script = a
                .snap
                .location(largest)
                .and_then(|l| urls.get(&l.script_id).map(|u| format!("{u}:{}:{}", l.line + 1, l.column + 1)));
            explanation.package = explanation.script.as_deref().and_then(npm_package);
        }
        let share = class.retained_size as f64 / total as f64;
        suspects.push(LeakSuspect {
            kind: SuspectKind::Class,
            description: describe(a, SuspectKind::Class, largest, class.count, share, &explanation),
            retained_size: class.retained_size,
            share,
            object: ObjectInfo::of(a, largest),
            class_name: class.name.clone(),
            instance_count: class.count,
            accumulation_point: ObjectInfo::of(a, point),
            retainer_paths: paths,
            explanation,
            related_classes: vec![related],
        });
    }
    suspects
        .sort_by(|x, y| y.retained_size.cmp(&x.retained_size).then_with(|| x.object.ordinal.cmp(&y.object.ordinal)));
    suspects
}

/// The JavaScript-level explanation of any object, as a leak suspect gets it: who holds it, the collection, closure
/// or emitter on the way to where its memory accumulates, detached natives, repeated strings, script and package.
pub fn explain_object(a: &HeapAnalysis, n: u32, k_paths: usize) -> (u32, Vec<RetainerPath>, Explanation) {
    let parent = a.dominator_parents();
    let detached: Vec<u32> =
        (0..a.snap.node_count() as u32).filter(|&x| a.snap.detachedness(x) == 2).take(100_000).collect();
    let point = accumulation_point(a, n);
    let paths = a.retainer_paths(point, k_paths);
    let explanation = explain(a, &parent, n, point, &paths, &script_urls(a), &detached);
    (point, paths, explanation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_packages_come_from_the_last_node_modules_in_a_url() {
        assert_eq!(npm_package("file:///srv/app/node_modules/express/lib/router.js").as_deref(), Some("express"));
        assert_eq!(npm_package("/a/node_modules/@nestjs/core/x.js").as_deref(), Some("@nestjs/core"));
        assert_eq!(npm_package("/a/node_modules/x/node_modules/y/i.js").as_deref(), Some("y"));
        assert_eq!(npm_package("/srv/app/main.js"), None);
        assert_eq!(npm_package("node:internal/timers"), None);
    }
}
