//! The file routes over HTTP: the files page (files and cores together, paginated), favourites, deletion, downloads,
//! browser uploads, the analysis launchers, the status machine and transfers without an agent, actions and saved
//! trends. The end-to-end path with a real agent is in the ws-server's `tests/agents/console_files.rs`.

use std::io::{Read, Write};

use chrono::{Local, TimeDelta};
use common::testing::eventually;
use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Client, TestApp, PASSWORD};

const NODE_JSON: &str = r#"{"executable_path":"/usr/bin/node","alinode":false,"version":"v20.20.2"}"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut plain).expect("valid gzip");
    plain
}

/// Bytes that do not compress much, `len` of them.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

/// A `files` row created `minutes_ago`; returns its id.
#[allow(clippy::too_many_arguments)]
async fn file_row(app: &TestApp, app_id: u64, kind: &str, file: &str, status: u8, storage: &str, user: u64, minutes_ago: i64) -> u64 {
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO files (app, agent, type, file, storage, user, status, gm_create) VALUES (?, 'vm', ?, ?, ?, ?, ?, NOW() - INTERVAL ? MINUTE)",
        (app_id, kind, file, storage, user, status, minutes_ago),
    )
    .await
    .unwrap();
    conn.last_insert_id().unwrap()
}

/// A `coredumps` row created `minutes_ago`; returns its id.
#[allow(clippy::too_many_arguments)]
async fn core_row(app: &TestApp, app_id: u64, agent: &str, node: &str, status: u8, storages: (&str, &str), user: u64, minutes_ago: i64) -> u64 {
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO coredumps (app, agent, file, node, user, file_status, file_storage, node_status, node_storage, gm_create) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW() - INTERVAL ? MINUTE)",
        (app_id, agent, format!("/cores/core.{minutes_ago}"), node, user, status, storages.0, status, storages.1, minutes_ago),
    )
    .await
    .unwrap();
    conn.last_insert_id().unwrap()
}

async fn count(app: &TestApp, sql: &str, id: u64) -> u64 {
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    conn.exec_first(sql, (id,)).await.unwrap().unwrap_or(0)
}

/// Writes a stored object into the test console's storage directory.
fn put_object(app: &TestApp, name: &str, bytes: &[u8]) {
    std::fs::write(app.console.storage.join(name), bytes).unwrap();
}

fn ids(body: &Value) -> Vec<(String, u64)> {
    let list = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
    list.iter().map(|r| (r["fileType"].as_str().unwrap().to_owned(), r["fileId"].as_u64().unwrap())).collect()
}

#[tokio::test]
async fn the_list_pages_files_and_cores_together_newest_first() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let other = app.team_app("other", owner.id, None, None).await;
    let f1 = file_row(&app, id, "cpuprofile", "/logs/x-cpuprofile-1-20261125-1.cpuprofile", 3, "u-a-u-x.cpuprofile", owner.id, 50).await;
    let f2 = file_row(&app, id, "heapsnapshot", "/logs/x-heapdump-1-20261125-2.heapsnapshot", 1, "", owner.id, 40).await;
    let c1 = core_row(&app, id, "vm", NODE_JSON, 1, ("", ""), 999_999, 30).await;
    let f3 = file_row(&app, id, "diag", "/logs/x-diagreport-1-20261125-3.diag", 0, "", 4242, 20).await;
    let c2 = core_row(&app, id, "upload", "my-node.node", 3, ("u-b-u-a.core", "u-c-u-my-node.node"), owner.id, 10).await;
    let f4 = file_row(&app, id, "trend", "x-process-snapshot-1-20261125-7.trend", 3, "u-d-u-t.trend", owner.id, 0).await;
    file_row(&app, other, "cpuprofile", "/elsewhere.cpuprofile", 3, "", owner.id, 0).await;
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    conn.exec_drop("UPDATE files SET favor = 1 WHERE id = ?", (f3,)).await.unwrap();
    conn.exec_drop("UPDATE coredumps SET favor = 1 WHERE id = ?", (c2,)).await.unwrap();
    drop(conn);
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let page = |filter: &str, page: u64, size: u64| json!({"appId": id, "filterType": filter, "currentPage": page, "pageSize": size});

    let (_, body) = client.get("/xapi/files", page("all", 1, 4)).await;
    assert_eq!(body["data"]["count"], 6, "{body}");
    let core = |id| ("core".to_owned(), id);
    assert_eq!(ids(&body), vec![("trend".into(), f4), core(c2), ("diag".into(), f3), core(c1)]);
    let (_, body) = client.get("/xapi/files", page("all", 2, 4)).await;
    assert_eq!(ids(&body), vec![("heapsnapshot".into(), f2), ("cpuprofile".into(), f1)]);
    // Page by page, one row each (the later pages are read from the end): the same order as one page of all.
    let mut one_by_one = Vec::new();
    for n in 1..=6 {
        one_by_one.extend(ids(&client.get("/xapi/files", page("all", n, 1)).await.1));
    }
    assert_eq!(one_by_one, ids(&client.get("/xapi/files", page("all", 1, 10)).await.1));
    let (_, body) = client.get("/xapi/files", page("all", 2, 5)).await;
    assert_eq!(ids(&body), vec![("cpuprofile".into(), f1)], "a short last page");
    let (_, body) = client.get("/xapi/files", page("all", 3, 4)).await;
    assert_eq!((body["data"]["count"].as_u64(), ids(&body)), (Some(6), vec![]), "past the end: the count, no rows");
    // The console keeps the last count as a hint to read count and page at once: a row added or removed since
    // makes the hinted page wrong, and the page is read again for the real count.
    let f5 = file_row(&app, id, "cpuprofile", "/logs/x-cpuprofile-1-20261125-9.cpuprofile", 3, "", owner.id, 0).await;
    let (_, body) = client.get("/xapi/files", page("all", 6, 1)).await;
    assert_eq!((body["data"]["count"].as_u64(), ids(&body)), (Some(7), vec![("heapsnapshot".into(), f2)]), "{body}");
    let (_, body) = client.get("/xapi/files", page("all", 1, 1)).await;
    assert_eq!(ids(&body), vec![("cpuprofile".into(), f5)], "the new row is the newest");
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    conn.exec_drop("DELETE FROM files WHERE id = ?", (f5,)).await.unwrap();
    drop(conn);
    let (_, body) = client.get("/xapi/files", page("all", 6, 1)).await;
    assert_eq!((body["data"]["count"].as_u64(), ids(&body)), (Some(6), vec![("cpuprofile".into(), f1)]), "{body}");

    let (_, body) = client.get("/xapi/files", page("all", 1, 10)).await;
    let list = body["data"]["list"].as_array().unwrap();
    let trend = &list[0];
    assert_eq!(trend["file"], "x-process-snapshot-1-20261125-7.trend");
    assert_eq!((trend["agent"].as_str(), trend["status"].as_u64(), trend["favor"].as_u64()), (Some("vm"), Some(3), Some(0)));
    assert_eq!(trend["creator"], "owner");
    let time = trend["time"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").is_ok(), "{time}");
    let system_core = &list[3];
    assert_eq!(system_core["coreFile"], "/cores/core.30");
    assert_eq!(system_core["basename"], "core.30");
    assert_eq!(system_core["executableFile"], "可执行文件 Node-v20.20.2");
    assert_eq!((system_core["creator"].as_str(), system_core["executableStatus"].as_u64()), (Some("System"), Some(1)));
    assert_eq!(list[1]["executableFile"], "my-node.node", "an uploaded core shows the executable's name");
    assert_eq!(list[2]["creator"], 4242, "an unknown creator shows as the user id");
    assert_eq!(list[5]["basename"], "x-cpuprofile-1-20261125-1.cpuprofile");

    let (_, body) = client.get("/xapi/files", page("favor", 1, 10)).await;
    assert_eq!(ids(&body), vec![core(c2), ("diag".into(), f3)]);
    let (_, body) = client.get("/xapi/files", page("core", 1, 10)).await;
    assert_eq!((body["data"]["count"].as_u64(), ids(&body)), (Some(2), vec![core(c2), core(c1)]));
    let (_, body) = client.get("/xapi/files", page("cpuprofile", 1, 10)).await;
    assert_eq!(ids(&body), vec![("cpuprofile".into(), f1)], "another app's files are not listed");
    for bad in [page("everything", 1, 10), page("all", 1, 0), page("all", 1, 1000)] {
        let (_, body) = client.get("/xapi/files", bad).await;
        assert_eq!(body["code"], 400, "{body}");
    }
    app.finish().await;
}

