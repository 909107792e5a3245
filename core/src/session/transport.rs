//! Everything that belongs to one transport, and nothing that outlives it.
//!
//! The connect/handshake deadline, the heartbeat timer, the byte transport's whole
//! [`Connection`] (with its protocol keepalive timers) — all of it lives in a
//! [`Transport`] value, and the session drops that value when it lets the transport go.
//! There is no "reset the flags on reconnect" step to forget: a new transport is a new
//! value, built from scratch.
//!
//! A transport reports what happened as [`Signal`]s; the session decides what they mean.

use super::heartbeat::HeartbeatTimer;
use super::msg::Message;
use super::output::{Outbox, Output, TransportId, TransportRequest};
use super::policy::Cause;
use super::shared_rng::SharedRandom;
use super::ConnectionConfig;
use ::bytes::Bytes;
#[cfg(feature = "bytes-transport")]
pub(crate) use bytes::ByteIo;
#[cfg(not(feature = "bytes-transport"))]
pub(crate) use no_bytes::ByteIo;

/// How far the transport got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Waiting for the host to provide the request (`NeedRequest` emitted).
    AwaitingRequest,
    /// Requested from the host, not connected yet.
    Requested,
    /// Connected; the WebSocket handshake (`ws_open == false`) or the welcome
    /// (`ws_open == true`) is pending.
    Handshaking { ws_open: bool },
    /// Ready for traffic.
    Open,
}

/// What happened on a transport.
#[derive(Debug)]
pub(crate) enum Signal {
    /// The socket connected.
    Connected,
    /// The WebSocket opened.
    WsOpen {
        subprotocol: Option<String>,
        extensions: String,
    },
    /// A message arrived.
    Message(Message),
    /// A protocol ping (already answered by the connection) or pong arrived (byte
    /// transport).
    #[cfg_attr(not(feature = "bytes-transport"), allow(dead_code))]
    Control { pong: bool, payload: Bytes },
    /// One frame of a fragmented message (the connection's `deliver_fragments`; byte
    /// transport).
    #[cfg_attr(not(feature = "bytes-transport"), allow(dead_code))]
    Fragment { opcode: u8, fin: bool, data: Bytes },
    /// The transport is finished. `host_closed`: the host already released the socket.
    Gone { cause: Cause, host_closed: bool },
}

/// How messages travel.
pub(crate) enum Io {
    Messages,
    #[cfg_attr(not(feature = "bytes-transport"), allow(dead_code))]
    Bytes(Box<ByteIo>),
}

/// Outcome of [`Transport::send`].
#[cfg_attr(not(feature = "bytes-transport"), allow(dead_code))]
pub(crate) enum Sent {
    Yes,
    /// Not open for sending right now (e.g. closing); the message comes back.
    NotNow(Message),
    /// The transport refused it for good.
    Refused(String),
}

/// One transport and all of its per-transport state.
pub(crate) struct Transport {
    pub(crate) id: TransportId,
    pub(crate) stage: Stage,
    /// Connect or handshake deadline of the current stage.
    pub(crate) deadline: Option<u64>,
    pub(crate) heartbeat: Option<HeartbeatTimer>,
    pub(crate) subprotocol: Option<String>,
    /// The negotiated extensions (`""` for none).
    pub(crate) extensions: String,
    /// `CloseTransport` was already emitted, or the host released the socket itself.
    pub(crate) close_requested: bool,
    /// The socket can still carry a close frame (no error or end of stream reported).
    pub(crate) socket_ok: bool,
    pub(crate) io: Io,
}

impl Transport {
    /// A transport waiting for its request ([`set_request`](Self::set_request)).
    pub(crate) fn new(id: TransportId, bytes: Option<&ConnectionConfig>, connect_deadline: Option<u64>) -> Self {
        let io = match bytes {
            None => Io::Messages,
            #[cfg(feature = "bytes-transport")]
            Some(config) => Io::Bytes(Box::new(ByteIo::new(config))),
            #[cfg(not(feature = "bytes-transport"))]
            Some(never) => match *never {},
        };
        Self {
            id,
            stage: Stage::AwaitingRequest,
            deadline: connect_deadline,
            heartbeat: None,
            subprotocol: None,
            extensions: String::new(),
            close_requested: false,
            socket_ok: true,
            io,
        }
    }

