//! What the session tells its host: transport requests, bytes/messages to send, and
//! application events.
//!
//! Everything leaves through one ordered queue ([`Session::poll_output`](super::Session::poll_output))
//! so the host sees transport actions and events in exactly the order the session decided
//! them (for example: `Event(Open)` before the queued messages are flushed as
//! `SendMessage`).

use super::msg::Message;
use super::policy::Cause;
use bytes::Bytes;
use std::fmt;

/// Names one transport (one socket) the session asked the host to open.
///
/// Ids increase monotonically over the life of a [`Session`](super::Session) (1, 2, 3, …,
/// one per attempt) and are never reused; they stay far below 2^53, so a binding may pass
/// them as a JavaScript number. Every host notification carries the id it is about; notifications about an id
/// the session no longer tracks are ignored. That is what makes "stale flags" impossible:
/// a late `close` or `error` from a socket the session already gave up on cannot touch
/// the state of its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransportId(pub(crate) u64);

impl TransportId {
    /// The raw number, for logging or as a map key in bindings.
    pub fn get(self) -> u64 {
        self.0
    }

    /// An id from its raw number (for bindings that pass ids across a language
    /// boundary). Ids the session does not track are simply ignored.
    pub fn from_raw(raw: u64) -> Self {
        Self(raw)
    }
}

impl fmt::Display for TransportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

/// The session's externally visible state.
///
/// ```text
///   Idle --connect--> Connecting --open--> Open --lost--> Backoff --timer--> Connecting ...
///                          |                 |                ^
///                          +-----failed------|----------------+
///                                            +--close()--> Closing --done--> Closed
/// ```
/// `Closed` is reached only through [`close`](super::Session::close) or a retry-policy stop
/// (a fatal cause, the app's predicate, or `max_retries`); [`connect`](super::Session::connect)
/// and [`reconnect`](super::Session::reconnect) leave it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum State {
    /// Created, `connect` not called yet.
    Idle,
    /// A transport was requested and has not opened yet.
    Connecting,
    /// A transport is open; messages flow.
    Open,
    /// The user closed the session; waiting for the closing handshake.
    Closing,
    /// Waiting out the retry delay before the next attempt.
    Backoff,
    /// Stopped. No timers, no transports.
    Closed,
}

impl State {
    /// Every state, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::Idle,
        Self::Connecting,
        Self::Open,
        Self::Closing,
        Self::Backoff,
        Self::Closed,
    ];

    /// The canonical name: `idle`, `connecting`, `open`, `closing`, `backoff`, `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closing => "closing",
            Self::Backoff => "backoff",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a host should ask its transport layer for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportRequest {
    /// `ws://` or `wss://` URL, recovery parameters included.
    pub url: String,
    /// Extra request headers (byte transports only; browsers cannot set them).
    pub headers: Vec<(String, String)>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: Vec<String>,
}

/// One instruction or event for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// With [`RequestSource::Provided`](super::RequestSource::Provided): attempt `id`
    /// needs its request. Answer with [`Session::provide_request`](super::Session::provide_request)
    /// (then `OpenTransport` follows) or [`Session::provide_request_error`](super::Session::provide_request_error),
    /// now or later, within `connect_timeout_ms`; otherwise the attempt fails with
    /// [`Cause::RequestTimeout`] and is retried after the usual backoff. Answers about an
    /// id the session no longer waits for are ignored. A `CloseTransport` for this id
    /// means the request is no longer wanted.
    NeedRequest {
        /// The transport the request is for.
        id: TransportId,
        /// Attempt number within the current run (1 = first).
        attempt: u32,
        /// Whether this is a make-before-break transport (the current one stays up).
        migration: bool,
    },
    /// Open a socket (byte transport: TCP/TLS to the URL's host; message transport:
    /// `new WebSocket(url, subprotocols)`), and report back with this `id`.
    OpenTransport {
        /// Id to use in every notification about this transport.
        id: TransportId,
        /// Where and how to connect.
        request: TransportRequest,
    },
    /// Byte transport: write these bytes to the socket, in order.
    Transmit {
        /// The socket.
        id: TransportId,
        /// Bytes to write.
        bytes: Bytes,
    },
    /// Message transport: send this message (`ws.send`).
    SendMessage {
        /// The socket.
        id: TransportId,
        /// The message.
        message: Message,
    },
    /// Close and forget this socket. Flush bytes already emitted for it first (byte
    /// transport), or call `ws.close(code, reason)` (message transport). The session will
    /// ignore anything the host reports about this id afterwards, and closing a socket
    /// that is already closed must be a no-op for the host.
    CloseTransport {
        /// The socket.
        id: TransportId,
        /// Close code (always one a browser accepts: 1000 or 3000–4999).
        code: u16,
        /// Close reason (at most 123 bytes).
        reason: String,
    },
    /// Something the application should learn about.
    Event(SessionEvent),
}

impl Output {
    /// The canonical name: `need_request`, `open_transport`, `transmit`, `send_message`,
    /// `close_transport`, `event`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NeedRequest { .. } => "need_request",
            Self::OpenTransport { .. } => "open_transport",
            Self::Transmit { .. } => "transmit",
            Self::SendMessage { .. } => "send_message",
            Self::CloseTransport { .. } => "close_transport",
            Self::Event(_) => "event",
        }
    }
}

