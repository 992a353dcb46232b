//! The DevTools-compatible analysis of a parsed snapshot: detached state, page-owned flags, shallow-size
//! reattribution, essential edges, dominators and retained sizes, distances, class names (with DevTools' interface
//! inference for plain objects), aggregates by class and statistics. Each step follows the function of the same
//! purpose in DevTools' `HeapSnapshot.ts` (named in its comment), because users compare our numbers with DevTools'.
//!
//! Resident cost added to the parsed arrays: per node 4 bytes of retained size (a side table holds the few beyond 32
//! bits), 4 of distance, 4 of class, 8 of dominator tree children lists and 4 of retainer list start; per edge 4 bytes
//! of retaining node and an eighth for the essential bit of the retainer slot. The dominator computation's
//! temporaries (36 bytes per node) and the page-owned and essential-edge bits are freed before the class aggregation.

use std::collections::HashMap;

use serde::Serialize;

use crate::control::{Control, Step};
use crate::error::Result;
use crate::heap::bits::Bits;
use crate::heap::dominators::{self, Retainers};
use crate::heap::snapshot::HeapSnapshot;

/// Distance of nodes reached only from the root, not from a user root (DevTools' `baseSystemDistance`).
pub const SYSTEM_DISTANCE: i32 = 100_000_000;
/// Distance of unreachable nodes (DevTools' `noDistance`).
pub const NO_DISTANCE: i32 = -5;

/// Statistics as DevTools' `getStatistics()` reports them (sizes after shallow-size reattribution).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Statistics {
    /// Root retained size plus `extra_native_bytes`.
    pub total: u64,
    pub native: u64,
    pub typed_arrays: u64,
    pub v8heap: u64,
    pub code: u64,
    pub js_arrays: u64,
    pub strings: u64,
    /// `hidden` nodes, DevTools' "system".
    pub system: u64,
}

/// One row of the summary by class: DevTools' `aggregatesWithFilter({})` entry.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ClassSummary {
    /// DevTools' durable class key: `",Name"`, or `"scriptId,line,column,Name"` for objects with a location.
    pub key: String,
    pub name: String,
    pub count: u64,
    /// Sum of shallow sizes (objects of size 0 are not counted, as in DevTools).
    pub self_size: u64,
    /// Retained by the class, nested instances of the same class counted once.
    pub retained_size: u64,
    /// Smallest distance from a GC root of any instance.
    pub distance: i32,
}

/// A class key of an object with a location: script id, line, column and class name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Located(u32, u32, u32, u32);

/// Sizes per node in 4 bytes each; the few beyond 32 bits (the root, the global object of a big heap) are kept in a
/// side table.
struct CompactSizes {
    small: Vec<u32>,
    big: HashMap<u32, u64>,
}

impl CompactSizes {
    fn new(sizes: Vec<u64>) -> CompactSizes {
        let mut big = HashMap::new();
        let small = sizes
            .iter()
            .enumerate()
            .map(|(n, &s)| match u32::try_from(s) {
                Ok(v) if v != u32::MAX => v,
                _ => {
                    big.insert(n as u32, s);
                    u32::MAX
                }
            })
            .collect();
        CompactSizes { small, big }
    }

    fn get(&self, n: u32) -> u64 {
        match self.small[n as usize] {
            u32::MAX => self.big.get(&n).copied().unwrap_or(u32::MAX as u64),
            s => s as u64,
        }
    }

    fn bytes(&self) -> u64 {
        4 * self.small.capacity() as u64 + 16 * self.big.capacity() as u64
    }
}

/// A snapshot with everything DevTools computes at load time.
pub struct HeapAnalysis {
    pub snap: HeapSnapshot,
    pub retainers: Retainers,
    retained: CompactSizes,
    pub dominated_first: Vec<u32>,
    pub dominated: Vec<u32>,
    pub distance: Vec<i32>,
    /// Index into `classes` of every node.
    pub class_of: Vec<u32>,
    pub classes: Vec<ClassSummary>,
    pub statistics: Statistics,
}

