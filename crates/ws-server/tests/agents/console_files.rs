//! End to end through the console's HTTP API only, with the real agent: sign in as the administrator, create an app
//! and point the real agent at it with the configuration the console gave, see the agent in the instance list, its
//! process in the process list and a non-empty CPU trend, then take a CPU profile, a heap snapshot and a diagnostic report of the agent's Node process (`POST /xapi/action`), follow each
//! file's status (`POST /xapi/file_status`) until the agent has written it, transfer it into the console's storage
//! (`POST /xapi/file_transfer`, the agent's own upload), and download it (`GET /file/download`): gzip of what
//! xprofiler wrote, parsing as the viewers expect. Sampling takes 2 s (`profilingTime`, ours) instead of the
//! original's fixed 3 minutes.

use std::io::Read;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{Stack, ADMIN, ADMIN_PASSWORD};
use crate::real_agent::{start_node, AGENT_ID};

/// The CSRF secret the client echoes (cookie and header only need to agree).
const CSRF: &str = "e2e-csrf";

/// The console's API as the browser uses it: a session cookie, and the CSRF cookie echoed in a header.
struct ConsoleApi {
    base: String,
    http: reqwest::Client,
    session: String,
}

impl ConsoleApi {
    async fn sign_in(base: &str, name: &str, password: &str) -> ConsoleApi {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        let response = http
            .post(format!("{base}/xapi/signin"))
            .header("cookie", format!("csrfToken={CSRF}"))
            .header("x-csrf-token", CSRF)
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .expect("the console answers");
        let session = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.strip_prefix("ezm_session=")?.split(';').next().map(str::to_owned))
            .find(|t| !t.is_empty())
            .unwrap_or_else(|| panic!("signed in: {:?}", response.headers()));
        ConsoleApi { base: base.to_owned(), http, session }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", format!("csrfToken={CSRF}; ezm_session={}", self.session))
            .header("x-csrf-token", CSRF)
    }

    /// POSTs `body` and returns the reply's `data`, failing the test on `{ok:false}`.
    async fn post(&self, path: &str, body: Value) -> Value {
        let reply: Value = self.request(reqwest::Method::POST, path).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(reply["ok"], true, "POST {path} {body}: {reply}");
        reply["data"].clone()
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let reply: Value = self.request(reqwest::Method::GET, path).query(query).send().await.unwrap().json().await.unwrap();
        assert_eq!(reply["ok"], true, "GET {path}: {reply}");
        reply["data"].clone()
    }

    /// The file's status as the files page polls it.
    async fn status(&self, file_id: u64, file_type: &str) -> u64 {
        let data = self.post("/xapi/file_status", json!({"files": [{"fileId": file_id, "fileType": file_type, "status": 0, "index": 0}]})).await;
        assert_eq!(data["list"][0]["index"], 0, "{data}");
        data["list"][0]["status"].as_u64().unwrap_or_else(|| panic!("{data}"))
    }
}

/// Takes `action` on the app's process, waits until the file is written, transfers it and returns the download,
/// gunzipped and parsed.
async fn profile(s: &Stack, api: &ConsoleApi, app: u64, pid: u32, action: &str) -> Value {
    let file = api.post("/xapi/action", json!({"appId": app, "agentId": AGENT_ID, "pid": pid, "action": action, "status": 0, "profilingTime": 2000})).await;
    let path = file["file"].as_str().unwrap_or_else(|| panic!("{file}")).to_owned();
    let page =
        api.get("/xapi/files", &[("appId", app.to_string()), ("filterType", action.into()), ("currentPage", "1".into()), ("pageSize", "10".into())]).await;
    let row = page["list"].as_array().unwrap().iter().find(|r| r["file"] == path).cloned().unwrap_or_else(|| panic!("{path} is listed: {page}"));
    let file_id = row["fileId"].as_u64().unwrap();
    assert_eq!((row["status"].as_u64(), row["agent"].as_str()), (Some(0), Some(AGENT_ID)), "{row}");

    s.eventually_within(60, &format!("the {action} is written on the agent"), || async { api.status(file_id, action).await == 1 }).await;
    api.post("/xapi/file_transfer", json!({"fileId": file_id, "fileType": action})).await;
    s.eventually_within(30, &format!("the {action} is transferred"), || async { api.status(file_id, action).await == 3 }).await;

    let response =
        api.request(reqwest::Method::GET, "/file/download").query(&[("fileId", file_id.to_string()), ("fileType", action.into())]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-type"], "application/octet-stream");
    let name = path.rsplit('/').next().unwrap();
    assert!(headers["content-disposition"].to_str().unwrap().contains(&format!("filename=\"{name}\"")), "{headers:?}");
    let body = response.bytes().await.unwrap();
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain).expect("the download is gzip");
    serde_json::from_slice(&plain).unwrap_or_else(|e| panic!("the {action} is JSON ({e}): {:.200}", String::from_utf8_lossy(&plain)))
}

