//! End to end with the real agent: a Node.js app running the real `xprofiler` 3.1.0 addon and the real `xtransit`
//! 3.1.0 agent from npm, unmodified, reporting into our ws-server and manager. The packages are installed (and
//! xprofiler compiled) once into a cache folder by `tests/real-agent/install.sh`, which `.ci/run` calls.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Stack, SECRET};

pub const AGENT_ID: &str = "e2e-agent";

pub fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real-agent")
}

/// The cache the install script fills; the test fails loudly, with the command to run, when it is missing.
fn agent_modules() -> PathBuf {
    let cache = std::env::var("EZM_AGENT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/easy-monitor/agent-3.1.0"));
    let modules = cache.join("node_modules");
    assert!(
        modules.join("xtransit").exists() && modules.join("xprofiler").exists(),
        "the real agent is not installed in {}: run {}/install.sh",
        cache.display(),
        assets().display()
    );
    modules
}

pub struct Node {
    pub dir: PathBuf,
    app: Child,
    agent: Child,
    pub app_pid: u32,
}

impl Node {
    pub async fn stop(mut self) {
        let _ = self.agent.kill().await;
        let _ = self.app.kill().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the demo app and the real agent reporting to `server` (a ws:// URL) for app 1; `extra_env` goes to the
/// agent and may replace any of its settings.
pub async fn start_node(server: &str, extra_env: &[(&str, String)]) -> Node {
    let modules = agent_modules();
    let dir = std::env::temp_dir().join(format!("ezm-e2e-{}", uuid_like()));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let error_log = dir.join("app-error.log");
    std::fs::write(&error_log, "").unwrap();
    // App and agent share XPROFILER_PREFIX (the `.xprofiler` registry) and the log dir, as xprofctl requires.
    let common_env = |cmd: &mut Command| {
        cmd.env("NODE_PATH", &modules)
            .env("HOME", &dir)
            .env("XPROFILER_PREFIX", &dir)
            .env("XTRANSIT_PREFIX", &dir)
            .env("XPROFILER_LOG_DIR", dir.join("logs"))
            .env("ERROR_LOG", &error_log)
            .kill_on_drop(true);
    };
    let mut app = Command::new("node");
    app.arg(assets().join("app.js")).env("XPROFILER_LOG_INTERVAL", "1").stdout(Stdio::piped());
    common_env(&mut app);
    let mut app = app.spawn().expect("node runs");
    let mut lines = BufReader::new(app.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&lines.next_line().await.unwrap().expect("the app prints its pid")).unwrap();
    let app_pid = ready["pid"].as_u64().unwrap() as u32;

    let mut agent = Command::new("node");
    agent
        .arg(assets().join("agent.js"))
        .env("EZM_SERVER", server)
        .env("EZM_APP_ID", "1")
        .env("EZM_APP_SECRET", SECRET)
        .env("EZM_LOG_DIR", dir.join("logs"))
        .env("EZM_AGENT_ID", AGENT_ID)
        .env("EZM_PACKAGE", modules.parent().unwrap().join("package.json"))
        .env("EZM_HEARTBEAT", "1")
        .env("UNIT_TEST_TRANSIT_LOG_INTERVAL", "1")
        // Last, so that a caller may name another app (`EZM_APP_ID`, `EZM_APP_SECRET`).
        .envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null());
    common_env(&mut agent);
    let agent = agent.spawn().expect("node runs");
    Node { dir, app, agent, app_pid }
}

fn uuid_like() -> String {
    format!("{}-{}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default())
}

/// The agent's answer to a command, with its JSON stdout parsed.
pub fn stdout_json(reply: &Value) -> Value {
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["data"]["ok"], true, "{reply}");
    assert_eq!(reply["data"]["data"]["stderr"], "", "{reply}");
    serde_json::from_str(reply["data"]["data"]["stdout"].as_str().unwrap()).unwrap()
}

#[actix_web::test]
async fn the_real_xtransit_agent_reports_and_obeys_commands() {
    let s = Stack::start(&[]).await;
    let console = s.start_console().await;
    let node = start_node(&format!("ws://127.0.0.1:{}/", s.ws_port), &[]).await;
    let day = chrono::Local::now().format("%d").to_string();

    // 1. The agent is online.
    s.eventually_within(30, "the real agent is listed", || async { s.clients().await == vec![AGENT_ID.to_string()] }).await;

    // 2. Metrics land where the original kept them, with plausible values for this app's pid.
    let process_sql = format!("SELECT COUNT(*) FROM process_{day} WHERE app = 1 AND agent = '{AGENT_ID}' AND pid = {} AND rss > 1000000 AND heap_used > 0 AND heap_limit > heap_used AND version = '3.1.0'", node.app_pid);
    s.eventually_within(30, "process rows of the app", || async { s.count(&process_sql).await >= 2 }).await;
    let osinfo = |position: u8| format!("SELECT COUNT(*) FROM osinfo_{day} WHERE app = 1 AND agent = '{AGENT_ID}' AND position = {position}");
    s.eventually_within(30, "osinfo position 0 (system_log)", || async { s.count(&osinfo(0)).await >= 1 }).await;
    s.eventually_within(30, "osinfo position 1 (xprofiler_log aggregate)", || async { s.count(&osinfo(1)).await >= 1 }).await;
    let mut conn = s.env.logs_db().get_conn().await.unwrap();
    let (cpu_count, total, free): (u32, u64, u64) = conn
        .query_first(format!("SELECT cpu_count, total_memory, free_memory FROM osinfo_{day} WHERE agent = '{AGENT_ID}' AND position = 0"))
        .await
        .unwrap()
        .unwrap();
    assert!(cpu_count >= 1 && total > free && free > 0, "cpu {cpu_count} total {total} free {free}");
    s.eventually_within(30, "http responses counted", || async {
        s.count(&format!("SELECT COALESCE(SUM(http_response_sent), 0) FROM process_{day} WHERE pid = {}", node.app_pid)).await > 0
    })
    .await;
    drop(conn);

    // 3. get_os_info: console → manager → ws-server → agent → back.
    let reply = s.manager_call("/xprofiler/agent_osinfo", json!({"appId": "1", "agentId": AGENT_ID})).await;
    let info = stdout_json(&reply);
    assert_eq!(info["xtransitVersion"], "3.1.0");
    assert!(info["nodeVersion"].as_str().unwrap().starts_with("20."), "{info}");

    // 4. An error line written to the watched log shows up in /xprofiler/errors.
    let error_log = node.dir.join("app-error.log").display().to_string();
    let marker = format!("e2e error {}", chrono::Utc::now().timestamp_millis());
    let line = format!("{} ERROR 1 nodejs.TypeError: {marker}\n    at test (/e2e.js:1:1)\n\n", chrono::Local::now().format("%Y-%m-%d %H:%M:%S,000"));
    std::fs::OpenOptions::new().append(true).open(&error_log).and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes())).unwrap();
    s.eventually_within(30, "the error is listed", || async {
        let page =
            s.manager_call("/xprofiler/errors", json!({"appId": "1", "agentId": AGENT_ID, "errorFile": error_log, "currentPage": 1, "pageSize": 50})).await;
        let errors = page["data"]["errors"].as_array().cloned().unwrap_or_default();
        errors.iter().any(|e| e["type"] == "TypeError" && e["stack"].as_str().is_some_and(|s| s.contains(&marker)))
    })
    .await;