struct WeakMapNames {
    /// Per string index: 0 unknown, 1 not an ephemeron edge name, 2 ephemeron name.
    state: Vec<u8>,
}

impl WeakMapNames {
    /// DevTools' regex: `^\d+ / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\)$`.
    /// Returns the table id and the part after the leading number.
    fn parse(name: &str) -> Option<(u32, &str)> {
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &name[digits..];
        if digits == 0 || !rest.starts_with(" / part of key (") || !rest.contains(") -> value (") {
            return None;
        }
        let tail = rest.strip_suffix(')')?;
        let at = tail.rfind(" pair in WeakMap (table @")?;
        let id = &tail[at + " pair in WeakMap (table @".len()..];
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || !tail[..at].ends_with(')') {
            return None;
        }
        Some((id.parse().ok()?, rest))
    }

    fn is_candidate(&mut self, snap: &HeapSnapshot, string: u32) -> bool {
        let s = &mut self.state[string as usize];
        if *s == 0 {
            *s = if Self::parse(snap.string(string)).is_some() { 2 } else { 1 };
        }
        *s == 2
    }
}

impl HeapAnalysis {
    pub fn new(snap: HeapSnapshot) -> HeapAnalysis {
        Self::with_control(snap, &Control::new()).expect("a control nobody else holds is never cancelled")
    }

    /// The analysis, checking `control` for cancellation between its steps and reporting the step it is in.
    pub fn with_control(mut snap: HeapSnapshot, control: &Control) -> Result<HeapAnalysis> {
        control.enter(Step::Graph)?;
        let root = snap.root;
        propagate_dom_state(&mut snap);
        let strings = snap.strings.len();
        // Only reads of the graph from here to the join, on two threads (as DevTools splits its load over two
        // workers): shallow-size owners and distances beside page flags, essential edges, retainers and dominators.
        let (owners, distance, retainers, doms) = std::thread::scope(|scope| {
            let side = scope.spawn(|| {
                let owners = shallow_size_owners(&snap);
                let distance = distances(&snap, &mut WeakMapNames { state: vec![0; strings] });
                (owners, distance)
            });
            let page_owned = page_owned_nodes(&snap);
            let essential = essential_edges(&snap, &page_owned, &mut WeakMapNames { state: vec![0; strings] });
            drop(page_owned);
            let retainers = dominators::retainers(&snap, &essential);
            let doms = dominators::compute(&snap, root, &essential, &retainers);
            drop(essential);
            // A panic on the other thread is a bug; re-raise it here rather than hide it.
            let (owners, distance) = side.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            (owners, distance, retainers, doms)
        });
        if let Some(owners) = owners {
            apply_shallow_sizes(&mut snap, &owners);
        }
        let retained = dominators::retained_sizes(&snap, &doms);
        let (dominated_first, dominated) = dominators::children(&doms.dominator, root);
        drop(doms);
        let mut analysis = HeapAnalysis {
            snap,
            retainers,
            retained: CompactSizes::new(retained),
            dominated_first,
            dominated,
            distance,
            class_of: Vec::new(),
            classes: Vec::new(),
            statistics: Statistics::default(),
        };
        control.enter(Step::Classes)?;
        analysis.classify();
        analysis.aggregate();
        analysis.statistics = analysis.statistics();
        control.enter(Step::Done)?;
        Ok(analysis)
    }

    /// Bytes `n` keeps alive: its own (reattributed) size plus everything it dominates.
    pub fn retained(&self, n: u32) -> u64 {
        self.retained.get(n)
    }

    pub fn root(&self) -> u32 {
        self.snap.root
    }

    pub fn total_size(&self) -> u64 {
        self.retained(self.root()) + self.snap.extra_native_bytes
    }

