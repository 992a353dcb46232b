//! Gzip inflation on a second thread, so that decompression and parsing overlap on a two-core machine.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use flate2::bufread::MultiGzDecoder;

const CHUNK: usize = 1 << 20;
/// Chunks in flight: inflated and waiting, or being parsed.
const DEPTH: usize = 4;

/// A `BufRead` of the inflated bytes. The inflating thread fills 1 MiB chunks and sends them through a channel of
/// `DEPTH`; the reader hands each chunk out as its buffer and sends it back to be filled again, so a few MiB are in
/// flight and no memory is allocated per chunk. The thread stops when the reader is dropped.
pub struct Inflater {
    chunks: Receiver<io::Result<Vec<u8>>>,
    empties: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Inflater {
    pub fn spawn(input: impl BufRead + Send + 'static) -> Inflater {
        let (tx, rx) = sync_channel(DEPTH);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(DEPTH + 1);
        std::thread::spawn(move || {
            let mut decoder = MultiGzDecoder::new(input);
            loop {
                // A returned buffer if there is one, else a new one (only while the pipeline fills up).
                let mut buf = empty_rx.try_recv().unwrap_or_default();
                buf.resize(CHUNK, 0);
                let mut filled = 0;
                let result = loop {
                    match decoder.read(&mut buf[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(filled);
                let sent = match result {
                    Ok(()) if filled == 0 => return,
                    Ok(()) => tx.send(Ok(buf)),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Inflater { chunks: rx, empties: empty_tx, current: Vec::new(), pos: 0 }
    }
}

impl BufRead for Inflater {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    let used = std::mem::replace(&mut self.current, chunk?);
                    self.pos = 0;
                    // Hand the finished buffer back; if the thread has stopped or has enough, drop it.
                    let _ = self.empties.try_send(used);
                }
                // The thread ended after the last chunk.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
    }
}

impl Read for Inflater {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = out.len().min(buf.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Read, Write};

    use super::*;

    #[test]
    fn several_chunks_come_out_whole_and_in_order() {
        // 3.5 chunks of distinct bytes, so a lost, repeated or reordered chunk shows.
        let data: Vec<u8> = (0..(CHUNK * 7 / 2) as u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let mut inflater = Inflater::spawn(io::Cursor::new(gz.finish().unwrap()));
        let mut out = Vec::new();
        // Mix BufRead consumption with Read calls across chunk boundaries.
        loop {
            let buf = inflater.fill_buf().unwrap();
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min(100_003);
            out.extend_from_slice(&buf[..n]);
            inflater.consume(n);
            let mut small = [0u8; 17];
            let m = inflater.read(&mut small).unwrap();
            out.extend_from_slice(&small[..m]);
        }
        assert_eq!(out.len(), data.len());
        assert!(out == data);
    }
}