    /// The request was sent to the host in `OpenTransport`: the transport is requested.
    pub(crate) fn set_request(&mut self, request: &TransportRequest) {
        self.stage = Stage::Requested;
        if let Io::Bytes(b) = &mut self.io {
            b.set_request(request);
        }
    }

    fn bytes(&mut self) -> Option<&mut ByteIo> {
        match &mut self.io {
            Io::Bytes(b) => Some(b),
            Io::Messages => None,
        }
    }

    /// The earliest moment this transport has timer work.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        let conn = match &self.io {
            Io::Bytes(b) => b.poll_timeout(),
            Io::Messages => None,
        };
        [
            self.deadline,
            self.heartbeat.as_ref().and_then(HeartbeatTimer::deadline),
            conn,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Byte transport: the socket connected; start the WebSocket handshake.
    pub(crate) fn start_connection(&mut self, rng: &SharedRandom, now: u64, out: &mut Outbox) -> Result<(), Cause> {
        let id = self.id;
        match self.bytes() {
            Some(b) => b.start(id, rng, now, out),
            None => Ok(()),
        }
    }

    /// Byte transport: bytes arrived.
    pub(crate) fn feed(&mut self, data: &[u8], now: u64) {
        if let Some(b) = self.bytes() {
            b.feed(data, now);
        }
    }

    /// Whether this is a byte transport whose connection exists.
    pub(crate) fn is_bytes_connected(&self) -> bool {
        matches!(&self.io, Io::Bytes(b) if b.is_connected())
    }

    /// Byte transport: the peer ended the stream.
    pub(crate) fn eof(&mut self, now: u64) {
        if let Some(b) = self.bytes() {
            b.eof(now);
        }
    }

    /// Byte transport: run the connection's timers.
    pub(crate) fn connection_timeout(&mut self, now: u64) {
        if let Some(b) = self.bytes() {
            b.timeout(now);
        }
    }

    /// Byte transport: the next connection event, as a signal. Bytes the connection
    /// queued before it (including those queued while earlier events were handed out)
    /// go to `out` first, and when it returns `None` the connection has nothing left.
    pub(crate) fn next_signal(&mut self, out: &mut Outbox) -> Option<Signal> {
        let id = self.id;
        self.bytes()?.next_signal(id, out)
    }

    /// Sends a protocol ping (byte transport, open connection); `Err` says why not.
    pub(crate) fn ping(&mut self, payload: &[u8], out: &mut Outbox) -> Result<(), String> {
        let id = self.id;
        match self.bytes() {
            Some(b) => b.ping(id, payload, out),
            None => Err("a message transport has no protocol ping".into()),
        }
    }

    /// Sends an application message.
    pub(crate) fn send(&mut self, message: Message, out: &mut Outbox) -> Sent {
        let id = self.id;
        match &mut self.io {
            Io::Messages => {
                out.push_back(Output::SendMessage { id, message });
                Sent::Yes
            }
            Io::Bytes(b) => b.send(id, message, out),
        }
    }

    /// Starts a graceful close: the closing handshake over a byte transport (the session
    /// waits for its end), `CloseTransport` for a message transport (the host's WebSocket
    /// runs the handshake and reports `closed`).
    pub(crate) fn begin_close(&mut self, code: u16, reason: &str, now: u64, out: &mut Outbox) {
        self.heartbeat = None;
        match &mut self.io {
            Io::Bytes(b) => b.begin_close(self.id, code, reason, now, out),
            Io::Messages => self.request_close(code, reason, out),
        }
    }

    fn request_close(&mut self, code: u16, reason: &str, out: &mut Outbox) {
        if !self.close_requested {
            self.close_requested = true;
            out.push_back(Output::CloseTransport {
                id: self.id,
                code,
                reason: reason.to_string(),
            });
        }
    }

    /// Lets the transport go: a best-effort close frame on an open byte transport, then
    /// `CloseTransport` unless the host already released the socket. Consumes the value,
    /// and with it every timer of this transport.
    pub(crate) fn release(mut self, code: u16, reason: &str, host_closed: bool, now: u64, out: &mut Outbox) {
        if !host_closed {
            let (id, socket_ok) = (self.id, self.socket_ok);
            if let Some(b) = self.bytes() {
                b.release(id, socket_ok, code, reason, now, out);
            }
            self.request_close(code, reason, out);
        }
    }
}

