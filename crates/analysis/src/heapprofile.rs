//! Sampling heap profiles: the CDP format (`.heapprofile`: `head` plus `samples`) and xprofiler's (only `head`, no
//! ids, `selfSize` already summed per node). The allocation tree with total sizes, and the top allocators by
//! function and by npm package. The sizes are V8's sampled estimates of live allocations, not retained memory.
//!
//! The nested `head` is read with serde_json, whose nesting limit (128) allows call stacks of about 60 frames; V8
//! samples 16 frames deep unless told otherwise.

use std::collections::HashMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::cpu::{Function, RawFrame};
use crate::error::{Error, Result};
use crate::profile_input::read_json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHeapProfile {
    head: RawHeapNode,
    #[serde(default)]
    type_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHeapNode {
    call_frame: RawFrame,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    self_size: f64,
    #[serde(default)]
    children: Vec<RawHeapNode>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AllocationNode {
    pub function: Function,
    pub self_size: u64,
    pub total_size: u64,
    pub children: Vec<AllocationNode>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Allocator {
    pub name: String,
    pub function: Option<Function>,
    pub self_size: u64,
    /// Allocations with this function (or package) anywhere on the stack, counted once per stack.
    pub total_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeapProfileReport {
    pub total_size: u64,
    /// The allocation tree from the root, largest first, pruned below 0.1 % of the total.
    pub tree: Vec<AllocationNode>,
    pub functions: Vec<Allocator>,
    pub packages: Vec<Allocator>,
}

/// Reads and analyses a sampling heap profile.
pub fn analyse(reader: impl Read) -> Result<HeapProfileReport> {
    let raw: RawHeapProfile = read_json(reader)?;
    // xprofiler writes V8's 1-based positions and no node ids; the CDP format has ids and 0-based positions.
    let one_based = raw.type_id.as_deref().is_some_and(|t| t.starts_with("xprofiler")) || raw.head.id.is_none();
    let mut functions: Vec<Function> = Vec::new();
    let mut ids: HashMap<Function, u32> = HashMap::new();
    // Flatten the tree: (function, parent, self size), parents before children.
    let mut flat: Vec<(u32, u32, u64)> = Vec::new();
    let mut children: Vec<Vec<u32>> = Vec::new();
    let mut stack: Vec<(&RawHeapNode, u32)> = vec![(&raw.head, u32::MAX)];
    while let Some((node, parent)) = stack.pop() {
        if !node.self_size.is_finite() || node.self_size < 0.0 {
            return Err(Error::Profile("a node has a negative or non-numeric selfSize".into()));
        }
        let f = Function::from_frame(&node.call_frame, one_based);
        let fid = *ids.entry(f.clone()).or_insert_with(|| {
            functions.push(f);
            (functions.len() - 1) as u32
        });
        flat.push((fid, parent, node.self_size as u64));
        children.push(Vec::new());
        let me = (flat.len() - 1) as u32;
        if parent != u32::MAX {
            children[parent as usize].push(me);
        }
        stack.extend(node.children.iter().rev().map(|c| (c, me)));
    }
    let mut total = vec![0u64; flat.len()];
    for i in (0..flat.len()).rev() {
        total[i] += flat[i].2;
        let p = flat[i].1;
        if p != u32::MAX {
            total[p as usize] += total[i];
        }
    }
    let grand = total[0];
    let min = grand / 1000;
    fn tree(
        i: usize,
        flat: &[(u32, u32, u64)],
        children: &[Vec<u32>],
        total: &[u64],
        f: &[Function],
        min: u64,
    ) -> AllocationNode {
        let mut kids: Vec<u32> = children[i].iter().copied().filter(|&c| total[c as usize] >= min.max(1)).collect();
        kids.sort_by_key(|&c| std::cmp::Reverse(total[c as usize]));
        AllocationNode {
            function: f[flat[i].0 as usize].clone(),
            self_size: flat[i].2,
            total_size: total[i],
            children: kids.into_iter().map(|c| tree(c as usize, flat, children, total, f, min)).collect(),
        }
    }
    // Per function and per package: self sizes, and totals counted once per stack (the key's outermost frame).
    let group = |key_of: &dyn Fn(&Function) -> Option<String>| -> Vec<Allocator> {
        let mut rows: Vec<Allocator> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut on_stack: HashMap<usize, u32> = HashMap::new();
        let mut dfs: Vec<(usize, bool)> = vec![(0, false)];
        while let Some((i, exit)) = dfs.pop() {
            let f = &functions[flat[i].0 as usize];
            let key = if f.name == "(root)" { None } else { key_of(f) };
            let row = key.map(|k| {
                *index.entry(k.clone()).or_insert_with(|| {
                    rows.push(Allocator { name: k, function: None, self_size: 0, total_size: 0 });
                    rows.len() - 1
                })
            });
            if exit {
                if let Some(r) = row {
                    *on_stack.get_mut(&r).expect("entered before exiting") -= 1;
                }
                continue;
            }
            if let Some(r) = row {
                rows[r].self_size += flat[i].2;
                let depth = on_stack.entry(r).or_insert(0);
                if *depth == 0 {
                    rows[r].total_size += total[i];
                }
                *depth += 1;
                if rows[r].function.is_none() {
                    rows[r].function = Some(f.clone());
                }
                dfs.push((i, true));
            }
            dfs.extend(children[i].iter().map(|&c| (c as usize, false)));
        }
        rows.sort_by(|a, b| {
            b.self_size.cmp(&a.self_size).then(b.total_size.cmp(&a.total_size)).then(a.name.cmp(&b.name))
        });
        rows
    };
    let mut by_function = group(&|f| Some(format!("{} {}:{}:{}", f.name, f.url, f.line, f.column)));
    for r in &mut by_function {
        if let Some(f) = &r.function {
            r.name = f.name.clone();
        }
    }
    let mut packages = group(&|f| f.package.clone());
    for p in &mut packages {
        p.function = None;
    }
    Ok(HeapProfileReport {
        total_size: grand,
        tree: tree(0, &flat, &children, &total, &functions, min).children,
        functions: by_function,
        packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, url: &str) -> String {
        format!(r#"{{"functionName":"{name}","scriptId":1,"url":"{url}","lineNumber":3,"columnNumber":1}}"#)
    }

    #[test]
    fn xprofiler_heap_profiles_give_a_tree_and_top_allocators() {
        let json = format!(
            r#"{{"head":{{"callFrame":{},"selfSize":0,"children":[
                {{"callFrame":{},"selfSize":1000,"children":[{{"callFrame":{},"selfSize":3000,"children":[]}}]}},
                {{"callFrame":{},"selfSize":500,"children":[]}}]}}}}"#,
            frame("(root)", ""),
            frame("handler", "/srv/app.js"),
            frame("parse", "/srv/node_modules/fast-json/index.js"),
            frame("(anonymous)", "/srv/app.js"),
        );
        let r = analyse(json.as_bytes()).unwrap();
        assert_eq!(r.total_size, 4500);
        assert_eq!(r.tree[0].function.name, "handler");
        assert_eq!(r.tree[0].total_size, 4000);
        assert_eq!((r.functions[0].name.as_str(), r.functions[0].self_size), ("parse", 3000));
        assert_eq!((r.packages[0].name.as_str(), r.packages[0].self_size), ("fast-json", 3000));
        assert!(analyse(&json.as_bytes()[..50]).is_err());
    }
}
