//! One RFC 6455 connection, client or server role, with no I/O.
//!
//! The host drives it:
//! 1. feed what the transport delivered: [`handle_input`](Connection::handle_input),
//!    or [`handle_eof`](Connection::handle_eof) when the peer ended the stream;
//! 2. call [`poll_output`](Connection::poll_output) until it returns `None`: write each
//!    [`Output::Transmit`], handle each [`Output::Event`] (sending answers at once is
//!    fine: they come out of a later call of the same drain);
//! 3. arm one timer at [`poll_timeout`](Connection::poll_timeout) and call
//!    [`handle_timeout`](Connection::handle_timeout) when it fires;
//! 4. close the transport once [`should_close_transport`](Connection::should_close_transport)
//!    says so (after writing what is pending).
//!
//! Handing out an event can queue bytes: after a protocol error the close frame waits
//! until the messages that arrived before the error have been handed out, so that answers
//! to them go first. `poll_output` cannot miss those bytes; a host that uses the
//! lower-level [`poll_transmit`](Connection::poll_transmit) and
//! [`poll_event`](Connection::poll_event) must poll transmits again after the last event
//! before it waits for input.
//!
//! Time is a `u64` count of milliseconds from an origin the host chooses. Payload bytes
//! go from the input straight into the message buffer and are unmasked there: a frame
//! costs no allocation of its own, and a message one (its own buffer).

mod types;

pub use types::*;

use crate::close;
use crate::deflate::{self, InflateError, PerMessageDeflate};
use crate::frame::{self, FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::handshake::{self, HandshakeError, Header, HttpResponse, Request, ResponseHead, WsUrl};
use crate::mask::apply_mask;
use crate::message::{Message, Text};
use crate::rng::RandomSource;
use crate::utf8::Utf8Validator;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Up to this much of a declared frame length is reserved ahead of its arrival; beyond
/// it the buffer grows as bytes come, so a lying header cannot make us allocate.
const MAX_EAGER_RESERVE: usize = 64 << 10;
/// Longest close reason that fits a control frame with its code.
const MAX_REASON: usize = 123;

/// Where the handshake stands.
#[derive(Debug)]
enum Phase {
    /// Client: request sent, reading the response head.
    ClientHandshake {
        key: String,
        offered: Vec<String>,
        resource: String,
    },
    /// Client: a non-101 response arrived; reading `needed` body bytes after `head_len`.
    RejectedBody {
        head: ResponseHead,
        head_len: usize,
        needed: usize,
    },
    /// Server: reading the request head.
    ServerHandshake,
    /// Server: a valid request awaits `accept` or `reject`; input is held.
    AwaitingAccept { request: Request },
    /// Frames flow.
    Frames,
}

/// Where the payload of the current frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Message,
    Control(OpCode),
    Discard,
    /// A malformed close frame: skipped, but it still ends the closing handshake.
    BrokenClose,
}

/// The frame decoder's position.
#[derive(Debug, Clone, Copy)]
enum Decode {
    Header,
    Payload {
        remaining: u64,
        mask: Option<[u8; 4]>,
        mask_offset: usize,
        fin: bool,
        dest: Dest,
    },
}

/// Keepalive timers of the current transport.
#[derive(Debug, Clone, Copy)]
struct KeepaliveTimers {
    next_ping_at: u64,
    pong_deadline: Option<u64>,
}

