//! Gzip on the way into storage, for what the console stores itself (browser uploads, saved trends): everything
//! stored is gzip (the downloads say `content-encoding: gzip`). Input is compressed in batches on the blocking
//! pool and the compressed bytes written out as they come, so memory stays bounded by one batch whatever the size.

use std::io::{self, Write};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::PendingObject;

/// Input gathered before one compression step (one trip to the blocking pool).
const BATCH: usize = 256 * 1024;

/// What one compression step hands back: the encoder (`None` once finished), its output, the emptied input buffer.
type Step = (Option<GzEncoder<Vec<u8>>>, Vec<u8>, Vec<u8>);

/// An object being written through gzip. Like [`PendingObject`], nothing is visible before [`GzipObject::commit`].
pub struct GzipObject {
    object: PendingObject,
    /// `None` only while a batch is being compressed (or after a compression step failed).
    encoder: Option<GzEncoder<Vec<u8>>>,
    input: Vec<u8>,
    read: u64,
}

impl GzipObject {
    pub fn new(object: PendingObject) -> Self {
        GzipObject { object, encoder: Some(GzEncoder::new(Vec::new(), Compression::default())), input: Vec::with_capacity(BATCH), read: 0 }
    }

    /// Uncompressed bytes taken so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.read += bytes.len() as u64;
        self.input.extend_from_slice(bytes);
        if self.input.len() >= BATCH {
            self.compress(false).await?;
        }
        Ok(())
    }

    /// Compresses what is left, ends the gzip stream and makes the object visible.
    pub async fn commit(mut self) -> io::Result<()> {
        self.compress(true).await?;
        self.object.commit().await
    }

    /// Compresses the gathered input on the blocking pool and writes out what the encoder produced; `last` also ends
    /// the gzip stream.
    async fn compress(&mut self, last: bool) -> io::Result<()> {
        let mut encoder = self.encoder.take().ok_or_else(|| io::Error::other("an earlier compression step failed"))?;
        let mut input = std::mem::take(&mut self.input);
        let step = tokio::task::spawn_blocking(move || -> io::Result<Step> {
            encoder.write_all(&input)?;
            input.clear();
            match last {
                true => Ok((None, encoder.finish()?, input)),
                false => {
                    let out = std::mem::take(encoder.get_mut());
                    Ok((Some(encoder), out, input))
                }
            }
        });
        let (encoder, out, input) = step.await.map_err(io::Error::other)??;
        self.encoder = encoder;
        self.input = input;
        self.object.write(&out).await
    }
}

/// `bytes` gzip-compressed, in one go (for small documents, on a thread that may block).
pub fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::clients::storage::Storage;

    #[tokio::test]
    async fn what_goes_in_comes_out_gunzipped() {
        let dir = std::env::temp_dir().join(format!("ezm-gzip-{}", uuid::Uuid::new_v4().simple()));
        let storage = Storage::open(&dir).await.unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8 ^ (i >> 12) as u8).collect();
        let mut object = GzipObject::new(storage.create("u-1-u-x.cpuprofile").await.unwrap());
        for chunk in data.chunks(70_001) {
            object.write(chunk).await.unwrap();
        }
        assert_eq!(object.read(), data.len() as u64);
        object.commit().await.unwrap();
        let stored = std::fs::read(dir.join("u-1-u-x.cpuprofile")).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&stored[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, data);
        let mut small = Vec::new();
        flate2::read::GzDecoder::new(&gzip(b"{}").unwrap()[..]).read_to_end(&mut small).unwrap();
        assert_eq!(small, b"{}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
