//! The core's [`Session`] (reconnect, backoff, keepalive, queue) for JavaScript, over a byte
//! transport: JavaScript opens the `net`/`tls` sockets the session asks for, moves their
//! bytes and reports what happens to them; every decision is the session's.
//!
//! Like [`RawConnection`](crate::RawConnection), every call answers with the session's
//! pending outputs as one flat array (layout in [`tag`]); a batch ends after a message so
//! that the application can answer it before the next decision.

use crate::{invalid, js_array_buffer, js_buffer, ms, rng};
use napi::bindgen_prelude::{Array, BufferSlice, Env, Null};
use napi::Result;
use napi_derive::napi;
use steadysock::session::{
    Cause, Output, SendError, Session, SessionEvent, SessionOptions, TransportErrorKind, TransportId, TransportRequest,
    TransportType,
};
use steadysock::{Message, WsUrl};

/// Output tags of a session batch: the core's one table, shared with the wasm module.
use steadysock::session::batch_tag as tag;

/// One reconnecting session driven from JavaScript.
#[napi]
pub struct RawSession {
    session: Session,
    /// The time of the latest call, for what the wrapper itself reports.
    now: u64,
    /// A message transport (the host's WebSocket frames), not a byte transport.
    messages: bool,
}

#[napi]
impl RawSession {
    /// A session for `url`, idle until `connect`, with the core's `SessionOptions` as JSON
    /// text (snake_case keys, every one optional). Throws on unusable settings, naming
    /// the key.
    #[napi(constructor)]
    pub fn new(url: String, options_json: String, now: f64) -> Result<Self> {
        let options = SessionOptions::from_json(&options_json).map_err(|e| invalid(e.to_string()))?;
        let messages = options.transport == TransportType::Messages;
        let config = options.into_config(url).map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            session: Session::new(config, rng::os_random()?, ms(now)),
            now: ms(now),
            messages,
        })
    }

    /// The state's name.
    #[napi(getter)]
    pub fn state(&self) -> &'static str {
        self.session.state().as_str()
    }

    /// The attempt number within the current run (0 before the first).
    #[napi(getter)]
    pub fn attempt(&self) -> u32 {
        self.session.attempt()
    }

    /// Whether the session has a timer armed.
    #[napi(getter)]
    pub fn timer_armed(&self) -> bool {
        self.session.poll_timeout().is_some()
    }

    /// How many transports the session tracks (two only during make-before-break).
    #[napi(getter)]
    pub fn transports(&self) -> u32 {
        self.session.transports().len() as u32
    }

    /// Messages waiting in the queue while not open.
    #[napi(getter)]
    pub fn queued_messages(&self) -> u32 {
        self.session.queued_messages() as u32
    }

    /// Payload bytes waiting in the queue while not open.
    #[napi(getter)]
    pub fn queued_bytes(&self) -> f64 {
        self.session.queued_bytes() as f64
    }

    #[napi]
    pub fn connect<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session.connect(ms(now));
        self.drain(env)
    }

    /// The server announced that it will disconnect: make-before-break.
    #[napi]
    pub fn disconnect_warning<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session.disconnect_warning(ms(now));
        self.drain(env)
    }

    #[napi]
    pub fn reconnect<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session.reconnect(ms(now));
        self.drain(env)
    }

    #[napi]
    pub fn close<'e>(&mut self, env: &'e Env, code: u32, reason: String, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        let code = u16::try_from(code).map_err(|_| invalid(format!("close code {code} out of range")))?;
        self.session.close(code, &reason, ms(now));
        self.drain(env)
    }

    /// Sends (or queues, while not open) a text message. Throws with the reason when the
    /// session refuses it (`queue_full`, `closed`, `rejected: …`): nothing is dropped
    /// silently.
    #[napi]
    pub fn send_text<'e>(&mut self, env: &'e Env, text: String, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        let sent = self.session.send(Message::text(text), ms(now));
        self.after_send(env, sent)
    }

    /// Sends (or queues) a binary message; throws like `sendText`.
    #[napi]
    pub fn send_binary<'e>(&mut self, env: &'e Env, data: BufferSlice, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        let sent = self.session.send(Message::binary(data.to_vec()), ms(now));
        self.after_send(env, sent)
    }

    /// Socket `id` connected (TCP, or TLS once secured).
    #[napi]
    pub fn handle_connected<'e>(&mut self, env: &'e Env, id: f64, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session
            .handle_transport_connected(TransportId::from_raw(id as u64), ms(now));
        self.drain(env)
    }

    /// Bytes arrived on socket `id`.
    #[napi]
    pub fn handle_bytes<'e>(&mut self, env: &'e Env, id: f64, data: BufferSlice, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session
            .handle_transport_bytes(TransportId::from_raw(id as u64), &data, ms(now));
        self.drain(env)
    }

    /// Socket `id` ended: a byte transport's end of stream (no code), or a host WebSocket's
    /// `close` event with its code and reason.
    #[napi]
    pub fn handle_closed<'e>(
        &mut self,
        env: &'e Env,
        id: f64,
        code: Option<u32>,
        reason: Option<String>,
        now: f64,
    ) -> Result<Array<'e>> {
        self.now = ms(now);
        let code = code.and_then(|c| u16::try_from(c).ok());
        self.session.handle_transport_closed(
            TransportId::from_raw(id as u64),
            code,
            reason.as_deref().unwrap_or(""),
            ms(now),
        );
        self.drain(env)
    }

    /// Message transport: socket `id` opened with this subprotocol and these extensions
    /// (`""` for none).
    #[napi]
    pub fn handle_open<'e>(
        &mut self,
        env: &'e Env,
        id: f64,
        protocol: String,
        extensions: String,
        now: f64,
    ) -> Result<Array<'e>> {
        self.now = ms(now);
        let protocol = (!protocol.is_empty()).then_some(protocol);
        self.session.handle_transport_open_with_extensions(
            TransportId::from_raw(id as u64),
            protocol,
            extensions,
            ms(now),
        );
        self.drain(env)
    }

    /// Message transport: a text message arrived on socket `id`.
    #[napi]
    pub fn handle_text<'e>(&mut self, env: &'e Env, id: f64, text: String, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session
            .handle_transport_message(TransportId::from_raw(id as u64), Message::text(text), ms(now));
        self.drain(env)
    }

    /// Message transport: a binary message arrived on socket `id`.
    #[napi]
    pub fn handle_binary<'e>(&mut self, env: &'e Env, id: f64, data: BufferSlice, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session.handle_transport_message(
            TransportId::from_raw(id as u64),
            Message::binary(data.to_vec()),
            ms(now),
        );
        self.drain(env)
    }

    /// Socket `id` failed; `kind`: refused, unreachable, dns, tls, reset, timeout or other.
    #[napi]
    pub fn handle_error<'e>(
        &mut self,
        env: &'e Env,
        id: f64,
        kind: String,
        detail: String,
        now: f64,
    ) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session.handle_transport_error(
            TransportId::from_raw(id as u64),
            TransportErrorKind::from_name(&kind).unwrap_or(TransportErrorKind::Other),
            &detail,
            ms(now),
        );
        self.drain(env)
    }

    /// The answer to `NEED_REQUEST` for attempt `id`: the URL (and subprotocols) a URL
    /// provider gave. An unusable URL fails the attempt like any other.
    #[napi]
    pub fn provide_request<'e>(
        &mut self,
        env: &'e Env,
        id: f64,
        url: String,
        protocols: Vec<String>,
        headers: Vec<Vec<String>>,
        now: f64,
    ) -> Result<Array<'e>> {
        self.now = ms(now);
        let id = TransportId::from_raw(id as u64);
        let mut pairs = Vec::with_capacity(headers.len());
        for pair in headers {
            match <[String; 2]>::try_from(pair) {
                Ok([name, value]) => pairs.push((name, value)),
                Err(_) => return Err(invalid("a header must be a [name, value] pair")),
            }
        }
        let request = TransportRequest {
            url,
            headers: pairs,
            subprotocols: protocols,
        };
        self.session.provide_request(id, request, ms(now));
        self.drain(env)
    }

    /// The URL provider of attempt `id` failed (threw or rejected) with `reason`.
    #[napi]
    pub fn provide_request_error<'e>(&mut self, env: &'e Env, id: f64, reason: String, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session
            .provide_request_error(TransportId::from_raw(id as u64), &reason, ms(now));
        self.drain(env)
    }

    /// The timer armed at the last deadline fired.
    #[napi]
    pub fn handle_timeout<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.now = ms(now);
        self.session.handle_timeout(ms(now));
        self.drain(env)
    }

    /// Empties the outbound queue: its messages, oldest first (strings and ArrayBuffers).
    #[napi]
    pub fn take_unsent<'e>(&mut self, env: &'e Env) -> Result<Array<'e>> {
        let mut out = env.create_array(0)?;
        for message in self.session.take_unsent() {
            match message {
                Message::Text(text) => out.insert(text.as_str())?,
                Message::Binary(bytes) => out.insert(js_array_buffer(env, bytes)?)?,
            }
        }
        Ok(out)
    }

    /// The pending outputs: `[TAG, values…, …, deadline, more]` (see [`tag`]).
    #[napi]
    pub fn drain<'e>(&mut self, env: &'e Env) -> Result<Array<'e>> {
        let mut out = env.create_array(0)?;
        let more = self.take_outputs(env, &mut out)?;
        match self.session.poll_timeout() {
            Some(at) => out.insert(at as f64)?,
            None => out.insert(Null)?,
        }
        out.insert(more)?;
        Ok(out)
    }
}

