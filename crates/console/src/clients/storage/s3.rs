//! The S3 backend: objects in one bucket of an S3-compatible store (AWS, MinIO, Ceph, …) under `console.s3_prefix`,
//! through the Apache Arrow project's `object_store` client. Any number of console replicas can share the bucket.
//!
//! Writes: an object smaller than one part goes up as a single PUT at commit; a larger one as a multipart upload of
//! [`PART_BYTES`] parts, at most [`PARTS_IN_FLIGHT`] in flight while the next one is received, completed at commit.
//! S3 shows an object only once its PUT or its completion has succeeded, so nothing partial is ever visible under
//! the name. An object dropped before commit is never completed and its upload is aborted in the background (its
//! parts freed); the parts of a console that died mid-upload stay invisible too, until the bucket's lifecycle rule
//! for incomplete multipart uploads removes them. Memory per upload: at most `(PARTS_IN_FLIGHT + 1) * PART_BYTES`.
//!
//! Reads: one streaming GET, chunk by chunk as the reader asks for them, with no overall request timeout (a
//! download lasts as long as its reader takes) but failing when the store sends nothing for [`READ_IDLE`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::settings::ConsoleSettings;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::{ClientOptions, MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use secrecy::ExposeSecret;
use tokio::task::JoinSet;

use crate::clients::storage::ObjectReader;

/// S3's smallest part size (every part but the last must be at least this). With S3's 10,000 parts per upload,
/// objects up to 48 GiB, well above `console.max_upload_bytes`' 4 GiB default.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts being sent at once, per upload: one travels while the next one fills.
const PARTS_IN_FLIGHT: usize = 2;
/// A streamed read fails when the store sends nothing for this long.
const READ_IDLE: Duration = Duration::from_secs(60);
/// The start-up check gives up after this (the client alone would retry for up to 3 minutes).
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(super) struct S3 {
    /// Requests of bounded size (PUT, parts, HEAD, DELETE): the client's default timeouts and retries.
    store: Arc<dyn ObjectStore>,
    /// Streaming GETs: no overall request timeout (see [`READ_IDLE`]).
    reader: Arc<dyn ObjectStore>,
    prefix: Prefix,
    description: String,
}

/// `console.s3_prefix`, put before every object name as written (`profiles/` gives `profiles/u-…`): its folders,
/// and the start of the last key segment.
#[derive(Debug, Clone)]
struct Prefix {
    raw: String,
    folders: Path,
    leaf: String,
}

impl Prefix {
    fn parse(raw: &str) -> anyhow::Result<Prefix> {
        let (folders, leaf) = raw.rsplit_once('/').unwrap_or(("", raw));
        let folders = Path::parse(folders)
            .map_err(|e| anyhow::anyhow!("console.s3_prefix {raw:?} is not a valid object name prefix (folders without empty parts): {e}"))?;
        Ok(Prefix { raw: raw.to_owned(), folders, leaf: leaf.to_owned() })
    }

    /// What every key starts with (`None`: nothing).
    fn key_start(&self) -> Option<String> {
        match (self.folders.as_ref(), self.leaf.as_str()) {
            ("", "") => None,
            ("", leaf) => Some(leaf.to_owned()),
            (folders, leaf) => Some(format!("{folders}/{leaf}")),
        }
    }

    /// The key of object `name` (`object_store` escapes what S3 keys cannot hold).
    fn key(&self, name: &str) -> Path {
        self.folders.clone().join(format!("{}{name}", self.leaf).as_str())
    }
}

