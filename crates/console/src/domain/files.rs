//! The rules of the file routes, without IO: which command an action runs, the status machine's time windows
//! (reference §3.3), display names and download headers, the viewers' launch URLs (§1.11), and which browser
//! uploads are accepted (§1.10).

use serde_json::{json, Value};

use crate::reasons::{self, Refusal};

/// The types kept in `files` (cores are in `coredumps`).
pub const FILE_TYPES: [&str; 6] = ["cpuprofile", "heapprofile", "gcprofile", "heapsnapshot", "diag", "trend"];
/// How long a sampling action profiles when the request names no time (the original's fixed 3 minutes).
pub const DEFAULT_PROFILING_MS: u64 = 180_000;
/// The shortest profiling time a request may ask for.
pub const MIN_PROFILING_MS: u64 = 1_000;
/// How long a transfer may take: the agent's upload of a file (the original's 20 minutes).
pub const TRANSFER_TIMEOUT_MS: u64 = 1_200_000;

/// File statuses (reference §3.3).
pub mod status {
    pub const CREATING: u8 = 0;
    pub const CREATED: u8 = 1;
    pub const TRANSFERRING: u8 = 2;
    pub const TRANSFERRED: u8 = 3;
    pub const FAILED: u8 = 99;
}

/// What `POST /xapi/action` asks xprofiler to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// The `xprofctl` command.
    pub command: &'static str,
    /// A sampling action (it takes `profiling_time` and has a stop command).
    pub sampling: bool,
    /// The file is a core (a `coredumps` row).
    pub core: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionError {
    Unknown(String),
    /// Only the sampling actions can be stopped (the original ran the action again).
    NoStop(String),
    ProfilingTime,
}

impl ActionError {
    pub fn refusal(&self) -> Refusal {
        match self {
            ActionError::Unknown(action) => reasons::UNKNOWN_ACTION.arg("action", action),
            ActionError::NoStop(action) => reasons::NO_STOP.arg("action", action),
            ActionError::ProfilingTime => reasons::PROFILING_TIME.arg("min", MIN_PROFILING_MS).arg("max", DEFAULT_PROFILING_MS),
        }
    }
}

/// The command of `action` (`cpuprofile`, …), started or, for sampling actions, stopped.
pub fn action(action: &str, stop: bool) -> Result<Action, ActionError> {
    let (start, stop_command, core) = match action {
        "cpuprofile" => ("start_cpu_profiling", Some("stop_cpu_profiling"), false),
        "heapprofile" => ("start_heap_profiling", Some("stop_heap_profiling"), false),
        "gcprofile" => ("start_gc_profiling", Some("stop_gc_profiling"), false),
        "heapsnapshot" => ("heapdump", None, false),
        "diag" => ("diag_report", None, false),
        "core" => ("generate_coredump", None, true),
        other => return Err(ActionError::Unknown(other.to_owned())),
    };
    let sampling = stop_command.is_some();
    match (stop, stop_command) {
        (false, _) => Ok(Action { command: start, sampling, core }),
        (true, Some(command)) => Ok(Action { command, sampling, core }),
        (true, None) => Err(ActionError::NoStop(action.to_owned())),
    }
}

/// The options JSON of an action: `{profiling_time}` for starting a sampling action (at most the original's 3
/// minutes, so the status windows below still hold), `{}` otherwise.
pub fn action_options(action: Action, stop: bool, profiling_ms: Option<u64>) -> Result<Value, ActionError> {
    if !action.sampling || stop {
        return Ok(json!({}));
    }
    let ms = profiling_ms.unwrap_or(DEFAULT_PROFILING_MS);
    if !(MIN_PROFILING_MS..=DEFAULT_PROFILING_MS).contains(&ms) {
        return Err(ActionError::ProfilingTime);
    }
    Ok(json!({"profiling_time": ms}))
}

