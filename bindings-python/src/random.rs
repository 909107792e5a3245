//! Randomness for the binding's connections, in one place.
//!
//! Handshake nonces and masking keys come from the operating system (the core's
//! `rng::OsRandom`), as RFC 6455 §10.3 requires. websocket-client lets a program replace the masking-key
//! source (`WebSocket.set_mask_key`, meant for tests); such a function is honoured for
//! masking keys only — 4-byte requests, which is what the core asks for per frame.

use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use steadysock::rng::OsRandom;
use steadysock::RandomSource;

/// A masking-key function set from Python, shared between the connection's random source
/// and the wrapper that installs it.
#[derive(Default)]
pub struct MaskHook {
    /// `func(4) -> bytes | str` of exactly 4 bytes. In an `Arc` so that it is called
    /// without this lock held (a call needs the GIL, which another thread may hold while
    /// it waits for this lock).
    pub func: Option<Arc<Py<PyAny>>>,
    /// The first failure of `func`, raised to the caller after the operation. The frame it
    /// failed for was masked with an OS-random key, which is always acceptable on the wire.
    pub error: Option<PyErr>,
}

/// The random source handed to the core.
pub struct HostRandom {
    hook: Arc<Mutex<MaskHook>>,
    os: OsRandom,
}

impl HostRandom {
    /// Fails only on a platform without a working entropy source.
    pub fn new(hook: Arc<Mutex<MaskHook>>) -> Result<Self, String> {
        Ok(Self {
            hook,
            os: OsRandom::new().map_err(|e| e.to_string())?,
        })
    }
}

fn call_mask_func(func: &Py<PyAny>) -> PyResult<[u8; 4]> {
    Python::attach(|py| {
        let value = func.call1(py, (4,))?;
        let value = value.bind(py);
        let bytes: Vec<u8> = if let Ok(s) = value.extract::<String>() {
            // websocket-client's examples return str ("abcd").
            s.chars()
                .map(|c| c as u32)
                .map(|c| u8::try_from(c).unwrap_or(b'?'))
                .collect()
        } else {
            value.extract::<Vec<u8>>()?
        };
        <[u8; 4]>::try_from(bytes.as_slice())
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("get_mask_key must return 4 bytes"))
    })
}

impl RandomSource for HostRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        if dest.len() == 4 {
            let func = self.hook.lock().unwrap_or_else(|p| p.into_inner()).func.clone();
            if let Some(func) = func {
                match call_mask_func(&func) {
                    Ok(key) => {
                        dest.copy_from_slice(&key);
                        return;
                    }
                    Err(e) => {
                        let mut hook = self.hook.lock().unwrap_or_else(|p| p.into_inner());
                        hook.error.get_or_insert(e);
                    }
                }
            }
        }
        self.os.fill(dest);
    }
}
