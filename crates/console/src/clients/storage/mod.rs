//! Where profiling files are kept, behind one interface: a local directory (`local`, as in the original's
//! `<baseDir>/profiler`) or a bucket of an S3-compatible object store (`s3`), chosen by `console.storage_backend`.
//!
//! Objects are named `u-<uuid>-u-<display name>` and stored exactly as received (agents send gzip). Both backends
//! give the same guarantees:
//! - an object being written ([`PendingObject`]) is invisible under its name until [`PendingObject::commit`]; dropped
//!   before that, nothing stays visible (local: a hidden partial file renamed into place; S3: one PUT, or a
//!   multipart upload completed on commit and aborted otherwise);
//! - data is streamed both ways in bounded chunks, so memory stays flat whatever the size of a file;
//! - names are checked the same way ([`check_name`]), so a name valid for one backend is valid for the other.

pub mod gzip;
mod local;
mod s3;

use std::io;
use std::path::PathBuf;

use bytes::Bytes;
use common::settings::{ConsoleSettings, StorageBackend};
use futures_util::stream::BoxStream;

/// The profile store. Cheap to clone (a path, or a handle on a shared HTTP client).
#[derive(Clone)]
pub struct Storage {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local(local::Local),
    S3(s3::S3),
}

/// A stored object, opened for reading: its size when the backend knows it, and its bytes in chunks.
pub struct ObjectReader {
    pub size: Option<u64>,
    pub chunks: BoxStream<'static, io::Result<Bytes>>,
}

impl Storage {
    /// The store `settings` choose, ready to use: the local directory created, checked writable and swept of partial
    /// files; or the S3 client built and the bucket answering. Fails with a message naming the directory, or the
    /// bucket and endpoint.
    pub async fn from_settings(settings: &ConsoleSettings) -> anyhow::Result<Storage> {
        let backend = match settings.storage_backend {
            StorageBackend::Local => {
                let dir = &settings.storage_dir;
                let local = local::Local::open(PathBuf::from(dir))
                    .await
                    .map_err(|e| anyhow::anyhow!("console.storage_dir {dir:?} is not a writable directory: {e}"))?;
                Backend::Local(local)
            }
            StorageBackend::S3 => Backend::S3(s3::S3::connect(settings).await?),
        };
        Ok(Storage { backend })
    }

    /// The local backend on `dir`: creates the directory if needed, checks that it is writable, and removes partial
    /// files a crash left behind (one console node per directory, so none of them is still being written).
    pub async fn open(dir: impl Into<PathBuf>) -> io::Result<Storage> {
        Ok(Storage { backend: Backend::Local(local::Local::open(dir.into()).await?) })
    }

    /// What this store is, for the start-up log (never a credential).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local(local) => local.describe(),
            Backend::S3(s3) => s3.describe(),
        }
    }

    /// A fresh object name for a file shown as `display_name`.
    pub fn new_name(display_name: &str) -> String {
        format!("u-{}-u-{}", uuid::Uuid::new_v4(), safe_file_name(display_name))
    }

    /// Starts writing the object `name`; nothing is visible under that name until [`PendingObject::commit`].
    pub async fn create(&self, name: &str) -> io::Result<PendingObject> {
        check_name(name)?;
        let pending = match &self.backend {
            Backend::Local(local) => Pending::Local(local.create(name).await?),
            Backend::S3(s3) => Pending::S3(s3.create(name)),
        };
        Ok(PendingObject { pending })
    }

    /// Streams the object `name`. A missing object is an error of kind [`io::ErrorKind::NotFound`].
    pub async fn read(&self, name: &str) -> io::Result<ObjectReader> {
        check_name(name)?;
        match &self.backend {
            Backend::Local(local) => local.read(name).await,
            Backend::S3(s3) => s3.read(name).await,
        }
    }

    pub async fn exists(&self, name: &str) -> io::Result<bool> {
        check_name(name)?;
        match &self.backend {
            Backend::Local(local) => local.exists(name).await,
            Backend::S3(s3) => s3.exists(name).await,
        }
    }

    /// Deletes an object; a missing one is not an error (it is gone either way).
    pub async fn delete(&self, name: &str) -> io::Result<()> {
        check_name(name)?;
        let deleted = match &self.backend {
            Backend::Local(local) => local.delete(name).await,
            Backend::S3(s3) => s3.delete(name).await,
        };
        match deleted {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Debug for Storage {
    /// The description only: the S3 client's configuration holds credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Storage").field(&self.describe()).finish()
    }
}

/// An object being written. Dropped without [`commit`](PendingObject::commit), it leaves nothing visible.
pub struct PendingObject {
    pending: Pending,
}

enum Pending {
    Local(local::Pending),
    S3(s3::Pending),
}

impl PendingObject {
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.pending {
            Pending::Local(p) => p.write(bytes).await,
            Pending::S3(p) => p.write(bytes).await,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        match &self.pending {
            Pending::Local(p) => p.written(),
            Pending::S3(p) => p.written(),
        }
    }

    /// Makes the object visible under its name, complete.
    pub async fn commit(self) -> io::Result<()> {
        match self.pending {
            Pending::Local(p) => p.commit().await,
            Pending::S3(p) => p.commit().await,
        }
    }
}

/// Object names are one plain path component: not empty, no `/`, `\` or NUL, not starting with `.` (hidden names
/// are the local backend's partial files). The same rule for both backends.
pub fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad storage object name {name:?}")));
    }
    Ok(())
}

/// Keeps a display name to one path component of plain characters (it comes from an agent's file path).
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).take(150).collect();
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
        check_name(&name).unwrap();
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", ".partial-x", "..", "../x", "a/b", "a\\b", "a\0b"] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        check_name("u-1-u-a.cpuprofile").unwrap();
    }
}