/// The `node` column of a core an action wrote, from the agent's answer (as the manager records reported cores).
pub fn core_node_info(answer: &Value) -> String {
    let alinode = answer.get("alinode_version").and_then(Value::as_str);
    let version = alinode.or_else(|| answer.get("node_version").and_then(Value::as_str));
    json!({"executable_path": answer.get("executable_path"), "alinode": alinode.is_some(), "version": version}).to_string()
}

/// What `POST /xapi/file_status` does for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusStep {
    /// Answer this status, ask nobody.
    Known(u8),
    /// Ask the agent whether the file exists: yes → 1, no (or no answer) → `otherwise`.
    AskAgent { otherwise: u8 },
}

/// The windows of a type: (below this age the file is still being written, below this age a missing file may
/// still come), in seconds since the row was created (reference §3.3: profiling time + 1 min, + 5 min).
pub fn windows(file_type: &str) -> (i64, i64) {
    match file_type {
        "cpuprofile" | "heapprofile" | "gcprofile" => {
            let profiling = (DEFAULT_PROFILING_MS / 1000) as i64;
            (profiling + 60, profiling + 300)
        }
        _ => (60, 300),
    }
}

/// The status machine for a row in `status`, created `age_secs` ago. Only a row still at 0 can change here, and
/// only the agent can say it exists; past the second window a file it cannot confirm (missing, or the agent is
/// offline) has failed for good (99). Inside that window an unanswered check keeps 0 (the original answered
/// nothing for that row, which broke the front-end's whole batch).
pub fn status_step(file_type: &str, current: u8, age_secs: i64) -> StatusStep {
    if current != status::CREATING {
        return StatusStep::Known(current);
    }
    let (writing, expired) = windows(file_type);
    if age_secs < writing {
        return StatusStep::Known(status::CREATING);
    }
    match age_secs < expired {
        true => StatusStep::AskAgent { otherwise: status::CREATING },
        false => StatusStep::AskAgent { otherwise: status::FAILED },
    }
}

/// A transfer older than this is over whatever happened to the console that started it: the agent and the
/// console's own call have both given up (the call waits the transfer timeout plus a few seconds).
pub const STALE_TRANSFER_SECS: u64 = TRANSFER_TIMEOUT_MS / 1000 + 60;

/// The last component of a path (either separator).
pub fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The name a stored object is shown and downloaded under (the original's `modifyFileName`): the name after the
/// `u-<uuid>-u-` prefix, else the base name.
pub fn display_name(storage: &str) -> &str {
    match storage.strip_prefix("u-").and_then(|rest| rest.split_once("-u-")) {
        Some((_, name)) if !name.is_empty() => name,
        _ => basename(storage),
    }
}

/// The files page's label of a core's executable: `可执行文件 Node-v<version>` (or `AliNode-v…`); an uploaded
/// core's `node` is the executable's own file name, shown as it is.
pub fn executable_label(node: &str) -> String {
    let Ok(Value::Object(info)) = serde_json::from_str::<Value>(node) else {
        return node.to_owned();
    };
    let alinode = info.get("alinode").and_then(Value::as_bool).unwrap_or(false);
    match info.get("version").and_then(Value::as_str) {
        Some(version) => format!("可执行文件 {}-v{}", if alinode { "AliNode" } else { "Node" }, version.trim_start_matches('v')),
        None => "可执行文件".into(),
    }
}

/// The agent-side path a core's transfer uploads: `<core>::<node executable>` (the agent splits on `::`).
pub fn core_transfer_path(file: &str, node: &str) -> Option<String> {
    let info: Value = serde_json::from_str(node).ok()?;
    let executable = info.get("executable_path")?.as_str().filter(|p| !p.is_empty())?;
    Some(format!("{file}::{executable}"))
}

/// `Content-Disposition` of a download: a quoted ASCII fallback (quotes, backslashes, controls and non-ASCII
/// replaced) and the exact name in RFC 5987 form for clients that read it.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", rfc5987(name))
}

/// RFC 5987 `value-chars`: `attr-char`s as they are, every other byte of the UTF-8 as `%XX`.
fn rfc5987(text: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b);
    percent_encode(text, keep)
}

