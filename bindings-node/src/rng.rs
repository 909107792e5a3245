//! The one source of randomness of this binding: the operating system's, through
//! `getrandom`. Handshake nonces and masking keys must be unpredictable (RFC 6455 §10.3).

use steadysock::RandomSource;

/// The OS entropy source as the core's [`RandomSource`].
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        // getrandom fails only where no entropy source exists at all; going on with
        // predictable masks would be worse than stopping.
        #[allow(clippy::expect_used)]
        getrandom::fill(dest).expect("the operating system's random source failed");
    }
}

/// A boxed OS random source for a new connection.
pub fn os_random() -> Box<dyn RandomSource> {
    Box::new(OsRandom)
}