/// Application-level events, with the same meaning in every binding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// Emitted on every state transition, before the event that explains it.
    StateChanged {
        /// Previous state.
        from: State,
        /// New state.
        to: State,
    },
    /// The session is open (after the welcome, when recovery is on).
    Open {
        /// Which attempt of the current run succeeded (1 = first try).
        attempt: u32,
        /// Whether the server resumed the previous session (missed messages are replayed).
        recovered: bool,
        /// The negotiated subprotocol.
        subprotocol: Option<String>,
    },
    /// Make-before-break finished: traffic now flows over the new transport and the old
    /// one was asked to close. The session stayed `Open` throughout.
    Migrated {
        /// Whether the server resumed the session on the new transport.
        recovered: bool,
    },
    /// An application message (envelope already stripped, duplicates already dropped).
    Message(Message),
    /// The open transport was lost (`will_reconnect`), or the session stopped (`!will_reconnect`;
    /// emitted exactly once on every entry into [`State::Closed`]).
    Closed {
        /// Close code: the peer's or the user's, or 1006 when there was no closing handshake.
        code: u16,
        /// Close reason.
        reason: String,
        /// Why.
        cause: Cause,
        /// Whether the session will try again by itself.
        will_reconnect: bool,
    },
    /// A new attempt is scheduled.
    Reconnecting {
        /// The number of the coming attempt in the current run. A run starts at
        /// `connect`/`reconnect`, and again once a connection stayed up
        /// `min_uptime_ms` (so the first retry after a stable connection is attempt 1).
        attempt: u32,
        /// How long the session waits before it.
        delay_ms: u64,
        /// Why the previous transport failed.
        cause: Cause,
    },
    /// `max_retries` was reached; `Closed { will_reconnect: false }` follows.
    /// [`reconnect`](super::Session::reconnect) starts a fresh run.
    GaveUp {
        /// Attempts made in this run.
        attempts: u32,
        /// Why the last one failed.
        cause: Cause,
    },
    /// Something went wrong that did not change the state.
    Error(SessionError),
}

impl SessionEvent {
    /// The canonical name: `state_changed`, `open`, `migrated`, `message`, `closed`,
    /// `reconnecting`, `gave_up`, `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::StateChanged { .. } => "state_changed",
            Self::Open { .. } => "open",
            Self::Migrated { .. } => "migrated",
            Self::Message(_) => "message",
            Self::Closed { .. } => "closed",
            Self::Reconnecting { .. } => "reconnecting",
            Self::GaveUp { .. } => "gave_up",
            Self::Error(_) => "error",
        }
    }
}

/// Non-fatal anomalies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// A make-before-break transport failed; the old transport stays in use and the
    /// migration is retried.
    MigrationFailed {
        /// Why the successor failed.
        cause: Cause,
        /// When the next make-before-break attempt starts.
        retry_in_ms: u64,
    },
    /// The server skipped offsets although it claimed to have recovered the session.
    RecoveryGap {
        /// The offset that should have come next.
        expected: u64,
        /// The offset that came.
        got: u64,
    },
    /// A message could not be decoded by the envelope and was dropped.
    Envelope(String),
    /// A queued message was refused by the transport when flushed, and dropped.
    Unsendable(String),
}

impl SessionError {
    /// The canonical name: `migration_failed`, `recovery_gap`, `envelope`, `unsendable`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MigrationFailed { .. } => "migration_failed",
            Self::RecoveryGap { .. } => "recovery_gap",
            Self::Envelope(_) => "envelope",
            Self::Unsendable(_) => "unsendable",
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MigrationFailed { cause, retry_in_ms } => {
                write!(f, "make-before-break failed ({cause}); retry in {retry_in_ms} ms")
            }
            Self::RecoveryGap { expected, got } => write!(f, "recovery gap: expected offset {expected}, got {got}"),
            Self::Envelope(why) => write!(f, "undecodable message dropped: {why}"),
            Self::Unsendable(why) => write!(f, "queued message refused by the transport: {why}"),
        }
    }
}

impl std::error::Error for SessionError {}

/// Why [`Session::send`](super::Session::send) refused a message. The message was not
/// queued and will not be sent: nothing is ever dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The outbound queue is at its message or byte limit.
    QueueFull {
        /// Messages queued.
        messages: usize,
        /// Bytes queued.
        bytes: usize,
    },
    /// The session is closing or closed; call `connect`/`reconnect` first.
    Closed,
    /// The transport refused the message (e.g. larger than the connection allows).
    Rejected(String),
}

impl SendError {
    /// The canonical name: `queue_full`, `closed`, `rejected`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::QueueFull { .. } => "queue_full",
            Self::Closed => "closed",
            Self::Rejected(_) => "rejected",
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueFull { messages, bytes } => {
                write!(f, "outbound queue full ({messages} messages, {bytes} bytes)")
            }
            Self::Closed => f.write_str("session is closed"),
            Self::Rejected(why) => write!(f, "message rejected: {why}"),
        }
    }
}

impl std::error::Error for SendError {}
