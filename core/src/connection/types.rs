//! The public vocabulary of a [`Connection`](super::Connection): configuration,
//! states, events and errors.

use crate::deflate::DeflateConfig;
use crate::handshake::{HandshakeError, Header, Request};
use crate::message::Message;
use bytes::Bytes;
use std::fmt;

/// Which end of the connection this is. Clients mask what they send; servers require
/// masked input (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that sent the upgrade request.
    Client,
    /// The end that answered it.
    Server,
}

/// Limits and timers of one connection. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest frame payload accepted; bigger fails with 1009. Default 16 MiB.
    pub max_frame_size: usize,
    /// Largest reassembled message accepted; bigger fails with 1009. Default 64 MiB.
    pub max_message_size: usize,
    /// Split outgoing messages into frames of at most this many bytes. Default `None`.
    pub fragment_size: Option<usize>,
    /// How long to wait for the peer's close frame after ours (and, as a client, for the
    /// server to end the transport after the closing handshake). Default 5 s.
    pub close_timeout_ms: u64,
    /// How long the opening handshake may take from creation. Default 10 s.
    pub handshake_timeout_ms: Option<u64>,
    /// Largest handshake head (request or response, with a rejection body). Default 16 KiB.
    pub max_handshake_size: usize,
    /// Ping the peer and declare it dead when it stops answering. Default off.
    pub keepalive: Option<Keepalive>,
    /// Answer pings with pongs automatically. Default on.
    pub auto_pong: bool,
    /// permessage-deflate (RFC 7692): offered by a client, accepted by a server.
    /// Default on (when the `deflate` feature is compiled in); `None` turns it off.
    pub deflate: Option<DeflateConfig>,
    /// websocket-client compatibility, client role only: accept (and unmask) masked
    /// frames from the server. RFC 6455 §5.1 says a client closes with 1002 on them, and
    /// that is the default (`false`); websocket-client unmasks them, and programs and
    /// tests written against it send them, so its drop-in replacement turns this on.
    /// Ignored by a server, which always requires masked frames.
    pub accept_masked_frames: bool,
    /// websocket-client compatibility (`recv_frame`, `fire_cont_frame`): report each
    /// frame of a fragmented data message as an [`Event::Fragment`] (opcode as sent, `fin`,
    /// payload) as it completes, followed by the whole message as [`Event::Message`] after
    /// the last one. UTF-8 is still checked as bytes arrive and the size limits still
    /// apply to the whole message; an unfragmented message is reported as a `Message`
    /// only. Fragments are copies of the frames' bytes (the message is still assembled).
    /// Default off.
    pub deliver_fragments: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            fragment_size: None,
            close_timeout_ms: 5_000,
            handshake_timeout_ms: Some(10_000),
            max_handshake_size: 16 << 10,
            keepalive: None,
            auto_pong: true,
            deflate: Some(DeflateConfig::default()),
            accept_masked_frames: false,
            deliver_fragments: false,
        }
    }
}

/// Protocol-level keepalive.
///
/// **Which pong answers a ping:** any pong, whatever its payload. A peer may answer only
/// the latest of several pings (RFC 6455 §5.5.3) or send unsolicited pongs as its own
/// heartbeat, and either is a sign of life; matching payloads would only turn a slow
/// peer into a dead one. With `any_data_counts`, any received bytes count as well.
///
/// `Default` gives the values a session uses when keepalive is on: 20 s, 10 s, any data
/// counts, a counter as payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keepalive {
    /// Send a ping after this long without one (or, with `any_data_counts`, without
    /// anything received).
    pub interval_ms: u64,
    /// Declare the peer dead when no pong (or, with `any_data_counts`, nothing at all)
    /// has arrived this long after a ping.
    pub pong_timeout_ms: u64,
    /// Count any received bytes as a sign of life, not only pongs.
    pub any_data_counts: bool,
    /// What each keepalive ping carries (websocket-client's `ping_payload`). `None`: an
    /// 8-byte big-endian counter, one more per ping.
    pub ping_payload: Option<PingPayload>,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            interval_ms: 20_000,
            pong_timeout_ms: 10_000,
            any_data_counts: true,
            ping_payload: None,
        }
    }
}

/// A ping's payload: at most 125 bytes (a control frame's limit), checked when it is
/// made, so a configured keepalive can always send it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PingPayload(Bytes);

impl PingPayload {
    /// Largest payload a ping can carry (RFC 6455 §5.5).
    pub const MAX: usize = 125;

