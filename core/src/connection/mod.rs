//! One RFC 6455 connection, client or server role, with no I/O.
//!
//! The host drives it:
//! 1. feed what the transport delivered: [`handle_input`](Connection::handle_input)
//!    (a borrowed slice, copied), or [`handle_input_buf`](Connection::handle_input_buf)
//!    (the host's own read buffer, from which messages are split without a copy); or
//!    [`handle_eof`](Connection::handle_eof) when the peer ended the stream;
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
//! Time is a `u64` count of milliseconds from an origin the host chooses.
//!
//! # Where things are
//!
//! A connection is three things, one file each, so each can be read on its own:
//! * this file: the [`Connection`] the host drives, its state (`Connecting` → `Open` →
//!   `Closing` → `Closed`), sending, the closing handshake, failing with a close code,
//!   keepalive timers and the output queues;
//! * `opening.rs`: the opening handshake phases (client request/response, server
//!   request/accept/reject), until the connection opens or fails;
//! * `decoder.rs`: the frame decoder (header buffering, unmasking, reassembly, inflating,
//!   UTF-8, size limits), which turns input into messages and control frames and knows
//!   nothing of states or events; this file decides what they mean.
//!
//! The public vocabulary (config, states, events, errors) is in `types.rs`.

mod decoder;
mod opening;
mod types;

pub use types::*;

use decoder::{Decoded, FrameDecoder};
use opening::Phase;

use crate::close;
use crate::deflate::{self, PerMessageDeflate};
use crate::frame::{self, OpCode};
use crate::handshake::{self, HandshakeError, WsUrl};
use crate::mask::extend_masked;
use crate::message::Message;
use crate::rng::RandomSource;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Longest close reason that fits a control frame with its code.
const MAX_REASON: usize = 123;

/// Payloads of at least this many bytes, sent as [`Bytes`], are not copied into the
/// transmit buffer when they are sent: `poll_transmit` hands out the header, then the
/// payload itself (unmasked, server role), or masked a piece at a time (client role).
const ZERO_COPY_MIN: usize = 16 << 10;

/// A client's large payload is masked this much at a time, as `poll_transmit` hands it
/// out, into one reused buffer (a multiple of 4, so each piece starts the key's cycle).
const MASK_PIECE: usize = 64 << 10;

/// Transmit chunks that go out ahead of `tx`, and their total length.
#[derive(Debug, Default)]
struct TxChunks {
    chunks: VecDeque<Chunk>,
    len: usize,
    /// Where a masked payload's pieces are masked (reused once the host drops a piece).
    scratch: BytesMut,
}