    /// Every node's immediate dominator (the root's is itself), rebuilt from the children lists: O(n), 4 bytes per
    /// node, for the duration of a walk up the tree.
    pub fn dominator_parents(&self) -> Vec<u32> {
        let mut parent = vec![self.root(); self.snap.node_count()];
        for n in 0..self.snap.node_count() as u32 {
            for &c in self.dominated(n) {
                parent[c as usize] = n;
            }
        }
        parent
    }

    pub fn dominated(&self, n: u32) -> &[u32] {
        &self.dominated[self.dominated_first[n as usize] as usize..self.dominated_first[n as usize + 1] as usize]
    }

    pub fn retainer_slots(&self, n: u32) -> std::ops::Range<usize> {
        self.retainers.first[n as usize] as usize..self.retainers.first[n as usize + 1] as usize
    }

    pub fn class_name(&self, n: u32) -> &str {
        &self.classes[self.class_of[n as usize] as usize].name
    }

    /// Bytes held per node and per edge by the parsed arrays plus the analysis (measured from capacities).
    pub fn resident_bytes(&self) -> (u64, u64) {
        let (nodes, edges) = self.snap.resident_bytes();
        let nodes = nodes
            + self.retained.bytes()
            + 4 * (self.distance.capacity() + self.class_of.capacity()) as u64
            + 4 * (self.dominated_first.capacity() + self.dominated.capacity() + self.retainers.first.capacity())
                as u64;
        let edges = edges + 4 * self.retainers.node.capacity() as u64 + self.retainers.essential.bytes() as u64;
        (nodes, edges)
    }

    /// DevTools' `calculateObjectNames` plus `inferInterfaceDefinitions`/`applyInterfaceDefinitions`: a class per node.
    fn classify(&mut self) {
        let snap = &mut self.snap;
        let t = snap.node_types.clone();
        let mut added: HashMap<String, u32> = HashMap::new();
        let mut string_index = |snap: &mut HeapSnapshot, s: String| -> u32 {
            if let Some(&i) = added.get(&s) {
                return i;
            }
            snap.strings.push(s.clone().into_boxed_str());
            let i = (snap.strings.len() - 1) as u32;
            added.insert(s, i);
            i
        };
        let hidden = string_index(snap, "(system)".into());
        let code = string_index(snap, "(compiled code)".into());
        let function = string_index(snap, "Function".into());
        let regexp = string_index(snap, "RegExp".into());
        let mut by_type: Vec<Option<u32>> = vec![None; 64];
        let mut class_name: Vec<u32> = Vec::with_capacity(snap.node_count());
        for n in 0..snap.node_count() as u32 {
            let ty = Some(snap.node_type(n));
            let name = if ty == t.hidden {
                hidden
            } else if ty == t.object || ty == t.native {
                let raw = snap.name(n);
                let short = if raw.starts_with('<') {
                    raw.find(' ').map(|i| format!("{}>", &raw[..i])).or_else(|| Some(raw.to_owned()))
                } else if let Some(rest) = raw.strip_prefix("Detached <") {
                    rest.find(' ').map(|i| format!("{}>", &raw[..10 + i])).or_else(|| Some(raw.to_owned()))
                } else {
                    None
                };
                match short {
                    Some(s) => string_index(snap, s),
                    None => snap.name[n as usize],
                }
            } else if ty == t.code {
                code
            } else if ty == t.closure {
                function
            } else if ty == t.regexp {
                regexp
            } else {
                let k = snap.node_type(n) as usize;
                match by_type[k] {
                    Some(i) => i,
                    None => {
                        let i = string_index(snap, format!("({})", snap.type_name(n)));
                        by_type[k] = Some(i);
                        i
                    }
                }
            };
            class_name.push(name);
        }
        infer_interfaces(snap, &mut class_name, &mut |snap, s| string_index(snap, s));

        // Class keys: the class name's string, or for objects with a location, the location too.
        let mut by_name: Vec<u32> = vec![u32::MAX; snap.strings.len()];
        let mut located: HashMap<Located, u32> = HashMap::new();
        let mut classes: Vec<ClassSummary> = Vec::new();
        let mut class_of = Vec::with_capacity(snap.node_count());
        let mut new_class = |key: String, name: &str| {
            classes.push(ClassSummary {
                key,
                name: name.to_owned(),
                count: 0,
                self_size: 0,
                retained_size: 0,
                distance: i32::MAX,
            });
            (classes.len() - 1) as u32
        };
        for (n, &cn) in class_name.iter().enumerate() {
            let n = n as u32;
            let loc = if snap.is_type(n, t.object) { snap.location(n) } else { None };
            let c = match loc {
                Some(l) => {
                    let key = Located(l.script_id, l.line, l.column, cn);
                    match located.get(&key) {
                        Some(&c) => c,
                        None => {
                            let name = snap.string(cn);
                            let c = new_class(format!("{},{},{},{name}", l.script_id, l.line, l.column), name);
                            located.insert(key, c);
                            c
                        }
                    }
                }
                None => match by_name[cn as usize] {
                    u32::MAX => {
                        let name = snap.string(cn);
                        let c = new_class(format!(",{name}"), name);
                        by_name[cn as usize] = c;
                        c
                    }
                    c => c,
                },
            };
            class_of.push(c);
        }
        self.class_of = class_of;
        self.classes = classes;
    }

