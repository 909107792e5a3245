//! The deflate codec for one direction each (RFC 7692 §7.2).

use super::InflateError;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The four bytes a sync flush ends with; removed on send, restored on receive.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Compresses outgoing messages.
pub struct Compressor {
    inner: Compress,
    reset_each_message: bool,
}

impl Compressor {
    /// A raw-deflate compressor with a `window_bits` window; `None` when the window
    /// cannot be honoured (8 bits), in which case messages go uncompressed.
    pub fn new(level: u32, window_bits: u8, reset_each_message: bool) -> Option<Self> {
        if !(9..=15).contains(&window_bits) {
            return None;
        }
        let inner = Compress::new_with_window_bits(Compression::new(level.min(9)), false, window_bits);
        Some(Self {
            inner,
            reset_each_message,
        })
    }

    /// Appends the compressed form of `data` (without the sync-flush tail) to `out`.
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.reserve(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = self.inner.total_in();
            // Errors only come from misuse of the stream state; a sync flush on a valid
            // stream cannot fail, so a failure ends the message as it stands.
            if self.inner.compress_vec(input, out, FlushCompress::Sync).is_err() {
                break;
            }
            let used = (self.inner.total_in() - before) as usize;
            input = &input[used..];
            // Done when all input is in and the flush left spare room in `out`.
            if input.is_empty() && out.capacity() - out.len() >= 64 {
                break;
            }
        }
        if out.len() >= start + 4 && out[out.len() - 4..] == TAIL {
            out.truncate(out.len() - 4);
        }
        if self.reset_each_message {
            self.inner.reset();
        }
    }
}

/// Decompresses incoming messages, streaming, with a hard output limit.
pub struct Decompressor {
    inner: Decompress,
    reset_each_message: bool,
}

impl Decompressor {
    /// A raw-deflate decompressor with a 32 KiB window (reads any peer window).
    pub fn new(reset_each_message: bool) -> Self {
        Self {
            inner: Decompress::new_with_window_bits(false, 15),
            reset_each_message,
        }
    }

    /// Inflates a chunk of a message's compressed payload into `out`, never letting
    /// `out` grow past `limit` bytes.
    pub fn inflate(&mut self, mut input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        loop {
            let room = limit.saturating_sub(out.len());
            // Ask for one byte more than allowed, to tell "exactly at the limit" from "over".
            let want = (input.len().saturating_mul(4))
                .clamp(4096, 1 << 20)
                .min(room.saturating_add(1));
            out.reserve(want);
            let spare_before = out.capacity() - out.len();
            let before = self.inner.total_in();
            let status = self
                .inner
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            let used = (self.inner.total_in() - before) as usize;
            input = &input[used..];
            let filled = spare_before - (out.capacity() - out.len());
            let out_full = out.capacity() == out.len();
            if status == Status::StreamEnd || (input.is_empty() && !out_full) {
                return Ok(());
            }
            if used == 0 && filled == 0 && !out_full {
                // No progress with room to spare: the stream is stuck.
                return Err(InflateError::Corrupt);
            }
        }
    }

    /// Ends a message: feeds the sync-flush tail and resets if agreed.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.inflate(&TAIL, out, limit)?;
        if self.reset_each_message {
            self.inner.reset(false);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(c: &mut Compressor, d: &mut Decompressor, data: &[u8]) -> (usize, Vec<u8>) {
        let mut z = Vec::new();
        c.compress(data, &mut z);
        let mut out = Vec::new();
        d.inflate(&z, &mut out, usize::MAX).unwrap();
        d.finish(&mut out, usize::MAX).unwrap();
        (z.len(), out)
    }

    #[test]
    fn rfc_7692_hello_vector() {
        // RFC 7692 §7.2.3.1: "Hello" compressed, no context takeover.
        let mut d = Decompressor::new(true);
        let mut out = Vec::new();
        d.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        d.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn context_takeover_shrinks_repeats_and_windows_are_honoured() {
        let msg = b"{\"type\":\"tick\",\"symbol\":\"ABC\",\"price\":101.25,\"size\":300}".repeat(4);
        for bits in [9u8, 12, 15] {
            for reset in [false, true] {
                let mut c = Compressor::new(6, bits, reset).unwrap();
                let mut d = Decompressor::new(reset);
                let (first, out1) = roundtrip(&mut c, &mut d, &msg);
                let (second, out2) = roundtrip(&mut c, &mut d, &msg);
                assert_eq!((out1.as_slice(), out2.as_slice()), (&msg[..], &msg[..]));
                if reset {
                    assert_eq!(first, second);
                } else {
                    assert!(second < first / 2, "takeover: {second} vs {first}");
                }
            }
        }
        assert!(Compressor::new(6, 8, false).is_none());
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let mut c = Compressor::new(9, 15, false).unwrap();
        let mut z = Vec::new();
        c.compress(&vec![0u8; 10 << 20], &mut z);
        assert!(z.len() < 20 << 10);
        let mut d = Decompressor::new(false);
        let mut out = Vec::new();
        assert_eq!(d.inflate(&z, &mut out, 1 << 20), Err(InflateError::TooBig));
        assert!(
            out.capacity() <= (2 << 20) + 4096,
            "no large allocation: {}",
            out.capacity()
        );
        let mut d = Decompressor::new(false);
        let mut out = Vec::new();
        assert_eq!(
            d.inflate(&[0xff, 0xff, 0xff], &mut out, 1 << 20),
            Err(InflateError::Corrupt)
        );
    }

    #[test]
    fn exactly_at_the_limit_is_fine() {
        let mut c = Compressor::new(6, 15, false).unwrap();
        let data = vec![7u8; 5000];
        let mut z = Vec::new();
        c.compress(&data, &mut z);
        let mut d = Decompressor::new(false);
        let mut out = Vec::new();
        d.inflate(&z, &mut out, 5000).unwrap();
        d.finish(&mut out, 5000).unwrap();
        assert_eq!(out, data);
    }
}