#[actix_web::test]
async fn profiles_taken_through_the_console_are_transferred_and_downloaded() {
    let s = Stack::start(&[]).await;
    let console = s.start_console().await;
    let api = ConsoleApi::sign_in(&console.base, ADMIN, ADMIN_PASSWORD).await;
    // A new app, and the agent configured exactly as the console says.
    let created = api.post("/xapi/app", json!({"newAppName": "e2e shop"})).await;
    let config = &created["agentConfig"];
    let app = config["appId"].as_u64().unwrap_or_else(|| panic!("{created}"));
    let secret = config["appSecret"].as_str().unwrap().to_owned();
    let node = start_node(&format!("ws://127.0.0.1:{}/", s.ws_port), &[("EZM_APP_ID", app.to_string()), ("EZM_APP_SECRET", secret)]).await;
    let app_q = || ("appId", app.to_string());
    s.eventually_within(30, "the real agent is in the console's instance list", || async {
        api.get("/xapi/agents", &[app_q()]).await == json!({"list": [{"agentId": AGENT_ID, "online": true}]})
    })
    .await;
    let pid = node.app_pid.to_string();
    s.eventually_within(30, "the live process is in the process list", || async {
        let processes = api.get("/xapi/xprofiler_processes", &[app_q(), ("agentId", AGENT_ID.into())]).await;
        let listed = processes["list"].as_array().and_then(|l| l.iter().find(|p| p["pid"] == pid.as_str()).cloned());
        listed.is_some_and(|p| p["cmd"].as_str().is_some_and(|c| !c.is_empty()))
    })
    .await;

    let cpu = profile(&s, &api, app, node.app_pid, "cpuprofile").await;
    assert!(cpu["nodes"].as_array().is_some_and(|n| !n.is_empty()), "a .cpuprofile with nodes");
    assert!(cpu["samples"].is_array() && cpu["startTime"].is_number(), "and samples");

    let snapshot = profile(&s, &api, app, node.app_pid, "heapsnapshot").await;
    assert!(snapshot["snapshot"]["meta"].is_object(), "a .heapsnapshot with its meta");
    assert!(snapshot["nodes"].as_array().is_some_and(|n| !n.is_empty()), "and nodes");

    // xprofiler's own report (the analysis drawer reads these keys), not Node's `process.report` with its `header`.
    let report = profile(&s, &api, app, node.app_pid, "diag").await;
    assert_eq!(report["pid"].as_u64(), Some(u64::from(node.app_pid)), "a diagnostic report of the process");
    assert!(report["nodeVersion"].is_string() && report["jsStacks"].is_array() && report["heapStatistics"].is_object(), "{:.300}", report.to_string());

    // A 24 h chart has a point every 2 minutes, drawn when the first minute of its 2 has data (the original's
    // bucketing): within 2 minutes of the agent's start, one has.
    s.eventually_within(150, "its process has a CPU trend", || async {
        let q = [app_q(), ("agentId", AGENT_ID.into()), ("pid", pid.clone()), ("trendType", "cpuTrend".into()), ("duration", "24".into())];
        let trend = api.get("/xapi/process_trend", &q).await;
        trend["list"].as_array().is_some_and(|points| points.iter().any(|p| p["cpu_60"].is_number()))
    })
    .await;

    // The stored objects are the agents' gzip uploads, one per file.
    assert_eq!(console.stored().len(), 3, "{:?}", console.stored());
    node.stop().await;
    console.stop();
    s.finish().await;
}

/// The same with the S3 storage backend (a private moto server): the agent's upload lands in the bucket, and the
/// download streams it back through the console.
#[actix_web::test]
async fn with_s3_storage_a_transferred_profile_lands_in_the_bucket() {
    let moto = console::testing::Moto::start();
    moto.create_bucket("e2e-profiles").await;
    let s = Stack::start(&moto.overrides("e2e-profiles", "e2e/")).await;
    let console = s.start_console().await;
    let node = start_node(&format!("ws://127.0.0.1:{}/", s.ws_port), &[]).await;
    s.eventually_within(30, "the real agent is listed", || async { s.clients().await == vec![AGENT_ID.to_string()] }).await;
    let api = ConsoleApi::sign_in(&console.base, ADMIN, ADMIN_PASSWORD).await;
    let cpu = profile(&s, &api, 1, node.app_pid, "cpuprofile").await;
    assert!(cpu["nodes"].as_array().is_some_and(|n| !n.is_empty()), "a .cpuprofile with nodes, read back from S3");
    let (status, listing) = moto.get("e2e-profiles?list-type=2&prefix=e2e/").await;
    let listing = String::from_utf8_lossy(&listing);
    assert_eq!(status, 200, "{listing}");
    assert_eq!(listing.matches("<Key>e2e/u-").count(), 1, "one object in the bucket: {listing}");
    node.stop().await;
    console.stop();
    s.finish().await;
}