impl S3 {
    /// Builds the clients and checks that the bucket answers (one list request for at most one key).
    pub(super) async fn connect(s: &ConsoleSettings) -> anyhow::Result<S3> {
        let bucket = s.s3_bucket.trim();
        let endpoint = s.s3_endpoint.trim();
        let place = match endpoint {
            "" => format!("AWS region {}", s.s3_region),
            e => e.to_owned(),
        };
        let prefix = Prefix::parse(&s.s3_prefix)?;
        let static_key = !s.s3_access_key_id.is_empty();
        let build = |options: ClientOptions| {
            let builder = match static_key {
                true => AmazonS3Builder::new().with_access_key_id(&s.s3_access_key_id).with_secret_access_key(s.s3_secret_access_key.expose_secret()),
                // What the AWS SDKs look for: AWS_* variables, a web identity token, container or instance
                // metadata. The settings below win over the same AWS_* values.
                false => AmazonS3Builder::from_env(),
            };
            let builder = builder.with_bucket_name(bucket).with_region(&s.s3_region).with_client_options(options).with_allow_http(s.s3_allow_http);
            let builder = match endpoint {
                "" => builder,
                e => builder.with_endpoint(e),
            };
            builder.build().map_err(|e| anyhow::anyhow!("console.s3_bucket {bucket:?} at {place}: {e}"))
        };
        let store = build(ClientOptions::new())?;
        let reader = build(ClientOptions::new().with_timeout_disabled())?;
        let description = format!(
            "s3 bucket {bucket} at {place}, prefix {:?}, credentials {}{}",
            prefix.raw,
            if static_key { "from console.s3_access_key_id" } else { "from the environment" },
            if s.s3_allow_http { ", http allowed" } else { "" },
        );
        probe(&store, &prefix).await.map_err(|e| anyhow::anyhow!("console.s3_bucket {bucket:?} at {place} is not reachable: {e}"))?;
        Ok(S3 { store: Arc::new(store), reader: Arc::new(reader), prefix, description })
    }

    pub(super) fn describe(&self) -> String {
        self.description.clone()
    }

    /// The caller has checked `name` ([`super::check_name`]): one plain path component.
    fn path(&self, name: &str) -> Path {
        self.prefix.key(name)
    }

    /// Nothing is sent yet: the first full part starts a multipart upload, or commit sends a single PUT.
    pub(super) fn create(&self, name: &str) -> Pending {
        Pending { store: self.store.clone(), path: self.path(name), buffer: BytesMut::new(), upload: None, written: 0 }
    }

    pub(super) async fn read(&self, name: &str) -> io::Result<ObjectReader> {
        let got = match tokio::time::timeout(READ_IDLE, self.reader.get(&self.path(name))).await {
            Err(_) => return Err(idle_timeout()),
            Ok(got) => got?,
        };
        let size = got.meta.size;
        let chunks = futures_util::stream::try_unfold(got.into_stream(), |mut body| async move {
            match tokio::time::timeout(READ_IDLE, body.next()).await {
                Err(_) => Err(idle_timeout()),
                Ok(None) => Ok(None),
                Ok(Some(chunk)) => Ok(Some((chunk?, body))),
            }
        });
        Ok(ObjectReader { size: Some(size), chunks: chunks.boxed() })
    }

    pub(super) async fn exists(&self, name: &str) -> io::Result<bool> {
        match self.store.head(&self.path(name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn delete(&self, name: &str) -> io::Result<()> {
        Ok(self.store.delete(&self.path(name)).await?)
    }
}

/// One list request for at most one key under the prefix: the bucket exists and these credentials may read it.
async fn probe(store: &AmazonS3, prefix: &Prefix) -> anyhow::Result<()> {
    let start = prefix.key_start();
    let options = PaginatedListOptions { max_keys: Some(1), ..Default::default() };
    match tokio::time::timeout(PROBE_TIMEOUT, store.list_paginated(start.as_deref(), options)).await {
        Err(_) => anyhow::bail!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
        Ok(listed) => listed.map(drop).map_err(Into::into),
    }
}

fn idle_timeout() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("the object store sent nothing for {} s", READ_IDLE.as_secs()))
}

/// An object being written: its bytes not yet sent, and the multipart upload once one part is full.
pub(super) struct Pending {
    store: Arc<dyn ObjectStore>,
    path: Path,
    /// Less than one part, except inside `write`.
    buffer: BytesMut,
    upload: Option<Upload>,
    written: u64,
}

impl Pending {
    pub(super) async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        while self.buffer.len() >= PART_BYTES {
            if self.upload.is_none() {
                let upload = self.store.put_multipart(&self.path).await?;
                self.upload = Some(Upload { upload, parts: JoinSet::new() });
            }
            let upload = self.upload.as_mut().expect("set just above when it was missing");
            upload.send(self.buffer.split_to(PART_BYTES).freeze().into()).await?;
        }
        Ok(())
    }

