//! Dominators and retained sizes by Lengauer–Tarjan, iterative, exact, as DevTools computes them
//! (`calculateDominatorsAndRetainedSizes`): the simple eval/link with path compression, O(m log n).
//!
//! The graph is the snapshot's essential edges plus an edge from the root to every node that is unreachable and has
//! no essential retainer (DevTools' weak-only orphans); nodes still unreached after that (cliques that only retain
//! one another) are dominated by the root directly. With that graph fixed, dominators are unique, so this matches
//! DevTools node for node.

use crate::heap::bits::Bits;
use crate::heap::snapshot::HeapSnapshot;

pub struct Retainers {
    /// `first[n]..first[n + 1]` are node n's slots in `node` (the retaining node of each in-edge, in edge order).
    pub first: Vec<u32>,
    pub node: Vec<u32>,
    /// Whether the edge behind each slot counts for dominators.
    pub essential: Bits,
}

pub struct Dominators {
    /// Immediate dominator of every node (the root's is itself).
    pub dominator: Vec<u32>,
    /// Node ordinals in DFS order (dominators before the nodes they dominate).
    pub order: Vec<u32>,
}

/// Builds the retainer lists. `essential_edge` is indexed by edge ordinal.
pub fn retainers(snap: &HeapSnapshot, essential_edge: &Bits) -> Retainers {
    let n = snap.node_count();
    let m = snap.edge_count();
    let mut first = vec![0u32; n + 1];
    for e in 0..m {
        first[snap.edge_to(e) as usize + 1] += 1;
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut node = vec![0u32; m];
    let mut essential = Bits::new(m);
    for src in 0..n as u32 {
        for e in snap.edges(src) {
            let to = snap.edge_to(e) as usize;
            let slot = fill[to] as usize;
            fill[to] += 1;
            node[slot] = src;
            if essential_edge.get(e) {
                essential.set(slot);
            }
        }
    }
    Retainers { first, node, essential }
}

/// Lengauer–Tarjan over the essential edges from `root`.
pub fn compute(snap: &HeapSnapshot, root: u32, essential_edge: &Bits, ret: &Retainers) -> Dominators {
    let count = snap.node_count();
    // 1-based vertex numbers as in the paper; 0 means "none".
    let len = count + 1;
    let mut parent = vec![0u32; len];
    let mut ancestor = vec![0u32; len];
    let mut vertex = vec![0u32; len];
    let mut label = vec![0u32; len];
    let mut semi = vec![0u32; len];
    let mut next_edge = vec![0u32; len];
    let mut n: u32 = 0;

    let mut dfs =
        |start: u32, n: &mut u32, parent: &mut [u32], semi: &mut [u32], vertex: &mut [u32], label: &mut [u32]| {
            next_edge[start as usize] = snap.edges(start - 1).start as u32;
            let mut v = start;
            while v != 0 {
                if semi[v as usize] == 0 {
                    *n += 1;
                    semi[v as usize] = *n;
                    vertex[*n as usize] = v;
                    label[v as usize] = v;
                }
                let mut v_next = parent[v as usize];
                let end = snap.edges(v - 1).end as u32;
                while next_edge[v as usize] < end {
                    let e = next_edge[v as usize] as usize;
                    next_edge[v as usize] += 1;
                    if !essential_edge.get(e) {
                        continue;
                    }
                    let w = snap.edge_to(e) + 1;
                    if semi[w as usize] == 0 {
                        parent[w as usize] = v;
                        next_edge[w as usize] = snap.edges(w - 1).start as u32;
                        v_next = w;
                        break;
                    }
                }
                v = v_next;
            }
        };

    let r = root + 1;
    dfs(r, &mut n, &mut parent, &mut semi, &mut vertex, &mut label);
    if (n as usize) < count {
        // Orphans with only weak (non-essential) retainers hang under the root, each with its own subtree.
        for v in 1..=count as u32 {
            let ordinal = (v - 1) as usize;
            if semi[v as usize] != 0 {
                continue;
            }
            let slots = ret.first[ordinal] as usize..ret.first[ordinal + 1] as usize;
            if slots.clone().any(|s| ret.essential.get(s)) {
                continue;
            }
            parent[v as usize] = r;
            dfs(v, &mut n, &mut parent, &mut semi, &mut vertex, &mut label);
        }
    }
    if (n as usize) < count {
        // Cliques that only retain one another: each node is visited on its own, its dominator ends up the root.
        for v in 1..=count as u32 {
            if semi[v as usize] == 0 {
                parent[v as usize] = r;
                n += 1;
                semi[v as usize] = n;
                vertex[n as usize] = v;
                label[v as usize] = v;
            }
        }
    }

    // The DFS's edge cursors are no longer needed; reuse the array as the compression stack.
    let mut stack = next_edge;
    let mut bucket_head = vec![0u32; len];
    let mut bucket_next = vec![0u32; len];
    let mut dom = vec![0u32; len];

    fn compress(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], stack: &mut [u32]) {
        let mut sp = 0usize;
        let mut v = v;
        while ancestor[ancestor[v as usize] as usize] != 0 {
            sp += 1;
            stack[sp] = v;
            v = ancestor[v as usize];
        }
        while sp > 0 {
            let w = stack[sp] as usize;
            sp -= 1;
            let a = ancestor[w] as usize;
            if semi[label[a] as usize] < semi[label[w] as usize] {
                label[w] = label[a];
            }
            ancestor[w] = ancestor[a];
        }
    }
    fn eval(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], stack: &mut [u32]) -> u32 {
        if ancestor[v as usize] == 0 {
            return v;
        }
        compress(v, ancestor, label, semi, stack);
        label[v as usize]
    }

    for i in (2..=n).rev() {
        let w = vertex[i as usize];
        let ordinal = (w - 1) as usize;
        let mut orphan = true;
        for s in ret.first[ordinal] as usize..ret.first[ordinal + 1] as usize {
            if !ret.essential.get(s) {
                continue;
            }
            orphan = false;
            let v = ret.node[s] + 1;
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut stack);
            if semi[u as usize] < semi[w as usize] {
                semi[w as usize] = semi[u as usize];
            }
        }
        if orphan {
            semi[w as usize] = semi[r as usize];
        }
        let b = vertex[semi[w as usize] as usize] as usize;
        bucket_next[w as usize] = bucket_head[b];
        bucket_head[b] = w;
        let p = parent[w as usize];
        ancestor[w as usize] = p;
        let mut v = std::mem::take(&mut bucket_head[p as usize]);
        while v != 0 {
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut stack);
            dom[v as usize] = if semi[u as usize] < semi[v as usize] { u } else { p };
            v = bucket_next[v as usize];
        }
    }
    drop((bucket_head, bucket_next, ancestor, label, stack, parent));
    // Unlike the paper, the root is its own dominator, and dom[0] = r carries the root to nodes left without one.
    dom[0] = r;
    dom[r as usize] = r;
    for i in 2..=n {
        let w = vertex[i as usize] as usize;
        if dom[w] != vertex[semi[w] as usize] {
            dom[w] = dom[dom[w] as usize];
        }
    }
    drop(semi);

    let dominator: Vec<u32> = (0..count).map(|o| dom[o + 1] - 1).collect();
    drop(dom);
    let order: Vec<u32> = vertex[1..=n as usize].iter().map(|&v| v - 1).collect();
    Dominators { dominator, order }
}

