//! `/xapi/upload_from_xtransit`: what the agent's `upload_file` child sends (reference 4.7), and every way an upload
//! must be refused without keeping anything.

use common::testing::TestEnv;
use console::testing::TestConsole;
use mysql_async::prelude::Queryable;
use protocol::sign::upload_signature;
use serde_json::Value;

/// A console and its databases for one test.
struct Harness {
    env: TestEnv,
    console: TestConsole,
}

impl std::ops::Deref for Harness {
    type Target = TestConsole;
    fn deref(&self) -> &TestConsole {
        &self.console
    }
}

impl Harness {
    async fn start(overrides: &[(&str, &str)]) -> Harness {
        let env = TestEnv::new(overrides).await;
        let console = TestConsole::start(env.settings.clone(), &env.id).await;
        Harness { env, console }
    }

    /// A `files` row awaiting an upload (status 2) with this token; returns its id.
    async fn file_row(&self, token: &str, status: u8, storage: &str) -> u64 {
        let mut conn = self.env.console_db().get_conn().await.unwrap();
        conn.exec_drop(
            "INSERT INTO files (app, agent, type, file, storage, user, status, token) VALUES (1, 'vm', 'cpuprofile', ?, ?, 1, ?, ?)",
            (format!("/tmp/x-cpuprofile-{}-20261125-1.cpuprofile", uuid_like()), storage, status, token),
        )
        .await
        .unwrap();
        conn.last_insert_id().unwrap()
    }

    async fn row(&self, sql: &str, id: u64) -> (u8, String, String) {
        let mut conn = self.env.console_db().get_conn().await.unwrap();
        conn.exec_first(sql, (id,)).await.unwrap().unwrap()
    }