    /// DevTools' `buildAggregates` and `calculateClassesRetainedSize`.
    fn aggregate(&mut self) {
        let snap = &self.snap;
        for n in 0..snap.node_count() as u32 {
            let size = snap.self_size(n);
            if size == 0 {
                continue;
            }
            let c = &mut self.classes[self.class_of[n as usize] as usize];
            c.count += 1;
            c.self_size += size;
            c.distance = c.distance.min(self.distance[n as usize]);
        }
        // A node's retained size counts for its class unless an ancestor in the dominator tree of the same class
        // (and a non-zero size) already counted it.
        let mut active = vec![0u32; self.classes.len()];
        let mut stack: Vec<(u32, bool)> = vec![(self.root(), false)];
        while let Some((n, exiting)) = stack.pop() {
            let counts = snap.self_size(n) != 0;
            let c = self.class_of[n as usize] as usize;
            if exiting {
                if counts {
                    active[c] -= 1;
                }
                continue;
            }
            if counts {
                if active[c] == 0 {
                    self.classes[c].retained_size += self.retained(n);
                }
                active[c] += 1;
                stack.push((n, true));
            }
            for &child in self.dominated(n).iter().rev() {
                stack.push((child, false));
            }
        }
    }

    /// DevTools' `calculateStatistics`.
    fn statistics(&self) -> Statistics {
        let snap = &self.snap;
        let t = &snap.node_types;
        let mut s = Statistics { native: snap.extra_native_bytes, ..Statistics::default() };
        let elements = snap.strings.iter().position(|s| &**s == "elements").map(|i| i as u32);
        for n in 0..snap.node_count() as u32 {
            let size = snap.self_size(n);
            let ty = Some(snap.node_type(n));
            if ty == t.hidden {
                s.system += size;
            } else if ty == t.native {
                s.native += size;
                if snap.name(n) == "system / JSArrayBufferData" {
                    s.typed_arrays += size;
                }
            } else if ty == t.code {
                s.code += size;
            } else if ty == t.cons_string || ty == t.sliced_string || ty == t.string {
                s.strings += size;
            } else if snap.name(n) == "Array" {
                let mut array = size;
                for e in snap.edges(n) {
                    if snap.edge_is(e, snap.edge_types.internal) && Some(snap.edge_name[e]) == elements {
                        let el = snap.edge_to(e);
                        if self.retainer_slots(el).len() == 1 {
                            array += snap.self_size(el);
                        }
                        break;
                    }
                }
                s.js_arrays += array;
            }
        }
        s.total = self.total_size();
        s.v8heap = s.total.saturating_sub(s.native);
        s
    }
}