/// Retained sizes: the (reattributed) self sizes summed up the dominator tree, in reverse DFS order as DevTools does.
pub fn retained_sizes(snap: &HeapSnapshot, doms: &Dominators) -> Vec<u64> {
    let mut retained: Vec<u64> = (0..snap.node_count() as u32).map(|o| snap.self_size(o)).collect();
    for &o in doms.order.iter().skip(1).rev() {
        let d = doms.dominator[o as usize] as usize;
        retained[d] += retained[o as usize];
    }
    retained
}

/// The dominator tree's children lists: `first[n]..first[n + 1]` index `children`.
pub fn children(dominator: &[u32], root: u32) -> (Vec<u32>, Vec<u32>) {
    let n = dominator.len();
    let mut first = vec![0u32; n + 1];
    for (o, &d) in dominator.iter().enumerate() {
        if o as u32 != root {
            first[d as usize + 1] += 1;
        }
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut children = vec![0u32; n.saturating_sub(1)];
    for (o, &d) in dominator.iter().enumerate() {
        if o as u32 != root {
            children[fill[d as usize] as usize] = o as u32;
            fill[d as usize] += 1;
        }
    }
    (first, children)
}

#[cfg(test)]
mod tests {
    use crate::heap::testing::{analyse, N};

    /// root → global → a → b, global → c → b: b is dominated by global, not a or c. d is held only weakly (DevTools
    /// hangs such orphans under the root); e and f only hold each other (a clique, also under the root).
    #[test]
    fn dominators_follow_devtools_for_shared_objects_orphans_and_cliques() {
        let a = analyse(&[
            N("synthetic", "", 0, vec![("shortcut", "global", 1)]),
            N("object", "global", 10, vec![("property", "a", 2), ("property", "c", 4)]),
            N("object", "A", 100, vec![("property", "b", 3), ("weak", "d", 5)]),
            N("object", "B", 1000, vec![]),
            N("object", "C", 10000, vec![("property", "b", 3)]),
            N("object", "D", 7, vec![]),
            N("object", "E", 20, vec![("property", "f", 7)]),
            N("object", "F", 30, vec![("property", "e", 6)]),
        ]);
        let parent = a.dominator_parents();
        assert_eq!(parent, [0, 0, 1, 1, 1, 0, 0, 0]);
        let retained: Vec<u64> = (0..8).map(|n| a.retained(n)).collect();
        assert_eq!(retained, [11167, 11110, 100, 1000, 10000, 7, 20, 30]);
        assert_eq!(a.total_size(), 11167);
    }
}
