//! The local-directory backend: one file per object in `console.storage_dir` (one console node per directory).
//!
//! A new object is written to a hidden `.partial-…` file first and renamed into place only when complete, so a
//! failed or refused upload never leaves a truncated object behind; partial files a crash left are removed when the
//! directory is opened.

use std::io;
use std::path::PathBuf;

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::clients::storage::ObjectReader;

/// Bytes read from disk at a time when streaming an object.
const READ_CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(super) struct Local {
    dir: PathBuf,
}

impl Local {
    pub(super) async fn open(dir: PathBuf) -> io::Result<Local> {
        tokio::fs::create_dir_all(&dir).await?;
        let mut entries = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_name().to_string_lossy().starts_with(".partial-") {
                tokio::fs::remove_file(entry.path()).await?;
            }
        }
        let probe = dir.join(format!(".partial-probe-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&probe, b"").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(Local { dir })
    }

    pub(super) fn describe(&self) -> String {
        let dir = std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone());
        format!("local directory {}", dir.display())
    }

    /// The caller has checked `name` ([`super::check_name`]), so it is one plain path component.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub(super) async fn create(&self, name: &str) -> io::Result<Pending> {
        let partial = self.dir.join(format!(".partial-{}", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&partial).await?;
        Ok(Pending { file: Some(file), partial, path: self.path(name), written: 0 })
    }

    pub(super) async fn read(&self, name: &str) -> io::Result<ObjectReader> {
        let file = tokio::fs::File::open(self.path(name)).await?;
        let size = file.metadata().await?.len();
        let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
            let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
            match file.read_buf(&mut buf).await? {
                0 => Ok(None),
                _ => Ok(Some((buf.freeze(), file))),
            }
        });
        Ok(ObjectReader { size: Some(size), chunks: chunks.boxed() })
    }

    pub(super) async fn exists(&self, name: &str) -> io::Result<bool> {
        match tokio::fs::metadata(self.path(name)).await {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn delete(&self, name: &str) -> io::Result<()> {
        tokio::fs::remove_file(self.path(name)).await
    }
}

/// An object being written to its partial file. Dropped without `commit`, the partial file is removed.
pub(super) struct Pending {
    file: Option<tokio::fs::File>,
    partial: PathBuf,
    path: PathBuf,
    written: u64,
}

impl Pending {
    pub(super) async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self.file.as_mut().expect("the file is taken only by commit, which consumes the object");
        file.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub(super) fn written(&self) -> u64 {
        self.written
    }

    /// Flushes to disk and moves the object into place (a failure leaves no partial file).
    pub(super) async fn commit(mut self) -> io::Result<()> {
        let file = self.file.as_mut().expect("the file is taken only here, and commit consumes the object");
        file.flush().await?;
        file.sync_all().await?;
        // Closed before the rename; from here on a failure must remove the partial file itself (drop will not).
        drop(self.file.take());
        let renamed = tokio::fs::rename(&self.partial, &self.path).await;
        if renamed.is_err() {
            let _ = std::fs::remove_file(&self.partial);
        }
        renamed
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use crate::clients::storage::Storage;

    fn temp_dir() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("ezm-storage-{}", uuid::Uuid::new_v4().simple()))
    }

    #[tokio::test]
    async fn objects_appear_only_when_committed() {
        let dir = temp_dir();
        let storage = Storage::open(&dir).await.unwrap();
        let mut pending = storage.create("u-1-u-a").await.unwrap();
        pending.write(b"abc").await.unwrap();
        assert!(!dir.join("u-1-u-a").exists());
        assert!(!storage.exists("u-1-u-a").await.unwrap());
        pending.commit().await.unwrap();
        assert_eq!(std::fs::read(dir.join("u-1-u-a")).unwrap(), b"abc");
        assert!(storage.exists("u-1-u-a").await.unwrap());

        let mut dropped = storage.create("u-2-u-b").await.unwrap();
        dropped.write(b"partial").await.unwrap();
        drop(dropped);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("u-1-u-a")], "no partial file is left behind");
        assert!(!storage.exists("u-2-u-b").await.unwrap());

        // a partial file left by a crash is swept when the storage is opened again
        std::fs::write(dir.join(".partial-crashed"), b"x").unwrap();
        let storage = Storage::open(&dir).await.unwrap();
        assert!(!dir.join(".partial-crashed").exists());

        storage.delete("u-1-u-a").await.unwrap();
        storage.delete("u-1-u-a").await.unwrap();
        assert!(!storage.exists("u-1-u-a").await.unwrap());
        for bad in ["../x", ".partial-x", "", "a/b"] {
            assert!(storage.create(bad).await.is_err() && storage.delete(bad).await.is_err(), "{bad:?}");
            assert!(storage.read(bad).await.is_err() && storage.exists(bad).await.is_err(), "{bad:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn objects_are_read_back_in_chunks() {
        let dir = temp_dir();
        let storage = Storage::open(&dir).await.unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut pending = storage.create("u-3-u-c").await.unwrap();
        for chunk in data.chunks(10_000) {
            pending.write(chunk).await.unwrap();
        }
        assert_eq!(pending.written(), data.len() as u64);
        pending.commit().await.unwrap();

        let reader = storage.read("u-3-u-c").await.unwrap();
        assert_eq!(reader.size, Some(data.len() as u64));
        let chunks: Vec<bytes::Bytes> = reader.chunks.try_collect().await.unwrap();
        assert!(chunks.len() > 1 && chunks.iter().all(|c| c.len() <= super::READ_CHUNK_BYTES), "streamed in chunks");
        assert_eq!(chunks.concat(), data);

        let missing = storage.read("u-4-u-missing").await.err().expect("a missing object is not found");
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