/// DevTools' `propagateDOMState`: attached state flows from attached natives to native children, then detached state
/// to the rest; detached nodes are renamed `Detached <name>`. Only native nodes take part.
fn propagate_dom_state(snap: &mut HeapSnapshot) {
    let n = snap.node_count();
    let native = snap.node_types.native;
    let (hidden, weak) = (snap.edge_types.hidden, snap.edge_types.weak);
    let mut visited = Bits::new(n);
    let mut attached = Vec::new();
    let mut detached = Vec::new();
    let mut renamed: HashMap<u32, u32> = HashMap::new();
    let mut process = |snap: &mut HeapSnapshot, o: u32, state: u8, attached: &mut Vec<u32>, detached: &mut Vec<u32>| {
        if visited.get(o as usize) {
            return;
        }
        visited.set(o as usize);
        if !snap.is_type(o, native) {
            return;
        }
        snap.set_detachedness(o, state);
        if state == 1 {
            attached.push(o);
        } else if state == 2 {
            let old = snap.name[o as usize];
            let new = *renamed.entry(old).or_insert_with(|| {
                let s = format!("Detached {}", snap.string(old));
                snap.strings.push(s.into_boxed_str());
                (snap.strings.len() - 1) as u32
            });
            snap.name[o as usize] = new;
            detached.push(o);
        }
    };
    for o in 0..n as u32 {
        let state = snap.detachedness(o);
        if state != 0 {
            process(snap, o, state, &mut attached, &mut detached);
        }
    }
    let children = |snap: &HeapSnapshot, o: u32| -> Vec<u32> {
        snap.edges(o).filter(|&e| !snap.edge_is(e, hidden) && !snap.edge_is(e, weak)).map(|e| snap.edge_to(e)).collect()
    };
    while let Some(o) = attached.pop() {
        for c in children(snap, o) {
            process(snap, c, 1, &mut attached, &mut detached);
        }
    }
    while let Some(o) = detached.pop() {
        if snap.detachedness(o) == 1 {
            continue;
        }
        for c in children(snap, o) {
            process(snap, c, 2, &mut attached, &mut detached);
        }
    }
}

fn is_user_root(snap: &HeapSnapshot, n: u32) -> bool {
    !snap.is_type(n, snap.node_types.synthetic) || is_dom_trees_root(snap, n)
}

fn is_dom_trees_root(snap: &HeapSnapshot, n: u32) -> bool {
    snap.is_type(n, snap.node_types.synthetic) && snap.name(n) == "(Document DOM trees)"
}

/// DevTools' `markPageOwnedNodes`: everything reachable without weak edges from the root's shortcut targets (the
/// `global` in Node) and from `(Document DOM trees)`.
fn page_owned_nodes(snap: &HeapSnapshot) -> Bits {
    let mut flags = Bits::new(snap.node_count());
    let mut stack = Vec::new();
    let root = snap.root;
    for e in snap.edges(root) {
        let to = snap.edge_to(e);
        let entry = if snap.edge_is(e, snap.edge_types.element) {
            is_dom_trees_root(snap, to)
        } else {
            snap.edge_is(e, snap.edge_types.shortcut)
        };
        if entry {
            stack.push(to);
            flags.set(to as usize);
        }
    }
    while let Some(o) = stack.pop() {
        for e in snap.edges(o) {
            let to = snap.edge_to(e);
            if flags.get(to as usize) || snap.edge_is(e, snap.edge_types.weak) {
                continue;
            }
            flags.set(to as usize);
            stack.push(to);
        }
    }
    flags
}

const UNVISITED: u32 = u32::MAX;
const MULTIPLE: u32 = u32::MAX - 1;

