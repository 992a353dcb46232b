//! The dependency audit, pure: what to ask an npm-compatible registry's bulk advisory endpoint
//! (`/-/npm/v1/security/advisories/bulk`, `{name: [versions]}`) for a lock file, and how its answer (advisories per
//! package) becomes the original's `risk` and `riskModules` shapes (reference: xtransit-manager §4.6), counted here
//! because the bulk endpoint has no `metadata`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// The original's `cmd` for advisories that need a person to look.
pub const REVIEW: &str = "需要人工审查";

/// What a lock file holds: each package's versions, and how many packages are dev, optional or neither.
#[derive(Debug, Default, PartialEq)]
pub struct Inventory {
    pub versions: BTreeMap<String, BTreeSet<String>>,
    pub dev: BTreeSet<String>,
    pub dependencies: u64,
    pub dev_dependencies: u64,
    pub optional_dependencies: u64,
}

impl Inventory {
    /// The bulk request body.
    pub fn request(&self) -> Value {
        let map: Map<String, Value> = self.versions.iter().map(|(n, v)| (n.clone(), json!(v.iter().collect::<Vec<_>>()))).collect();
        Value::Object(map)
    }
}

/// Reads a lock file text: v2/v3 `packages` (`node_modules/a/node_modules/b` is `b`), else v1 `dependencies`
/// (nested). None when it is not a lock file.
pub fn inventory(lock: &str) -> Option<Inventory> {
    let lock: Value = serde_json::from_str(lock).ok()?;
    let mut inv = Inventory::default();
    let mut add = |inv: &mut Inventory, name: &str, entry: &Value| {
        let Some(version) = entry.get("version").and_then(Value::as_str) else { return };
        inv.versions.entry(name.to_owned()).or_default().insert(version.to_owned());
        let dev = entry.get("dev").and_then(Value::as_bool).unwrap_or(false);
        let optional = entry.get("optional").and_then(Value::as_bool).unwrap_or(false);
        match (dev, optional) {
            (true, _) => {
                inv.dev_dependencies += 1;
                inv.dev.insert(name.to_owned());
            }
            (false, true) => inv.optional_dependencies += 1,
            (false, false) => inv.dependencies += 1,
        }
    };
    if let Some(packages) = lock.get("packages").and_then(Value::as_object) {
        for (path, entry) in packages {
            let Some(idx) = path.rfind("node_modules/") else { continue };
            let name = &path[idx + "node_modules/".len()..];
            if !name.is_empty() && entry.get("link").and_then(Value::as_bool) != Some(true) {
                add(&mut inv, name, entry);
            }
        }
        return Some(inv);
    }
    fn walk(inv: &mut Inventory, deps: &Map<String, Value>, add: &mut dyn FnMut(&mut Inventory, &str, &Value), depth: usize) {
        for (name, entry) in deps {
            add(inv, name, entry);
            if let (Some(nested), true) = (entry.get("dependencies").and_then(Value::as_object), depth < 64) {
                walk(inv, nested, add, depth + 1);
            }
        }
    }
    let deps = lock.get("dependencies").and_then(Value::as_object)?;
    walk(&mut inv, deps, &mut add, 0);
    Some(inv)
}

/// `(risk, riskModules)` from the registry's answer; `scan_time` is `YYYY-MM-DD HH:mm:ss`.
pub fn summarize(inv: &Inventory, answer: &Value, scan_time: &str) -> (Value, Value) {
    let mut counts: BTreeMap<&str, u64> = ["info", "low", "moderate", "high", "critical"].into_iter().map(|s| (s, 0)).collect();
    let mut modules = Map::new();
    for (name, advisories) in answer.as_object().into_iter().flatten() {
        let Some(advisories) = advisories.as_array() else { continue };
        let current: Vec<&String> = inv.versions.get(name).map(|v| v.iter().collect()).unwrap_or_default();
        let mut items = Vec::new();
        for a in advisories {
            let severity = a.get("severity").and_then(Value::as_str).unwrap_or("info");
            if let Some(count) = counts.get_mut(severity) {
                *count += 1;
            }
            items.push(json!({
                "name": name,
                "path": name,
                "dev": inv.dev.contains(name),
                "cmd": REVIEW,
                "vulnerable_versions": a.get("vulnerable_versions").cloned().unwrap_or(Value::Null),
                "url": a.get("url").cloned().unwrap_or(Value::Null),
                "title": a.get("title").cloned().unwrap_or(Value::Null),
                "severity": severity,
                "currentVersions": current.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
            }));
        }
        if !items.is_empty() {
            modules.insert(name.clone(), Value::Array(items));
        }
    }
    let risk = json!({
        "vulnerabilities": counts,
        "dependencies": inv.dependencies,
        "devDependencies": inv.dev_dependencies,
        "optionalDependencies": inv.optional_dependencies,
        "totalDependencies": inv.dependencies + inv.dev_dependencies + inv.optional_dependencies,
        "scanTime": scan_time,
    });
    (risk, Value::Object(modules))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_v1_and_v3_give_the_bulk_request() {
        let v3 = json!({"packages": {"": {"name": "app"}, "node_modules/a": {"version": "1.0.0"}, "node_modules/a/node_modules/b": {"version": "2.0.0", "dev": true}, "node_modules/c": {"version": "3.0.0", "optional": true}}}).to_string();
        let inv = inventory(&v3).unwrap();
        assert_eq!(inv.request(), json!({"a": ["1.0.0"], "b": ["2.0.0"], "c": ["3.0.0"]}));
        assert_eq!((inv.dependencies, inv.dev_dependencies, inv.optional_dependencies), (1, 1, 1));
        let v1 = json!({"dependencies": {"a": {"version": "1.0.0", "dependencies": {"a": {"version": "0.9.0"}}}}}).to_string();
        assert_eq!(inventory(&v1).unwrap().request(), json!({"a": ["0.9.0", "1.0.0"]}));
        assert_eq!(inventory("not json"), None);
    }

    #[test]
    fn advisories_are_counted_by_severity() {
        let inv = inventory(&json!({"packages": {"node_modules/a": {"version": "1.0.0"}}}).to_string()).unwrap();
        let answer = json!({"a": [{"id": 1, "severity": "high", "vulnerable_versions": "<2", "url": "u"}, {"id": 2, "severity": "critical"}]});
        let (risk, modules) = summarize(&inv, &answer, "2024-03-01 10:00:00");
        assert_eq!(risk["vulnerabilities"], json!({"info": 0, "low": 0, "moderate": 0, "high": 1, "critical": 1}));
        assert_eq!(risk["totalDependencies"], 1);
        assert_eq!(modules["a"][0]["currentVersions"], "1.0.0");
        assert_eq!(modules["a"].as_array().unwrap().len(), 2);
    }
}