/// The byte transport: one client [`Connection`](crate::Connection) per attempt.
#[cfg(feature = "bytes-transport")]
mod bytes {
    use super::{
        Cause, ConnectionConfig, Message, Outbox, Output, Sent, SharedRandom, Signal, TransportId, TransportRequest,
    };
    use crate::connection::{
        ClientRequest, Connection, Error as ConnError, Event, Output as ConnOutput, State as ConnState,
    };
    use crate::handshake::HandshakeError;

    /// Protocol state of a byte transport.
    pub(crate) struct ByteIo {
        request: ClientRequest,
        config: ConnectionConfig,
        conn: Option<Connection>,
        /// The reason reported before the connection's `Closed` event.
        failure: Option<Cause>,
    }

    impl ByteIo {
        pub(crate) fn new(config: &ConnectionConfig) -> Self {
            Self {
                request: ClientRequest::default(),
                config: config.clone(),
                conn: None,
                failure: None,
            }
        }

        pub(crate) fn set_request(&mut self, request: &TransportRequest) {
            self.request = ClientRequest {
                url: request.url.clone(),
                headers: request.headers.clone(),
                subprotocols: request.subprotocols.clone(),
            };
        }

        pub(crate) fn poll_timeout(&self) -> Option<u64> {
            self.conn.as_ref().and_then(Connection::poll_timeout)
        }

        /// The socket connected; start the WebSocket handshake.
        pub(crate) fn start(
            &mut self,
            id: TransportId,
            rng: &SharedRandom,
            now: u64,
            out: &mut Outbox,
        ) -> Result<(), Cause> {
            if self.conn.is_some() {
                return Ok(());
            }
            let conn = Connection::client(&self.request, self.config.clone(), Box::new(rng.clone()), now)
                .map_err(|e| Cause::InvalidRequest(e.to_string()))?;
            self.conn = Some(conn);
            self.drain(id, out);
            Ok(())
        }

        pub(crate) fn feed(&mut self, data: &[u8], now: u64) {
            if let Some(conn) = self.conn.as_mut() {
                conn.handle_input(data, now);
            }
        }

        pub(crate) fn is_connected(&self) -> bool {
            self.conn.is_some()
        }

        pub(crate) fn eof(&mut self, now: u64) {
            if let Some(conn) = self.conn.as_mut() {
                conn.handle_eof(now);
            }
        }

        pub(crate) fn timeout(&mut self, now: u64) {
            if let Some(conn) = self.conn.as_mut() {
                conn.handle_timeout(now);
            }
        }

        pub(crate) fn drain(&mut self, id: TransportId, out: &mut Outbox) {
            if let Some(conn) = self.conn.as_mut() {
                while let Some(bytes) = conn.poll_transmit() {
                    out.push_back(Output::Transmit { id, bytes });
                }
            }
        }

        pub(crate) fn next_signal(&mut self, id: TransportId, out: &mut Outbox) -> Option<Signal> {
            let b = self;
            loop {
                let event = match b.conn.as_mut()?.poll_output()? {
                    ConnOutput::Transmit(bytes) => {
                        out.push_back(Output::Transmit { id, bytes });
                        continue;
                    }
                    ConnOutput::Event(event) => event,
                };
                match event {
                    Event::Open(info) => {
                        let extensions = crate::handshake::header_value(&info.headers, "sec-websocket-extensions")
                            .unwrap_or("")
                            .to_string();
                        return Some(Signal::WsOpen {
                            subprotocol: info.subprotocol,
                            extensions,
                        });
                    }
                    Event::Message(m) => return Some(Signal::Message(m)),
                    Event::HandshakeFailed(e) => b.failure = Some(handshake_cause(e)),
                    Event::Error(e) => {
                        // The connection failed (RFC 6455 §7.1.7): nothing more from the peer
                        // counts, so the session lets the transport go now rather than wait
                        // for the peer's answer to the close frame. The close frame itself
                        // leaves first: `release` drains it before `CloseTransport`.
                        let cause = match e {
                            ConnError::KeepaliveTimeout => Cause::KeepaliveTimeout,
                            other => Cause::Protocol(other.to_string()),
                        };
                        return Some(Signal::Gone {
                            cause: b.failure.take().unwrap_or(cause),
                            host_closed: false,
                        });
                    }
                    Event::Closed(info) => {
                        let cause = b.failure.take().unwrap_or(Cause::Closed {
                            code: info.code,
                            reason: info.reason,
                        });
                        return Some(Signal::Gone {
                            cause,
                            host_closed: false,
                        });
                    }
                    Event::Ping(payload) => return Some(Signal::Control { pong: false, payload }),
                    Event::Pong(payload) => return Some(Signal::Control { pong: true, payload }),
                    Event::Fragment { opcode, fin, data } => return Some(Signal::Fragment { opcode, fin, data }),
                    Event::Request(_) => {}
                }
            }
        }