/// DevTools' `calculateShallowSizes`, first half: the owner of every node, found by a worklist over non-weak edges
/// (hidden and array nodes, and native `system / ExternalStringData`, take their retainers' owner). None when the
/// snapshot has no user roots ("expose internals" mode), where DevTools moves no sizes.
fn shallow_size_owners(snap: &HeapSnapshot) -> Option<Vec<u32>> {
    let root = snap.root;
    if !snap.edges(root).any(|e| is_user_root(snap, snap.edge_to(e))) {
        return None;
    }
    let n = snap.node_count();
    let t = snap.node_types.clone();
    let mut owners = vec![0u32; n];
    let mut work = Vec::new();
    for i in 0..n as u32 {
        let owned = snap.is_type(i, t.hidden)
            || snap.is_type(i, t.array)
            || (snap.is_type(i, t.native) && snap.name(i) == "system / ExternalStringData");
        if owned {
            owners[i as usize] = UNVISITED;
        } else {
            owners[i as usize] = i;
            work.push(i);
        }
    }
    while let Some(id) = work.pop() {
        let owner = owners[id as usize];
        for e in snap.edges(id) {
            if snap.edge_is(e, snap.edge_types.weak) {
                continue;
            }
            let target = snap.edge_to(e);
            let current = owners[target as usize];
            if current == UNVISITED {
                owners[target as usize] = owner;
                work.push(target);
            } else if current != target && current != owner && current != MULTIPLE {
                owners[target as usize] = MULTIPLE;
                work.push(target);
            }
        }
    }
    Some(owners)
}

/// DevTools' `calculateShallowSizes`, second half: nodes with exactly one owner give their size to it.
fn apply_shallow_sizes(snap: &mut HeapSnapshot, owners: &[u32]) {
    let (root, synthetic) = (snap.root, snap.node_types.synthetic);
    for i in 0..snap.node_count() as u32 {
        let owner = owners[i as usize];
        if owner == UNVISITED || owner == MULTIPLE || owner == i {
            continue;
        }
        if snap.is_type(owner, synthetic) || owner == root {
            continue;
        }
        let size = snap.self_size(i);
        snap.set_self_size(i, 0);
        snap.set_self_size(owner, snap.self_size(owner) + size);
    }
}

/// DevTools' `computeIsEssentialEdge`: the edges that count for dominators.
fn essential_edges(snap: &HeapSnapshot, page_owned: &Bits, weak_names: &mut WeakMapNames) -> Bits {
    let mut bits = Bits::new(snap.edge_count());
    let et = &snap.edge_types;
    let root = snap.root;
    for n in 0..snap.node_count() as u32 {
        for e in snap.edges(n) {
            if snap.edge_is(e, et.internal) {
                let name = snap.edge_name[e];
                // Values in WeakMaps are retained by the key and the table together; use the key's edge only.
                if weak_names.is_candidate(snap, name) {
                    let table = WeakMapNames::parse(snap.string(name)).map(|(id, _)| id);
                    if table == Some(snap.id(n)) {
                        continue;
                    }
                }
            }
            if snap.edge_is(e, et.weak) {
                continue;
            }
            let to = snap.edge_to(e);
            if to == n {
                continue;
            }
            if n != root {
                if snap.edge_is(e, et.shortcut) {
                    continue;
                }
                // Edges from objects the page does not own (debugger, console) to page objects do not dominate.
                if page_owned.get(to as usize) && !page_owned.get(n as usize) {
                    continue;
                }
            }
            bits.set(e);
        }
    }
    bits
}