    pub(super) fn written(&self) -> u64 {
        self.written
    }

    /// Sends what is left and makes the object visible: a single PUT, or the multipart upload's completion (aborted
    /// if that fails).
    pub(super) async fn commit(mut self) -> io::Result<()> {
        let rest: PutPayload = std::mem::take(&mut self.buffer).freeze().into();
        let Some(mut upload) = self.upload.take() else {
            self.store.put(&self.path, rest).await?;
            return Ok(());
        };
        match upload.finish(rest).await {
            Ok(()) => Ok(()),
            Err(e) => {
                upload.abort(&self.path).await;
                Err(e)
            }
        }
    }
}

impl Drop for Pending {
    /// Not committed: the upload is never completed, so nothing is visible; abort it to free its parts now.
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else {
            return;
        };
        let path = self.path.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move { upload.abort(&path).await })),
            Err(_) => {
                tracing::warn!(%path, "multipart upload not aborted (no runtime); the bucket's lifecycle rule removes it")
            }
        }
    }
}

/// A multipart upload and its parts in flight.
struct Upload {
    upload: Box<dyn MultipartUpload>,
    parts: JoinSet<object_store::Result<()>>,
}

impl Upload {
    /// Sends one part once fewer than [`PARTS_IN_FLIGHT`] are in flight (back-pressure on the uploading agent).
    async fn send(&mut self, part: PutPayload) -> io::Result<()> {
        while self.parts.len() >= PARTS_IN_FLIGHT {
            self.next_part_done().await?;
        }
        self.parts.spawn(self.upload.put_part(part));
        Ok(())
    }

    /// Waits for one part in flight to be stored. False when none was in flight.
    async fn next_part_done(&mut self) -> io::Result<bool> {
        match self.parts.join_next().await {
            None => Ok(false),
            Some(Ok(sent)) => sent.map(|()| true).map_err(Into::into),
            Some(Err(e)) => Err(io::Error::other(format!("part upload task: {e}"))),
        }
    }

    async fn finish(&mut self, last: PutPayload) -> io::Result<()> {
        if last.content_length() > 0 {
            self.parts.spawn(self.upload.put_part(last));
        }
        while self.next_part_done().await? {}
        self.upload.complete().await?;
        Ok(())
    }

    async fn abort(mut self, path: &Path) {
        self.parts.shutdown().await;
        if let Err(e) = self.upload.abort().await {
            tracing::warn!(%path, error = %e, "could not abort a multipart upload; the bucket's lifecycle rule removes it");
        }
    }
}

#[cfg(test)]
mod tests {
    //! The buffering, part and visibility logic against `object_store`'s in-memory store, which shows a multipart
    //! upload only once completed, like S3. The real S3 protocol is tested in `tests/storage_s3.rs` (moto).

    use futures_util::TryStreamExt;
    use object_store::memory::InMemory;

    use super::*;

    fn in_memory(prefix: &str) -> S3 {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        S3 { store: store.clone(), reader: store, prefix: Prefix::parse(prefix).unwrap(), description: "memory".into() }
    }

    async fn read_all(s3: &S3, name: &str) -> Vec<u8> {
        let reader = s3.read(name).await.unwrap();
        let chunks: Vec<bytes::Bytes> = reader.chunks.try_collect().await.unwrap();
        assert_eq!(reader.size, Some(chunks.iter().map(|c| c.len() as u64).sum::<u64>()));
        chunks.concat()
    }