/// One transmit chunk waiting in [`TxChunks`].
#[derive(Debug)]
enum Chunk {
    /// Handed out as it is.
    Ready(Bytes),
    /// A frame payload still to be masked with `key`, from `offset` of its cycle.
    Masked {
        payload: Bytes,
        key: [u8; 4],
        offset: usize,
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
    decoder: FrameDecoder,
    /// False once nothing more from the peer will be looked at.
    reading: bool,
    // Output. Chunks in `tx_chunks` go out before the bytes in `tx`.
    tx: BytesMut,
    /// Whole chunks to hand out as they are (a header, then a payload that was not
    /// copied). Boxed, and only once an uncopied send happens: most connections never
    /// make one.
    tx_chunks: Option<Box<TxChunks>>,
    /// The handshake's bytes have not all been handed out yet: `tx` is handed over
    /// whole (see `poll_transmit`).
    tx_handshake: bool,
    events: VecDeque<Event>,
    /// A failure's close frame waits until this many more events are handed out, so
    /// that the application can act on (e.g. answer) messages that arrived before the
    /// error. Holds the count and the time of the failure.
    deferred_close: Option<(usize, u64)>,
    // Closing.
    close_sent: bool,
    /// Set when we failed the connection: our code and reason are what `Closed` reports.
    /// Boxed: rare, and 32 bytes inline in every connection.
    failure: Option<Box<(u16, String)>>,
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
            .field("buffered", &self.buffered_amount())
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn new(role: Role, config: Config, rng: Box<dyn RandomSource>, phase: Phase, now: u64) -> Self {
        let mut decoder = FrameDecoder::new(role, config.max_frame_size, config.max_message_size);
        decoder.set_accept_masked(role == Role::Client && config.accept_masked_frames);
        decoder.set_deliver_fragments(config.deliver_fragments);
        Self {
            role,
            handshake_deadline: config.handshake_timeout_ms.map(|t| now.saturating_add(t)),
            config,
            rng,
            state: State::Connecting,
            phase,
            hs_buf: Vec::new(),
            decoder,
            reading: true,
            tx: BytesMut::new(),
            tx_chunks: None,
            tx_handshake: true,
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
            if n.eq_ignore_ascii_case("connection") && !handshake::has_upgrade_token(v) {
                return Err(Error::InvalidHeader(format!(
                    "a Connection header must carry the upgrade token, got {v:?}"
                )));
            }
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

    /// A client connection over a transport whose opening handshake already happened
    /// elsewhere (a socket handed over after its HTTP upgrade, as websocket-client lets
    /// programs and tests assign one): `Open` from the start, frames only. Nothing was
    /// negotiated here, so there is no compression; `subprotocol` is what the caller
    /// agreed. No [`Event::Open`] is emitted (there was no handshake to report); the
    /// keepalive, if configured, starts at `now`.
    pub fn client_already_open(
        config: Config,
        rng: Box<dyn RandomSource>,
        subprotocol: Option<String>,
        now: u64,
    ) -> Self {
        let mut conn = Self::new(Role::Client, config, rng, Phase::Frames, now);
        conn.subprotocol = subprotocol;
        conn.enter_open(now);
        conn
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
        self.tx_chunks.as_ref().map_or(0, |c| c.len) + self.tx.len()
    }

    /// Whether the host should now close the transport (after writing what
    /// `poll_transmit` still returns). Once true, nothing more will be read.
    pub fn should_close_transport(&self) -> bool {
        self.transport_done
    }

    /// Whether [`poll_output`](Self::poll_output) has something now: bytes or an event.
    /// Asking hands nothing out and changes nothing (a host that stops after each message
    /// uses it to know whether to come back before the next input).
    pub fn has_pending_output(&self) -> bool {
        !self.tx.is_empty() || !self.events.is_empty()
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
    ///
    /// A large message sent unmasked (server role) as [`Bytes`] comes out as two chunks,
    /// its header and then the payload itself, not copied: write them in order (a host
    /// that can should write consecutive chunks with one vectored write).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if let Some(c) = self.tx_chunks.as_mut() {
            if let Some(front) = c.chunks.pop_front() {
                let out = match front {
                    Chunk::Ready(b) => b,
                    Chunk::Masked {
                        mut payload,
                        key,
                        offset,
                    } => {
                        let piece = payload.split_to(payload.len().min(MASK_PIECE));
                        let next = extend_masked(&mut c.scratch, &piece, key, offset);
                        if !payload.is_empty() {
                            c.chunks.push_front(Chunk::Masked {
                                payload,
                                key,
                                offset: next,
                            });
                        }
                        c.scratch.split().freeze()
                    }
                };
                c.len -= out.len();
                return Some(out);
            }
        }
        if self.tx.is_empty() {
            None
        } else if self.tx_handshake {
            // Handshake bytes: hand the buffer over whole, so that an open connection
            // does not keep the handshake's allocation alive. (Frames sent before the
            // handshake bytes were taken go with them.)
            self.tx_handshake = self.state == State::Connecting;
            Some(std::mem::take(&mut self.tx).freeze())
        } else {
            // The allocation comes back for reuse once the host drops the chunk.
            Some(self.tx.split().freeze())
        }
    }

    /// Lower level than [`poll_output`](Self::poll_output): the next event. It may queue
    /// bytes (a close frame deferred behind the messages before an error): poll
    /// transmits again before waiting for input.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if matches!(event, Event::Open(_)) && self.events.is_empty() {
            // The handshake's events are all out: an idle open connection holds no
            // event queue (it grows again with traffic).
            self.events = VecDeque::new();
        }
        if let Some((left, at)) = self.deferred_close {
            if left <= 1 {
                self.deferred_close = None;
                if let Some((code, reason)) = self.failure.as_deref().cloned() {
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
        let Some(ka_cfg) = &self.config.keepalive else { return };
        let (interval_ms, pong_timeout_ms) = (ka_cfg.interval_ms, ka_cfg.pong_timeout_ms);
        let fixed_payload = ka_cfg.ping_payload.as_ref().map(|p| p.as_bytes().clone());
        let Some(mut ka) = self.keepalive else { return };
        if ka.pong_deadline.is_some_and(|d| d <= now) {
            self.events.push_back(Event::Error(Error::KeepaliveTimeout));
            let reason = format!("keepalive: no answer within {pong_timeout_ms} ms of a ping");
            self.abort(close::ABNORMAL, reason, false);
            return;
        }
        if ka.next_ping_at <= now {
            match fixed_payload {
                Some(payload) => self.write_frame(true, OpCode::Ping, &payload),
                None => {
                    self.ping_counter = self.ping_counter.wrapping_add(1);
                    self.write_frame(true, OpCode::Ping, &self.ping_counter.to_be_bytes());
                }
            }
            if ka.pong_deadline.is_none() {
                ka.pong_deadline = Some(now.saturating_add(pong_timeout_ms));
            }
            ka.next_ping_at = now.saturating_add(interval_ms.max(1));
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
                // Before accept, a server holds at most the handshake limit of early input.
                if self.hs_buf.len().saturating_add(data.len()) > self.config.max_handshake_size {
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

    /// Feeds the host's own read buffer, holding what arrived from the transport (after
    /// whatever this call left there last time).
    ///
    /// The connection consumes from the front of `buf`: a message that is one whole
    /// frame inside `buf` is split out of it without a copy (it shares `buf`'s
    /// allocation until dropped, as a read buffer's slices do). What is left in `buf`
    /// is the start of a frame still arriving: keep it, append the next read after it,
    /// and call again. Room for the rest of that frame (and the next header) is reserved
    /// in `buf`, within `max_frame_size` and `max_message_size`, so reading into `buf`'s
    /// spare capacity takes the frame without regrowth copies.
    ///
    /// Equivalent to [`handle_input`](Self::handle_input) with the same bytes, event for
    /// event; the two may be mixed, as long as `buf` is empty when `handle_input` is
    /// called. Once nothing more will be read (the peer closed, or the transport is to
    /// be closed) the input is dropped and `buf` is left empty.
    pub fn handle_input_buf(&mut self, buf: &mut BytesMut, now: u64) {
        if !self.reading {
            buf.clear();
            return;
        }
        if buf.is_empty() {
            return;
        }
        if !matches!(self.phase, Phase::Frames) {
            // The handshake keeps its own buffer; frames after it in this input are
            // read from there.
            let data = buf.split();
            self.handle_input(&data, now);
            return;
        }
        self.note_activity(now);
        while self.reading {
            let failed = self.failure.is_some();
            let Some(item) = self.decoder.next_buf(buf, failed, self.deflate.as_deref_mut()) else {
                return;
            };
            self.decoded(item, now);
        }
        buf.clear();
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

    /// Sends a message. Only while open.
    ///
    /// A payload of at least 16 KiB (uncompressed) is not copied into the transmit
    /// buffer: `poll_transmit` hands out its header, then the message's own bytes
    /// (server role), or, for a client, the payload masked 64 KiB at a time into one
    /// buffer that is reused once the host drops each piece (so the bytes the host
    /// writes are still in cache, and a large message is not held twice). A smaller
    /// payload is copied (and masked, for a client, in the same pass) into the transmit
    /// buffer.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        let (opcode, payload) = match message {
            Message::Text(t) => (OpCode::Text, t.into_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
        };
        if self.state == State::Open
            && self.deflate.is_none()
            && payload.len() >= ZERO_COPY_MIN
            && self.config.fragment_size.is_none_or(|f| f == 0 || f >= ZERO_COPY_MIN)
        {
            self.send_uncopied(opcode, payload);
            return Ok(());
        }
        self.send_data(opcode, &payload)
    }

    /// Sends a binary message held in [`Bytes`]: [`send`](Self::send) of
    /// `Message::Binary`, so a large payload is not copied when sent.
    pub fn send_binary_bytes(&mut self, data: Bytes) -> Result<(), Error> {
        self.send(Message::Binary(data))
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

    /// Open, no compression: headers into the transmit buffer, payloads (split at the
    /// fragment size, if one is set) queued as they are, to be masked (client role) as
    /// they are handed out.
    fn send_uncopied(&mut self, opcode: OpCode, payload: Bytes) {
        let size = match self.config.fragment_size {
            Some(size) if size > 0 => size,
            _ => payload.len().max(1),
        };
        let mut op = opcode;
        let mut start = 0;
        loop {
            let end = payload.len().min(start + size);
            let fin = end == payload.len();
            let part = payload.slice(start..end);
            let mask = self.new_mask();
            let (hdr, n) = frame::header_bytes(fin, false, op, mask, part.len());
            // Bytes queued before go out first: they leave with the header.
            self.tx.extend_from_slice(&hdr[..n]);
            let head = self.tx.split().freeze();
            let chunks = self.tx_chunks.get_or_insert_with(Box::default);
            chunks.len += head.len() + part.len();
            chunks.chunks.push_back(Chunk::Ready(head));
            if !part.is_empty() {
                chunks.chunks.push_back(match mask {
                    Some(key) => Chunk::Masked {
                        payload: part,
                        key,
                        offset: 0,
                    },
                    None => Chunk::Ready(part),
                });
            }
            op = OpCode::Continuation;
            start = end;
            if fin {
                break;
            }
        }
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

    /// A fresh masking key for a client's frame; `None` for a server.
    fn new_mask(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Client => {
                let mut key = [0u8; 4];
                self.rng.fill(&mut key);
                Some(key)
            }
            Role::Server => None,
        }
    }

    fn write_frame_rsv(&mut self, fin: bool, rsv1: bool, opcode: OpCode, payload: &[u8]) {
        let mask = self.new_mask();
        // Reserves room for the header and the payload at once.
        frame::write_header(&mut self.tx, fin, rsv1, opcode, mask, payload.len());
        match mask {
            // Copied and masked in one pass.
            Some(key) => {
                extend_masked(&mut self.tx, payload, key, 0);
            }
            None => self.tx.extend_from_slice(payload),
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

    // ------------------------------------------------------------------ frames

    fn note_activity(&mut self, now: u64) {
        if let (Some(cfg), Some(ka)) = (&self.config.keepalive, self.keepalive.as_mut()) {
            if cfg.any_data_counts {
                ka.pong_deadline = None;
                ka.next_ping_at = now.saturating_add(cfg.interval_ms.max(1));
            }
        }
    }

    fn read_frames(&mut self, mut input: &[u8], now: u64) {
        while self.reading {
            let failed = self.failure.is_some();
            let Some(item) = self.decoder.next(&mut input, failed, self.deflate.as_deref_mut()) else {
                return;
            };
            self.decoded(item, now);
        }
    }

    /// Acts on one item the decoder read.
    fn decoded(&mut self, item: Decoded, now: u64) {
        match item {
            Decoded::Message(m) => self.events.push_back(Event::Message(m)),
            Decoded::Fragment { opcode, fin, data } => self.events.push_back(Event::Fragment { opcode, fin, data }),
            Decoded::Control(op, payload) => self.control_frame(op, payload, now),
            Decoded::BrokenClose => self.peer_closed(None, String::new(), now),
            Decoded::Violation { code, reason } => self.fail(code, &reason, now),
            Decoded::Unfollowable { code, reason } => {
                self.fail(code, reason, now);
                // The stream cannot be followed past a header we cannot size.
                let (code, reason) = self.failure_or_abnormal("");
                self.abort(code, reason, false);
            }
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
        let info = match self.failure.as_deref().cloned() {
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
        self.failure = Some(Box::new((code, reason.to_string())));
        self.events.push_back(Event::Error(Error::Protocol {
            code,
            reason: reason.to_string(),
        }));
        self.decoder.abandon_message();
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
            .as_deref()
            .cloned()
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
#[cfg(test)]
mod tests_buf;
