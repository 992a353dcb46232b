//! Gzip inflation on a second thread, so that decompression and parsing overlap on a two-core machine.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{sync_channel, Receiver};

use flate2::bufread::MultiGzDecoder;

const CHUNK: usize = 1 << 20;

/// A `Read` of the inflated bytes. The inflating thread sends 1 MiB chunks through a channel of 4, so at most a few
/// MiB are in flight; it stops when the reader is dropped.
pub struct Inflater {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl Inflater {
    pub fn spawn(input: impl BufRead + Send + 'static) -> Inflater {
        let (tx, rx) = sync_channel(4);
        std::thread::spawn(move || {
            let mut decoder = MultiGzDecoder::new(input);
            loop {
                let mut buf = vec![0u8; CHUNK];
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
                let end = filled == 0;
                let sent = match result {
                    Ok(()) if end => return,
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
        Inflater { chunks: rx, current: Vec::new(), pos: 0 }
    }
}

impl Read for Inflater {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.pos = 0;
                }
                // The thread ended after the last chunk.
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
