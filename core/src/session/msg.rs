//! The message type the session speaks: the connection's own.

pub use crate::message::{Message, Text};