/// DevTools' `calculateDistances`: BFS from the user roots at distance 1, then from the root at `SYSTEM_DISTANCE`,
/// skipping weak edges, `sloppy_function_map`, map descriptor slots and the first of a WeakMap value's two edges.
fn distances(snap: &HeapSnapshot, weak_names: &mut WeakMapNames) -> Vec<i32> {
    let n = snap.node_count();
    let mut dist = vec![NO_DISTANCE; n];
    let mut queue: Vec<u32> = Vec::with_capacity(n);
    let root = snap.root;
    for e in snap.edges(root) {
        let to = snap.edge_to(e);
        if is_user_root(snap, to) {
            dist[to as usize] = 1;
            queue.push(to);
        }
    }
    let mut pending: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let sloppy = snap.strings.iter().position(|s| &**s == "sloppy_function_map").map(|i| i as u32);
    let t = &snap.node_types;
    let et = &snap.edge_types;
    let mut bfs = |queue: &mut Vec<u32>, dist: &mut [i32], weak_names: &mut WeakMapNames| {
        let mut head = 0;
        while head < queue.len() {
            let o = queue[head];
            head += 1;
            let d = dist[o as usize] + 1;
            let hidden_context = snap.is_type(o, t.hidden) && snap.name(o) == "system / NativeContext";
            let descriptors = snap.is_type(o, t.array) && snap.name(o) == "(map descriptors)";
            for e in snap.edges(o) {
                if snap.edge_is(e, et.weak) {
                    continue;
                }
                let to = snap.edge_to(e);
                if dist[to as usize] != NO_DISTANCE {
                    continue;
                }
                if hidden_context
                    && sloppy.is_some()
                    && snap.edge_name_str(e).is_some()
                    && Some(snap.edge_name[e]) == sloppy
                {
                    continue;
                }
                if descriptors {
                    let index: Option<u64> = snap.edge_name(e).parse().ok();
                    if let Some(i) = index {
                        if i >= 2 && i % 3 == 1 {
                            continue;
                        }
                    }
                }
                if snap.edge_is(e, et.internal) && weak_names.is_candidate(snap, snap.edge_name[e]) {
                    if let Some((_, part)) = WeakMapNames::parse(snap.string(snap.edge_name[e])) {
                        if !pending.remove(part) {
                            pending.insert(part);
                            continue;
                        }
                    }
                }
                dist[to as usize] = d;
                queue.push(to);
            }
        }
    };
    bfs(&mut queue, &mut dist, weak_names);
    let had_user_roots = !queue.is_empty();
    dist[root as usize] = if had_user_roots { SYSTEM_DISTANCE } else { 0 };
    queue.clear();
    queue.push(root);
    bfs(&mut queue, &mut dist, weak_names);
    dist
}

