//! The operating system's entropy as a [`RandomSource`], for hosts that talk to real
//! peers (masking keys and handshake nonces must be unpredictable, RFC 6455 §10.3).

use std::fs::File;
use std::io::Read;
use steadysock::RandomSource;

/// Reads `/dev/urandom` through a small buffer.
pub struct OsRandom {
    file: File,
    buf: [u8; 256],
    pos: usize,
}

impl OsRandom {
    /// Opens the system's entropy source.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            file: File::open("/dev/urandom")?,
            buf: [0; 256],
            pos: 256,
        })
    }
}

impl RandomSource for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        for b in dest {
            if self.pos == self.buf.len() {
                // /dev/urandom does not fail once open; should it, we refuse to go on
                // with predictable masks rather than degrade silently.
                self.file.read_exact(&mut self.buf).expect("reading /dev/urandom");
                self.pos = 0;
            }
            *b = self.buf[self.pos];
            self.pos += 1;
        }
    }
}