impl RawSession {
    fn after_send<'e>(&mut self, env: &'e Env, sent: std::result::Result<(), SendError>) -> Result<Array<'e>> {
        match sent {
            Ok(()) => self.drain(env),
            Err(SendError::QueueFull { .. }) => Err(invalid("queue_full")),
            Err(SendError::Closed) => Err(invalid("closed")),
            Err(SendError::Rejected(why)) => Err(invalid(format!("rejected: {why}"))),
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// Moves outputs into `out` until none is left (false) or a message was taken (true).
    fn take_outputs(&mut self, env: &Env, out: &mut Array) -> Result<bool> {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::NeedRequest { id, attempt, .. } => {
                    out.insert(tag::NEED_REQUEST)?;
                    out.insert(id.get() as f64)?;
                    out.insert(attempt)?;
                }
                Output::OpenTransport { id, request } if self.messages => {
                    out.insert(tag::OPEN_WEBSOCKET)?;
                    out.insert(id.get() as f64)?;
                    out.insert(request.url)?;
                    out.insert(request.subprotocols)?;
                }
                Output::OpenTransport { id, request } => match WsUrl::parse(&request.url) {
                    Ok(url) => {
                        out.insert(tag::OPEN_TRANSPORT)?;
                        out.insert(id.get() as f64)?;
                        out.insert(url.host)?;
                        out.insert(u32::from(url.port))?;
                        out.insert(url.secure)?;
                    }
                    // A URL the session cannot use (from a URL provider): the attempt fails
                    // like any other.
                    Err(why) => {
                        let now = self.now;
                        self.session.handle_transport_error(
                            id,
                            TransportErrorKind::Other,
                            &format!("invalid URL: {why}"),
                            now,
                        )
                    }
                },
                Output::Transmit { id, bytes } => {
                    out.insert(tag::TRANSMIT)?;
                    out.insert(id.get() as f64)?;
                    out.insert(js_buffer(env, bytes)?)?;
                }
                Output::CloseTransport { id, code, reason } => {
                    out.insert(tag::CLOSE_TRANSPORT)?;
                    out.insert(id.get() as f64)?;
                    out.insert(u32::from(code))?;
                    out.insert(reason)?;
                }
                Output::SendMessage { id, message } => {
                    out.insert(tag::SEND_MESSAGE)?;
                    out.insert(id.get() as f64)?;
                    match message {
                        Message::Text(text) => out.insert(text.as_str())?,
                        Message::Binary(bytes) => out.insert(js_array_buffer(env, bytes)?)?,
                    }
                }
                Output::Event(event) => {
                    let message = self.take_event(env, out, event)?;
                    if message {
                        return Ok(true);
                    }
                }
                // A kind added to the core later needs a tag here.
                _ => {}
            }
        }
        Ok(false)
    }

    /// One event into `out`; true for a message (the batch ends there).
    fn take_event(&mut self, env: &Env, out: &mut Array, event: SessionEvent) -> Result<bool> {
        match event {
            SessionEvent::StateChanged { from, to } => {
                out.insert(tag::STATE)?;
                out.insert(from.as_str())?;
                out.insert(to.as_str())?;
            }
            SessionEvent::Open {
                attempt,
                recovered,
                subprotocol,
                extensions,
            } => {
                out.insert(tag::OPEN)?;
                out.insert(attempt)?;
                out.insert(recovered)?;
                out.insert(subprotocol.unwrap_or_default())?;
                out.insert(extensions)?;
            }
            SessionEvent::Message(Message::Text(text)) => {
                out.insert(tag::TEXT)?;
                out.insert(text.as_str())?;
                return Ok(true);
            }
            SessionEvent::Message(Message::Binary(bytes)) => {
                out.insert(tag::BINARY)?;
                out.insert(js_array_buffer(env, bytes)?)?;
                return Ok(true);
            }
            SessionEvent::Closed {
                code,
                reason,
                cause,
                will_reconnect,
            } => {
                out.insert(tag::CLOSED)?;
                out.insert(u32::from(code))?;
                out.insert(reason)?;
                out.insert(will_reconnect)?;
                insert_cause(out, &cause)?;
            }
            SessionEvent::Reconnecting {
                attempt,
                delay_ms,
                cause,
            } => {
                out.insert(tag::RECONNECTING)?;
                out.insert(attempt)?;
                out.insert(delay_ms as f64)?;
                insert_cause(out, &cause)?;
            }
            SessionEvent::GaveUp { attempts, cause } => {
                out.insert(tag::GAVE_UP)?;
                out.insert(attempts)?;
                insert_cause(out, &cause)?;
            }
            SessionEvent::Migrated { recovered } => {
                out.insert(tag::MIGRATED)?;
                out.insert(recovered)?;
            }
            SessionEvent::Error(e) => {
                out.insert(tag::ERROR)?;
                out.insert(e.as_str())?;
                out.insert(e.to_string())?;
            }
            // A kind added to the core later needs a tag here.
            _ => {}
        }
        Ok(false)
    }
}

/// A cause as three values: canonical name, transport error kind (or `null`), text.
fn insert_cause(out: &mut Array, cause: &Cause) -> Result<()> {
    out.insert(cause.as_str())?;
    match cause {
        Cause::Transport { kind, .. } => out.insert(kind.as_str())?,
        _ => out.insert(Null)?,
    }
    out.insert(cause.to_string())
}
