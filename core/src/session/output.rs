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
use std::collections::VecDeque;
use std::fmt;

/// Consecutive transmits for one transport are merged up to this many bytes per
/// [`Output::Transmit`]; a chunk that would take the merged write past it starts the next
/// one (so a large message is handed on as it is, without a copy).
#[cfg_attr(not(feature = "bytes-transport"), allow(dead_code))]
pub(crate) const TRANSMIT_MERGE_LIMIT: usize = 256 << 10;

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

/// What a host should ask its transport layer for. `Debug` hides credentials: the values
/// of headers and query parameters named as [`is_sensitive`](crate::handshake::is_sensitive)
/// says (the resume token's among them).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TransportRequest {
    /// `ws://` or `wss://` URL, recovery parameters included.
    pub url: String,
    /// Extra request headers (byte transports only; browsers cannot set them).
    pub headers: Vec<(String, String)>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: Vec<String>,
}

impl fmt::Debug for TransportRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportRequest")
            .field("url", &crate::redact::redact_query(&self.url))
            .field("headers", &crate::redact::redact_headers(&self.headers))
            .field("subprotocols", &self.subprotocols)
            .finish()
    }
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
    /// Byte transport: write these bytes to the socket, in order. Bytes the session
    /// decided one after the other for the same socket come as one `Transmit` (merged up
    /// to 256 KiB; a larger chunk comes alone, uncopied): the queue flushed on open is
    /// one write, not one per message.
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
        /// The negotiated extensions, as the server's `Sec-WebSocket-Extensions` header
        /// gave them (e.g. `permessage-deflate; server_no_context_takeover`); `""` for none.
        /// A message transport reports what its host says
        /// ([`Session::handle_transport_open_with_extensions`](super::Session::handle_transport_open_with_extensions)).
        extensions: String,
    },
    /// Make-before-break finished: traffic now flows over the new transport and the old
    /// one was asked to close. The session stayed `Open` throughout.
    Migrated {
        /// Whether the server resumed the session on the new transport.
        recovered: bool,
    },
    /// An application message (envelope already stripped, duplicates already dropped).
    Message(Message),
    /// One frame of a fragmented message on the open transport, before the whole
    /// [`Message`](Self::Message); only with the `fragments` option (the connection's
    /// [`deliver_fragments`](crate::Config::deliver_fragments)): opcode as sent (0x1/0x2
    /// first, 0x0 after), `fin` on the last, the frame's payload. Frames are reported as
    /// they arrive, so with a recovery envelope or a disconnect-warning pattern they are
    /// the raw frames of messages the session may then strip or consume.
    Fragment {
        /// The frame's opcode.
        opcode: u8,
        /// Whether this is the message's last frame.
        fin: bool,
        /// The frame's payload.
        data: Bytes,
    },
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
    /// The server sent a protocol ping on the open transport (already answered); only
    /// with [`SessionConfig::control_frames`](super::SessionConfig::control_frames).
    Ping(Bytes),
    /// The server sent a protocol pong on the open transport (to a keepalive ping or to
    /// [`Session::ping`](super::Session::ping)); only with `control_frames`.
    Pong(Bytes),
}

impl SessionEvent {
    /// The canonical name: `state_changed`, `open`, `migrated`, `message`, `closed`,
    /// `reconnecting`, `gave_up`, `error`, `ping`, `pong`, `fragment`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ping(_) => "ping",
            Self::Pong(_) => "pong",
            Self::StateChanged { .. } => "state_changed",
            Self::Open { .. } => "open",
            Self::Migrated { .. } => "migrated",
            Self::Message(_) => "message",
            Self::Fragment { .. } => "fragment",
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
            Self::Unsendable(why) => write!(f, "queued message refused by the transport and dropped: {why}"),
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

/// The session's ordered output queue. Consecutive transmits for one transport are
/// merged as they are queued, so a drain hands the host one write per run of bytes
/// instead of one per frame (one crossing per write in a binding). Without the byte
/// transport nothing produces a transmit, and the queue is a plain FIFO.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: VecDeque<Output>,
    /// The transmit at the logical back of the queue, still open for merging: its
    /// transport, its chunks and their total length.
    #[cfg(feature = "bytes-transport")]
    open: Option<(TransportId, Vec<Bytes>, usize)>,
}