#[tokio::test]
async fn favourites_toggle_and_unchanged_is_declined_with_the_right_words() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let file = file_row(&app, id, "cpuprofile", "/x.cpuprofile", 3, "", owner.id, 0).await;
    let core = core_row(&app, id, "vm", NODE_JSON, 3, ("", ""), owner.id, 0).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    for (file_id, file_type, table) in [(file, "cpuprofile", "files"), (core, "core", "coredumps")] {
        let favor = |favor: u8| json!({"fileId": file_id, "fileType": file_type, "favor": favor});
        let (_, body) = client.call(Method::POST, "/xapi/file_favor", favor(1)).await;
        assert_eq!(body["ok"], true, "{body}");
        assert_eq!(count(&app, &format!("SELECT favor FROM {table} WHERE id = ?"), file_id).await, 1);
        let (_, body) = client.call(Method::POST, "/xapi/file_favor", favor(1)).await;
        assert_eq!((body["ok"].as_bool(), message(&body)), (Some(false), "文件已经收藏"));
        let (_, body) = client.call(Method::POST, "/xapi/file_favor", favor(0)).await;
        assert_eq!(body["ok"], true, "{body}");
        let (_, body) = client.call(Method::POST, "/xapi/file_favor", favor(0)).await;
        assert_eq!((body["ok"].as_bool(), message(&body)), (Some(false), "文件已经取消收藏"));
        let (_, body) = client.call(Method::POST, "/xapi/file_favor", favor(2)).await;
        assert_eq!(body["code"], 400, "{body}");
    }
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_file_removes_its_row_and_stored_objects() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    for name in ["u-1-u-x.cpuprofile", "u-2-u-core.1", "u-3-u-node-v20.20.2", "u-4-u-keep.diag"] {
        put_object(&app, name, b"gz");
    }
    let file = file_row(&app, id, "cpuprofile", "/x.cpuprofile", 3, "u-1-u-x.cpuprofile", owner.id, 0).await;
    let core = core_row(&app, id, "vm", NODE_JSON, 3, ("u-2-u-core.1", "u-3-u-node-v20.20.2"), owner.id, 0).await;
    let kept = file_row(&app, id, "diag", "/keep.diag", 3, "u-4-u-keep.diag", owner.id, 0).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;

    let (_, body) = client.call(Method::DELETE, "/xapi/file_deletion", json!({"fileId": file, "fileType": "cpuprofile"})).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files WHERE id = ?", file).await, 0);
    let (_, body) = client.call(Method::DELETE, "/xapi/file_deletion", json!({"fileId": core, "fileType": "core"})).await;
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM coredumps WHERE id = ?", core).await, 0);
    assert_eq!(app.console.stored(), vec!["u-4-u-keep.diag".to_string()], "a core's two objects went with it");
    let (_, body) = client.call(Method::DELETE, "/xapi/file_deletion", json!({"fileId": file, "fileType": "cpuprofile"})).await;
    assert_eq!(body["code"], 404, "{body}");
    let (_, body) = client
        .call(Method::DELETE, "/xapi/file_deletion", json!({"files": [{"fileId": kept, "fileType": "diag"}, {"fileId": kept, "fileType": "diag"}]}))
        .await;
    assert_eq!(body["code"], 400, "one file at a time: {body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files WHERE id = ?", kept).await, 1);
    app.finish().await;
}

/// GETs `path` and returns the status, the headers and the body, read as it streams in.
async fn fetch(client: &Client, path: &str, query: &[(&str, String)]) -> (u16, reqwest::header::HeaderMap, Vec<u8>, usize) {
    let response = client.request(Method::GET, path).query(query).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let mut stream = response.bytes_stream();
    let (mut body, mut chunks) = (Vec::new(), 0);
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    (status, headers, body, chunks)
}