/// JavaScript's `encodeURIComponent` (also what Node's `querystring.stringify` does to keys and values).
pub fn encode_uri_component(text: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b);
    percent_encode(text, keep)
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match keep(b) {
            true => out.push(b as char),
            false => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Node's `querystring.stringify` of `pairs`, in order.
fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode_uri_component(k), encode_uri_component(v))).collect::<Vec<_>>().join("&")
}

/// The two Chrome DevTools front-ends the original xui bundle ships, behind `/dashboard/devtools-{new,old}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevTools {
    New,
    Old,
}

impl DevTools {
    /// The bundle's page of this DevTools (a path of the served front-end).
    pub fn page(self) -> &'static str {
        match self {
            DevTools::New => "public/devtools/new/devtools_app.html",
            DevTools::Old => "public/devtools/old/devtools_app.html",
        }
    }
}

/// The speedscope page the original xui bundle ships, behind `/dashboard/speedscope`.
pub const BUNDLE_SPEEDSCOPE: &str = "public/speedscope/flamegraph.html";

/// Where a bundle's DevTools opens a file, as the original redirected: its page with `fileId`, `fileType`,
/// `fileName` (the stored file's name: DevTools picks the profile kind by its extension) and `selectedTab`
/// (`js_profiler` opens the profiler, `heap_profiler` the memory panel; a tab the bundle does not know is replaced
/// by the one for the file's kind). The patched DevTools fetches the file from `/file/download` itself.
pub fn bundle_devtools_location(base_path: &str, tools: DevTools, file_id: u64, file_type: &str, file_name: &str, tab: Option<&str>) -> String {
    let tab = match tab {
        Some(tab @ ("js_profiler" | "heap_profiler")) => tab,
        _ if file_type == "cpuprofile" => "js_profiler",
        _ => "heap_profiler",
    };
    let id = file_id.to_string();
    let query = query_string(&[("fileId", &id), ("fileType", file_type), ("fileName", file_name), ("selectedTab", tab)]);
    format!("{base_path}{}?{query}", tools.page())
}

/// Where the bundle's speedscope opens a file, as the original redirected: `profileURL` is the download URL
/// encoded once and then again as a hash parameter (that speedscope decodes the hash and then the URL once more).
pub fn bundle_speedscope_location(base_path: &str, download_path: &str, file_id: u64, file_type: &str, title: &str) -> String {
    let base = base_path.trim_end_matches('/');
    let profile_url = encode_uri_component(&format!("{base}{download_path}?fileType={file_type}&fileId={file_id}"));
    format!("{base_path}{BUNDLE_SPEEDSCOPE}#{}", query_string(&[("profileURL", &profile_url), ("title", title)]))
}

/// Where `/dashboard/devtools-{new,old}` redirect when the served front-end ships no DevTools: the web UI's
/// analysis page of the file (`<base>app/<appId>/file/<type>/<id>`: the flame graph for CPU and heap profiles, the
/// summaries of the other kinds).
pub fn devtools_location(base_path: &str, app: u64, file_type: &str, file_id: u64) -> String {
    let base = base_path.trim_end_matches('/');
    format!("{base}/app/{app}/file/{}/{file_id}", encode_uri_component(file_type))
}

/// Where `/dashboard/speedscope` redirects when the served front-end ships no speedscope of its own: the speedscope
/// the console serves (`<base>speedscope/index.html`) with `profileURL` = the download URL under the base path,
/// ending with the file name (speedscope picks its importer by the name).
pub fn speedscope_location(base_path: &str, download_path: &str, file_id: u64, file_type: &str, title: &str) -> String {
    let base = base_path.trim_end_matches('/');
    let profile_url = format!("{base}{download_path}?fileType={file_type}&fileId={file_id}&name={}", encode_uri_component(title));
    format!("{base}/speedscope/index.html#{}", query_string(&[("profileURL", &profile_url), ("title", title)]))
}

