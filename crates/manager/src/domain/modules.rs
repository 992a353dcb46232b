//! `/xprofiler/modules`: the direct dependencies of a package.json with the versions its lock file resolved
//! (lockfile v1 `dependencies`, v2/v3 `packages`). Pure: the texts come from the log store.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// `raw` is the stored `{"pkg": <package.json text>, "lock": <lock file text>}` of `file`.
pub fn resolve(file: &str, raw: &str) -> Value {
    let stored: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    let parse = |field: &str| -> Value {
        stored
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| json!({"dependencies": {}, "devDependencies": {}}))
    };
    let pkg = parse("pkg");
    let lock = parse("lock");
    let deps = pkg.get("dependencies").cloned().unwrap_or_else(|| json!({}));
    let dev = pkg.get("devDependencies").cloned().unwrap_or_else(|| json!({}));
    let mut lock_module = Map::new();
    let names = deps.as_object().into_iter().chain(dev.as_object()).flat_map(|m| m.keys());
    for name in names {
        let locked = lock.get("dependencies").and_then(|d| d.get(name)).or_else(|| lock.get("packages").and_then(|p| p.get(format!("node_modules/{name}"))));
        if let Some(locked) = locked {
            let picked: BTreeMap<&str, Value> = ["version", "resolved"].into_iter().filter_map(|k| locked.get(k).map(|v| (k, v.clone()))).collect();
            lock_module.insert(name.clone(), json!(picked));
        }
    }
    json!({"dependencies": deps, "devDependencies": dev, "lockModule": lock_module, "file": file})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn lock_versions_of_v1_and_v3_lock_files() {
        let pkg = json!({"dependencies": {"a": "^1"}, "devDependencies": {"b": "^2"}}).to_string();
        let v1 = json!({"dependencies": {"a": {"version": "1.2.3", "resolved": "r", "integrity": "x"}}}).to_string();
        let out = super::resolve("/p/package.json", &json!({"pkg": pkg, "lock": v1}).to_string());
        assert_eq!(out["lockModule"], json!({"a": {"version": "1.2.3", "resolved": "r"}}));
        let v3 = json!({"packages": {"node_modules/b": {"version": "2.0.1"}}}).to_string();
        let out = super::resolve("/p/package.json", &json!({"pkg": pkg, "lock": v3}).to_string());
        assert_eq!(out["lockModule"], json!({"b": {"version": "2.0.1"}}));
        assert_eq!(out["file"], "/p/package.json");
        let out = super::resolve("/p/package.json", "not json");
        assert_eq!(out["dependencies"], json!({}));
    }
}