fn q(file_id: u64, file_type: &str) -> Vec<(&'static str, String)> {
    vec![("fileId", file_id.to_string()), ("fileType", file_type.to_owned())]
}

#[tokio::test]
async fn a_download_streams_the_stored_gzip_as_it_is_to_members_only() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let stranger = app.user("stranger@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    app.team_app("theirs", stranger.id, None, None).await;
    let profile = gzip(&noise(3 << 20, 7));
    let object = "u-0c1e9f5a-6b3d-4c41-9d1e-2f0a8b7c6d5e-u-x-cpuprofile-1-20261125-1.cpuprofile";
    put_object(&app, object, &profile);
    let file = file_row(&app, id, "cpuprofile", "/logs/x-cpuprofile-1-20261125-1.cpuprofile", 3, object, owner.id, 0).await;
    let (core_gz, node_gz) = (gzip(b"core bytes"), gzip(&noise(100_000, 3)));
    put_object(&app, "u-2-u-core.1", &core_gz);
    put_object(&app, "u-3-u-node-v20.20.2", &node_gz);
    let core = core_row(&app, id, "vm", NODE_JSON, 3, ("u-2-u-core.1", "u-3-u-node-v20.20.2"), owner.id, 0).await;
    let pending = file_row(&app, id, "heapsnapshot", "/logs/x.heapsnapshot", 1, "", owner.id, 0).await;
    let client = app.sign_in("owner@example.com", PASSWORD).await;

    let (status, headers, body, chunks) = fetch(&client, "/file/download", &q(file, "cpuprofile")).await;
    assert_eq!(status, 200);
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(header("content-type"), "application/octet-stream");
    assert_eq!(header("content-encoding"), "gzip");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"x-cpuprofile-1-20261125-1.cpuprofile\"; filename*=UTF-8''x-cpuprofile-1-20261125-1.cpuprofile"
    );
    assert_eq!(header("content-length"), profile.len().to_string());
    assert!(body == profile, "the stored gzip byte for byte ({} bytes, {} expected)", body.len(), profile.len());
    assert!(chunks > 1, "streamed, not sent in one piece");

    let (_, headers, body, _) = fetch(&client, "/file/download", &q(core, "executable")).await;
    assert_eq!(body, node_gz, "executable: the core's node binary");
    assert!(headers["content-disposition"].to_str().unwrap().contains("filename=\"node-v20.20.2\""), "{headers:?}");
    let (_, _, body, _) = fetch(&client, "/file/download", &q(core, "core")).await;
    assert_eq!(gunzip(&body), b"core bytes");

    let (status, headers, body, _) = fetch(&client, "/file/download", &q(pending, "heapsnapshot")).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body), (200, json!({"ok": false, "message": "文件尚未转储", "reason": "notTransferred"})), "{headers:?}");
    let (_, _, body, _) = fetch(&client, "/file/download", &q(file, "heapsnapshot")).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], 404, "the type is part of the file's name");

    // Another app's member gets nothing of it.
    let theirs = app.sign_in("stranger@example.com", PASSWORD).await;
    let (_, headers, body, _) = fetch(&theirs, "/file/download", &q(file, "cpuprofile")).await;
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("a refusal, not the file: {headers:?}"));
    assert_eq!(body["code"], 403, "{body}");
    let mut theirs = theirs;
    let (_, body) = theirs.call(Method::POST, "/xapi/file_status", json!({"files": [{"fileId": file, "fileType": "cpuprofile", "index": 0}]})).await;
    assert_eq!(body["code"], 403, "{body}");
    std::fs::remove_file(app.console.storage.join(object)).unwrap();
    let (_, _, body, _) = fetch(&client, "/file/download", &q(file, "cpuprofile")).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], 404, "the object is gone from storage");
    app.finish().await;
}

/// Posts a browser upload of `parts` (file name, bytes).
async fn upload(client: &Client, app_id: u64, file_type: &str, parts: Vec<(&str, Vec<u8>)>) -> Value {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in parts {
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    }
    let path = format!("/xapi/upload_file?appId={app_id}&fileType={file_type}");
    client.request(Method::POST, &path).multipart(form).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn browser_uploads_are_stored_gzip_and_recorded_as_transferred() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;

    let profile = serde_json::to_vec(&json!({"nodes": [{"id": 1}], "samples": noise(600_000, 5)})).unwrap();
    let body = upload(&client, id, "cpuprofile", vec![("my profile.cpuprofile", profile.clone())]).await;
    assert_eq!(body, json!({"ok": true, "data": {"file": "my profile.cpuprofile"}}));
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    let (file_id, agent, file, status, storage): (u64, String, String, u8, String) =
        conn.exec_first("SELECT id, agent, file, status, storage FROM files WHERE app = ? AND type = 'cpuprofile'", (id,)).await.unwrap().unwrap();
    assert_eq!((agent.as_str(), file.as_str(), status), ("upload", "my profile.cpuprofile", 3));
    assert!(storage.starts_with("u-") && storage.ends_with("-u-my_profile.cpuprofile"), "{storage}");
    let stored = std::fs::read(app.console.storage.join(&storage)).unwrap();
    assert_eq!(stored[..2], [0x1f, 0x8b], "stored as gzip");
    assert_eq!(gunzip(&stored), profile);
    let (_, _, body, _) = fetch(&client, "/file/download", &q(file_id, "cpuprofile")).await;
    assert_eq!(gunzip(&body), profile, "downloaded back");

    let executable = noise(300_000, 9);
    let body = upload(&client, id, "core", vec![("app.core", b"core dump".to_vec()), ("node-v20.node", executable.clone())]).await;
    assert_eq!(body["data"]["file"], "app.core", "{body}");
    type CoreRow = (u64, String, String, String, u8, u8, String, String);
    let (core_id, agent, file, node, file_status, node_status, file_storage, node_storage): CoreRow = conn
        .exec_first("SELECT id, agent, file, node, file_status, node_status, file_storage, node_storage FROM coredumps WHERE app = ?", (id,))
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!((agent.as_str(), file.as_str(), node.as_str(), file_status, node_status), ("upload", "app.core", "node-v20.node", 3, 3));
    assert!(file_storage.ends_with("-u-app.core") && node_storage.ends_with("-u-node-v20.node"), "{file_storage} {node_storage}");
    let (_, _, body, _) = fetch(&client, "/file/download", &q(core_id, "executable")).await;
    assert_eq!(gunzip(&body), executable);
    let (_, body) = client.get("/xapi/files", json!({"appId": id, "filterType": "all", "currentPage": 1, "pageSize": 10})).await;
    assert_eq!(body["data"]["count"], 2, "{body}");
    assert_eq!(body["data"]["list"][0]["agent"], "upload");
    app.finish().await;
}