/// DevTools' `formatPropertyName`: names with commas, quotes or braces are shown JSON-quoted.
fn format_property_name(name: &str) -> String {
    if name.contains([',', '\'', '"', '{', '}']) {
        return serde_json::to_string(name).unwrap_or_else(|_| name.to_owned());
    }
    name.to_owned()
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// DevTools' `inferInterfaceDefinitions` and `applyInterfaceDefinitions`: plain `Object`s get a class named after
/// their common property sets, like `{id, payload}`, when a set covers at least 2 objects and 1/1000 of them.
fn infer_interfaces(
    snap: &mut HeapSnapshot,
    class_name: &mut [u32],
    intern: &mut dyn FnMut(&mut HeapSnapshot, String) -> u32,
) {
    let object = snap.node_types.object;
    let property = snap.edge_types.property;
    let Some(object_name) = snap.strings.iter().position(|s| &**s == "Object").map(|i| i as u32) else {
        return;
    };
    let is_plain = |snap: &HeapSnapshot, n: u32| snap.is_type(n, object) && snap.name[n as usize] == object_name;
    struct Candidate {
        name: String,
        properties: Vec<u32>,
        count: u64,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut total = 0u64;
    for n in 0..snap.node_count() as u32 {
        if !is_plain(snap, n) {
            continue;
        }
        total += 1;
        let mut name = String::from("{");
        let mut name_len = 1;
        let mut properties = Vec::new();
        for e in snap.edges(n) {
            if !snap.edge_is(e, property) {
                continue;
            }
            let edge_name = snap.string(snap.edge_name[e]);
            if edge_name == "__proto__" {
                continue;
            }
            let formatted = format_property_name(edge_name);
            let flen = utf16_len(&formatted);
            if name_len > 1 && name_len + flen > 120 {
                break;
            }
            if name_len != 1 {
                name.push_str(", ");
                name_len += 2;
            }
            name.push_str(&formatted);
            name_len += flen;
            properties.push(snap.edge_name[e]);
        }
        if properties.is_empty() {
            continue;
        }
        name.push('}');
        match by_name.get(&name) {
            Some(&i) => candidates[i].count += 1,
            None => {
                by_name.insert(name.clone(), candidates.len());
                candidates.push(Candidate { name, properties, count: 1 });
            }
        }
    }
    drop(by_name);
    // A stable sort keeps first-seen order among equals, as JavaScript's sort does.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.count));
    let min_count = (2f64).max(total as f64 / 1000.0);
    let definitions: Vec<Candidate> = candidates.into_iter().take_while(|c| c.count as f64 >= min_count).collect();
    if definitions.is_empty() {
        return;
    }

    // The property tree: a path of sorted property names leads to the definitions with exactly those properties.
    struct TreeNode {
        next: HashMap<Box<str>, usize>,
        matched: Option<(usize, usize)>, // (property count, definition index)
        greatest_next: Option<Box<str>>,
    }
    let mut tree = vec![TreeNode { next: HashMap::new(), matched: None, greatest_next: None }];
    for (index, d) in definitions.iter().enumerate() {
        let mut props: Vec<&str> = d.properties.iter().map(|&p| snap.string(p)).collect();
        props.sort_unstable();
        let mut cur = 0;
        for p in &props {
            cur = match tree[cur].next.get(*p) {
                Some(&next) => next,
                None => {
                    tree.push(TreeNode { next: HashMap::new(), matched: None, greatest_next: None });
                    let id = tree.len() - 1;
                    let node = &mut tree[cur];
                    node.next.insert((*p).into(), id);
                    if node.greatest_next.as_deref().is_none_or(|g| g < *p) {
                        node.greatest_next = Some((*p).into());
                    }
                    id
                }
            };
        }
        if tree[cur].matched.is_none() {
            tree[cur].matched = Some((props.len(), index));
        }
    }
    // Better: more properties, then the earlier definition.
    let better = |a: Option<(usize, usize)>, b: Option<(usize, usize)>| match (a, b) {
        (a, None) => a,
        (None, b) => b,
        (Some(a), Some(b)) => {
            if a.0 > b.0 || (a.0 == b.0 && a.1 <= b.1) {
                Some(a)
            } else {
                Some(b)
            }
        }
    };
    let mut names: Vec<Option<u32>> = vec![None; definitions.len()];
    let mut props: Vec<u32> = Vec::new();
    let mut states: Vec<usize> = Vec::new();
    for n in 0..snap.node_count() as u32 {
        if !is_plain(snap, n) {
            continue;
        }
        props.clear();
        props.extend(snap.edges(n).filter(|&e| snap.edge_is(e, property)).map(|e| snap.edge_name[e]));
        props.sort_unstable_by(|&a, &b| snap.string(a).cmp(snap.string(b)));
        states.clear();
        states.push(0);
        let mut best = tree[0].matched;
        for &p in &props {
            let p = snap.string(p);
            let round = states.clone();
            for s in round {
                let node = &tree[s];
                if node.greatest_next.as_deref().is_none_or(|g| p >= g) {
                    // No further transitions are possible from this state.
                    states.retain(|&x| x != s);
                }
                if let Some(&next) = node.next.get(p) {
                    if !states.contains(&next) {
                        states.push(next);
                    }
                    best = better(best, tree[next].matched);
                }
            }
        }
        if let Some((_, index)) = best {
            let name = match names[index] {
                Some(s) => s,
                None => {
                    let s = intern(snap, definitions[index].name.clone());
                    names[index] = Some(s);
                    s
                }
            };
            class_name[n as usize] = name;
        }
    }
}
