//! Session tests: units per behaviour (message and byte transports) and the
//! deterministic fault-injection simulation.

mod bytes;
mod harness;
mod messages;
mod sim;