/// One WebSocket connection. See the module docs for the driving loop.
pub struct Connection {
    role: Role,
    config: Config,
    rng: Box<dyn RandomSource>,
    state: State,
    phase: Phase,
    /// Handshake bytes, and input held while a server decides to accept.
    hs_buf: Vec<u8>,
    handshake_deadline: Option<u64>,
    // Frame decoding.
    decode: Decode,
    hdr_buf: [u8; MAX_HEADER_LEN],
    hdr_len: usize,
    msg: BytesMut,
    msg_kind: Option<OpCode>,
    /// The current message is compressed (RSV1 on its first frame).
    msg_compressed: bool,
    /// Inflated bytes of the current compressed message.
    inflated: Vec<u8>,
    /// Unmasked compressed bytes of the current chunk, on their way to the inflater.
    deflated: Vec<u8>,
    utf8: Utf8Validator,
    ctrl: BytesMut,
    /// False once nothing more from the peer will be looked at.
    reading: bool,
    // Output.
    tx: BytesMut,
    events: VecDeque<Event>,
    /// A failure's close frame waits until this many more events are handed out, so
    /// that the application can act on (e.g. answer) messages that arrived before the
    /// error. Holds the count and the time of the failure.
    deferred_close: Option<(usize, u64)>,
    // Closing.
    close_sent: bool,
    /// Set when we failed the connection: our code and reason are what `Closed` reports.
    failure: Option<(u16, String)>,
    close_deadline: Option<u64>,
    closed_emitted: bool,
    transport_done: bool,
    keepalive: Option<KeepaliveTimers>,
    ping_counter: u64,
    subprotocol: Option<String>,
    /// Boxed: the codec pair is over 300 bytes inline (flate2 stream state), which every
    /// connection would carry even with compression off.
    deflate: Option<Box<PerMessageDeflate>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("buffered", &self.tx.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn new(role: Role, config: Config, rng: Box<dyn RandomSource>, phase: Phase, now: u64) -> Self {
        Self {
            role,
            handshake_deadline: config.handshake_timeout_ms.map(|t| now.saturating_add(t)),
            config,
            rng,
            state: State::Connecting,
            phase,
            hs_buf: Vec::new(),
            decode: Decode::Header,
            hdr_buf: [0; MAX_HEADER_LEN],
            hdr_len: 0,
            msg: BytesMut::new(),
            msg_kind: None,
            msg_compressed: false,
            inflated: Vec::new(),
            deflated: Vec::new(),
            utf8: Utf8Validator::default(),
            ctrl: BytesMut::new(),
            reading: true,
            tx: BytesMut::new(),
            events: VecDeque::new(),
            deferred_close: None,
            close_sent: false,
            failure: None,
            close_deadline: None,
            closed_emitted: false,
            transport_done: false,
            keepalive: None,
            ping_counter: 0,
            subprotocol: None,
            deflate: None,
        }
    }

    /// A client connection; the upgrade request is queued for transmission at once.
    pub fn client(
        req: &ClientRequest,
        config: Config,
        mut rng: Box<dyn RandomSource>,
        now: u64,
    ) -> Result<Self, Error> {
        let url = WsUrl::parse(&req.url).map_err(Error::InvalidUrl)?;
        for (n, v) in &req.headers {
            handshake::check_header(n, v).map_err(Error::InvalidHeader)?;
        }
        for p in &req.subprotocols {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
                return Err(Error::InvalidHeader(format!("invalid subprotocol {p:?}")));
            }
        }
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        let key = handshake::new_key(nonce);
        let offer = config.deflate.as_ref().and_then(deflate::client_offer);
        let request = handshake::client_request(&url, &key, &req.subprotocols, offer.as_deref(), &req.headers);
        let phase = Phase::ClientHandshake {
            key,
            offered: req.subprotocols.clone(),
            resource: url.resource,
        };
        let mut conn = Self::new(Role::Client, config, rng, phase, now);
        conn.tx.extend_from_slice(request.as_bytes());
        Ok(conn)
    }

    /// A server connection, waiting for the client's request.
    pub fn server(config: Config, rng: Box<dyn RandomSource>, now: u64) -> Self {
        Self::new(Role::Server, config, rng, Phase::ServerHandshake, now)
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The negotiated subprotocol, once open.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Bytes queued for transmission and not yet taken by `poll_transmit`.
    pub fn buffered_amount(&self) -> usize {
        self.tx.len()
    }

    /// Whether the host should now close the transport (after writing what
    /// `poll_transmit` still returns). Once true, nothing more will be read.
    pub fn should_close_transport(&self) -> bool {
        self.transport_done
    }

    /// The next thing for the host, until `None`: all pending bytes first, then one
    /// event at a time (bytes that handing out an event queued come out of the next
    /// call). See the module docs for the loop.
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(bytes) = self.poll_transmit() {
            return Some(Output::Transmit(bytes));
        }
        self.poll_event().map(Output::Event)
    }