    // 5. A CPU profile through take_action; the agent's `action` marks the file row created.
    let reply = s
        .manager_call(
            "/xprofiler/take_action",
            json!({"appId": "1", "agentId": AGENT_ID, "pid": node.app_pid, "command": "start_cpu_profiling", "options": {"profiling_time": 1000}}),
        )
        .await;
    let file_path = stdout_json(&reply)["filepath"].as_str().unwrap().to_owned();
    assert!(file_path.ends_with(".cpuprofile"), "{file_path}");
    let mut conn = s.env.console_db().get_conn().await.unwrap();
    conn.exec_drop("INSERT INTO files (app, agent, type, file, user, status) VALUES (1, ?, 'cpuprofile', ?, 1, 0)", (AGENT_ID, &file_path)).await.unwrap();
    let status_sql = format!("SELECT status FROM files WHERE file = '{file_path}'");
    s.eventually_within(30, "the action sets the file's status", || {
        let pool = s.env.console_db();
        let sql = status_sql.clone();
        async move {
            let mut conn = pool.get_conn().await.unwrap();
            conn.query_first::<u8, _>(sql).await.unwrap() == Some(1)
        }
    })
    .await;
    assert!(Path::new(&file_path).exists());
    drop(conn);

    // 6. Transfer: the agent's upload_file child gzips the profile and uploads it to the console.
    let file_id = s.file_awaiting_upload(&file_path, "transfer-token").await;
    let stored = s.transfer(file_id, &file_path, &console.base, "transfer-token").await;
    let bytes = std::fs::read(console.storage.join(&stored)).unwrap();
    assert_eq!(bytes[..2], [0x1f, 0x8b], "stored as the agent sent it: gzip");
    s.eventually("the row is transferred", || async { s.file_status(file_id).await == (3, stored.clone()) }).await;

    node.stop().await;
    console.stop();
    s.finish().await;
}