    /// The payload, or [`Error::ControlPayloadTooLong`] if it exceeds 125 bytes.
    pub fn new(payload: impl Into<Bytes>) -> Result<Self, Error> {
        let payload = payload.into();
        if payload.len() > Self::MAX {
            return Err(Error::ControlPayloadTooLong(payload.len()));
        }
        Ok(Self(payload))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

/// What a client asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientRequest {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Extra headers (e.g. `Authorization`), sent as given.
    pub headers: Vec<Header>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: Vec<String>,
}

/// How a server accepts a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accept {
    /// The subprotocol chosen; must be one the client offered.
    pub subprotocol: Option<String>,
    /// Extra response headers.
    pub headers: Vec<Header>,
}

/// The WebSocket state (the `readyState` of the browser API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Opening handshake in progress.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// A close frame was sent; waiting for the peer's.
    Closing,
    /// Done. No more messages either way.
    Closed,
}

/// The outcome of a completed opening handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeInfo {
    /// The request target (path and query).
    pub path: String,
    /// The negotiated subprotocol.
    pub subprotocol: Option<String>,
    /// The peer's headers: the response's for a client, the request's for a server.
    pub headers: Vec<Header>,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// Status code; 1005 when the close frame had none, 1006 when there was no
    /// closing handshake at all.
    pub code: u16,
    /// Reason text.
    pub reason: String,
    /// Whether the closing handshake completed.
    pub clean: bool,
    /// Whether the peer started the close (or broke the connection).
    pub remote: bool,
}

/// Something the host or application should learn about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server role: a valid upgrade request awaits [`accept`](super::Connection::accept)
    /// or [`reject`](super::Connection::reject).
    Request(Request),
    /// The opening handshake completed.
    Open(HandshakeInfo),
    /// A complete message arrived.
    Message(Message),
    /// One frame of a fragmented data message, with
    /// [`Config::deliver_fragments`] on: `opcode` as sent (0x1 text or 0x2 binary for the
    /// first frame, 0x0 continuation after), `fin` set on the last, and the frame's payload
    /// (unmasked; for a compressed message, the bytes inflating it produced). A text
    /// fragment may end inside a UTF-8 sequence. The whole message follows the last one.
    Fragment {
        /// The frame's opcode.
        opcode: u8,
        /// Whether this is the message's last frame.
        fin: bool,
        /// The frame's payload.
        data: Bytes,
    },
    /// A ping arrived (already answered when `auto_pong` is on).
    Ping(Bytes),
    /// A pong arrived.
    Pong(Bytes),
    /// The opening handshake failed; `Closed` follows.
    HandshakeFailed(HandshakeError),
    /// Something went wrong that ends the connection (protocol violation by the peer,
    /// keepalive timeout); `Closed` follows, at once or after the closing handshake.
    Error(Error),
    /// The connection is closed. Always the last event, emitted exactly once.
    Closed(CloseInfo),
}

/// What [`poll_output`](super::Connection::poll_output) hands the host: bytes to write,
/// or an event. Bytes come out before events, so whatever handing out an event queues
/// (the close frame after an error, an answer the application sent meanwhile) leaves in
/// the same drain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Write these bytes to the transport, in order.
    Transmit(Bytes),
    /// Something the host or application should learn about.
    Event(Event),
}

/// Errors returned by operations and reported through [`Event::Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be used.
    InvalidUrl(String),
    /// A header name or value could not be sent.
    InvalidHeader(String),
    /// The operation needs another state (e.g. sending while not open).
    InvalidState(State),
    /// The close code may not be sent (RFC 6455 §7.4).
    InvalidCloseCode(u16),
    /// Close reasons are limited to 123 bytes.
    ReasonTooLong(usize),
    /// Ping and pong payloads are limited to 125 bytes.
    ControlPayloadTooLong(usize),
    /// The peer broke the protocol; we closed with `code`.
    Protocol {
        /// The close code sent (1002, 1007, 1009 …).
        code: u16,
        /// What was wrong.
        reason: String,
    },
    /// No pong (or data) within the keepalive timeout.
    KeepaliveTimeout,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(why) => write!(f, "invalid URL: {why}"),
            Self::InvalidHeader(why) => write!(f, "invalid header: {why}"),
            Self::InvalidState(s) => write!(f, "operation not allowed in state {s:?}"),
            Self::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            Self::ReasonTooLong(n) => write!(f, "close reason of {n} bytes exceeds 123"),
            Self::ControlPayloadTooLong(n) => write!(f, "control payload of {n} bytes exceeds 125"),
            Self::Protocol { code, reason } => write!(f, "protocol error ({code}): {reason}"),
            Self::KeepaliveTimeout => f.write_str("keepalive timeout: the peer stopped answering pings"),
        }
    }
}

impl std::error::Error for Error {}
