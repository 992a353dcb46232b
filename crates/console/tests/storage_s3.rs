//! The S3 storage backend against a real S3-compatible server: moto (`moto_server`, installed by
//! `tests/s3/install-moto.sh`), started by each test on a free loopback port and killed when the test ends, also on
//! a panic. Streaming both ways, invisibility of uncommitted objects, names, and the agents' upload route end to end
//! with `console.storage_backend = s3`.

use std::collections::HashMap;

use common::testing::{eventually, TestEnv};
use common::Settings;
use console::clients::storage::Storage;
use console::testing::Moto;
use futures_util::TryStreamExt;
use mysql_async::prelude::Queryable;
use protocol::sign::upload_signature;
use serde_json::Value;

/// Settings without databases (the storage alone needs none), with `overrides` as `EZM__…` variables.
fn settings(overrides: &[(&str, &str)]) -> Settings {
    let env: HashMap<String, String> = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::load(&env).expect("test settings are valid")
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + i / 4096) % 251) as u8).collect()
}

async fn read_all(storage: &Storage, name: &str) -> (Option<u64>, usize, Vec<u8>) {
    let reader = storage.read(name).await.unwrap();
    let chunks: Vec<bytes::Bytes> = reader.chunks.try_collect().await.unwrap();
    (reader.size, chunks.len(), chunks.concat())
}

#[tokio::test]
async fn s3_objects_stream_both_ways_and_appear_only_when_committed() {
    let moto = Moto::start();
    moto.create_bucket("ezm-profiles").await;
    let storage = Storage::from_settings(&settings(&moto.overrides("ezm-profiles", "")).console).await.unwrap();
    let described = storage.describe();
    assert!(described.contains("ezm-profiles") && described.contains(&moto.endpoint), "{described}");
    assert!(!described.contains("test"), "no credential in the description: {described}");

    // 20 MiB in 64 KiB writes (a multipart upload of 5 MiB parts), byte-identical when read back in chunks
    let big = data(20 * 1024 * 1024);
    let name = Storage::new_name("/tmp/x.heapsnapshot");
    let mut pending = storage.create(&name).await.unwrap();
    for chunk in big.chunks(64 * 1024) {
        pending.write(chunk).await.unwrap();
    }
    assert_eq!(pending.written(), big.len() as u64);
    assert!(!storage.exists(&name).await.unwrap(), "not visible before commit");
    assert_eq!(moto.get(&format!("ezm-profiles/{name}")).await.0, 404, "not visible to any client before commit");
    pending.commit().await.unwrap();
    assert!(storage.exists(&name).await.unwrap());
    let (size, chunks, read) = read_all(&storage, &name).await;
    assert_eq!(size, Some(big.len() as u64));
    assert!(chunks > 1, "streamed in chunks, not one buffer");
    assert!(read == big, "20 MiB read back byte for byte");
    let (status, raw) = moto.get(&format!("ezm-profiles/{name}")).await;
    assert!(status == 200 && raw == big, "stored as one plain object (HTTP {status}, {} bytes)", raw.len());

    // a small object is one PUT at commit
    let small = Storage::new_name("x.cpuprofile");
    let mut pending = storage.create(&small).await.unwrap();
    pending.write(b"{\"nodes\":[]}").await.unwrap();
    pending.commit().await.unwrap();
    assert_eq!(read_all(&storage, &small).await.2, b"{\"nodes\":[]}");

    // dropped before commit, small or after parts were sent: never visible, and the multipart upload is aborted
    let (dropped_small, dropped_big) = (Storage::new_name("a"), Storage::new_name("b"));
    let mut pending = storage.create(&dropped_small).await.unwrap();
    pending.write(b"partial").await.unwrap();
    drop(pending);
    let mut pending = storage.create(&dropped_big).await.unwrap();
    for chunk in big[..12 * 1024 * 1024].chunks(64 * 1024) {
        pending.write(chunk).await.unwrap();
    }
    let uploads = String::from_utf8(moto.get("ezm-profiles?uploads").await.1).unwrap();
    assert!(uploads.contains(&dropped_big), "a multipart upload is under way: {uploads}");
    drop(pending);
    eventually(10, "the dropped multipart upload is aborted", || async {
        !String::from_utf8(moto.get("ezm-profiles?uploads").await.1).unwrap().contains("<UploadId>")
    })
    .await;
    for n in [&dropped_small, &dropped_big] {
        assert!(!storage.exists(n).await.unwrap(), "{n}");
        assert_eq!(moto.get(&format!("ezm-profiles/{n}")).await.0, 404, "{n}");
    }
    let listing = String::from_utf8(moto.get("ezm-profiles?list-type=2").await.1).unwrap();
    assert_eq!(listing.matches("<Key>").count(), 2, "only the two committed objects: {listing}");

    // delete, and a missing object
    storage.delete(&name).await.unwrap();
    assert!(!storage.exists(&name).await.unwrap());
    storage.delete(&name).await.expect("deleting a missing object is fine");
    let missing = storage.read(&name).await.err().expect("a deleted object is not found");
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);

    // bad names, refused before any request
    for bad in ["", ".partial-x", "../x", "a/b", "a\\b", "a\0b"] {
        let refused = [
            storage.create(bad).await.err().map(|e| e.kind()),
            storage.read(bad).await.err().map(|e| e.kind()),
            storage.exists(bad).await.err().map(|e| e.kind()),
            storage.delete(bad).await.err().map(|e| e.kind()),
        ];
        assert_eq!(refused, [Some(std::io::ErrorKind::InvalidInput); 4], "{bad:?}");
    }

    // start-up fails, naming the bucket and the endpoint, when the bucket is not there
    let error = Storage::from_settings(&settings(&moto.overrides("no-such-bucket", "")).console).await.err().unwrap();
    let message = format!("{error:#}");
    assert!(message.contains("no-such-bucket") && message.contains(&moto.endpoint), "{message}");
}

