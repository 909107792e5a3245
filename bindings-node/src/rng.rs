//! The one source of randomness of this binding: the operating system's (the core's
//! `OsRandom`, through `getrandom`). Handshake nonces and masking keys must be
//! unpredictable (RFC 6455 §10.3).
//!
//! The bytes are fetched [`BATCH`] at a time and handed out in order, each byte once: every
//! message needs a 4-byte masking key, and one `getrandom` system call per message was
//! a measurable share of a small round trip. The bytes are the OS's all the same; they
//! just wait in this connection's memory until used, as a CSPRNG's state would.

use crate::invalid;
use napi::Result;
use steadysock::rng::OsRandom;
use steadysock::RandomSource;

/// Bytes fetched per system call (64 masking keys).
const BATCH: usize = 256;

/// OS random bytes, fetched in batches.
struct BatchedOsRandom {
    os: OsRandom,
    buf: [u8; BATCH],
    /// The next unused byte of `buf` (`BATCH`: none left).
    pos: usize,
}

impl RandomSource for BatchedOsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        if dest.len() > BATCH {
            // Larger than a batch (never for masking keys or nonces): straight from the OS.
            self.os.fill(dest);
            return;
        }
        let mut done = 0;
        while done < dest.len() {
            if self.pos == BATCH {
                self.os.fill(&mut self.buf);
                self.pos = 0;
            }
            let n = (dest.len() - done).min(BATCH - self.pos);
            dest[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            // Each byte is handed out once.
            self.buf[self.pos..self.pos + n].fill(0);
            self.pos += n;
            done += n;
        }
    }
}

/// A boxed OS random source for a new connection or session; an error when the platform
/// has none (checked once here, not in the middle of a handshake).
pub fn os_random() -> Result<Box<dyn RandomSource>> {
    let os = OsRandom::new().map_err(|e| invalid(format!("no OS random source: {e}")))?;
    Ok(Box::new(BatchedOsRandom {
        os,
        buf: [0; BATCH],
        pos: BATCH,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_every_byte_once_across_batches() {
        let mut rng = os_random().unwrap();
        // 4-byte keys across several batch boundaries, and odd sizes that straddle one.
        let mut seen = Vec::new();
        for size in [4usize, 4, 7, 250, 4, 16, 300, 1] {
            let mut b = vec![0u8; size];
            rng.fill(&mut b);
            seen.extend(b);
        }
        // About 2 of these 586 OS bytes are zero by chance; many more would mean a broken copy.
        assert!(seen.iter().filter(|&&b| b == 0).count() < 40, "mostly non-zero");
        let keys: Vec<u32> = (0..200).map(|_| rng.next_u32()).collect();
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() >= 199, "masking keys do not repeat");
    }
}
