//! One random source shared by the session (jitter) and every connection it creates
//! (handshake nonces, masking keys).
//!
//! Masking keys must be unpredictable (RFC 6455 §10.3), so connections draw from the
//! host's source itself rather than from a generator seeded off it.

use crate::rng::RandomSource;
use std::sync::{Arc, Mutex};

/// A cloneable handle on the host's [`RandomSource`].
#[derive(Clone)]
pub(crate) struct SharedRandom(Arc<Mutex<Box<dyn RandomSource>>>);

impl SharedRandom {
    pub(crate) fn new(rng: Box<dyn RandomSource>) -> Self {
        Self(Arc::new(Mutex::new(rng)))
    }
}

impl RandomSource for SharedRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        // A poisoned lock only means another holder panicked mid-fill; the generator
        // itself is still usable.
        let mut rng = self.0.lock().unwrap_or_else(|e| e.into_inner());
        rng.fill(dest);
    }
}
