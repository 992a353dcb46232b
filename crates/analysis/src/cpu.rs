//! CPU profiles: the CDP format (`.cpuprofile`, Node's `--cpu-prof`) and xprofiler's variant (`typeId:
//! "xprofiler-cpu-profile"`, 1-based line numbers). Top-down and bottom-up by function, self and total time by
//! function, file and npm package with recursion counted once, and the diff of two profiles.
//!
//! Time is per-sample durations as speedscope computes them (each sample lasts until the next one; negative deltas
//! count as zero), not DevTools' hit count × average interval; profiles without samples fall back to the latter.
//! Line and column numbers in the results are 1-based for both formats.

use std::collections::HashMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::profile_input::{npm_package, read_json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    nodes: Vec<RawNode>,
    #[serde(default)]
    start_time: f64,
    #[serde(default)]
    end_time: f64,
    #[serde(default)]
    samples: Vec<u32>,
    #[serde(default)]
    time_deltas: Vec<f64>,
    #[serde(default)]
    type_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNode {
    id: u32,
    call_frame: RawFrame,
    #[serde(default)]
    hit_count: u64,
    #[serde(default)]
    children: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawFrame {
    #[serde(default)]
    pub function_name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub line_number: i64,
    #[serde(default)]
    pub column_number: i64,
}

/// A function: name, script and 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub url: String,
    pub line: i64,
    pub column: i64,
    pub package: Option<String>,
}

impl Function {
    pub(crate) fn from_frame(f: &RawFrame, one_based: bool) -> Function {
        let shift = if one_based { 0 } else { 1 };
        Function {
            name: if f.function_name.is_empty() { "(anonymous)".into() } else { f.function_name.clone() },
            url: f.url.clone(),
            line: f.line_number + shift,
            column: f.column_number + shift,
            package: npm_package(&f.url),
        }
    }

    /// How a function is matched between two profiles: name and script (lines move between versions).
    pub fn diff_key(&self) -> String {
        format!("{}\u{0}{}", self.name, self.url)
    }
}

/// A parsed profile: the call tree with each node's own time.
pub struct CpuProfile {
    pub functions: Vec<Function>,
    /// Per call-tree node: its function, parent (u32::MAX at the root) and self time in µs.
    node_function: Vec<u32>,
    parent: Vec<u32>,
    children: Vec<Vec<u32>>,
    self_us: Vec<f64>,
    pub duration_us: f64,
    pub sample_count: u64,
    pub xprofiler: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// A function, a file or a package.
    pub name: String,
    pub function: Option<Function>,
    pub self_us: f64,
    /// Time with this row anywhere on the stack, each sample counted once even under recursion.
    pub total_us: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TreeNode {
    pub function: Function,
    pub self_us: f64,
    pub total_us: f64,
    pub children: Vec<TreeNode>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuReport {
    pub duration_us: f64,
    pub sample_count: u64,
    pub format: String,
    /// Functions by self time.
    pub functions: Vec<Row>,
    pub files: Vec<Row>,
    pub packages: Vec<Row>,
    /// The call tree from the root, heaviest first, pruned below 0.1 % of the profile.
    pub top_down: Vec<TreeNode>,
    /// For the heaviest functions by self time, who called them (children are callers).
    pub bottom_up: Vec<TreeNode>,
}

impl CpuProfile {
    pub fn from_reader(reader: impl Read) -> Result<CpuProfile> {
        let raw: RawProfile = read_json(reader)?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawProfile) -> Result<CpuProfile> {
        if raw.nodes.is_empty() {
            return Err(Error::Profile("the profile has no nodes".into()));
        }
        let xprofiler = raw.type_id.as_deref() == Some("xprofiler-cpu-profile");
        let index: HashMap<u32, u32> = raw.nodes.iter().enumerate().map(|(i, n)| (n.id, i as u32)).collect();
        if index.len() != raw.nodes.len() {
            return Err(Error::Profile("two nodes share an id".into()));
        }
        let n = raw.nodes.len();
        let mut parent = vec![u32::MAX; n];
        let mut children = vec![Vec::new(); n];
        for (i, node) in raw.nodes.iter().enumerate() {
            for c in &node.children {
                let &ci =
                    index.get(c).ok_or_else(|| Error::Profile(format!("node {} has an unknown child {c}", node.id)))?;
                if parent[ci as usize] != u32::MAX || ci as usize == i {
                    return Err(Error::Profile(format!("node {c} has two parents")));
                }
                parent[ci as usize] = i as u32;
                children[i].push(ci);
            }
        }
        let roots = parent.iter().filter(|&&p| p == u32::MAX).count();
        if roots != 1 {
            return Err(Error::Profile(format!("the call tree has {roots} roots")));
        }
        let mut function_ids: HashMap<Function, u32> = HashMap::new();
        let mut functions = Vec::new();
        let node_function: Vec<u32> = raw
            .nodes
            .iter()
            .map(|node| {
                let f = Function::from_frame(&node.call_frame, xprofiler);
                *function_ids.entry(f.clone()).or_insert_with(|| {
                    functions.push(f);
                    (functions.len() - 1) as u32
                })
            })
            .collect();
        let mut self_us = vec![0.0; n];
        let duration_us = (raw.end_time - raw.start_time).max(0.0);
        let sample_count;
        if !raw.samples.is_empty() && raw.samples.len() == raw.time_deltas.len() {
            // Each sample lasts until the next one; the last one until the profile's end.
            let mut t = raw.start_time;
            let mut times = Vec::with_capacity(raw.samples.len());
            for d in &raw.time_deltas {
                t += d.max(0.0);
                times.push(t);
            }
            for (i, s) in raw.samples.iter().enumerate() {
                let &node =
                    index.get(s).ok_or_else(|| Error::Profile(format!("a sample names an unknown node {s}")))?;
                let next = times.get(i + 1).copied().unwrap_or(raw.end_time.max(times[i]));
                self_us[node as usize] += (next - times[i]).max(0.0);
            }
            sample_count = raw.samples.len() as u64;
        } else {
            let hits: u64 = raw.nodes.iter().map(|n| n.hit_count).sum();
            let interval = if hits > 0 { duration_us / hits as f64 } else { 0.0 };
            for (i, node) in raw.nodes.iter().enumerate() {
                self_us[i] = node.hit_count as f64 * interval;
            }
            sample_count = hits;
        }
        Ok(CpuProfile { functions, node_function, parent, children, self_us, duration_us, sample_count, xprofiler })
    }

    fn root(&self) -> u32 {
        self.parent.iter().position(|&p| p == u32::MAX).map_or(0, |p| p as u32)
    }

    /// Total time per call-tree node (its subtree's self time), children before parents.
    fn subtree_totals(&self) -> Vec<f64> {
        let order = self.preorder();
        let mut total = self.self_us.clone();
        for &n in order.iter().rev() {
            let p = self.parent[n as usize];
            if p != u32::MAX {
                total[p as usize] += total[n as usize];
            }
        }
        total
    }

    fn preorder(&self) -> Vec<u32> {
        let mut order = Vec::with_capacity(self.parent.len());
        let mut stack = vec![self.root()];
        while let Some(n) = stack.pop() {
            order.push(n);
            stack.extend(self.children[n as usize].iter().rev());
        }
        order
    }

    /// Self and total time per key (function, file or package), a key's time counted once per stack.
    fn rows_by(&self, key_of: impl Fn(&Function) -> Option<String>) -> Vec<(String, Option<u32>, f64, f64)> {
        let totals = self.subtree_totals();
        let keys: Vec<Option<String>> = self.functions.iter().map(&key_of).collect();
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut rows: Vec<(String, Option<u32>, f64, f64)> = Vec::new();
        let key_id: Vec<Option<usize>> = keys
            .iter()
            .enumerate()
            .map(|(f, k)| {
                k.as_ref().map(|k| {
                    *ids.entry(k.clone()).or_insert_with(|| {
                        rows.push((k.clone(), Some(f as u32), 0.0, 0.0));
                        rows.len() - 1
                    })
                })
            })
            .collect();
        let mut active = vec![0u32; rows.len()];
        let mut stack = vec![(self.root(), false)];
        while let Some((n, exit)) = stack.pop() {
            let Some(k) = key_id[self.node_function[n as usize] as usize] else {
                if !exit {
                    stack.extend(self.children[n as usize].iter().map(|&c| (c, false)));
                }
                continue;
            };
            if exit {
                active[k] -= 1;
                continue;
            }
            rows[k].2 += self.self_us[n as usize];
            if active[k] == 0 {
                rows[k].3 += totals[n as usize];
            }
            active[k] += 1;
            stack.push((n, true));
            stack.extend(self.children[n as usize].iter().map(|&c| (c, false)));
        }
        rows
    }

    fn is_meta(f: &Function) -> bool {
        matches!(f.name.as_str(), "(root)" | "(program)" | "(idle)" | "(garbage collector)")
    }

    pub fn function_rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .rows_by(|f| Some(format!("{}\u{0}{}\u{0}{}\u{0}{}", f.name, f.url, f.line, f.column)))
            .into_iter()
            .filter(|r| r.1.is_some_and(|f| self.functions[f as usize].name != "(root)"))
            .map(|(_, f, s, t)| {
                let function = f.map(|f| self.functions[f as usize].clone());
                Row {
                    name: function.as_ref().map_or(String::new(), |f| f.name.clone()),
                    function,
                    self_us: s,
                    total_us: t,
                }
            })
            .collect();
        sort_rows(&mut rows);
        rows
    }

    fn grouped_rows(&self, key_of: impl Fn(&Function) -> Option<String>) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .rows_by(|f| if Self::is_meta(f) { None } else { key_of(f) })
            .into_iter()
            .map(|(name, _, s, t)| Row { name, function: None, self_us: s, total_us: t })
            .collect();
        sort_rows(&mut rows);
        rows
    }

    fn tree(&self, n: u32, totals: &[f64], min_us: f64, depth: usize) -> TreeNode {
        let mut children: Vec<u32> =
            self.children[n as usize].iter().copied().filter(|&c| totals[c as usize] >= min_us).collect();
        children.sort_by(|&a, &b| totals[b as usize].total_cmp(&totals[a as usize]));
        TreeNode {
            function: self.functions[self.node_function[n as usize] as usize].clone(),
            self_us: self.self_us[n as usize],
            total_us: totals[n as usize],
            children: if depth < 200 {
                children.into_iter().map(|c| self.tree(c, totals, min_us, depth + 1)).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Callers of the heaviest functions: each function's self time split over the stacks that led to it.
    fn bottom_up(&self, functions: usize, depth: usize, min_us: f64) -> Vec<TreeNode> {
        #[derive(Default)]
        struct Trie {
            self_us: f64,
            total_us: f64,
            children: HashMap<u32, Trie>,
        }
        let mut roots: HashMap<u32, Trie> = HashMap::new();
        for n in 0..self.parent.len() {
            let s = self.self_us[n];
            if s <= 0.0 {
                continue;
            }
            let f = self.node_function[n];
            let top = roots.entry(f).or_default();
            top.self_us += s;
            top.total_us += s;
            let mut cur = top;
            let mut p = self.parent[n];
            for _ in 0..depth {
                if p == u32::MAX {
                    break;
                }
                cur = cur.children.entry(self.node_function[p as usize]).or_default();
                cur.total_us += s;
                p = self.parent[p as usize];
            }
        }
        fn build(p: &CpuProfile, f: u32, t: &Trie, min_us: f64) -> TreeNode {
            let mut children: Vec<(&u32, &Trie)> = t.children.iter().filter(|(_, c)| c.total_us >= min_us).collect();
            children.sort_by(|a, b| b.1.total_us.total_cmp(&a.1.total_us).then(a.0.cmp(b.0)));
            TreeNode {
                function: p.functions[f as usize].clone(),
                self_us: t.self_us,
                total_us: t.total_us,
                children: children.into_iter().map(|(&c, ct)| build(p, c, ct, min_us)).collect(),
            }
        }
        let mut tops: Vec<(&u32, &Trie)> = roots.iter().collect();
        tops.sort_by(|a, b| b.1.self_us.total_cmp(&a.1.self_us).then(a.0.cmp(b.0)));
        tops.into_iter().take(functions).map(|(&f, t)| build(self, f, t, min_us)).collect()
    }

    pub fn report(&self) -> CpuReport {
        let totals = self.subtree_totals();
        let total = totals[self.root() as usize];
        let min_us = total * 0.001;
        let root = self.tree(self.root(), &totals, min_us, 0);
        CpuReport {
            duration_us: self.duration_us,
            sample_count: self.sample_count,
            format: if self.xprofiler { "xprofiler".into() } else { "cdp".into() },
            functions: self.function_rows(),
            files: self.grouped_rows(|f| (!f.url.is_empty()).then(|| f.url.clone())),
            packages: self.grouped_rows(|f| f.package.clone()),
            top_down: root.children,
            bottom_up: self.bottom_up(30, 8, min_us),
        }
    }

    /// Sum of all self time.
    pub fn total_us(&self) -> f64 {
        self.self_us.iter().sum()
    }
}

fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.self_us.total_cmp(&a.self_us).then(b.total_us.total_cmp(&a.total_us)).then(a.name.cmp(&b.name))
    });
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionDelta {
    pub function: Function,
    pub base_self_us: f64,
    pub target_self_us: f64,
    pub base_total_us: f64,
    pub target_total_us: f64,
    /// target − base, as pprof's `-diff_base` shows it.
    pub self_delta_us: f64,
    pub total_delta_us: f64,
    /// Pyroscope's colour: (target share − base share) / base share × 100 of total time, each side normalised by
    /// its own profile's total; absent when the function is only on one side.
    pub total_share_change_pct: Option<f64>,
    /// `new` (only in the target), `vanished` (only in the base) or `both`.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiffNode {
    pub function: Function,
    pub base_total_us: f64,
    pub target_total_us: f64,
    pub total_share_change_pct: Option<f64>,
    pub children: Vec<DiffNode>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuDiff {
    pub base_total_us: f64,
    pub target_total_us: f64,
    /// Largest absolute change of self time first.
    pub functions: Vec<FunctionDelta>,
    pub new_functions: Vec<Function>,
    pub vanished_functions: Vec<Function>,
    /// Both call trees merged by function path, for a diff flame graph (pruned below 0.1 % on both sides).
    pub tree: Vec<DiffNode>,
}

fn share_change(base: f64, base_total: f64, target: f64, target_total: f64) -> Option<f64> {
    if base <= 0.0 || target <= 0.0 || base_total <= 0.0 || target_total <= 0.0 {
        return None;
    }
    let (b, t) = (base / base_total, target / target_total);
    Some((t - b) / b * 100.0)
}

/// The diff of `target` against `base`, functions matched by name and script.
pub fn diff(base: &CpuProfile, target: &CpuProfile) -> CpuDiff {
    let (bt, tt) = (base.total_us(), target.total_us());
    let by_key = |p: &CpuProfile| -> HashMap<String, (Function, f64, f64)> {
        let mut m: HashMap<String, (Function, f64, f64)> = HashMap::new();
        for r in p.rows_by(|f| Some(f.diff_key())) {
            let f = p.functions[r.1.unwrap_or(0) as usize].clone();
            if f.name == "(root)" {
                continue;
            }
            m.insert(r.0, (f, r.2, r.3));
        }
        m
    };
    let (b, t) = (by_key(base), by_key(target));
    let mut functions = Vec::new();
    let (mut new_functions, mut vanished_functions) = (Vec::new(), Vec::new());
    for (k, (f, ts, tt_)) in &t {
        let (bs, btot) = b.get(k).map_or((0.0, 0.0), |x| (x.1, x.2));
        let status = if b.contains_key(k) { "both" } else { "new" };
        if status == "new" {
            new_functions.push(f.clone());
        }
        functions.push(FunctionDelta {
            function: f.clone(),
            base_self_us: bs,
            target_self_us: *ts,
            base_total_us: btot,
            target_total_us: *tt_,
            self_delta_us: ts - bs,
            total_delta_us: tt_ - btot,
            total_share_change_pct: share_change(btot, bt, *tt_, tt),
            status: status.into(),
        });
    }
    for (k, (f, bs, btot)) in &b {
        if t.contains_key(k) {
            continue;
        }
        vanished_functions.push(f.clone());
        functions.push(FunctionDelta {
            function: f.clone(),
            base_self_us: *bs,
            target_self_us: 0.0,
            base_total_us: *btot,
            target_total_us: 0.0,
            self_delta_us: -bs,
            total_delta_us: -btot,
            total_share_change_pct: None,
            status: "vanished".into(),
        });
    }
    functions.sort_by(|x, y| {
        y.self_delta_us.abs().total_cmp(&x.self_delta_us.abs()).then(x.function.name.cmp(&y.function.name))
    });
    new_functions.sort_by(|x, y| x.name.cmp(&y.name).then(x.url.cmp(&y.url)));
    vanished_functions.sort_by(|x, y| x.name.cmp(&y.name).then(x.url.cmp(&y.url)));
    CpuDiff {
        base_total_us: bt,
        target_total_us: tt,
        functions,
        new_functions,
        vanished_functions,
        tree: merged_tree(base, target),
    }
}

fn merged_tree(base: &CpuProfile, target: &CpuProfile) -> Vec<DiffNode> {
    #[derive(Default)]
    struct M {
        function: Option<Function>,
        base: f64,
        target: f64,
        children: HashMap<String, M>,
    }
    fn add(p: &CpuProfile, n: u32, totals: &[f64], m: &mut M, side: bool) {
        for &c in &p.children[n as usize] {
            let f = &p.functions[p.node_function[c as usize] as usize];
            let child = m.children.entry(f.diff_key()).or_default();
            child.function.get_or_insert_with(|| f.clone());
            if side {
                child.target += totals[c as usize];
            } else {
                child.base += totals[c as usize];
            }
            add(p, c, totals, child, side);
        }
    }
    let mut root = M::default();
    add(base, base.root(), &base.subtree_totals(), &mut root, false);
    add(target, target.root(), &target.subtree_totals(), &mut root, true);
    let (bt, tt) = (base.total_us(), target.total_us());
    fn build(m: M, bt: f64, tt: f64) -> Vec<DiffNode> {
        let mut nodes: Vec<DiffNode> = m
            .children
            .into_values()
            .filter(|c| c.base >= bt * 0.001 || c.target >= tt * 0.001)
            .map(|c| DiffNode {
                function: c.function.clone().unwrap_or_else(|| Function {
                    name: String::new(),
                    url: String::new(),
                    line: 0,
                    column: 0,
                    package: None,
                }),
                base_total_us: c.base,
                target_total_us: c.target,
                total_share_change_pct: share_change(c.base, bt, c.target, tt),
                children: build(c, bt, tt),
            })
            .collect();
        nodes.sort_by(|a, b| (b.base_total_us + b.target_total_us).total_cmp(&(a.base_total_us + a.target_total_us)));
        nodes
    }
    build(root, bt, tt)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// root → main → (work → work (recursion) , idle); samples: work×3 (inner), main×1, work(outer)×1.
    const PROFILE: &str = r#"{"nodes":[
        {"id":1,"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"children":[2]},
        {"id":2,"callFrame":{"functionName":"main","scriptId":"1","url":"file:///app/node_modules/@acme/lib/index.js","lineNumber":0,"columnNumber":0},"children":[3]},
        {"id":3,"callFrame":{"functionName":"work","scriptId":"1","url":"file:///app/main.js","lineNumber":9,"columnNumber":4},"children":[4]},
        {"id":4,"callFrame":{"functionName":"work","scriptId":"1","url":"file:///app/main.js","lineNumber":9,"columnNumber":4}}],
        "startTime":0,"endTime":600,"samples":[4,4,4,2,3],"timeDeltas":[0,100,100,100,100]}"#;

    #[test]
    fn self_time_uses_per_sample_durations_and_recursion_counts_once() {
        let p = CpuProfile::from_reader(PROFILE.as_bytes()).unwrap();
        let r = p.report();
        let work = r.functions.iter().find(|f| f.name == "work").unwrap();
        // Samples at 0,100,200 (work inner: 100 each), 300 (main: 100), 400 (work outer: until the end, 200).
        assert_eq!((work.self_us, work.total_us), (500.0, 500.0), "recursion counted once");
        assert_eq!(work.function.as_ref().unwrap().line, 10, "CDP lines become 1-based");
        let main = r.functions.iter().find(|f| f.name == "main").unwrap();
        assert_eq!((main.self_us, main.total_us), (100.0, 600.0));
        assert_eq!(r.packages[0].name, "@acme/lib");
        assert_eq!(r.bottom_up[0].function.name, "work");
    }

    #[test]
    fn xprofiler_lines_stay_one_based_and_the_diff_finds_new_functions() {
        let x = PROFILE.replacen("{\"nodes\"", "{\"typeId\":\"xprofiler-cpu-profile\",\"nodes\"", 1);
        let p = CpuProfile::from_reader(x.as_bytes()).unwrap();
        assert_eq!(p.function_rows().iter().find(|f| f.name == "work").unwrap().function.as_ref().unwrap().line, 9);
        let base = CpuProfile::from_reader(PROFILE.replace("\"work\"", "\"oldWork\"").as_bytes()).unwrap();
        let d = diff(&base, &p);
        assert_eq!(d.new_functions.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["work"]);
        assert_eq!(d.vanished_functions.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["oldWork"]);
        let main = d.functions.iter().find(|f| f.function.name == "main").unwrap();
        assert_eq!((main.self_delta_us, main.total_share_change_pct), (0.0, Some(0.0)));
    }

    #[test]
    fn malformed_profiles_are_errors() {
        assert!(matches!(CpuProfile::from_reader(&b""[..]), Err(Error::Empty)));
        assert!(CpuProfile::from_reader(&PROFILE.as_bytes()[..200]).is_err());
        assert!(CpuProfile::from_reader(PROFILE.replace("\"children\":[3]", "\"children\":[9]").as_bytes()).is_err());
        assert!(CpuProfile::from_reader(r#"{"nodes":[]}"#.as_bytes()).is_err());
    }
}