/// A `downloadPath` the speedscope launcher accepts: a path on this origin (`/file/download`), never a URL of
/// another site for the viewer to fetch.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains(['\\', '#', '?']) && !path.chars().any(char::is_control)
}

/// The name a saved trend is shown under: `x-process-snapshot-<pid>-<YYYYMMDD>-<n>.trend`.
pub fn trend_file_name(pid: i64, day: &str, n: u32) -> String {
    format!("x-process-snapshot-{pid}-{day}-{n}.trend")
}

/// Why a browser upload is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadNameError {
    UnknownType(String),
    BadName(String),
    WrongExtension { name: String, expected: String },
}

impl UploadNameError {
    pub fn refusal(&self) -> Refusal {
        match self {
            UploadNameError::UnknownType(file_type) => reasons::UNKNOWN_FILE_TYPE.arg("fileType", file_type),
            UploadNameError::BadName(name) => reasons::BAD_FILE_NAME.arg("name", format!("{name:?}")),
            UploadNameError::WrongExtension { name, expected } => reasons::WRONG_EXTENSION.arg("name", name).arg("extension", expected),
        }
    }
}

/// Longest accepted upload name (the `file` column holds 250 characters; the storage name adds a prefix).
const MAX_NAME_BYTES: usize = 200;

/// The extension each uploaded part of `file_type` must have, in order: one part named like its type, or for a core
/// the core (`.core`) then its executable (`.node`).
pub fn upload_extensions(file_type: &str) -> Result<Vec<&'static str>, UploadNameError> {
    if file_type == "core" {
        return Ok(vec!["core", "node"]);
    }
    match FILE_TYPES.iter().find(|t| **t == file_type) {
        Some(t) => Ok(vec![t]),
        None => Err(UploadNameError::UnknownType(file_type.to_owned())),
    }
}

