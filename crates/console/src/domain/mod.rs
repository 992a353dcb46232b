//! Pure rules of the console, no IO.

pub mod alarm;
pub mod files;
pub mod metrics;
pub mod password;
pub mod trends;

/// `node-v<version>` or `alinode-v<version>` from the row's `{"executable_path","alinode","version"}`; an uploaded
/// core's row holds the executable's plain file name instead.
pub fn node_display_name(node: &str) -> String {
    #[derive(serde::Deserialize)]
    struct NodeInfo {
        #[serde(default)]
        alinode: bool,
        version: Option<String>,
    }
    match serde_json::from_str::<NodeInfo>(node) {
        Ok(NodeInfo { alinode, version: Some(version) }) => {
            let version = version.trim_start_matches('v');
            format!("{}-v{version}", if alinode { "alinode" } else { "node" })
        }
        _ if !node.trim().is_empty() && !node.trim_start().starts_with('{') => node.to_string(),
        _ => "node".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_follow_the_original() {
        assert_eq!(node_display_name(r#"{"executable_path":"/usr/bin/node","alinode":false,"version":"v20.20.2"}"#), "node-v20.20.2");
        assert_eq!(node_display_name(r#"{"executable_path":"/x","alinode":true,"version":"v7.0.0"}"#), "alinode-v7.0.0");
        assert_eq!(node_display_name(r#"{"alinode":false,"version":"18.1.0"}"#), "node-v18.1.0");
        assert_eq!(node_display_name("node-v18"), "node-v18");
        assert_eq!(node_display_name("{}"), "node");
    }
}