#[tokio::test]
async fn refused_uploads_keep_nothing() {
    let app = TestApp::start_with(&[("EZM__CONSOLE__MAX_UPLOAD_BYTES", "65536")]).await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let client = app.sign_in("owner@example.com", PASSWORD).await;
    let small = || b"{}".to_vec();
    /// (file type, parts (name, bytes), expected message)
    type Case = (&'static str, Vec<(&'static str, Vec<u8>)>, &'static str);
    let cases: Vec<Case> = vec![
        ("cpuprofile", vec![("../x.cpuprofile", small())], "文件名不合法"),
        ("cpuprofile", vec![("..\\..\\x.cpuprofile", small())], "文件名不合法"),
        ("cpuprofile", vec![("/etc/cron.d/x.cpuprofile", small())], "文件名不合法"),
        ("cpuprofile", vec![(".hidden.cpuprofile", small())], "文件名不合法"),
        ("cpuprofile", vec![("x.txt", small())], "扩展名"),
        ("cpuprofile", vec![("x.heapsnapshot", small())], "扩展名"),
        ("cpuprofile", vec![("x.cpuprofile.gz", small())], "扩展名"),
        ("exe", vec![("x.exe", small())], "不支持的文件类型"),
        ("core", vec![("a.core", small())], "请上传 2 个文件"),
        ("core", vec![("a.node", small()), ("a.core", small())], "扩展名"),
        ("cpuprofile", vec![("a.cpuprofile", small()), ("b.cpuprofile", small())], "请上传 1 个文件"),
        ("cpuprofile", vec![("empty.cpuprofile", Vec::new())], "为空"),
        ("cpuprofile", vec![("big.cpuprofile", noise(200_000, 1))], "上限"),
        ("core", vec![("a.core", small()), ("a.node", noise(200_000, 2))], "上限"),
    ];
    for (file_type, parts, expected) in cases {
        let names: Vec<String> = parts.iter().map(|(n, _)| n.to_string()).collect();
        let body = upload(&client, id, file_type, parts).await;
        assert_eq!(body["ok"], false, "{file_type} {names:?}: {body}");
        assert!(message(&body).contains(expected), "{file_type} {names:?}: {body}");
    }
    // Without a length announced, the limit holds while the body streams in.
    let chunks = (0..8).map(|i| Ok::<_, std::io::Error>(noise(16_384, i)));
    let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))).file_name("streamed.cpuprofile");
    let form = reqwest::multipart::Form::new().part("file", part);
    let request = client.request(Method::POST, &format!("/xapi/upload_file?appId={id}&fileType=cpuprofile")).multipart(form);
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(message(&body).contains("上限"), "{body}");
    let body = upload(&client, id, "cpuprofile", vec![("ok.cpuprofile", small())]).await;
    assert_eq!(body["ok"], true, "an upload within the limit passes: {body}");

    assert_eq!(app.console.stored().len(), 1, "only the accepted upload is stored, no partial file is left");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files WHERE app = ?", id).await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM coredumps WHERE app = ?", id).await, 0);
    let outside = app.console.storage.parent().unwrap().join("x.cpuprofile");
    assert!(!outside.exists(), "nothing written outside the storage directory");
    app.finish().await;
}

#[tokio::test]
async fn the_launchers_redirect_to_the_bundled_viewers() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let object = "u-1-u-x-cpuprofile-1-20261125-1.cpuprofile";
    let file = file_row(&app, id, "cpuprofile", "/logs/x-cpuprofile-1-20261125-1.cpuprofile", 3, object, owner.id, 0).await;
    let pending = file_row(&app, id, "cpuprofile", "/logs/x-cpuprofile-1-20261125-2.cpuprofile", 1, "", owner.id, 0).await;
    let client = app.sign_in("owner@example.com", PASSWORD).await;
    let redirect = |path: &'static str, query: Vec<(&'static str, String)>| {
        let request = client.request(Method::GET, path).query(&query);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (status, location, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let with = |id: u64, extra: (&'static str, &str)| {
        let mut query = q(id, "cpuprofile");
        query.push(("fileName", "/logs/ignored.cpuprofile".into()));
        query.push((extra.0, extra.1.to_owned()));
        query
    };
    let (status, location, _) = redirect("/dashboard/devtools-new", with(file, ("selectedTab", "js_profiler"))).await;
    assert_eq!(status, 302);
    let analysis = format!("/app/{id}/file/cpuprofile/{file}");
    assert_eq!(location, analysis, "our analysis page: DevTools is not shipped");
    let (status, location, _) = redirect("/dashboard/devtools-old", with(file, ("selectedTab", "js_profiler"))).await;
    assert_eq!((status, location), (302, analysis));
    let (status, location, _) = redirect("/dashboard/speedscope", with(file, ("downloadPath", "/file/download"))).await;
    assert_eq!(status, 302);
    assert_eq!(
        location,
        format!("/speedscope/index.html#profileURL=%2Ffile%2Fdownload%3FfileType%3Dcpuprofile%26fileId%3D{file}%26name%3Dx-cpuprofile-1-20261125-1.cpuprofile&title=x-cpuprofile-1-20261125-1.cpuprofile")
    );
    let (status, _, body) = redirect("/dashboard/speedscope", with(file, ("downloadPath", "https://evil.example/x"))).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(400)), "{body}");
    let (status, _, body) = redirect("/dashboard/devtools-new", with(pending, ("selectedTab", "js_profiler"))).await;
    assert_eq!((status, body), (200, json!({"ok": false, "message": "文件未转储", "reason": "notTransferredViewer"})));
    app.finish().await;
}