/// Checks an uploaded part's file name: a plain base name (no directory, no `..`, no hidden or control characters)
/// ending in `.<expected>`. A browser sends only the base name, so anything else is refused rather than trimmed.
pub fn check_upload_name<'a>(name: &'a str, expected: &str) -> Result<&'a str, UploadNameError> {
    let bad = || UploadNameError::BadName(name.chars().take(80).collect());
    let plain =
        !name.is_empty() && name.len() <= MAX_NAME_BYTES && !name.starts_with('.') && !name.contains(['/', '\\']) && !name.chars().any(char::is_control);
    if !plain {
        return Err(bad());
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext == expected => Ok(name),
        _ => Err(UploadNameError::WrongExtension { name: name.to_owned(), expected: expected.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_to_the_originals_commands() {
        assert_eq!(action("cpuprofile", false).unwrap().command, "start_cpu_profiling");
        assert_eq!(action("cpuprofile", true).unwrap().command, "stop_cpu_profiling");
        assert_eq!(action("gcprofile", true).unwrap().command, "stop_gc_profiling");
        assert_eq!(action("heapsnapshot", false).unwrap(), Action { command: "heapdump", sampling: false, core: false });
        assert_eq!(action("diag", false).unwrap().command, "diag_report");
        assert!(action("core", false).unwrap().core);
        assert_eq!(action("x", false), Err(ActionError::Unknown("x".into())));
        assert_eq!(action("x", false).unwrap_err().refusal().to_string(), "不支持的操作: x");
        assert_eq!(action("heapsnapshot", true), Err(ActionError::NoStop("heapsnapshot".into())));

        let cpu = action("cpuprofile", false).unwrap();
        assert_eq!(action_options(cpu, false, None).unwrap(), json!({"profiling_time": 180000}));
        assert_eq!(action_options(cpu, false, Some(2000)).unwrap(), json!({"profiling_time": 2000}));
        assert_eq!(action_options(cpu, false, Some(999)), Err(ActionError::ProfilingTime));
        assert_eq!(action_options(cpu, false, Some(180_001)), Err(ActionError::ProfilingTime));
        assert_eq!(action_options(cpu, true, None).unwrap(), json!({}));
        assert_eq!(action_options(action("diag", false).unwrap(), false, Some(2000)).unwrap(), json!({}));
    }

    #[test]
    fn a_core_answer_becomes_the_node_column() {
        let answer = json!({"filepath": "/l/x-coredump-1-20261125-3.core", "type": "core", "executable_path": "/usr/bin/node", "node_version": "v20.20.2"});
        assert_eq!(core_node_info(&answer), r#"{"executable_path":"/usr/bin/node","alinode":false,"version":"v20.20.2"}"#);
        let node = core_node_info(&answer);
        assert_eq!(core_transfer_path("/l/core", &node).unwrap(), "/l/core::/usr/bin/node");
        assert_eq!(core_transfer_path("/l/core", "node-v18"), None);
        assert_eq!(executable_label(&node), "可执行文件 Node-v20.20.2");
        assert_eq!(executable_label(r#"{"alinode":true,"version":"7.0.0"}"#), "可执行文件 AliNode-v7.0.0");
        assert_eq!(executable_label("my.node"), "my.node");
    }

    #[test]
    fn the_status_machine_follows_the_windows() {
        use StatusStep::*;
        // (type, status, age in seconds, step)
        let cases: &[(&str, u8, i64, StatusStep)] = &[
            ("cpuprofile", 3, 0, Known(3)),
            ("cpuprofile", 99, 9999, Known(99)),
            ("cpuprofile", 1, 9999, Known(1)),
            ("cpuprofile", 0, 10, Known(0)),
            ("cpuprofile", 0, 239, Known(0)),
            ("cpuprofile", 0, 240, AskAgent { otherwise: 0 }),
            ("cpuprofile", 0, 479, AskAgent { otherwise: 0 }),
            ("cpuprofile", 0, 480, AskAgent { otherwise: 99 }),
            ("heapsnapshot", 0, 59, Known(0)),
            ("heapsnapshot", 0, 60, AskAgent { otherwise: 0 }),
            ("diag", 0, 300, AskAgent { otherwise: 99 }),
            ("core", 0, 600, AskAgent { otherwise: 99 }),
            ("core", 1, 600, Known(1)),
        ];
        for (kind, current, age, step) in cases {
            assert_eq!(status_step(kind, *current, *age), *step, "{kind} {current} {age}");
        }
    }

    #[test]
    fn display_names_drop_the_storage_prefix() {
        assert_eq!(display_name("u-0c1e9f5a-6b3d-4c41-9d1e-2f0a8b7c6d5e-u-x-cpuprofile-1-20261125-1.cpuprofile"), "x-cpuprofile-1-20261125-1.cpuprofile");
        assert_eq!(display_name("/a/b/c.heapsnapshot"), "c.heapsnapshot");
        assert_eq!(display_name("plain.diag"), "plain.diag");
        assert_eq!(basename("C:\\x\\y.cpuprofile"), "y.cpuprofile");
    }

    #[test]
    fn download_names_are_quoted_and_encoded() {
        assert_eq!(content_disposition("x-1.cpuprofile"), "attachment; filename=\"x-1.cpuprofile\"; filename*=UTF-8''x-1.cpuprofile");
        assert_eq!(content_disposition("a \"b\"\\c;d.trend"), "attachment; filename=\"a _b__c;d.trend\"; filename*=UTF-8''a%20%22b%22%5Cc%3Bd.trend");
        assert_eq!(content_disposition("分析.diag"), "attachment; filename=\"__.diag\"; filename*=UTF-8''%E5%88%86%E6%9E%90.diag");
        assert_eq!(content_disposition("a\r\nb"), "attachment; filename=\"a__b\"; filename*=UTF-8''a%0D%0Ab");
    }

    #[test]
    fn launchers_build_the_originals_urls() {
        assert_eq!(devtools_location("/", 3, "cpuprofile", 7), "/app/3/file/cpuprofile/7");
        assert_eq!(devtools_location("/ezm/", 3, "heapsnapshot", 7), "/ezm/app/3/file/heapsnapshot/7");
        assert_eq!(
            speedscope_location("/", "/file/download", 7, "cpuprofile", "x.cpuprofile"),
            "/speedscope/index.html#profileURL=%2Ffile%2Fdownload%3FfileType%3Dcpuprofile%26fileId%3D7%26name%3Dx.cpuprofile&title=x.cpuprofile"
        );
        assert!(speedscope_location("/monitor/", "/file/download", 7, "cpuprofile", "x")
            .starts_with("/monitor/speedscope/index.html#profileURL=%2Fmonitor%2Ffile%2Fdownload"));
    }

    #[test]
    fn the_bundles_viewers_are_opened_as_the_original_opened_them() {
        assert_eq!(
            bundle_devtools_location("/", DevTools::New, 7, "cpuprofile", "x-cpuprofile-1-20261125-1.cpuprofile", Some("js_profiler")),
            "/public/devtools/new/devtools_app.html?fileId=7&fileType=cpuprofile&fileName=x-cpuprofile-1-20261125-1.cpuprofile&selectedTab=js_profiler"
        );
        assert_eq!(
            bundle_devtools_location("/ezm/", DevTools::Old, 7, "heapsnapshot", "a b.heapsnapshot", Some("<script>")),
            "/ezm/public/devtools/old/devtools_app.html?fileId=7&fileType=heapsnapshot&fileName=a%20b.heapsnapshot&selectedTab=heap_profiler"
        );
        // The download URL encoded twice, as the original's querystring.stringify of an encodeURIComponent.
        assert_eq!(
            bundle_speedscope_location("/", "/file/download", 7, "cpuprofile", "x.cpuprofile"),
            "/public/speedscope/flamegraph.html#profileURL=%252Ffile%252Fdownload%253FfileType%253Dcpuprofile%2526fileId%253D7&title=x.cpuprofile"
        );
        assert!(bundle_speedscope_location("/ezm/", "/file/download", 7, "cpuprofile", "x")
            .starts_with("/ezm/public/speedscope/flamegraph.html#profileURL=%252Fezm%252Ffile"));
        assert!(is_local_path("/file/download"));
        for bad in ["https://evil.example/x", "//evil.example/x", "/\\evil", "file/download", "/a?b", "/a#b"] {
            assert!(!is_local_path(bad), "{bad}");
        }
        assert_eq!(encode_uri_component("a+b c/é"), "a%2Bb%20c%2F%C3%A9");
    }

    #[test]
    fn uploads_need_a_plain_name_with_the_types_extension() {
        assert_eq!(upload_extensions("cpuprofile").unwrap(), vec!["cpuprofile"]);
        assert_eq!(upload_extensions("core").unwrap(), vec!["core", "node"]);
        assert!(upload_extensions("exe").is_err());
        assert_eq!(check_upload_name("x.cpuprofile", "cpuprofile").unwrap(), "x.cpuprofile");
        assert_eq!(check_upload_name("my app.core", "core").unwrap(), "my app.core");
        for bad in ["../x.cpuprofile", "a/x.cpuprofile", "C:\\x.cpuprofile", ".x.cpuprofile", "", "a\u{0}.cpuprofile"] {
            assert!(matches!(check_upload_name(bad, "cpuprofile"), Err(UploadNameError::BadName(_))), "{bad:?}");
        }
        for wrong in ["x.heapsnapshot", "x.cpuprofile.gz", "cpuprofile", ".cpuprofile2", "x."] {
            assert!(check_upload_name(wrong, "cpuprofile").is_err(), "{wrong:?}");
        }
        assert!(check_upload_name(&format!("{}.diag", "a".repeat(200)), "diag").is_err());
    }

    #[test]
    fn trend_names_follow_the_original() {
        assert_eq!(trend_file_name(4242, "20261125", 17), "x-process-snapshot-4242-20261125-17.trend");
    }
}
