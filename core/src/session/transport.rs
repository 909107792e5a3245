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
use crate::connection::{
    ClientRequest, Config as ConnectionConfig, Connection, Error as ConnError, Event, Output as ConnOutput,
    State as ConnState,
};
use crate::handshake::HandshakeError;
use bytes::Bytes;

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
    /// A protocol ping (already answered by the connection) or pong arrived.
    Control { pong: bool, payload: Bytes },
    /// One frame of a fragmented message (the connection's `deliver_fragments`).
    Fragment { opcode: u8, fin: bool, data: Bytes },
    /// The transport is finished. `host_closed`: the host already released the socket.
    Gone { cause: Cause, host_closed: bool },
}

/// Protocol state of a byte transport.
pub(crate) struct ByteIo {
    request: ClientRequest,
    config: ConnectionConfig,
    conn: Option<Connection>,
    /// The reason reported before the connection's `Closed` event.
    failure: Option<Cause>,
}

/// How messages travel.
pub(crate) enum Io {
    Messages,
    Bytes(Box<ByteIo>),
}

/// Outcome of [`Transport::send`].
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
            Some(config) => Io::Bytes(Box::new(ByteIo {
                request: ClientRequest::default(),
                config: config.clone(),
                conn: None,
                failure: None,
            })),
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
            b.request = ClientRequest {
                url: request.url.clone(),
                headers: request.headers.clone(),
                subprotocols: request.subprotocols.clone(),
            };
        }
    }

    fn conn(&mut self) -> Option<&mut Connection> {
        match &mut self.io {
            Io::Bytes(b) => b.conn.as_mut(),
            Io::Messages => None,
        }
    }

    /// The earliest moment this transport has timer work.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        let conn = match &self.io {
            Io::Bytes(b) => b.conn.as_ref().and_then(Connection::poll_timeout),
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
        let Io::Bytes(b) = &mut self.io else { return Ok(()) };
        if b.conn.is_some() {
            return Ok(());
        }
        let conn = Connection::client(&b.request, b.config.clone(), Box::new(rng.clone()), now)
            .map_err(|e| Cause::InvalidRequest(e.to_string()))?;
        b.conn = Some(conn);
        self.drain_transmits(out);
        Ok(())
    }

    /// Byte transport: bytes arrived.
    pub(crate) fn feed(&mut self, data: &[u8], now: u64) {
        if let Some(conn) = self.conn() {
            conn.handle_input(data, now);
        }
    }

    /// Whether this is a byte transport whose connection exists.
    pub(crate) fn is_bytes_connected(&self) -> bool {
        matches!(&self.io, Io::Bytes(b) if b.conn.is_some())
    }

    /// Byte transport: the peer ended the stream.
    pub(crate) fn eof(&mut self, now: u64) {
        if let Some(conn) = self.conn() {
            conn.handle_eof(now);
        }
    }

    /// Byte transport: run the connection's timers.
    pub(crate) fn connection_timeout(&mut self, now: u64) {
        if let Some(conn) = self.conn() {
            conn.handle_timeout(now);
        }
    }

    /// Moves the connection's pending bytes to the host.
    pub(crate) fn drain_transmits(&mut self, out: &mut Outbox) {
        let id = self.id;
        if let Some(conn) = self.conn() {
            while let Some(bytes) = conn.poll_transmit() {
                out.push_back(Output::Transmit { id, bytes });
            }
        }
    }

    /// Byte transport: the next connection event, as a signal. Bytes the connection
    /// queued before it (including those queued while earlier events were handed out)
    /// go to `out` first, and when it returns `None` the connection has nothing left.
    pub(crate) fn next_signal(&mut self, out: &mut Outbox) -> Option<Signal> {
        let id = self.id;
        let Io::Bytes(b) = &mut self.io else { return None };
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

    /// Sends a protocol ping (byte transport, open connection); `Err` says why not.
    pub(crate) fn ping(&mut self, payload: &[u8], out: &mut Outbox) -> Result<(), String> {
        let Io::Bytes(b) = &mut self.io else {
            return Err("a message transport has no protocol ping".into());
        };
        let Some(conn) = b.conn.as_mut().filter(|c| c.state() == ConnState::Open) else {
            return Err("the transport is not open".into());
        };
        let result = conn.ping(payload).map_err(|e| e.to_string());
        self.drain_transmits(out);
        result
    }

    /// Sends an application message.
    pub(crate) fn send(&mut self, message: Message, out: &mut Outbox) -> Sent {
        let id = self.id;
        match &mut self.io {
            Io::Messages => {
                out.push_back(Output::SendMessage { id, message });
                Sent::Yes
            }
            Io::Bytes(b) => {
                let Some(conn) = b.conn.as_mut().filter(|c| c.state() == ConnState::Open) else {
                    return Sent::NotNow(message);
                };
                let result = conn.send(message);
                self.drain_transmits(out);
                match result {
                    Ok(()) => Sent::Yes,
                    Err(e) => Sent::Refused(e.to_string()),
                }
            }
        }
    }

    /// Starts a graceful close: the closing handshake over a byte transport (the session
    /// waits for its end), `CloseTransport` for a message transport (the host's WebSocket
    /// runs the handshake and reports `closed`).
    pub(crate) fn begin_close(&mut self, code: u16, reason: &str, now: u64, out: &mut Outbox) {
        self.heartbeat = None;
        match &mut self.io {
            Io::Bytes(b) => {
                if let Some(conn) = b.conn.as_mut() {
                    // Errors mean "already closing/closed": nothing more to do.
                    let _ = conn.close(code, reason, now);
                }
                self.drain_transmits(out);
            }
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
            let socket_ok = self.socket_ok;
            if let Some(conn) = self.conn().filter(|c| socket_ok && c.state() == ConnState::Open) {
                let _ = conn.close(code, reason, now);
            }
            self.drain_transmits(out);
            self.request_close(code, reason, out);
        }
    }
}

fn handshake_cause(e: HandshakeError) -> Cause {
    match e {
        HandshakeError::Rejected(resp) => Cause::HandshakeRejected { status: resp.status },
        HandshakeError::Timeout => Cause::HandshakeTimeout,
        other => Cause::HandshakeFailed(other.to_string()),
    }
}