    /// Posts like the agent: signed query, one multipart part per file. Returns (HTTP status, body).
    async fn upload(&self, id: u64, file_type: &str, token: &str, nonce: &str, ts: i64, parts: &[(&str, Vec<u8>)]) -> (u16, Value) {
        let (id, ts) = (id.to_string(), ts.to_string());
        let signature = upload_signature(token, "vm", &id, file_type, nonce, &ts);
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in parts {
            let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(format!("{name}-0123.gz")).mime_str("application/gzip").unwrap();
            form = form.part(name.to_string(), part);
        }
        let url = format!("{}/xapi/upload_from_xtransit", self.base);
        let query = [("fileId", id.as_str()), ("fileType", file_type), ("nonce", nonce), ("timestamp", &ts), ("signature", &signature)];
        let r = reqwest::Client::new().post(url).query(&query).multipart(form).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn finish(self) {
        self.console.stop();
        self.env.finish().await;
    }
}

fn uuid_like() -> String {
    format!("{:x}{:x}", std::process::id(), rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_agent_upload_is_stored_and_recorded() {
    let c = Harness::start(&[]).await;
    std::fs::write(c.storage.join("u-old-u-previous.cpuprofile"), b"old").unwrap();
    let id = c.file_row("tok123", 2, "u-old-u-previous.cpuprofile").await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();

    let (status, body) = c.upload(id, "cpuprofile", "tok123", "101", now(), &[("x.cpuprofile", data.clone())]).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    let name = body["data"]["storage"].as_str().unwrap().to_owned();
    assert!(name.starts_with("u-") && name.contains("-u-x-cpuprofile-"), "{name}");
    assert_eq!(std::fs::read(c.storage.join(&name)).unwrap(), data, "stored byte for byte (still gzip)");
    assert_eq!(c.stored(), vec![name.clone()], "the previous object is deleted, no partial file is left");
    let row = c.row("SELECT status, storage, token FROM files WHERE id = ?", id).await;
    assert_eq!(row, (3, name, String::new()), "transferred, token consumed");

    // the token is one-time: the same upload again is refused
    let (_, body) = c.upload(id, "cpuprofile", "tok123", "102", now(), &[("x.cpuprofile", data)]).await;
    assert!(message(&body).contains("not waiting"), "{body}");
    c.finish().await;
}

#[tokio::test]
async fn forged_stale_replayed_and_unrequested_uploads_are_refused() {
    let c = Harness::start(&[]).await;
    let id = c.file_row("secret-token", 2, "").await;
    let part = || vec![("x.cpuprofile", b"gz".to_vec())];

    let (status, body) = c.upload(id, "cpuprofile", "wrong-token", "201", now(), &part()).await;
    assert_eq!((status, message(&body)), (200, "signature mismatch"));
    let (_, body) = c.upload(id, "cpuprofile", "secret-token", "202", now() - 61_000, &part()).await;
    assert!(message(&body).contains("expired"), "{body}");
    let (_, body) = c.upload(id, "cpuprofile", "secret-token", "203", now() + 3_600_000, &part()).await;
    assert!(message(&body).contains("expired"), "a timestamp far in the future is refused too: {body}");
    let (_, body) = c.upload(id + 1000, "cpuprofile", "secret-token", "204", now(), &part()).await;
    assert_eq!(message(&body), "file not found");
    let (_, body) = c.upload(id, "heapsnapshot", "secret-token", "205", now(), &part()).await;
    assert_eq!(message(&body), "file not found", "the type must match the row");

    // the original's hole: a row with an empty token (not awaiting an upload) and an empty-key HMAC
    let done = c.file_row("", 3, "").await;
    let (_, body) = c.upload(done, "cpuprofile", "", "206", now(), &part()).await;
    assert!(message(&body).contains("not waiting"), "{body}");

    // a nonce is spent only by a valid request, and then cannot be replayed within the window
    let other = c.file_row("secret-token", 2, "").await;
    let (_, body) = c.upload(id, "cpuprofile", "secret-token", "201", now(), &part()).await;
    assert_eq!(body["ok"], true, "the nonce of the forged request was not spent: {body}");
    let (_, body) = c.upload(other, "cpuprofile", "secret-token", "201", now(), &part()).await;
    assert!(message(&body).contains("replayed"), "{body}");

    let url = format!("{}/xapi/upload_from_xtransit?fileId={other}&fileType=cpuprofile", c.base);
    let body: Value = reqwest::Client::new().post(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(message(&body), "missing parameter nonce");
    assert_eq!(c.stored().len(), 1, "only the one accepted upload is stored");
    c.finish().await;
}

#[tokio::test]
async fn an_oversized_or_malformed_upload_keeps_nothing() {
    let c = Harness::start(&[("EZM__CONSOLE__MAX_UPLOAD_BYTES", "65536")]).await;
    let id = c.file_row("tok", 2, "").await;
    let (status, body) = c.upload(id, "cpuprofile", "tok", "301", now(), &[("x.cpuprofile", vec![7u8; 200_000])]).await;
    assert_eq!(status, 413, "{body}");
    assert!(message(&body).contains("limit"), "{body}");
    let (status, body) = c.upload(id, "cpuprofile", "tok", "302", now(), &[("a", vec![1u8; 10]), ("b", vec![2u8; 10])]).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = c.upload(id, "cpuprofile", "tok", "303", now(), &[("a", Vec::new())]).await;
    assert_eq!(status, 400, "an empty part is refused: {body}");
    assert!(c.stored().is_empty(), "nothing kept: {:?}", c.stored());
    let row = c.row("SELECT status, storage, token FROM files WHERE id = ?", id).await;
    assert_eq!(row, (2, String::new(), "tok".to_owned()), "the row still awaits an upload");
    c.finish().await;
}

#[tokio::test]
async fn a_core_dump_uploads_core_then_executable() {
    let c = Harness::start(&[]).await;
    let mut conn = c.env.console_db().get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO coredumps (app, agent, file, node, user, file_status, node_status, token) VALUES (1, 'vm', '/cores/core.4242', ?, 1, 2, 2, 'ctok')",
        (r#"{"executable_path":"/usr/bin/node","alinode":false,"version":"v20.20.2"}"#,),
    )
    .await
    .unwrap();
    let id = conn.last_insert_id().unwrap();
    let (status, body) = c.upload(id, "core", "ctok", "401", now(), &[("core.4242", vec![1u8; 5000]), ("node", vec![2u8; 7000])]).await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    let names: Vec<&str> = body["data"]["storage"].as_str().unwrap().split('\0').collect();
    assert_eq!(names.len(), 2);
    assert!(names[0].ends_with("-u-core.4242") && names[1].ends_with("-u-node-v20.20.2"), "{names:?}");
    assert_eq!(std::fs::read(c.storage.join(names[1])).unwrap(), vec![2u8; 7000]);
    let row: (u8, String, u8, String, String) =
        conn.exec_first("SELECT file_status, file_storage, node_status, node_storage, token FROM coredumps WHERE id = ?", (id,)).await.unwrap().unwrap();
    assert_eq!(row, (3, names[0].to_owned(), 3, names[1].to_owned(), String::new()));
    drop(conn);
    c.finish().await;
}