#[tokio::test]
async fn an_agent_upload_goes_to_s3_through_the_console() {
    let moto = Moto::start();
    moto.create_bucket("ezm-console").await;
    let env = TestEnv::new(&moto.overrides("ezm-console", "profiles/")).await;
    let app = console::Application::build(env.settings.clone()).await.expect("console starts with the S3 backend");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped());
    let storage = Storage::from_settings(&env.settings.console).await.unwrap();

    // a previous object the row points at, replaced by the upload
    let mut old = storage.create("u-old-u-previous.cpuprofile").await.unwrap();
    old.write(b"old").await.unwrap();
    old.commit().await.unwrap();
    let mut conn = env.console_db().get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO files (app, agent, type, file, storage, user, status, token) VALUES (1, 'vm', 'cpuprofile', ?, ?, 1, 2, 'tok-s3')",
        ("/tmp/x-cpuprofile-1-20261125-1.cpuprofile", "u-old-u-previous.cpuprofile"),
    )
    .await
    .unwrap();
    let id = conn.last_insert_id().unwrap();

    // a malformed upload (a second part where one is expected) after a first part of 6 MiB, two S3 parts, was
    // sent: refused, nothing visible, the multipart upload aborted, the row untouched
    let body = data(6 * 1024 * 1024 + 12_345);
    let reply = agent_upload(&base, id, "tok-s3", "s3-1", &[("x.cpuprofile", body.clone()), ("extra", b"x".to_vec())]).await;
    assert!(reply["message"].as_str().unwrap_or_default().contains("got more"), "{reply}");
    eventually(10, "the refused upload's multipart upload is aborted", || async {
        !String::from_utf8(moto.get("ezm-console?uploads").await.1).unwrap().contains("<UploadId>")
    })
    .await;
    let listing = String::from_utf8(moto.get("ezm-console?list-type=2").await.1).unwrap();
    assert_eq!(listing.matches("<Key>").count(), 1, "only the previous object: {listing}");

    // what the agent's upload_file child sends: signed query, one gzip multipart part
    let reply = agent_upload(&base, id, "tok-s3", "s3-2", &[("x.cpuprofile", body.clone())]).await;
    assert_eq!(reply["ok"], true, "{reply}");
    let name = reply["data"]["storage"].as_str().unwrap().to_owned();
    assert!(name.starts_with("u-") && name.contains("-u-x-cpuprofile-"), "{name}");

    // in the bucket under the prefix, byte for byte; the row points at it; the previous object is gone
    let (status, raw) = moto.get(&format!("ezm-console/profiles/{name}")).await;
    assert!(status == 200 && raw == body, "stored in S3 byte for byte (HTTP {status}, {} bytes)", raw.len());
    assert_eq!(read_all(&storage, &name).await.2, body);
    let row: (u8, String, String) = conn.exec_first("SELECT status, storage, token FROM files WHERE id = ?", (id,)).await.unwrap().unwrap();
    assert_eq!(row, (3, name.clone(), String::new()), "transferred, token consumed");
    assert!(!storage.exists("u-old-u-previous.cpuprofile").await.unwrap(), "the previous object is deleted");
    let listing = String::from_utf8(moto.get("ezm-console?list-type=2").await.1).unwrap();
    assert_eq!(listing.matches("<Key>").count(), 1, "only the uploaded object: {listing}");
    drop(conn);

    server.abort();
    env.finish().await;
}

/// Posts like the agent's `upload_file` child (reference 4.7): the query signed with the row's token, one multipart
/// part per file. Returns the reply's JSON.
async fn agent_upload(base: &str, id: u64, token: &str, nonce: &str, parts: &[(&str, Vec<u8>)]) -> Value {
    let (file_id, ts) = (id.to_string(), chrono::Utc::now().timestamp_millis().to_string());
    let signature = upload_signature(token, "vm", &file_id, "cpuprofile", nonce, &ts);
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in parts {
        let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(format!("{name}-0123.gz"));
        form = form.part(name.to_string(), part.mime_str("application/gzip").unwrap());
    }
    let query = [("fileId", file_id.as_str()), ("fileType", "cpuprofile"), ("nonce", nonce), ("timestamp", &ts), ("signature", &signature)];
    let r = reqwest::Client::new().post(format!("{base}/xapi/upload_from_xtransit")).query(&query).multipart(form);
    r.send().await.unwrap().json().await.unwrap()
}
