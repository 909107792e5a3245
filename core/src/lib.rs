//! # steadysock — a sans-IO WebSocket core
//!
//! Bytes in, bytes out, time as an input. See the crate README and `shared` design notes.

pub mod rng;
pub mod session;

pub use rng::{RandomSource, SeededRandom};