        /// Sends a protocol ping on an open connection; `Err` says why not.
        pub(crate) fn ping(&mut self, id: TransportId, payload: &[u8], out: &mut Outbox) -> Result<(), String> {
            let Some(conn) = self.conn.as_mut().filter(|c| c.state() == ConnState::Open) else {
                return Err("the transport is not open".into());
            };
            let result = conn.ping(payload).map_err(|e| e.to_string());
            self.drain(id, out);
            result
        }

        pub(crate) fn send(&mut self, id: TransportId, message: Message, out: &mut Outbox) -> Sent {
            let Some(conn) = self.conn.as_mut().filter(|c| c.state() == ConnState::Open) else {
                return Sent::NotNow(message);
            };
            let result = conn.send(message);
            self.drain(id, out);
            match result {
                Ok(()) => Sent::Yes,
                Err(e) => Sent::Refused(e.to_string()),
            }
        }

        pub(crate) fn begin_close(&mut self, id: TransportId, code: u16, reason: &str, now: u64, out: &mut Outbox) {
            if let Some(conn) = self.conn.as_mut() {
                // Errors mean "already closing/closed": nothing more to do.
                let _ = conn.close(code, reason, now);
            }
            self.drain(id, out);
        }

        /// A best-effort close frame on an open connection (`socket_ok`: the socket can
        /// still carry one), then its bytes out.
        pub(crate) fn release(
            &mut self,
            id: TransportId,
            socket_ok: bool,
            code: u16,
            reason: &str,
            now: u64,
            out: &mut Outbox,
        ) {
            if let Some(conn) = self.conn.as_mut().filter(|c| socket_ok && c.state() == ConnState::Open) {
                let _ = conn.close(code, reason, now);
            }
            self.drain(id, out);
        }
    }

    fn handshake_cause(e: HandshakeError) -> Cause {
        match e {
            HandshakeError::Rejected(resp) => Cause::HandshakeRejected { status: resp.status },
            HandshakeError::Timeout => Cause::HandshakeTimeout,
            other => Cause::HandshakeFailed(other.to_string()),
        }
    }
}

/// Without the `bytes-transport` feature: no byte transport can exist (its configuration
/// is uninhabited), so none of this is ever called.
#[cfg(not(feature = "bytes-transport"))]
mod no_bytes {
    use super::{Cause, Message, Outbox, Sent, SharedRandom, Signal, TransportId, TransportRequest};

    pub(crate) enum ByteIo {}

    impl ByteIo {
        pub(crate) fn set_request(&mut self, _: &TransportRequest) {
            match *self {}
        }
        pub(crate) fn poll_timeout(&self) -> Option<u64> {
            match *self {}
        }
        pub(crate) fn start(&mut self, _: TransportId, _: &SharedRandom, _: u64, _: &mut Outbox) -> Result<(), Cause> {
            match *self {}
        }
        pub(crate) fn feed(&mut self, _: &[u8], _: u64) {
            match *self {}
        }
        pub(crate) fn is_connected(&self) -> bool {
            match *self {}
        }
        pub(crate) fn eof(&mut self, _: u64) {
            match *self {}
        }
        pub(crate) fn timeout(&mut self, _: u64) {
            match *self {}
        }
        pub(crate) fn next_signal(&mut self, _: TransportId, _: &mut Outbox) -> Option<Signal> {
            match *self {}
        }
        pub(crate) fn ping(&mut self, _: TransportId, _: &[u8], _: &mut Outbox) -> Result<(), String> {
            match *self {}
        }
        pub(crate) fn send(&mut self, _: TransportId, _: Message, _: &mut Outbox) -> Sent {
            match *self {}
        }
        pub(crate) fn begin_close(&mut self, _: TransportId, _: u16, _: &str, _: u64, _: &mut Outbox) {
            match *self {}
        }
        pub(crate) fn release(&mut self, _: TransportId, _: bool, _: u16, _: &str, _: u64, _: &mut Outbox) {
            match *self {}
        }
    }
}