#[cfg(not(feature = "bytes-transport"))]
impl Outbox {
    /// Queues `output` after everything queued so far.
    pub(crate) fn push_back(&mut self, output: Output) {
        self.queue.push_back(output);
    }

    /// The oldest queued output.
    pub(crate) fn pop_front(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }
}

#[cfg(feature = "bytes-transport")]
impl Outbox {
    /// Queues `output` after everything queued so far.
    pub(crate) fn push_back(&mut self, output: Output) {
        match output {
            // Nothing to write: a `Transmit` is never empty.
            Output::Transmit { bytes, .. } if bytes.is_empty() => {}
            Output::Transmit { id, bytes } => {
                if let Some((open_id, chunks, len)) = &mut self.open {
                    if *open_id == id && *len + bytes.len() <= TRANSMIT_MERGE_LIMIT {
                        *len += bytes.len();
                        chunks.push(bytes);
                        return;
                    }
                }
                self.close_open();
                let len = bytes.len();
                self.open = Some((id, vec![bytes], len));
            }
            other => {
                self.close_open();
                self.queue.push_back(other);
            }
        }
    }

    /// The oldest queued output.
    pub(crate) fn pop_front(&mut self) -> Option<Output> {
        if self.queue.is_empty() {
            self.close_open();
        }
        self.queue.pop_front()
    }

    /// Ends merging into the open transmit and queues it as one `Transmit`.
    fn close_open(&mut self) {
        let Some((id, mut chunks, len)) = self.open.take() else {
            return;
        };
        let bytes = if chunks.len() == 1 {
            chunks.pop().unwrap_or_default()
        } else {
            let mut merged = bytes::BytesMut::with_capacity(len);
            for c in &chunks {
                merged.extend_from_slice(c);
            }
            merged.freeze()
        };
        self.queue.push_back(Output::Transmit { id, bytes });
    }
}

/// Merging (the byte transport's; without it nothing produces a transmit).
#[cfg(all(test, feature = "bytes-transport"))]
mod tests {
    use super::*;

    fn tx(id: u64, bytes: &[u8]) -> Output {
        Output::Transmit {
            id: TransportId(id),
            bytes: Bytes::copy_from_slice(bytes),
        }
    }

    fn drain(o: &mut Outbox) -> Vec<Output> {
        std::iter::from_fn(|| o.pop_front()).collect()
    }

    #[test]
    fn runs_of_transmits_for_one_transport_merge_and_nothing_else_moves() {
        let mut o = Outbox::default();
        let closed = Output::CloseTransport {
            id: TransportId(1),
            code: 1000,
            reason: String::new(),
        };
        for out in [
            tx(1, b"a"),
            tx(1, b""),
            tx(1, b"b"),
            tx(2, b"c"),
            tx(2, b"d"),
            tx(1, b"e"),
            closed.clone(),
            tx(1, b"f"),
        ] {
            o.push_back(out);
        }
        assert_eq!(
            drain(&mut o),
            vec![tx(1, b"ab"), tx(2, b"cd"), tx(1, b"e"), closed, tx(1, b"f")]
        );
        // What the host already took is not merged with what comes later.
        o.push_back(tx(1, b"g"));
        assert_eq!(o.pop_front(), Some(tx(1, b"g")));
        o.push_back(tx(1, b"h"));
        assert_eq!(drain(&mut o), vec![tx(1, b"h")]);
    }

    #[test]
    fn merging_stops_at_the_limit_and_large_chunks_come_alone() {
        let mut o = Outbox::default();
        let half = vec![1u8; TRANSMIT_MERGE_LIMIT / 2];
        let big = vec![2u8; TRANSMIT_MERGE_LIMIT + 1];
        for out in [tx(1, &half), tx(1, &half), tx(1, b"x"), tx(1, &big), tx(1, b"y")] {
            o.push_back(out);
        }
        let sizes: Vec<usize> = drain(&mut o)
            .into_iter()
            .map(|out| match out {
                Output::Transmit { bytes, .. } => bytes.len(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sizes, [TRANSMIT_MERGE_LIMIT, 1, TRANSMIT_MERGE_LIMIT + 1, 1]);
    }
}