#[tokio::test]
async fn the_launchers_open_the_viewers_the_served_front_end_ships() {
    let bundle = crate::ui::original_bundle();
    let app = TestApp::start_with(&[("EZM__CONSOLE__UI_DIR", bundle.to_str().unwrap())]).await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let object = "u-1-u-x-cpuprofile-1-20261125-1.cpuprofile";
    let file = file_row(&app, id, "cpuprofile", "/logs/x-cpuprofile-1-20261125-1.cpuprofile", 3, object, owner.id, 0).await;
    let client = app.sign_in("owner@example.com", PASSWORD).await;
    let location = |path: &'static str, extra: (&'static str, &'static str)| {
        let mut query = q(file, "cpuprofile");
        query.push(("fileName", "/logs/x-cpuprofile-1-20261125-1.cpuprofile".into()));
        query.push((extra.0, extra.1.to_owned()));
        let request = client.request(Method::GET, path).query(&query);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 302, "{path}");
            response.headers().get("location").unwrap().to_str().unwrap().to_owned()
        }
    };
    let name = "x-cpuprofile-1-20261125-1.cpuprofile";
    for (path, version) in [("/dashboard/devtools-new", "new"), ("/dashboard/devtools-old", "old")] {
        assert_eq!(
            location(path, ("selectedTab", "js_profiler")).await,
            format!("/public/devtools/{version}/devtools_app.html?fileId={file}&fileType=cpuprofile&fileName={name}&selectedTab=js_profiler"),
            "the bundle's own DevTools"
        );
    }
    assert_eq!(
        location("/dashboard/speedscope", ("downloadPath", "/file/download")).await,
        format!("/public/speedscope/flamegraph.html#profileURL=%252Ffile%252Fdownload%253FfileType%253Dcpuprofile%2526fileId%253D{file}&title={name}"),
        "the bundle's own speedscope"
    );
    for target in [format!("/public/devtools/new/devtools_app.html?fileId={file}"), "/public/speedscope/flamegraph.html".to_owned()] {
        let response = client.request(Method::GET, &target).send().await.unwrap();
        assert_eq!(response.status(), 200, "the launcher lands on a page the console serves: {target}");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_status_machine_follows_the_windows_without_an_agent() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let fresh_cpu = file_row(&app, id, "cpuprofile", "/l/a.cpuprofile", 0, "", owner.id, 0).await;
    let waiting_cpu = file_row(&app, id, "cpuprofile", "/l/b.cpuprofile", 0, "", owner.id, 5).await;
    let expired_cpu = file_row(&app, id, "cpuprofile", "/l/c.cpuprofile", 0, "", owner.id, 9).await;
    let waiting_snapshot = file_row(&app, id, "heapsnapshot", "/l/d.heapsnapshot", 0, "", owner.id, 2).await;
    let expired_snapshot = file_row(&app, id, "heapsnapshot", "/l/e.heapsnapshot", 0, "", owner.id, 6).await;
    let created = file_row(&app, id, "diag", "/l/f.diag", 1, "", owner.id, 60).await;
    let core = core_row(&app, id, "vm", NODE_JSON, 1, ("", ""), owner.id, 60).await;
    // A transfer a console left unfinished half an hour ago, of a file with an earlier copy in storage.
    let stuck = file_row(&app, id, "diag", "/l/g.diag", 2, "u-1-u-g.diag", owner.id, 60).await;
    let mut conn = app.env.console_db().get_conn().await.unwrap();
    conn.exec_drop("UPDATE files SET token = 'abc', gm_modified = NOW() - INTERVAL 30 MINUTE WHERE id = ?", (stuck,)).await.unwrap();
    let running = file_row(&app, id, "diag", "/l/h.diag", 2, "", owner.id, 60).await;
    drop(conn);
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let rows = [
        (fresh_cpu, "cpuprofile", 0),
        (waiting_cpu, "cpuprofile", 0),
        (expired_cpu, "cpuprofile", 99),
        (waiting_snapshot, "heapsnapshot", 0),
        (expired_snapshot, "heapsnapshot", 99),
        (created, "diag", 1),
        (core, "core", 1),
        (stuck, "diag", 3),
        (running, "diag", 2),
    ];
    let files: Vec<Value> = rows.iter().enumerate().map(|(i, (id, t, _))| json!({"fileId": id, "fileType": t, "status": 0, "index": i})).collect();
    let (_, body) = client.call(Method::POST, "/xapi/file_status", json!({"files": files})).await;
    let list = body["data"]["list"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(list.len(), rows.len());
    for (i, (file_id, file_type, expected)) in rows.iter().enumerate() {
        assert_eq!(list[i], json!({"fileId": file_id, "fileType": file_type, "status": expected, "index": i}), "row {i}");
    }
    let status = |id| count(&app, "SELECT status FROM files WHERE id = ?", id);
    assert_eq!((status(expired_cpu).await, status(expired_snapshot).await), (99, 99), "written to the row");
    assert_eq!((status(waiting_cpu).await, status(stuck).await), (0, 3));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files WHERE id = ? AND token = ''", stuck).await, 1, "the stale token is dropped");

    let (_, body) = client.call(Method::POST, "/xapi/file_status", json!({"files": []})).await;
    assert_eq!(body["code"], 400, "{body}");
    let (_, body) = client.call(Method::POST, "/xapi/file_status", json!({"files": [{"fileId": 999_999, "fileType": "diag", "index": 0}]})).await;
    assert_eq!(body["code"], 404, "{body}");
    app.finish().await;
}

#[tokio::test]
async fn a_transfer_without_the_agent_puts_the_status_back() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let created = file_row(&app, id, "cpuprofile", "/l/a.cpuprofile", 1, "", owner.id, 10).await;
    let copied = file_row(&app, id, "heapsnapshot", "/l/b.heapsnapshot", 3, "u-1-u-b.heapsnapshot", owner.id, 10).await;
    let creating = file_row(&app, id, "diag", "/l/c.diag", 0, "", owner.id, 0).await;
    let core = core_row(&app, id, "vm", NODE_JSON, 1, ("", ""), owner.id, 10).await;
    let uploaded = core_row(&app, id, "upload", "x.node", 3, ("u-2-u-a.core", "u-3-u-x.node"), owner.id, 10).await;
    let trend = file_row(&app, id, "trend", "x.trend", 3, "u-4-u-x.trend", owner.id, 10).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let transfer = |id: u64, t: &str| json!({"fileId": id, "fileType": t});

    let (_, body) = client.call(Method::POST, "/xapi/file_transfer", transfer(created, "cpuprofile")).await;
    assert_eq!(body["ok"], false, "{body}");
    assert!(message(&body).contains("not connected"), "the manager's reason is passed on: {body}");
    assert_eq!((&body["code"], &body["reason"]), (&json!("XPROFILER_NO_CLIENT"), &json!("agentOffline")), "the original's code: {body}");
    assert_eq!(count(&app, "SELECT status FROM files WHERE id = ? AND token = ''", created).await, 1, "back to created");
    let (_, body) = client.call(Method::POST, "/xapi/file_transfer", transfer(copied, "heapsnapshot")).await;
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(count(&app, "SELECT status FROM files WHERE id = ?", copied).await, 3, "back to transferred: the old copy stays");
    let (_, body) = client.call(Method::POST, "/xapi/file_transfer", transfer(core, "core")).await;
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(count(&app, "SELECT file_status + node_status FROM coredumps WHERE id = ?", core).await, 2);
    for (file_id, file_type, expected) in [(creating, "diag", "尚未生成"), (uploaded, "core", "上传的文件"), (trend, "trend", "趋势数据")] {
        let (_, body) = client.call(Method::POST, "/xapi/file_transfer", transfer(file_id, file_type)).await;
        assert!(message(&body).contains(expected), "{file_type}: {body}");
    }
    assert_eq!(count(&app, "SELECT status FROM files WHERE id = ?", creating).await, 0);
    app.finish().await;
}

