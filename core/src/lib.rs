//! # steadysock — a sans-IO WebSocket core
//!
//! Bytes in, bytes out, time as an input: this crate holds the whole WebSocket protocol
//! and the reconnect policy, and none of the I/O. Hosts (the Rust blocking driver, the
//! Python, Node and browser bindings) own sockets and timers and drive two machines:
//!
//! - [`Connection`]: one RFC 6455 connection, client or server role — handshake,
//!   framing, masking, fragmentation, UTF-8 validation, closing handshake, limits and
//!   keepalive.
//! - [`session::Session`]: a logical connection across many transports — reconnect
//!   with backoff, keepalive, outbound queue, drain warnings and recovery.
//!
//! Time is a `u64` of milliseconds from an origin the host picks; randomness comes
//! from an injected [`RandomSource`] ([`rng::OsRandom`] for real peers). Nothing here
//! reads a clock, opens a socket, spawns a thread or keeps global state. Every state,
//! event and cause has one canonical name: see [`vocabulary`].
//!
//! # Features
//!
//! | feature | default | what |
//! |---------|---------|------|
//! | `bytes-transport` | on | the byte transport: `Connection` (handshake, framing, masking) and the modules behind it (`connection`, `handshake`, `frame`, `mask`, `deflate`, `origin`), and `session::TransportKind::Bytes`. Off: a Session over message transports only (a browser's `WebSocket`) |
//! | `deflate` | on | permessage-deflate (RFC 7692); implies `bytes-transport` |
//! | `serde` | on | serde for [`session::SessionOptions`] (all session settings as one object, through any `Deserializer`) and for the vocabulary enums. `SessionOptions::from_json` needs no feature (the core's own JSON reader) |
//! | `json` | on | the same as `serde` (kept so existing feature lists build) |
//! | `browser` | off | [`rng::OsRandom`] on `wasm32-unknown-unknown`, over Web Crypto (`getrandom`'s `wasm_js` backend); other targets have it without the feature |

pub mod close;
#[cfg(feature = "bytes-transport")]
pub mod connection;
#[cfg(feature = "bytes-transport")]
pub mod deflate;
mod excerpt;
#[cfg(feature = "bytes-transport")]
pub mod frame;
#[cfg(feature = "bytes-transport")]
pub mod handshake;
mod json;
#[cfg(feature = "bytes-transport")]
pub mod mask;
pub mod message;
#[cfg(feature = "bytes-transport")]
pub mod origin;
mod redact;
pub mod rng;
pub mod session;
pub mod utf8;
pub mod vocabulary;

#[cfg(feature = "bytes-transport")]
pub use connection::{
    Accept, ClientRequest, CloseInfo, Config, Connection, Error, Event, HandshakeInfo, Keepalive, PingPayload, Role,
    State,
};
#[cfg(feature = "bytes-transport")]
pub use handshake::{HandshakeError, HttpResponse, Request, WsUrl};
pub use message::{Message, Text};
#[cfg(feature = "bytes-transport")]
pub use origin::{OriginPolicy, OriginRejected};
pub use rng::{RandomSource, SeededRandom};
