//! Reading a profile (small JSON documents: CPU profiles, sampling heap profiles) from a `Read`, plain or gzip.

use std::io::{BufRead, BufReader, Read};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Most bytes a profile may have once inflated; profiles are megabytes, a larger one is refused, not buffered.
pub const MAX_PROFILE_BYTES: u64 = 1 << 30;

pub fn read_json<T: DeserializeOwned>(reader: impl Read) -> Result<T> {
    let mut buffered = BufReader::new(reader);
    let head = buffered.fill_buf()?;
    if head.is_empty() {
        return Err(Error::Empty);
    }
    let parsed = if head.starts_with(&[0x1f, 0x8b]) {
        let inflated = flate2::bufread::MultiGzDecoder::new(buffered).take(MAX_PROFILE_BYTES);
        serde_json::from_reader(BufReader::new(inflated))
    } else {
        serde_json::from_reader(buffered.take(MAX_PROFILE_BYTES))
    };
    parsed.map_err(|e| match e.classify() {
        serde_json::error::Category::Io => Error::Io(e.into()),
        serde_json::error::Category::Eof => Error::Truncated { offset: e.column() as u64, context: "the profile" },
        _ => Error::Profile(e.to_string()),
    })
}

/// The npm package of a script URL, if it is under `node_modules`.
pub fn npm_package(url: &str) -> Option<String> {
    crate::heap::suspects::npm_package(url)
}
