//! Where profiling files are kept: a directory on local disk, as in the original (`<baseDir>/profiler`).
//!
//! Objects are named `u-<uuid>-u-<display name>` and stored exactly as received (agents send gzip). A new object is
//! written to a hidden `.partial-…` file first and renamed into place only when complete, so a failed or refused
//! upload never leaves a truncated object behind.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone)]
pub struct Storage {
    dir: PathBuf,
}

impl Storage {
    /// Creates the directory if needed, checks that it is writable, and removes partial files a crash left behind
    /// (one console node per directory, so none of them is still being written).
    pub async fn open(dir: impl Into<PathBuf>) -> io::Result<Storage> {
        let dir = dir.into();
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
        Ok(Storage { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A fresh object name for a file shown as `display_name`.
    pub fn new_name(display_name: &str) -> String {
        format!("u-{}-u-{}", uuid::Uuid::new_v4(), safe_file_name(display_name))
    }

    /// Starts writing the object `name`; nothing is visible under that name until [`PendingObject::commit`].
    pub async fn create(&self, name: &str) -> io::Result<PendingObject> {
        let path = self.path(name)?;
        let partial = self.dir.join(format!(".partial-{}", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&partial).await?;
        Ok(PendingObject { file: Some(file), partial, path, written: 0 })
    }

    /// Deletes an object; a missing one is not an error (it is gone either way).
    pub async fn delete(&self, name: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(name)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn path(&self, name: &str) -> io::Result<PathBuf> {
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad storage object name {name:?}")));
        }
        Ok(self.dir.join(name))
    }
}

/// An object being written. Dropped without `commit`, its partial file is removed.
pub struct PendingObject {
    file: Option<tokio::fs::File>,
    partial: PathBuf,
    path: PathBuf,
    written: u64,
}

impl PendingObject {
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self.file.as_mut().expect("written before commit");
        file.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes to disk and moves the object into place.
    pub async fn commit(mut self) -> io::Result<()> {
        let mut file = self.file.take().expect("committed once");
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&self.partial, &self.path).await
    }
}

impl Drop for PendingObject {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Keeps a display name to one path component of plain characters (it comes from an agent's file path).
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .take(150)
        .collect();
    match cleaned.trim_start_matches('.') {
        "" => "file".into(),
        rest => rest.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_base_name_only() {
        assert_eq!(safe_file_name("/tmp/x-cpuprofile-1-20261125-1.cpuprofile"), "x-cpuprofile-1-20261125-1.cpuprofile");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..."), "file");
        assert_eq!(safe_file_name("a b;c"), "a_b_c");
        let name = Storage::new_name("/x/core.123");
        assert!(name.starts_with("u-") && name.ends_with("-u-core.123"), "{name}");
    }

    #[tokio::test]
    async fn objects_appear_only_when_committed() {
        let dir = std::env::temp_dir().join(format!("ezm-storage-{}", uuid::Uuid::new_v4().simple()));
        let storage = Storage::open(&dir).await.unwrap();
        let mut pending = storage.create("u-1-u-a").await.unwrap();
        pending.write(b"abc").await.unwrap();
        assert!(!dir.join("u-1-u-a").exists());
        pending.commit().await.unwrap();
        assert_eq!(std::fs::read(dir.join("u-1-u-a")).unwrap(), b"abc");

        let mut dropped = storage.create("u-2-u-b").await.unwrap();
        dropped.write(b"partial").await.unwrap();
        drop(dropped);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("u-1-u-a")], "no partial file is left behind");

        // a partial file left by a crash is swept when the storage is opened again
        std::fs::write(dir.join(".partial-crashed"), b"x").unwrap();
        let storage = Storage::open(&dir).await.unwrap();
        assert!(!dir.join(".partial-crashed").exists());

        storage.delete("u-1-u-a").await.unwrap();
        storage.delete("u-1-u-a").await.unwrap();
        assert!(storage.path("../x").is_err() && storage.path(".partial-x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
