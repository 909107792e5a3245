//! The one source of randomness of this binding: the core's `OsRandom` (the operating
//! system's, through `getrandom`). Handshake nonces and masking keys must be unpredictable
//! (RFC 6455 §10.3).

use crate::invalid;
use napi::Result;
use steadysock::rng::OsRandom;
use steadysock::RandomSource;

/// A boxed OS random source for a new connection or session; an error when the platform
/// has none (checked once here, not in the middle of a handshake).
pub fn os_random() -> Result<Box<dyn RandomSource>> {
    let source = OsRandom::new().map_err(|e| invalid(format!("no OS random source: {e}")))?;
    Ok(Box::new(source))
}
