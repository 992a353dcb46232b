//! Readable text renderings of the reports, for `ezm-analyze` without `--json`.

use std::fmt::Write;

use crate::cpu::{CpuDiff, CpuReport, Function, TreeNode};
use crate::heap::diff::Comparison;
use crate::heap::{DominatorNode, HeapReport, ObjectInfo};
use crate::heapprofile::{AllocationNode, HeapProfileReport};

/// `1.5 MiB`, `812 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn signed_bytes(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "+" };
    format!("{sign}{}", bytes(n.unsigned_abs()))
}

fn object(o: &ObjectInfo) -> String {
    let name = if o.name.is_empty() || o.name == o.class_name { String::new() } else { format!(" \"{}\"", o.name) };
    format!("{}{name} @{} (self {}, retained {})", o.class_name, o.id, bytes(o.self_size), bytes(o.retained_size))
}

pub fn heap_report(r: &HeapReport) -> String {
    let mut s = String::new();
    let st = &r.statistics;
    let _ = writeln!(s, "Heap snapshot: {} nodes, {} edges", r.node_count, r.edge_count);
    let _ = writeln!(
        s,
        "Total {}  (V8 heap {}: code {}, strings {}, JS arrays {}, system {}; native {}, typed arrays {})\n",
        bytes(r.total_size),
        bytes(st.v8heap),
        bytes(st.code),
        bytes(st.strings),
        bytes(st.js_arrays),
        bytes(st.system),
        bytes(st.native),
        bytes(st.typed_arrays)
    );
    let _ = writeln!(s, "Leak suspects ({}):", r.leak_suspects.len());
    if r.leak_suspects.is_empty() {
        let _ = writeln!(s, "  none: no object or class retains 10 % of the heap");
    }
    for (i, l) in r.leak_suspects.iter().enumerate() {
        let _ = writeln!(s, "  {}. {}", i + 1, l.description);
        let _ = writeln!(s, "     suspect:            {}", object(&l.object));
        let _ = writeln!(s, "     accumulation point: {}", object(&l.accumulation_point));
        if let Some(c) = &l.explanation.closure {
            let _ = writeln!(
                s,
                "     closure:            {} keeps [{}]{}",
                c.function,
                c.variables.join(", "),
                c.defined_at.as_ref().map_or(String::new(), |d| format!(" defined at {d}"))
            );
        }
        for c in &l.related_classes {
            let _ = writeln!(
                s,
                "     instances:          {} × {} retain {}",
                c.instance_count,
                c.class_name,
                bytes(c.retained_size)
            );
        }
        if l.explanation.detached_natives > 0 {
            let _ = writeln!(s, "     detached natives:   {}", l.explanation.detached_natives);
        }
        if let Some(p) = &l.explanation.package {
            let _ = writeln!(s, "     npm package:        {p}");
        }
        for (k, p) in l.retainer_paths.iter().enumerate() {
            let _ = writeln!(s, "     path {}:", k + 1);
            for step in &p.steps {
                let edge = match (&step.edge_type, &step.edge_name) {
                    (Some(t), Some(n)) => format!("--{t} {n}--> "),
                    _ => String::new(),
                };
                let _ = writeln!(s, "       {edge}{}", object(&step.object));
            }
        }
    }
    let _ = writeln!(s, "\nClasses by retained size (top {} of {}):", r.classes.len().min(25), r.class_count);
    let _ = writeln!(s, "  {:>10} {:>12} {:>12}  class", "count", "shallow", "retained");
    for c in r.classes.iter().take(25) {
        let _ = writeln!(s, "  {:>10} {:>12} {:>12}  {}", c.count, bytes(c.self_size), bytes(c.retained_size), c.name);
    }
    let _ = writeln!(s, "\nLargest objects:");
    for o in r.largest_objects.iter().take(15) {
        let _ = writeln!(s, "  {}", object(o));
    }
    let _ = writeln!(s, "\nDominator tree:");
    fn tree(s: &mut String, nodes: &[DominatorNode], depth: usize) {
        for n in nodes.iter().take(if depth == 0 { 10 } else { 5 }) {
            let _ = writeln!(s, "  {}{}", "  ".repeat(depth), object(&n.object));
            tree(s, &n.children, depth + 1);
        }
    }
    tree(&mut s, &r.dominator_tree, 0);
    if !r.duplicated_strings.is_empty() {
        let _ = writeln!(s, "\nDuplicated strings:");
        for d in r.duplicated_strings.iter().take(10) {
            let value: String = d.value.chars().take(60).collect();
            let _ = writeln!(s, "  {:>6} × {:?} wastes {}", d.count, value, bytes(d.wasted_size));
        }
    }
    s
}

