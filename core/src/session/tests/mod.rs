//! Session tests: units per behaviour (message and byte transports) and the
//! deterministic fault-injection simulation.

#[cfg(feature = "bytes-transport")]
mod bytes;
mod harness;
mod messages;
#[cfg(feature = "bytes-transport")]
mod sim;