    /// Lower level than [`poll_output`](Self::poll_output): the next chunk of bytes to
    /// write to the transport. Handing out an event can queue more (see the module docs).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.tx.is_empty() {
            None
        } else {
            Some(self.tx.split().freeze())
        }
    }

    /// Lower level than [`poll_output`](Self::poll_output): the next event. It may queue
    /// bytes (a close frame deferred behind the messages before an error): poll
    /// transmits again before waiting for input.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if let Some((left, at)) = self.deferred_close {
            if left <= 1 {
                self.deferred_close = None;
                if let Some((code, reason)) = self.failure.clone() {
                    self.send_close_frame(Some(code), &reason, at);
                }
            } else {
                self.deferred_close = Some((left - 1, at));
            }
        }
        Some(event)
    }

    /// The earliest time at which `handle_timeout` has work to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.transport_done {
            return None;
        }
        let mut t = self.close_deadline;
        if self.state == State::Connecting {
            t = min_opt(t, self.handshake_deadline);
        }
        if let (State::Open, Some(ka)) = (self.state, self.keepalive) {
            t = min_opt(t, Some(ka.next_ping_at));
            t = min_opt(t, ka.pong_deadline);
        }
        t
    }

    /// Runs the timers that are due at `now`. Early or repeated calls are harmless.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.transport_done {
            return;
        }
        if self.state == State::Connecting && self.handshake_deadline.is_some_and(|d| d <= now) {
            self.handshake_failed(HandshakeError::Timeout);
            return;
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            self.close_deadline = None;
            if self.state == State::Closed {
                // A client waited for the server to end the stream after a clean close.
                self.drop_transport();
            } else {
                let (code, reason) = self.failure_or_abnormal("the peer did not answer the close frame in time");
                self.abort(code, reason, false);
            }
            return;
        }
        if self.state != State::Open {
            return;
        }
        let Some(ka_cfg) = self.config.keepalive else { return };
        let Some(mut ka) = self.keepalive else { return };
        if ka.pong_deadline.is_some_and(|d| d <= now) {
            self.events.push_back(Event::Error(Error::KeepaliveTimeout));
            let reason = format!("keepalive: no answer within {} ms of a ping", ka_cfg.pong_timeout_ms);
            self.abort(close::ABNORMAL, reason, false);
            return;
        }
        if ka.next_ping_at <= now {
            self.ping_counter = self.ping_counter.wrapping_add(1);
            let payload = self.ping_counter.to_be_bytes();
            self.write_frame(true, OpCode::Ping, &payload);
            if ka.pong_deadline.is_none() {
                ka.pong_deadline = Some(now.saturating_add(ka_cfg.pong_timeout_ms));
            }
            ka.next_ping_at = now.saturating_add(ka_cfg.interval_ms.max(1));
            self.keepalive = Some(ka);
        }
    }

    /// Feeds bytes that arrived from the transport.
    pub fn handle_input(&mut self, data: &[u8], now: u64) {
        if !self.reading || data.is_empty() {
            return;
        }
        match self.phase {
            Phase::Frames => {
                self.note_activity(now);
                self.read_frames(data, now);
            }
            Phase::AwaitingAccept { .. } => {
                if self.hs_buf.len().saturating_add(data.len()) > self.config.max_message_size {
                    self.abort(
                        close::ABNORMAL,
                        "too much input while the request awaited acceptance",
                        true,
                    );
                } else {
                    self.hs_buf.extend_from_slice(data);
                }
            }
            _ => {
                // Only the new bytes (and the 3 before them) can complete "\r\n\r\n":
                // a head sent a byte at a time is not rescanned from the start each time.
                let scan_from = self.hs_buf.len().saturating_sub(3);
                self.hs_buf.extend_from_slice(data);
                self.progress_handshake(scan_from, now);
            }
        }
    }

    /// The peer ended the stream (read returned 0, or the transport failed).
    pub fn handle_eof(&mut self, _now: u64) {
        self.reading = false;
        match self.state {
            State::Closed => {}
            State::Connecting => {
                if let Phase::RejectedBody { .. } = self.phase {
                    self.finish_rejection();
                } else if let Phase::AwaitingAccept { .. } | Phase::ServerHandshake = self.phase {
                    self.emit_closed(CloseInfo {
                        code: close::ABNORMAL,
                        reason: "the client went away during the handshake".into(),
                        clean: false,
                        remote: true,
                    });
                } else {
                    self.handshake_failed(HandshakeError::ConnectionClosed);
                }
            }
            State::Open | State::Closing => {
                let (code, reason) = self.failure_or_abnormal("the connection ended without a close frame");
                self.emit_closed(CloseInfo {
                    code,
                    reason,
                    clean: false,
                    remote: true,
                });
            }
        }
        self.drop_transport();
    }

    /// Server role: accepts the pending request.
    pub fn accept(&mut self, accept: Accept, now: u64) -> Result<(), Error> {
        let Phase::AwaitingAccept { request } = &self.phase else {
            return Err(Error::InvalidState(self.state));
        };
        // The client may have gone (or the application closed) while it waited.
        if self.state != State::Connecting || self.transport_done {
            return Err(Error::InvalidState(self.state));
        }
        if let Some(p) = &accept.subprotocol {
            if !request.subprotocols.iter().any(|o| o == p) {
                return Err(Error::InvalidHeader(format!("subprotocol {p:?} was not offered")));
            }
        }
        for (n, v) in &accept.headers {
            handshake::check_header(n, v).map_err(Error::InvalidHeader)?;
        }
        let offers = handshake::header_tokens_raw(&request.headers, "sec-websocket-extensions");
        let negotiated = self
            .config
            .deflate
            .as_ref()
            .and_then(|cfg| deflate::server_accept(cfg, offers));
        let (ext_response, agreement) = negotiated.unzip();
        let response = handshake::accept_response(
            &request.key,
            accept.subprotocol.as_deref(),
            ext_response.as_deref(),
            &accept.headers,
        );
        if let (Some(cfg), Some(a)) = (&self.config.deflate, agreement) {
            self.deflate = PerMessageDeflate::new(cfg, a).map(Box::new);
        }
        let info = HandshakeInfo {
            path: request.path.clone(),
            subprotocol: accept.subprotocol.clone(),
            headers: request.headers.clone(),
        };
        self.tx.extend_from_slice(response.as_bytes());
        self.subprotocol = accept.subprotocol;
        self.open(info, now);
        let held = std::mem::take(&mut self.hs_buf);
        if !held.is_empty() {
            self.handle_input(&held, now);
        }
        Ok(())
    }

    /// Server role: refuses the pending request with an HTTP status.
    pub fn reject(&mut self, status: u16, headers: &[Header], body: &[u8]) -> Result<(), Error> {
        if !matches!(self.phase, Phase::AwaitingAccept { .. }) || self.state != State::Connecting || self.transport_done
        {
            return Err(Error::InvalidState(self.state));
        }
        for (n, v) in headers {
            handshake::check_header(n, v).map_err(Error::InvalidHeader)?;
        }
        let status = if (400..=599).contains(&status) { status } else { 403 };
        self.tx
            .extend_from_slice(&handshake::error_response(status, headers, body));
        self.abort(close::ABNORMAL, format!("request rejected with HTTP {status}"), false);
        Ok(())
    }

    /// Sends a message. Only while open.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        match &message {
            Message::Text(t) => self.send_data(OpCode::Text, t.as_bytes()),
            Message::Binary(b) => self.send_data(OpCode::Binary, b),
        }
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_data(OpCode::Text, text.as_bytes())
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_data(OpCode::Binary, data)
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (a one-way heartbeat).
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Starts the closing handshake. Code 1005 sends a close frame without a code.
    ///
    /// Safe in every state: while connecting it abandons the handshake (the host is
    /// told to drop the transport); while closing or closed it does nothing.
    pub fn close(&mut self, code: u16, reason: &str, now: u64) -> Result<(), Error> {
        match self.state {
            State::Closing | State::Closed => Ok(()),
            State::Connecting => {
                self.abort(
                    close::ABNORMAL,
                    "closed by the application before the handshake completed",
                    false,
                );
                Ok(())
            }
            State::Open => {
                if code != close::NO_STATUS && !close::is_valid_on_wire(code) {
                    return Err(Error::InvalidCloseCode(code));
                }
                if reason.len() > MAX_REASON {
                    return Err(Error::ReasonTooLong(reason.len()));
                }
                let code = (code != close::NO_STATUS).then_some(code);
                self.send_close_frame(code, reason, now);
                Ok(())
            }
        }
    }

    // ------------------------------------------------------------------ sending

    fn send_data(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(Error::InvalidState(self.state));
        }
        let compressed = self.deflate.as_mut().and_then(|d| d.compress(payload));
        let (payload, rsv1) = match &compressed {
            Some(z) => (z.as_slice(), true),
            None => (payload, false),
        };
        match self.config.fragment_size {
            Some(size) if size > 0 && payload.len() > size => {
                let mut chunks = payload.chunks(size).peekable();
                let (mut op, mut rsv) = (opcode, rsv1);
                while let Some(chunk) = chunks.next() {
                    self.write_frame_rsv(chunks.peek().is_none(), rsv, op, chunk);
                    (op, rsv) = (OpCode::Continuation, false);
                }
            }
            _ => self.write_frame_rsv(true, rsv1, opcode, payload),
        }
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(Error::InvalidState(self.state));
        }
        if payload.len() > 125 {
            return Err(Error::ControlPayloadTooLong(payload.len()));
        }
        self.write_frame(true, opcode, payload);
        Ok(())
    }

    fn write_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        self.write_frame_rsv(fin, false, opcode, payload)
    }

    fn write_frame_rsv(&mut self, fin: bool, rsv1: bool, opcode: OpCode, payload: &[u8]) {
        let mask = match self.role {
            Role::Client => {
                let mut key = [0u8; 4];
                self.rng.fill(&mut key);
                Some(key)
            }
            Role::Server => None,
        };
        frame::write_header(&mut self.tx, fin, rsv1, opcode, mask, payload.len());
        let start = self.tx.len();
        self.tx.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut self.tx[start..], key, 0);
        }
    }

    fn send_close_frame(&mut self, code: Option<u16>, reason: &str, now: u64) {
        if self.close_sent {
            return;
        }
        let mut payload = Vec::with_capacity(2 + reason.len());
        if let Some(code) = code {
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(crate::utf8::truncate(reason, MAX_REASON).as_bytes());
        }
        self.write_frame(true, OpCode::Close, &payload);
        self.close_sent = true;
        if self.state == State::Open {
            self.state = State::Closing;
            self.close_deadline = Some(now.saturating_add(self.config.close_timeout_ms));
        }
    }

    // ------------------------------------------------------------------ handshake

    fn progress_handshake(&mut self, scan_from: usize, now: u64) {
        if let Phase::RejectedBody { head_len, needed, .. } = self.phase {
            if self.hs_buf.len() >= head_len + needed {
                self.finish_rejection();
            }
            return;
        }
        let Some(len) = handshake::head_len(&self.hs_buf[scan_from..]).map(|l| scan_from + l) else {
            if self.hs_buf.len() > self.config.max_handshake_size {
                self.handshake_failed(HandshakeError::TooLarge);
            }
            return;
        };
        if len > self.config.max_handshake_size {
            self.handshake_failed(HandshakeError::TooLarge);
            return;
        }
        match std::mem::replace(&mut self.phase, Phase::Frames) {
            Phase::ClientHandshake { key, offered, resource } => {
                self.client_response(len, &key, &offered, resource, now)
            }
            Phase::ServerHandshake => self.server_request(len),
            other => self.phase = other,
        }
    }

    fn client_response(&mut self, len: usize, key: &str, offered: &[String], resource: String, now: u64) {
        let head = match handshake::parse_response(&self.hs_buf[..len]) {
            Ok(h) => h,
            Err(e) => return self.handshake_failed(e),
        };
        if head.status != 101 {
            let declared =
                handshake::header_value(&head.headers, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
            let limit = self.config.max_handshake_size;
            let available = self.hs_buf.len() - len;
            let needed = declared.map_or(available, |d| d.min(limit));
            self.phase = Phase::RejectedBody {
                head,
                head_len: len,
                needed,
            };
            if available >= needed {
                self.finish_rejection();
            }
            return;
        }
        let agreed = match handshake::validate_response(&head, key, offered) {
            Ok(a) => a,
            Err(e) => return self.handshake_failed(e),
        };
        if let Some(ext) = &agreed.extensions {
            let Some(cfg) = self.config.deflate.as_ref().filter(|_| cfg!(feature = "deflate")) else {
                return self.handshake_failed(HandshakeError::InvalidResponse(
                    "the server negotiated an extension that was not offered".into(),
                ));
            };
            match deflate::client_accept(cfg, ext) {
                Ok(a) => self.deflate = PerMessageDeflate::new(cfg, a).map(Box::new),
                Err(why) => return self.handshake_failed(HandshakeError::InvalidResponse(why)),
            }
        }
        self.subprotocol = agreed.subprotocol.clone();
        let rest = self.hs_buf.split_off(len);
        self.hs_buf = Vec::new();
        self.open(
            HandshakeInfo {
                path: resource,
                subprotocol: agreed.subprotocol,
                headers: head.headers,
            },
            now,
        );
        if !rest.is_empty() {
            self.handle_input(&rest, now);
        }
    }

    fn server_request(&mut self, len: usize) {
        match handshake::parse_request(&self.hs_buf[..len]) {
            Ok(request) => {
                // Bytes after the head (frames sent eagerly) are held until accept.
                self.hs_buf.drain(..len);
                self.events.push_back(Event::Request(request.clone()));
                self.phase = Phase::AwaitingAccept { request };
            }
            Err(e) => {
                if let HandshakeError::InvalidRequest { status, reason } = &e {
                    self.tx
                        .extend_from_slice(&handshake::error_response(*status, &[], reason.as_bytes()));
                }
                self.handshake_failed(e);
            }
        }
    }

    fn finish_rejection(&mut self) {
        let phase = std::mem::replace(&mut self.phase, Phase::Frames);
        let Phase::RejectedBody { head, head_len, needed } = phase else {
            self.phase = phase;
            return;
        };
        let end = (head_len + needed).min(self.hs_buf.len());
        let body = self.hs_buf[head_len..end].to_vec();
        self.handshake_failed(HandshakeError::Rejected(HttpResponse {
            status: head.status,
            headers: head.headers,
            body,
        }));
    }

    fn handshake_failed(&mut self, error: HandshakeError) {
        // The full error (which may quote the peer at length) is in HandshakeFailed; the
        // close reason is held to what a close frame could carry.
        let reason = crate::utf8::truncate(&error.to_string(), MAX_REASON).to_string();
        self.events.push_back(Event::HandshakeFailed(error));
        self.hs_buf = Vec::new();
        self.abort(close::ABNORMAL, reason, true);
    }

    fn open(&mut self, info: HandshakeInfo, now: u64) {
        self.state = State::Open;
        self.phase = Phase::Frames;
        self.handshake_deadline = None;
        self.keepalive = self.config.keepalive.map(|ka| KeepaliveTimers {
            next_ping_at: now.saturating_add(ka.interval_ms.max(1)),
            pong_deadline: None,
        });
        self.events.push_back(Event::Open(info));
    }

    // ------------------------------------------------------------------ frames

    fn note_activity(&mut self, now: u64) {
        if let (Some(cfg), Some(ka)) = (self.config.keepalive, self.keepalive.as_mut()) {
            if cfg.any_data_counts {
                ka.pong_deadline = None;
                ka.next_ping_at = now.saturating_add(cfg.interval_ms.max(1));
            }
        }
    }

    fn read_frames(&mut self, mut input: &[u8], now: u64) {
        while !input.is_empty() && self.reading {
            match self.decode {
                Decode::Header => {
                    let parsed = if self.hdr_len == 0 {
                        frame::parse_header(input)
                    } else {
                        let take = (MAX_HEADER_LEN - self.hdr_len).min(input.len());
                        self.hdr_buf[self.hdr_len..self.hdr_len + take].copy_from_slice(&input[..take]);
                        let held = self.hdr_len;
                        let r = frame::parse_header(&self.hdr_buf[..held + take]);
                        match r {
                            Ok(None) => {
                                self.hdr_len += take;
                                return;
                            }
                            other => other.map(|r| r.map(|(h, n)| (h, n - held))),
                        }
                    };
                    match parsed {
                        Ok(Some((header, consumed))) => {
                            self.hdr_len = 0;
                            input = &input[consumed..];
                            self.begin_frame(header, input.len(), now);
                        }
                        Ok(None) => {
                            // Fewer than MAX_HEADER_LEN bytes: keep them for the next read.
                            self.hdr_buf[..input.len()].copy_from_slice(input);
                            self.hdr_len = input.len();
                            return;
                        }
                        Err(frame::LengthOverflow) => {
                            self.fail(
                                close::PROTOCOL_ERROR,
                                "frame length with the most significant bit set",
                                now,
                            );
                            // The stream cannot be followed past a header we cannot size.
                            let (code, reason) = self.failure_or_abnormal("");
                            self.abort(code, reason, false);
                            return;
                        }
                    }
                }
                Decode::Payload { remaining, .. } => {
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                    let (chunk, rest) = input.split_at(n);
                    input = rest;
                    self.payload_chunk(chunk, now);
                }
            }
        }
    }

    /// `in_hand`: input bytes already received after this header (this frame's payload
    /// and whatever follows it in the same read).
    fn begin_frame(&mut self, h: FrameHeader, in_hand: usize, now: u64) {
        let Some(opcode) = OpCode::from_u8(h.opcode) else {
            return self.fail_frame(
                h,
                close::PROTOCOL_ERROR,
                &format!("reserved opcode {:#x}", h.opcode),
                now,
            );
        };
        let rsv1 = h.rsv & 0b100 != 0;
        let rsv1_allowed = self.deflate.is_some() && matches!(opcode, OpCode::Text | OpCode::Binary);
        if h.rsv & 0b011 != 0 || (rsv1 && !rsv1_allowed) {
            return self.fail_frame(
                h,
                close::PROTOCOL_ERROR,
                "reserved bits set without a negotiated extension",
                now,
            );
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => {
                return self.fail_frame(h, close::PROTOCOL_ERROR, "unmasked frame from a client", now)
            }
            (Role::Client, true) => {
                return self.fail_frame(h, close::PROTOCOL_ERROR, "masked frame from a server", now)
            }
            _ => {}
        }
        let dest = if opcode.is_control() {
            if !h.fin || h.len > 125 {
                let why = if h.fin {
                    "control frame payload over 125 bytes"
                } else {
                    "fragmented control frame"
                };
                self.fail_frame(h, close::PROTOCOL_ERROR, why, now);
                if opcode == OpCode::Close {
                    let dest = Dest::BrokenClose;
                    self.decode = Decode::Payload {
                        remaining: h.len,
                        mask: None,
                        mask_offset: 0,
                        fin: true,
                        dest,
                    };
                    if h.len == 0 {
                        self.finish_frame(now);
                    }
                }
                return;
            }
            self.ctrl.clear();
            Dest::Control(opcode)
        } else {
            match (opcode, self.msg_kind) {
                (OpCode::Continuation, None) => {
                    return self.fail_frame(
                        h,
                        close::PROTOCOL_ERROR,
                        "continuation frame without a message to continue",
                        now,
                    )
                }
                (OpCode::Text | OpCode::Binary, Some(_)) => {
                    return self.fail_frame(
                        h,
                        close::PROTOCOL_ERROR,
                        "new message before the previous one ended",
                        now,
                    )
                }
                _ => {}
            }
            if h.len > self.config.max_frame_size as u64 {
                return self.fail_frame(h, close::MESSAGE_TOO_BIG, "frame exceeds the size limit", now);
            }
            let compressed = self.msg_compressed || rsv1;
            if !compressed && (self.msg.len() as u64).saturating_add(h.len) > self.config.max_message_size as u64 {
                return self.fail_frame(h, close::MESSAGE_TOO_BIG, "message exceeds the size limit", now);
            }
            if self.failure.is_some() {
                Dest::Discard
            } else {
                if opcode != OpCode::Continuation {
                    self.msg_kind = Some(opcode);
                    self.msg_compressed = rsv1;
                }
                if !self.msg_compressed {
                    let want = (h.len as usize).min(MAX_EAGER_RESERVE);
                    if self.msg.capacity() - self.msg.len() < want {
                        // Room for this frame and for the bytes already in hand (up to
                        // MAX_EAGER_RESERVE): the messages of one read are carved out of
                        // one allocation (`split` hands each a view of it) instead of
                        // costing two allocations each (buffer + shared header). Bounded
                        // by bytes received, so a lying header cannot make us allocate.
                        self.msg.reserve(want.max(in_hand.min(MAX_EAGER_RESERVE)));
                    }
                }
                Dest::Message
            }
        };
        self.decode = Decode::Payload {
            remaining: h.len,
            mask: h.mask,
            mask_offset: 0,
            fin: h.fin,
            dest,
        };
        if h.len == 0 {
            self.finish_frame(now);
        }
    }

    /// Fails the connection over a bad header, and skips that frame's payload.
    fn fail_frame(&mut self, h: FrameHeader, code: u16, reason: &str, now: u64) {
        self.fail(code, reason, now);
        self.decode = Decode::Payload {
            remaining: h.len,
            mask: None,
            mask_offset: 0,
            fin: true,
            dest: Dest::Discard,
        };
        if h.len == 0 {
            self.decode = Decode::Header;
        }
    }

    fn payload_chunk(&mut self, chunk: &[u8], now: u64) {
        let Decode::Payload {
            remaining,
            mask,
            mask_offset,
            fin,
            dest,
        } = self.decode
        else {
            return;
        };
        let next_offset = match dest {
            Dest::Message if self.msg_compressed => {
                self.deflated.clear();
                self.deflated.extend_from_slice(chunk);
                let off = mask.map_or(0, |k| apply_mask(&mut self.deflated, k, mask_offset));
                let limit = self.config.max_message_size;
                let result = match self.deflate.as_mut() {
                    Some(d) => d.inflate(&self.deflated, &mut self.inflated, limit),
                    None => Err(InflateError::Corrupt),
                };
                self.after_inflate(result, now);
                off
            }
            Dest::Message => {
                let start = self.msg.len();
                self.msg.extend_from_slice(chunk);
                let off = mask.map_or(0, |k| apply_mask(&mut self.msg[start..], k, mask_offset));
                if self.msg_kind == Some(OpCode::Text) && self.utf8.feed(&self.msg).is_err() {
                    self.fail(close::INVALID_PAYLOAD, "invalid UTF-8 in a text message", now);
                }
                off
            }
            Dest::Control(_) => {
                let start = self.ctrl.len();
                self.ctrl.extend_from_slice(chunk);
                mask.map_or(0, |k| apply_mask(&mut self.ctrl[start..], k, mask_offset))
            }
            Dest::Discard | Dest::BrokenClose => 0,
        };
        let remaining = remaining - chunk.len() as u64;
        // A failure above switches the rest of the frame to Discard.
        let dest = if self.failure.is_some() && dest == Dest::Message {
            Dest::Discard
        } else {
            dest
        };
        self.decode = Decode::Payload {
            remaining,
            mask,
            mask_offset: next_offset,
            fin,
            dest,
        };
        if remaining == 0 {
            self.finish_frame(now);
        }
    }

    fn finish_frame(&mut self, now: u64) {
        let Decode::Payload { fin, dest, .. } = self.decode else {
            return;
        };
        self.decode = Decode::Header;
        match dest {
            Dest::Discard => {}
            Dest::BrokenClose => self.peer_closed(None, String::new(), now),
            Dest::Message if fin => self.finish_message(now),
            Dest::Message => {}
            Dest::Control(op) => {
                let payload = self.ctrl.split().freeze();
                self.control_frame(op, payload, now);
            }
        }
    }

    /// Checks the outcome of inflating: size, corruption, and UTF-8 of text so far.
    fn after_inflate(&mut self, result: Result<(), InflateError>, now: u64) {
        match result {
            Err(InflateError::TooBig) => self.fail(close::MESSAGE_TOO_BIG, "message exceeds the size limit", now),
            Err(InflateError::Corrupt) => self.fail(close::INVALID_PAYLOAD, "corrupt compressed data", now),
            Ok(()) if self.msg_kind == Some(OpCode::Text) && self.utf8.feed(&self.inflated).is_err() => {
                self.fail(close::INVALID_PAYLOAD, "invalid UTF-8 in a text message", now)
            }
            Ok(()) => {}
        }
    }

    fn finish_message(&mut self, now: u64) {
        if self.msg_compressed {
            let limit = self.config.max_message_size;
            let result = match self.deflate.as_mut() {
                Some(d) => d.finish(&mut self.inflated, limit),
                None => Err(InflateError::Corrupt),
            };
            self.after_inflate(result, now);
            if self.failure.is_some() {
                return;
            }
        }
        let kind = self.msg_kind.take();
        let data = if std::mem::take(&mut self.msg_compressed) {
            Bytes::from(std::mem::take(&mut self.inflated))
        } else {
            self.msg.split().freeze()
        };
        let complete_text = self.utf8.is_complete(&data);
        self.utf8.reset();
        match kind {
            Some(OpCode::Text) if complete_text => {
                self.events
                    .push_back(Event::Message(Message::Text(Text::from_validated(data))));
            }
            Some(OpCode::Text) => self.fail(close::INVALID_PAYLOAD, "text message ends inside a UTF-8 sequence", now),
            _ => self.events.push_back(Event::Message(Message::Binary(data))),
        }
    }

    fn control_frame(&mut self, op: OpCode, payload: Bytes, now: u64) {
        match op {
            OpCode::Ping => {
                if self.failure.is_some() {
                    return;
                }
                if self.config.auto_pong && !self.close_sent {
                    self.write_frame(true, OpCode::Pong, &payload);
                }
                self.events.push_back(Event::Ping(payload));
            }
            OpCode::Pong => {
                if let Some(ka) = self.keepalive.as_mut() {
                    ka.pong_deadline = None;
                }
                if self.failure.is_none() {
                    self.events.push_back(Event::Pong(payload));
                }
            }
            OpCode::Close => self.close_frame(&payload, now),
            _ => {}
        }
    }

    fn close_frame(&mut self, payload: &[u8], now: u64) {
        let (code, reason) = match parse_close_payload(payload) {
            Ok(parsed) => parsed,
            Err((code, why)) => {
                // The peer's close frame is broken, but it is still its close frame: the
                // closing handshake ends with our answer, which carries the error code.
                self.fail(code, &why, now);
                (None, String::new())
            }
        };
        self.peer_closed(code, reason, now);
    }

    /// The peer's close frame arrived: answer it (unless ours went first) and end.
    fn peer_closed(&mut self, code: Option<u16>, reason: String, now: u64) {
        // Nothing the peer sends after its close frame counts.
        self.reading = false;
        let remote = !self.close_sent;
        if remote {
            self.send_close_frame(code, &reason, now);
        }
        let info = match self.failure.clone() {
            Some((code, reason)) => CloseInfo {
                code,
                reason,
                clean: true,
                remote: false,
            },
            None => CloseInfo {
                code: code.unwrap_or(close::NO_STATUS),
                reason,
                clean: true,
                remote,
            },
        };
        self.emit_closed(info);
        match self.role {
            // The server ends the TCP connection first (RFC 6455 §7.1.1).
            Role::Server => self.drop_transport(),
            // The client waits for that, but not forever.
            Role::Client => self.close_deadline = Some(now.saturating_add(self.config.close_timeout_ms)),
        }
    }

    /// Fails the connection: sends a close frame with `code` (once) and stops
    /// delivering data; the closing handshake then runs its course.
    fn fail(&mut self, code: u16, reason: &str, now: u64) {
        if self.failure.is_some() || self.state == State::Closed {
            return;
        }
        self.failure = Some((code, reason.to_string()));
        self.events.push_back(Event::Error(Error::Protocol {
            code,
            reason: reason.to_string(),
        }));
        self.msg.clear();
        self.inflated = Vec::new();
        self.msg_kind = None;
        self.msg_compressed = false;
        self.utf8.reset();
        let earlier_messages = self.events.iter().any(|e| matches!(e, Event::Message(_)));
        if earlier_messages {
            // Send the close frame once the application has seen those messages (and
            // the error event queued just above): answers to them go out first.
            self.deferred_close = Some((self.events.len(), now));
        } else if !self.close_sent {
            self.send_close_frame(Some(code), reason, now);
        }
    }

    /// Our failure's code and reason if we failed the connection, else 1006 with `why`.
    fn failure_or_abnormal(&self, why: &str) -> (u16, String) {
        self.failure
            .clone()
            .unwrap_or_else(|| (close::ABNORMAL, why.to_string()))
    }

    /// Ends the connection without a completed closing handshake: an unclean `Closed`,
    /// and the host is told to drop the transport.
    fn abort(&mut self, code: u16, reason: impl Into<String>, remote: bool) {
        self.emit_closed(CloseInfo {
            code,
            reason: reason.into(),
            clean: false,
            remote,
        });
        self.drop_transport();
    }

    fn emit_closed(&mut self, info: CloseInfo) {
        self.state = State::Closed;
        self.keepalive = None;
        self.handshake_deadline = None;
        if !self.closed_emitted {
            self.closed_emitted = true;
            self.events.push_back(Event::Closed(info));
        }
    }

    fn drop_transport(&mut self) {
        self.transport_done = true;
        self.reading = false;
        self.close_deadline = None;
        self.keepalive = None;
    }
}

/// A close frame's code and reason, or the code to fail with and why.
fn parse_close_payload(payload: &[u8]) -> Result<(Option<u16>, String), (u16, String)> {
    match payload {
        [] => Ok((None, String::new())),
        [_] => Err((close::PROTOCOL_ERROR, "close frame with a one-byte payload".into())),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !close::is_valid_on_wire(code) {
                return Err((close::PROTOCOL_ERROR, format!("invalid close code {code}")));
            }
            match std::str::from_utf8(reason) {
                Ok(r) => Ok((Some(code), r.to_string())),
                Err(_) => Err((close::INVALID_PAYLOAD, "close reason is not UTF-8".into())),
            }
        }
    }
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests;