pub fn heap_comparison(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nComparison with the base snapshot:");
    if !c.same_process {
        let _ = writeln!(s, "  (different processes: classes matched by script URL, no per-object comparison)");
    }
    let _ = writeln!(s, "  total {}, nodes {:+}", signed_bytes(c.total_size_delta), c.node_count_delta);
    if c.same_process {
        let _ = writeln!(s, "  {} objects new and still alive, {}", c.new_objects_count, bytes(c.new_objects_size));
    }
    let _ = writeln!(s, "  {:>9} {:>12} {:>12} {:>9}  class", "count", "shallow", "retained", "new");
    for d in c.classes.iter().take(25) {
        let _ = writeln!(
            s,
            "  {:>+9} {:>12} {:>12} {:>9}  {}",
            d.count_delta,
            signed_bytes(d.self_size_delta),
            signed_bytes(d.retained_size_delta),
            d.added_count,
            d.name
        );
    }
    s
}

fn ms(us: f64) -> String {
    format!("{:.1} ms", us / 1000.0)
}

fn place(f: &Function) -> String {
    if f.url.is_empty() {
        String::new()
    } else {
        format!("  {}:{}:{}", f.url, f.line, f.column)
    }
}

pub fn cpu_report(r: &CpuReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "CPU profile ({}): {} samples over {}\n", r.format, r.sample_count, ms(r.duration_us));
    let _ = writeln!(s, "Functions by self time:");
    let _ = writeln!(s, "  {:>12} {:>12}  function", "self", "total");
    for f in r.functions.iter().take(25) {
        let at = f.function.as_ref().map_or(String::new(), place);
        let _ = writeln!(s, "  {:>12} {:>12}  {}{at}", ms(f.self_us), ms(f.total_us), f.name);
    }
    for (title, rows) in [("Files", &r.files), ("Packages", &r.packages)] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title} by self time:");
        for f in rows.iter().take(15) {
            let _ = writeln!(s, "  {:>12} {:>12}  {}", ms(f.self_us), ms(f.total_us), f.name);
        }
    }
    let _ = writeln!(s, "\nTop-down (total, self):");
    fn tree(s: &mut String, nodes: &[TreeNode], depth: usize) {
        for n in nodes.iter().take(8) {
            let _ = writeln!(s, "  {}{} ({}, {})", "  ".repeat(depth), n.function.name, ms(n.total_us), ms(n.self_us));
            if depth < 6 {
                tree(s, &n.children, depth + 1);
            }
        }
    }
    tree(&mut s, &r.top_down, 0);
    let _ = writeln!(s, "\nBottom-up (callers of the heaviest functions):");
    tree(&mut s, &r.bottom_up, 0);
    s
}

pub fn cpu_diff(d: &CpuDiff) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nDiff against the base: {} → {}", ms(d.base_total_us), ms(d.target_total_us));
    let _ = writeln!(s, "  {:>12} {:>12} {:>10}  function", "self Δ", "total Δ", "share Δ");
    for f in d.functions.iter().take(25) {
        let share = f.total_share_change_pct.map_or(f.status.clone(), |p| format!("{p:+.0} %"));
        let _ = writeln!(
            s,
            "  {:>+12.1} {:>+12.1} {:>10}  {}{}",
            f.self_delta_us / 1000.0,
            f.total_delta_us / 1000.0,
            share,
            f.function.name,
            place(&f.function)
        );
    }
    let _ = writeln!(s, "  new functions: {}, vanished: {}", d.new_functions.len(), d.vanished_functions.len());
    s
}

pub fn heap_profile(r: &HeapProfileReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Sampling heap profile: {} sampled\n", bytes(r.total_size));
    let _ = writeln!(s, "Top allocators:");
    for f in r.functions.iter().take(20) {
        let at = f.function.as_ref().map_or(String::new(), place);
        let _ = writeln!(s, "  {:>12} {:>12}  {}{at}", bytes(f.self_size), bytes(f.total_size), f.name);
    }
    if !r.packages.is_empty() {
        let _ = writeln!(s, "\nPackages:");
        for p in r.packages.iter().take(10) {
            let _ = writeln!(s, "  {:>12} {:>12}  {}", bytes(p.self_size), bytes(p.total_size), p.name);
        }
    }
    let _ = writeln!(s, "\nAllocation tree (total, self):");
    fn tree(s: &mut String, nodes: &[AllocationNode], depth: usize) {
        for n in nodes.iter().take(8) {
            let _ = writeln!(
                s,
                "  {}{} ({}, {})",
                "  ".repeat(depth),
                n.function.name,
                bytes(n.total_size),
                bytes(n.self_size)
            );
            if depth < 6 {
                tree(s, &n.children, depth + 1);
            }
        }
    }
    tree(&mut s, &r.tree, 0);
    s
}
