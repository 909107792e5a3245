//! Injected randomness.
//!
//! Every consumer of randomness — handshake keys, masking keys, backoff jitter — takes a
//! [`RandomSource`] that the host passes in; the state machines never pick one
//! themselves. Two sources ship with the core:
//!
//! * [`OsRandom`]: the operating system's entropy source through the `getrandom` crate
//!   (`getrandom(2)` on Linux, `getentropy` on macOS, `ProcessPrng` on Windows, …), and
//!   Web Crypto (`crypto.getRandomValues`) on `wasm32-unknown-unknown` when the core is
//!   built with its `browser` feature. Every binding uses this one; none needs a source
//!   of its own.
//! * [`SeededRandom`]: deterministic, for tests and simulations, so that a run is
//!   reproducible from its seed.

/// A source of random bytes, provided by the host.
pub trait RandomSource: Send {
    /// Fills `dest` entirely with random bytes.
    fn fill(&mut self, dest: &mut [u8]);

    /// A uniformly distributed `u64`.
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A uniformly distributed `u32`.
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        u32::from_le_bytes(b)
    }
}

impl<R: RandomSource + ?Sized> RandomSource for Box<R> {
    fn fill(&mut self, dest: &mut [u8]) {
        (**self).fill(dest)
    }
}

/// The platform's cryptographically secure source (see the [module docs](self)).
///
/// On `wasm32-unknown-unknown` it exists only with the `browser` feature (without it the
/// target has no entropy source to name).
#[cfg(any(not(all(target_arch = "wasm32", target_os = "unknown")), feature = "browser"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

#[cfg(any(not(all(target_arch = "wasm32", target_os = "unknown")), feature = "browser"))]
impl OsRandom {
    /// The source, after checking that the platform can deliver randomness (so a host
    /// learns about a broken platform once, at start-up, and not in the middle of a
    /// handshake).
    pub fn new() -> Result<Self, getrandom::Error> {
        let mut probe = [0u8; 1];
        getrandom::fill(&mut probe)?;
        Ok(Self)
    }
}

#[cfg(any(not(all(target_arch = "wasm32", target_os = "unknown")), feature = "browser"))]
impl RandomSource for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        // `getrandom` fails only on platforms without a working source, which `new`
        // has already ruled out; the trait has no error path, and handing out
        // predictable bytes for masking keys would be worse than stopping.
        if let Err(e) = getrandom::fill(dest) {
            panic!("the OS random source failed after working at start-up: {e}");
        }
    }
}

/// A small deterministic generator (SplitMix64) for tests and simulations.
///
/// Not cryptographically secure: hosts that talk to real peers should seed from, or
/// implement [`RandomSource`] over, the operating system's entropy source.
#[derive(Debug, Clone)]
pub struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64();
            chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_random_fills_and_differs() {
        let mut r = OsRandom::new().unwrap();
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        r.fill(&mut a);
        r.fill(&mut b);
        assert_ne!(a, b, "two 256-bit draws collided");
        assert_ne!(a, [0u8; 32]);
    }

    #[test]
    fn seeded_is_reproducible_and_seed_dependent() {
        let (mut a, mut b, mut c) = (SeededRandom::new(7), SeededRandom::new(7), SeededRandom::new(8));
        let (mut x, mut y, mut z) = ([0u8; 13], [0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