#[tokio::test]
async fn actions_need_the_agent_and_a_known_action() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let action = |action: &str, status: u8, extra: Value| {
        let mut body = json!({"appId": id, "agentId": "vm", "pid": 4242, "action": action, "status": status});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let (_, body) = client.call(Method::POST, "/xapi/action", action("cpuprofile", 0, json!({}))).await;
    assert!(message(&body).contains("not connected"), "{body}");
    let (_, body) = client.call(Method::POST, "/xapi/action", action("flamegraph", 0, json!({}))).await;
    assert_eq!(message(&body), "不支持的操作: flamegraph");
    let (_, body) = client.call(Method::POST, "/xapi/action", action("heapsnapshot", 1, json!({}))).await;
    assert_eq!(message(&body), "heapsnapshot 不支持结束操作");
    let (_, body) = client.call(Method::POST, "/xapi/action", action("cpuprofile", 0, json!({"profilingTime": 10}))).await;
    assert_eq!(body["code"], 400, "{body}");
    let (_, body) = client.call(Method::POST, "/xapi/action", action("cpuprofile", 0, json!({"pid": "1; rm"}))).await;
    assert_eq!(body["code"], 400, "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files WHERE app = ?", id).await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_saved_trend_is_gzip_json_of_the_nine_charts() {
    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let mut conn = app.env.logs_db().get_conn().await.unwrap();
    let now = Local::now().naive_local();
    for minutes_ago in [1i64, 2, 3, 30] {
        let t = now - TimeDelta::minutes(minutes_ago);
        let (day, text) = (t.format("%d").to_string(), t.format("%Y-%m-%d %H:%M:%S").to_string());
        conn.exec_drop(
            format!("INSERT INTO process_{day} (app, agent, pid, log_time, version, cpu_60, heap_used, heap_limit, uptime) VALUES (?, 'vm', 42, ?, '3.1.0', 12.5, 100, 1000, 60)"),
            (id, &text),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let mut client = app.sign_in("owner@example.com", PASSWORD).await;
    let (_, body) = client.call(Method::POST, "/xapi/process_trend", json!({"appId": id, "agentId": "vm", "pid": "42"})).await;
    let file = body["data"]["file"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let day = Local::now().format("%Y%m%d").to_string();
    assert!(file.starts_with(&format!("x-process-snapshot-42-{day}-")) && file.ends_with(".trend"), "{file}");
    let (_, body) = client.get("/xapi/files", json!({"appId": id, "filterType": "trend", "currentPage": 1, "pageSize": 10})).await;
    let row = body["data"]["list"][0].clone();
    assert_eq!((row["file"].as_str(), row["status"].as_u64(), row["agent"].as_str()), (Some(file.as_str()), Some(3), Some("vm")), "{body}");
    let (_, headers, body, _) = fetch(&client, "/file/download", &q(row["fileId"].as_u64().unwrap(), "trend")).await;
    assert!(headers["content-disposition"].to_str().unwrap().contains(&file), "{headers:?}");
    let trends: Value = serde_json::from_slice(&gunzip(&body)).unwrap();
    let names: Vec<&str> = trends.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["heapTrend", "cpuTrend", "heapSpaceTrend", "gcTrend", "uvTrend", "qpsTrend", "timerTrend", "tcpTrend", "udpTrend"]);
    assert_eq!(trends["heapTrend"]["limit"], 1000);
    assert_eq!(trends["cpuTrend"]["list"].as_array().unwrap().len(), 720);
    assert!(trends["cpuTrend"]["list"].as_array().unwrap().iter().any(|p| p["cpu_60"].as_f64().is_some()));
    app.finish().await;
}

/// Every page of every filter, one call after the other as the console makes them (the hint carried along), against
/// the same list read whole by offset, with a seek point every 4 rows used from 2 rows deep: ties on `gm_create`
/// within and across the tables, rows without a `gm_create` at the end, and the list changed between passes.
#[tokio::test]
async fn deep_pages_start_at_seek_points_and_follow_changes() {
    use std::sync::Arc;
    use store::console_db::files::{self, ListFilter, ListHint, Seeking};

    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let other = app.team_app("other", owner.id, None, None).await;
    let pool = app.env.console_db();
    let mut conn = pool.get_conn().await.unwrap();
    let at = "TIMESTAMP '2026-11-01 00:00:00' + INTERVAL ? MINUTE";
    for n in 0..40u64 {
        let kind = if n % 3 == 0 { "cpuprofile" } else { "heapsnapshot" };
        conn.exec_drop(
            format!("INSERT INTO files (app, agent, type, file, user, status, favor, gm_create) VALUES (?, 'vm', ?, ?, ?, 3, ?, {at})"),
            (id, kind, format!("/f/{n}"), owner.id, u8::from(n % 4 == 0), n % 17),
        )
        .await
        .unwrap();
    }
    for n in 0..15u64 {
        conn.exec_drop(
            format!(
                "INSERT INTO coredumps (app, agent, file, node, user, file_status, node_status, favor, gm_create) VALUES (?, 'vm', ?, '', ?, 3, 3, ?, {at})"
            ),
            (id, format!("/c/{n}"), owner.id, u8::from(n % 4 == 1), n % 11),
        )
        .await
        .unwrap();
    }
    // More undated rows at the end of `all` than points are apart: a page there is read from the last point.
    for n in 0..7 {
        conn.exec_drop(
            "INSERT INTO files (app, agent, type, file, user, status, favor, gm_create) VALUES (?, 'vm', 'cpuprofile', ?, ?, 3, ?, NULL)",
            (id, format!("/f/none-{n}"), owner.id, u8::from(n == 0)),
        )
        .await
        .unwrap();
    }
    for n in 0..2 {
        conn.exec_drop(
            "INSERT INTO coredumps (app, agent, file, node, user, gm_create) VALUES (?, 'vm', ?, '', ?, NULL)",
            (id, format!("/c/none-{n}"), owner.id),
        )
        .await
        .unwrap();
    }
    conn.exec_drop("INSERT INTO files (app, agent, type, file, user, status) VALUES (?, 'vm', 'cpuprofile', '/elsewhere', ?, 3)", (other, owner.id))
        .await
        .unwrap();

    let filters = [ListFilter::All, ListFilter::Favor, ListFilter::Core, ListFilter::Type("cpuprofile".into())];
    let seeking = Seeking { from: 2, every: 4 };
    let key = |r: &files::Listed| (r.source == files::Source::Core, r.id);
    let mut hints: Vec<ListHint> = vec![ListHint::default(); filters.len()];
    let check = async |pass: &str, hints: &mut Vec<ListHint>| {
        for (filter, hint) in filters.iter().zip(hints.iter_mut()) {
            let whole = files::page(&pool, id, filter, 0, 1000, ListHint::default(), Seeking { from: u64::MAX, every: 1 }).await.unwrap();
            let expected: Vec<_> = whole.rows.iter().map(key).collect();
            assert_eq!(whole.count as usize, expected.len());
            let mut seen_deep = false;
            for offset in 0..=whole.count + 1 {
                let page = files::page(&pool, id, filter, offset, 3, hint.clone(), seeking).await.unwrap();
                let got: Vec<_> = page.rows.iter().map(key).collect();
                let want = expected.iter().skip(offset as usize).take(3).copied().collect::<Vec<_>>();
                assert_eq!((page.count, got), (whole.count, want), "{pass}: {filter:?} at {offset}");
                assert_eq!(page.rows, whole.rows.iter().skip(offset as usize).take(3).cloned().collect::<Vec<_>>());
                let deep = offset < whole.count && offset.min(whole.count.saturating_sub(offset + 3)) >= 2;
                if deep {
                    let after = page.hint.seeks.clone().expect("a deep page keeps seek points");
                    // Only the pass's first deep page may take new points (the list changed before it).
                    match (hint.seeks.as_ref(), seen_deep) {
                        (Some(before), true) => assert!(Arc::ptr_eq(before, &after), "{pass}: {filter:?} at {offset}: same list, same points"),
                        (Some(before), false) if pass == "again" => assert!(Arc::ptr_eq(before, &after), "{pass}: {filter:?}"),
                        _ => {}
                    }
                    seen_deep = true;
                }
                *hint = page.hint;
            }
        }
    };
    check("first", &mut hints).await;
    check("again", &mut hints).await;
    // Files arriving (and the newest going) move the points down; any other change takes them again. Some changes
    // leave the count of a list as it was.
    let mut conn = pool.get_conn().await.unwrap();
    let arrive = |name: &str| format!("INSERT INTO files (app, agent, type, file, user, status, favor) VALUES ({id}, 'vm', 'cpuprofile', '{name}', 1, 3, 1)");
    for (change, above) in
        [(vec![arrive("/f/new-1")], 1), (vec![arrive("/f/new-2"), arrive("/f/new-3"), format!("DELETE FROM files WHERE app = {id} AND file = '/f/new-3'")], 2)]
    {
        for sql in change {
            conn.query_drop(sql).await.unwrap();
        }
        check("changed", &mut hints).await;
        let moved = |hint: &ListHint| hint.seeks.as_ref().map(|s| s.rows_above());
        assert_eq!(hints.iter().map(moved).collect::<Vec<_>>(), [Some(above), Some(above), Some(0), Some(above)]);
    }
    // Every other change below the first point takes `all`'s points again (the favourites' toggle leaves `all` as
    // it was).
    let changes = [
        (format!("DELETE FROM files WHERE app = {id} AND file = '/f/20'"), true),
        (format!("UPDATE files SET gm_create = NOW() WHERE app = {id} AND file = '/f/33'"), true),
        (format!("UPDATE coredumps SET gm_create = TIMESTAMP '2026-11-01 00:00:00' WHERE app = {id} AND file = '/c/7'"), true),
        (format!("UPDATE files SET favor = 1 - favor WHERE app = {id} AND file IN ('/f/8', '/f/9')"), false),
        (format!("DELETE FROM coredumps WHERE app = {id} AND file = '/c/3'"), true),
        // Two rows of the same date renewed at once (`insert_action` does this): no XOR of dates would see it.
        (format!("UPDATE files SET gm_create = NOW() + INTERVAL 1 DAY WHERE app = {id} AND file IN ('/f/0', '/f/17')"), true),
    ];
    for (change, retaken) in changes {
        let before = hints[0].seeks.clone().unwrap();
        conn.query_drop(&change).await.unwrap();
        check("changed", &mut hints).await;
        let after = hints[0].seeks.clone().unwrap();
        assert_eq!((!Arc::ptr_eq(&before, &after), after.rows_above()), (retaken, 0), "{change}");
    }
    drop(conn);
    app.finish().await;
}

/// The console takes a long list's seek points in the background after its first page (`FileHints::take_points`):
/// the first deep page then reads from them, and a hint kept without points meanwhile does not drop them. After a
/// deletion (`FileHints::retake_points`) they are taken again the same way.
#[actix_web::test]
async fn seek_points_taken_in_the_background_serve_the_first_deep_page() {
    use std::sync::Arc;
    use store::console_db::files::{self, ListFilter, ListHint, Seeking};

    let app = TestApp::start().await;
    let owner = app.user("owner@example.com").await;
    let id = app.team_app("shop", owner.id, None, None).await;
    let pool = app.env.console_db();
    let mut conn = pool.get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO files (app, agent, type, file, user, status, gm_create) \
         SELECT ?, 'vm', 'cpuprofile', CONCAT('/f/', seq), ?, 3, TIMESTAMP '2026-11-01 00:00:00' + INTERVAL seq MINUTE FROM seq_1_to_60",
        (id, owner.id),
    )
    .await
    .unwrap();
    let seeking = Seeking { from: 10, every: 8 };
    assert!(files::has_deep_pages(60, seeking) && !files::has_deep_pages(19, seeking));
    let hints = console::cache::FileHints::default();
    hints.take_points(pool.clone(), id, ListFilter::All, seeking);
    // another request meanwhile keeps the hint of a page given no points, that took none
    hints.keep_page(id, ListFilter::All, None, ListHint { count: Some(60), seeks: None }).await;
    eventually(5, "the points taken in the background", || async { hints.get(id, &ListFilter::All).await.seeks.is_some() }).await;
    let taken = hints.get(id, &ListFilter::All).await.seeks.expect("the points were taken in the background");
    assert_eq!(taken.list_count(), 60);
    let without = hints.keep_page(id, ListFilter::All, None, ListHint { count: Some(60), seeks: None }).await;
    let kept = hints.get(id, &ListFilter::All).await;
    assert!(!without && kept.seeks.as_ref().is_some_and(|s| Arc::ptr_eq(s, &taken)), "a page without points leaves the points kept");
    let whole = files::page(&pool, id, &ListFilter::All, 0, 100, ListHint::default(), Seeking { from: u64::MAX, every: 1 }).await.unwrap();
    let deep = files::page(&pool, id, &ListFilter::All, 30, 5, kept, seeking).await.unwrap();
    assert_eq!(deep.rows, whole.rows[30..35].to_vec());
    assert!(deep.hint.seeks.is_some_and(|s| Arc::ptr_eq(&s, &taken)), "the deep page read from the points taken before");
    // a row deleted below the first point: the kept points are taken again, and the deep page reads from those
    conn.exec_drop("DELETE FROM files WHERE app = ? AND file = '/f/20'", (id,)).await.unwrap();
    hints.retake_points(&pool, id, Some(&ListFilter::Favor), seeking);
    hints.retake_points(&pool, id, None, seeking);
    let retaken_now = || async { hints.get(id, &ListFilter::All).await.seeks.filter(|s| !Arc::ptr_eq(s, &taken)) };
    eventually(5, "the points taken again", || async { retaken_now().await.is_some() }).await;
    let retaken = retaken_now().await.expect("the points were taken again");
    assert_eq!(retaken.list_count(), 59);
    // a page that was given the old points and passed them on leaves the newer ones kept; one that dropped them drops them
    hints.keep_page(id, ListFilter::All, Some(taken.clone()), ListHint { count: Some(59), seeks: Some(taken.clone()) }).await;
    assert!(hints.get(id, &ListFilter::All).await.seeks.is_some_and(|s| Arc::ptr_eq(&s, &retaken)), "passed on: the newer stay");
    let without = hints.keep_page(id, ListFilter::All, Some(retaken.clone()), ListHint { count: Some(59), seeks: None }).await;
    assert!(!without && hints.get(id, &ListFilter::All).await.seeks.is_none(), "dropped: none kept, and none to take");
    hints.keep_page(id, ListFilter::All, None, ListHint { count: Some(59), seeks: Some(retaken.clone()) }).await;
    let whole = files::page(&pool, id, &ListFilter::All, 0, 100, ListHint::default(), Seeking { from: u64::MAX, every: 1 }).await.unwrap();
    let deep = files::page(&pool, id, &ListFilter::All, 30, 5, hints.get(id, &ListFilter::All).await, seeking).await.unwrap();
    assert_eq!(deep.rows, whole.rows[30..35].to_vec());
    assert!(deep.hint.seeks.is_some_and(|s| Arc::ptr_eq(&s, &retaken)), "the deep page read from the points taken again");
    drop(conn);
    app.finish().await;
}

#[tokio::test]
async fn an_original_database_gets_the_files_page_index() {
    let app = TestApp::start().await;
    let pool = app.env.console_db();
    let indexed = |table: &'static str| {
        let pool = pool.clone();
        async move {
            let mut conn = pool.get_conn().await.unwrap();
            let sql = "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
                       AND INDEX_NAME = 'app_gm_create'";
            conn.exec_first::<u64, _, _>(sql, (table,)).await.unwrap().unwrap_or(0)
        }
    };
    assert_eq!((indexed("files").await, indexed("coredumps").await), (2, 2), "new databases have it");
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop("ALTER TABLE files DROP INDEX app_gm_create").await.unwrap();
    conn.query_drop("ALTER TABLE coredumps DROP INDEX app_gm_create").await.unwrap();
    drop(conn);
    store::schema::ensure_console(&pool).await.unwrap();
    assert_eq!((indexed("files").await, indexed("coredumps").await), (2, 2), "put back where it was missing");
    store::schema::ensure_console(&pool).await.unwrap();
    assert_eq!(indexed("files").await, 2, "idempotent");
    app.finish().await;
}