    async fn listed(s3: &S3) -> Vec<String> {
        let all: Vec<_> = s3.store.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
        all
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[tokio::test]
    async fn a_small_object_is_one_put_at_commit() {
        let s3 = in_memory("profiles/");
        let mut pending = s3.create("u-1-u-a");
        pending.write(b"abc").await.unwrap();
        assert!(pending.upload.is_none(), "no request before a part is full");
        assert!(!s3.exists("u-1-u-a").await.unwrap());
        pending.commit().await.unwrap();
        assert_eq!(read_all(&s3, "u-1-u-a").await, b"abc");
        assert_eq!(listed(&s3).await, vec!["profiles/u-1-u-a"], "under the prefix");
    }

    #[tokio::test]
    async fn a_large_object_goes_in_parts_with_bounded_buffers_and_appears_at_commit() {
        let s3 = in_memory("");
        // 12.5 MiB: two full parts and a last short one; 10 MiB: exactly two parts, no empty last part.
        for (name, len) in [("u-2-u-b", 12 * 1024 * 1024 + 512 * 1024), ("u-3-u-c", 2 * PART_BYTES)] {
            let data = data(len);
            let mut pending = s3.create(name);
            for chunk in data.chunks(64 * 1024 + 3) {
                pending.write(chunk).await.unwrap();
                assert!(pending.buffer.len() < PART_BYTES, "never more than one part buffered");
                let in_flight = pending.upload.as_ref().map_or(0, |u| u.parts.len());
                assert!(in_flight <= PARTS_IN_FLIGHT, "{in_flight} parts in flight");
            }
            assert!(pending.upload.is_some(), "a multipart upload was started");
            assert_eq!(pending.written(), len as u64);
            assert!(!s3.exists(name).await.unwrap(), "invisible before commit");
            pending.commit().await.unwrap();
            assert_eq!(read_all(&s3, name).await, data, "{name}");
        }
    }

    #[tokio::test]
    async fn a_dropped_object_is_never_visible() {
        let s3 = in_memory("");
        let mut small = s3.create("u-4-u-d");
        small.write(b"partial").await.unwrap();
        drop(small);
        let mut large = s3.create("u-5-u-e");
        large.write(&data(PART_BYTES + 10)).await.unwrap();
        drop(large);
        tokio::task::yield_now().await;
        assert!(listed(&s3).await.is_empty());
        for name in ["u-4-u-d", "u-5-u-e"] {
            assert!(!s3.exists(name).await.unwrap());
            assert_eq!(s3.read(name).await.err().expect("not found").kind(), io::ErrorKind::NotFound);
        }
    }

    #[test]
    fn the_prefix_is_put_before_the_name_as_written() {
        let key = |prefix: &str| Prefix::parse(prefix).unwrap().key("u-1-u-a").to_string();
        assert_eq!(key(""), "u-1-u-a");
        assert_eq!(key("profiles/"), "profiles/u-1-u-a");
        assert_eq!(key("a/b/ezm-"), "a/b/ezm-u-1-u-a");
        assert_eq!(key("ezm-"), "ezm-u-1-u-a");
        assert_eq!(key("/profiles/"), "profiles/u-1-u-a", "S3 keys do not start with a slash");
        assert!(Prefix::parse("a//b/").is_err(), "no empty folder");
        let start = |prefix: &str| Prefix::parse(prefix).unwrap().key_start();
        assert_eq!([start(""), start("ezm-"), start("/a/b/")], [None, Some("ezm-".into()), Some("a/b/".into())]);
    }

    #[tokio::test]
    async fn delete_and_exists() {
        let s3 = in_memory("p/q/");
        let mut pending = s3.create("u-6-u-f");
        pending.write(b"x").await.unwrap();
        pending.commit().await.unwrap();
        assert!(s3.exists("u-6-u-f").await.unwrap());
        s3.delete("u-6-u-f").await.unwrap();
        assert!(!s3.exists("u-6-u-f").await.unwrap());
        let missing = s3.delete("u-6-u-f").await;
        assert!(missing.is_ok() || missing.unwrap_err().kind() == io::ErrorKind::NotFound);
    }
}
