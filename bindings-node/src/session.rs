//! The core's [`Session`] (reconnect, backoff, keepalive, queue) for JavaScript, over a byte
//! transport: JavaScript opens the `net`/`tls` sockets the session asks for, moves their
//! bytes and reports what happens to them; every decision is the session's.
//!
//! Like [`RawConnection`](crate::RawConnection), every call answers with the session's
//! pending outputs as one flat array (layout in [`tag`]); a batch ends after a message so
//! that the application can answer it before the next decision.

use crate::{invalid, js_array_buffer, js_buffer, ms, rng, KeepaliveOptions};
use napi::bindgen_prelude::{Array, BufferSlice, Env, Null};
use napi::Result;
use napi_derive::napi;
use steadysock::session::{
    BackoffPolicy, Jitter, Output, QueueLimits, SendError, Session, SessionConfig, SessionError, SessionEvent, State,
    TransportErrorKind, TransportId, TransportKind,
};
use steadysock::{Keepalive, Message, WsUrl};

/// Output tags of a session batch (`lib/reconnecting.js` reads the same numbers).
mod tag {
    /// `id, host, port, secure` — open a socket and report about it with `id`.
    pub const OPEN_TRANSPORT: u32 = 10;
    /// `id, bytes: Buffer` — write to socket `id`.
    pub const TRANSMIT: u32 = 11;
    /// `id` — end socket `id` (after what was written) and forget it.
    pub const CLOSE_TRANSPORT: u32 = 12;
    /// `from, to` — state names (`idle`, `connecting`, `open`, `closing`, `backoff`, `closed`).
    pub const STATE: u32 = 13;
    /// `attempt, recovered, protocol`.
    pub const OPEN: u32 = 14;
    /// `data: string`.
    pub const TEXT: u32 = 15;
    /// `data: ArrayBuffer`.
    pub const BINARY: u32 = 16;
    /// `code, reason, cause, willReconnect`.
    pub const CLOSED: u32 = 17;
    /// `attempt, delayMs, cause`.
    pub const RECONNECTING: u32 = 18;
    /// `attempts, cause`.
    pub const GAVE_UP: u32 = 19;
    /// `message` — a non-fatal anomaly.
    pub const ERROR: u32 = 20;
    /// `recovered` — make-before-break finished.
    pub const MIGRATED: u32 = 21;
}

/// Session settings from JavaScript; every field is optional and keeps the core's default
/// (`SessionConfig::bytes`). Numbers are doubles so that `Infinity` means "no limit".
#[napi(object)]
pub struct SessionInit {
    pub protocols: Option<Vec<String>>,
    /// `[name, value]` pairs.
    pub headers: Option<Vec<Vec<String>>>,
    pub min_delay_ms: Option<f64>,
    pub max_delay_ms: Option<f64>,
    pub factor: Option<f64>,
    /// `"none"`, `"full"` or `"decorrelated"`.
    pub jitter: Option<String>,
    /// Retries per run; `Infinity` for no limit.
    pub max_retries: Option<f64>,
    pub min_uptime_ms: Option<f64>,
    /// `Infinity` for none.
    pub connect_timeout_ms: Option<f64>,
    /// `Infinity` for none.
    pub handshake_timeout_ms: Option<f64>,
    pub close_timeout_ms: Option<f64>,
    pub queue_max_messages: Option<f64>,
    pub queue_max_bytes: Option<f64>,
    /// Protocol keepalive; `keepaliveOff` turns the default (20 s / 10 s) off.
    pub keepalive: Option<KeepaliveOptions>,
    pub keepalive_off: Option<bool>,
    pub deflate: Option<bool>,
}

/// A non-negative finite double as an integer; `None` for `Infinity` (or NaN).
fn limit(v: f64) -> Option<u64> {
    if v.is_finite() {
        Some(v.max(0.0) as u64)
    } else {
        None
    }
}

fn config_from(url: String, init: SessionInit) -> Result<SessionConfig> {
    let mut config = SessionConfig::bytes(url);
    for pair in init.headers.iter().flatten() {
        match pair.as_slice() {
            [name, value] => config.request.headers.push((name.clone(), value.clone())),
            _ => return Err(invalid("a header must be a [name, value] pair")),
        }
    }
    config.request.subprotocols = init.protocols.unwrap_or_default();
    let mut backoff = BackoffPolicy::default();
    if let Some(v) = init.min_delay_ms {
        backoff.min_delay_ms = limit(v).unwrap_or(u64::MAX);
    }
    if let Some(v) = init.max_delay_ms {
        backoff.max_delay_ms = limit(v).unwrap_or(u64::MAX);
    }
    if let Some(v) = init.factor {
        backoff.factor = v;
    }
    if let Some(j) = init.jitter.as_deref() {
        backoff.jitter = match j {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "decorrelated" => Jitter::Decorrelated,
            other => {
                return Err(invalid(format!(
                    "unknown jitter {other:?} (none, full or decorrelated)"
                )))
            }
        };
    }
    config.retry.backoff = backoff;
    if let Some(v) = init.max_retries {
        config.retry.max_retries = limit(v).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(v) = init.min_uptime_ms {
        config.retry.min_uptime_ms = limit(v).unwrap_or(u64::MAX);
    }
    if let Some(v) = init.connect_timeout_ms {
        config.retry.connect_timeout_ms = limit(v);
    }
    if let Some(v) = init.handshake_timeout_ms {
        config.retry.handshake_timeout_ms = limit(v);
    }
    if let Some(v) = init.close_timeout_ms {
        config.retry.close_timeout_ms = limit(v).unwrap_or(u64::MAX);
    }
    let mut queue = QueueLimits::default();
    if let Some(v) = init.queue_max_messages {
        queue.max_messages = limit(v).map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    }
    if let Some(v) = init.queue_max_bytes {
        queue.max_bytes = limit(v).map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    }
    config.queue = queue;
    if let TransportKind::Bytes(connection) = &mut config.transport {
        if init.keepalive_off == Some(true) {
            connection.keepalive = None;
        } else if let Some(k) = &init.keepalive {
            connection.keepalive = Some(Keepalive {
                interval_ms: u64::from(k.interval_ms),
                pong_timeout_ms: u64::from(k.pong_timeout_ms),
                any_data_counts: true,
            });
        }
        if init.deflate == Some(false) {
            connection.deflate = None;
        }
    }
    Ok(config)
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Idle => "idle",
        State::Connecting => "connecting",
        State::Open => "open",
        State::Closing => "closing",
        State::Backoff => "backoff",
        State::Closed => "closed",
    }
}

fn error_kind(kind: &str) -> TransportErrorKind {
    match kind {
        "refused" => TransportErrorKind::Refused,
        "unreachable" => TransportErrorKind::Unreachable,
        "dns" => TransportErrorKind::Dns,
        "tls" => TransportErrorKind::Tls,
        "reset" => TransportErrorKind::Reset,
        "timeout" => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Other,
    }
}

/// One reconnecting session driven from JavaScript.
#[napi]
pub struct RawSession {
    session: Session,
}

#[napi]
impl RawSession {
    /// A session for `url`, idle until `connect`. Throws on unusable settings.
    #[napi(constructor)]
    pub fn new(url: String, init: Option<SessionInit>, now: f64) -> Result<Self> {
        WsUrl::parse(&url).map_err(invalid)?;
        let init = init.unwrap_or(SessionInit {
            protocols: None,
            headers: None,
            min_delay_ms: None,
            max_delay_ms: None,
            factor: None,
            jitter: None,
            max_retries: None,
            min_uptime_ms: None,
            connect_timeout_ms: None,
            handshake_timeout_ms: None,
            close_timeout_ms: None,
            queue_max_messages: None,
            queue_max_bytes: None,
            keepalive: None,
            keepalive_off: None,
            deflate: None,
        });
        let config = config_from(url, init)?;
        Ok(Self {
            session: Session::new(config, rng::os_random(), ms(now)),
        })
    }

    /// The state's name.
    #[napi(getter)]
    pub fn state(&self) -> &'static str {
        state_name(self.session.state())
    }

    /// The attempt number within the current run (0 before the first).
    #[napi(getter)]
    pub fn attempt(&self) -> u32 {
        self.session.attempt()
    }

    /// Payload bytes waiting in the queue while not open.
    #[napi(getter)]
    pub fn queued_bytes(&self) -> f64 {
        self.session.queued_bytes() as f64
    }

    #[napi]
    pub fn connect<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.session.connect(ms(now));
        self.drain(env)
    }

    #[napi]
    pub fn reconnect<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.session.reconnect(ms(now));
        self.drain(env)
    }

    #[napi]
    pub fn close<'e>(&mut self, env: &'e Env, code: u32, reason: String, now: f64) -> Result<Array<'e>> {
        let code = u16::try_from(code).map_err(|_| invalid(format!("close code {code} out of range")))?;
        self.session.close(code, &reason, ms(now));
        self.drain(env)
    }

    /// Sends (or queues, while not open) a text message. Throws with the reason when the
    /// session refuses it (`queue_full`, `closed`, `rejected: …`): nothing is dropped
    /// silently.
    #[napi]
    pub fn send_text<'e>(&mut self, env: &'e Env, text: String, now: f64) -> Result<Array<'e>> {
        let sent = self.session.send(Message::text(text), ms(now));
        self.after_send(env, sent)
    }

    /// Sends (or queues) a binary message; throws like `sendText`.
    #[napi]
    pub fn send_binary<'e>(&mut self, env: &'e Env, data: BufferSlice, now: f64) -> Result<Array<'e>> {
        let sent = self.session.send(Message::binary(data.to_vec()), ms(now));
        self.after_send(env, sent)
    }

    /// Socket `id` connected (TCP, or TLS once secured).
    #[napi]
    pub fn handle_connected<'e>(&mut self, env: &'e Env, id: f64, now: f64) -> Result<Array<'e>> {
        self.session
            .handle_transport_connected(TransportId::from_raw(id as u64), ms(now));
        self.drain(env)
    }

    /// Bytes arrived on socket `id`.
    #[napi]
    pub fn handle_bytes<'e>(&mut self, env: &'e Env, id: f64, data: BufferSlice, now: f64) -> Result<Array<'e>> {
        self.session
            .handle_transport_bytes(TransportId::from_raw(id as u64), &data, ms(now));
        self.drain(env)
    }

    /// Socket `id` ended (the peer closed the stream).
    #[napi]
    pub fn handle_closed<'e>(&mut self, env: &'e Env, id: f64, now: f64) -> Result<Array<'e>> {
        self.session
            .handle_transport_closed(TransportId::from_raw(id as u64), None, "", ms(now));
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
        self.session
            .handle_transport_error(TransportId::from_raw(id as u64), error_kind(&kind), &detail, ms(now));
        self.drain(env)
    }

    /// The timer armed at the last deadline fired.
    #[napi]
    pub fn handle_timeout<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.session.handle_timeout(ms(now));
        self.drain(env)
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
        }
    }

    /// Moves outputs into `out` until none is left (false) or a message was taken (true).
    fn take_outputs(&mut self, env: &Env, out: &mut Array) -> Result<bool> {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::OpenTransport { id, request } => match WsUrl::parse(&request.url) {
                    Ok(url) => {
                        out.insert(tag::OPEN_TRANSPORT)?;
                        out.insert(id.get() as f64)?;
                        out.insert(url.host)?;
                        out.insert(u32::from(url.port))?;
                        out.insert(url.secure)?;
                    }
                    // The session checked the URL when it was configured; should a request
                    // still be unusable, the attempt fails like any other.
                    Err(why) => self
                        .session
                        .handle_transport_error(id, TransportErrorKind::Other, &why, 0),
                },
                Output::Transmit { id, bytes } => {
                    out.insert(tag::TRANSMIT)?;
                    out.insert(id.get() as f64)?;
                    out.insert(js_buffer(env, bytes)?)?;
                }
                Output::CloseTransport { id, .. } => {
                    out.insert(tag::CLOSE_TRANSPORT)?;
                    out.insert(id.get() as f64)?;
                }
                // A byte-transport session never asks the host to frame a message.
                Output::SendMessage { .. } => {}
                Output::Event(event) => {
                    if self.take_event(env, out, event)? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// One event into `out`; true for a message (the batch ends there).
    fn take_event(&mut self, env: &Env, out: &mut Array, event: SessionEvent) -> Result<bool> {
        match event {
            SessionEvent::StateChanged { from, to } => {
                out.insert(tag::STATE)?;
                out.insert(state_name(from))?;
                out.insert(state_name(to))?;
            }
            SessionEvent::Open {
                attempt,
                recovered,
                subprotocol,
            } => {
                out.insert(tag::OPEN)?;
                out.insert(attempt)?;
                out.insert(recovered)?;
                out.insert(subprotocol.unwrap_or_default())?;
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
                out.insert(cause.to_string())?;
                out.insert(will_reconnect)?;
            }
            SessionEvent::Reconnecting {
                attempt,
                delay_ms,
                cause,
            } => {
                out.insert(tag::RECONNECTING)?;
                out.insert(attempt)?;
                out.insert(delay_ms as f64)?;
                out.insert(cause.to_string())?;
            }
            SessionEvent::GaveUp { attempts, cause } => {
                out.insert(tag::GAVE_UP)?;
                out.insert(attempts)?;
                out.insert(cause.to_string())?;
            }
            SessionEvent::Migrated { recovered } => {
                out.insert(tag::MIGRATED)?;
                out.insert(recovered)?;
            }
            SessionEvent::Error(e) => {
                out.insert(tag::ERROR)?;
                out.insert(session_error(&e))?;
            }
        }
        Ok(false)
    }
}

fn session_error(e: &SessionError) -> String {
    match e {
        SessionError::MigrationFailed { cause, retry_in_ms } => {
            format!("make-before-break failed ({cause}); retrying in {retry_in_ms} ms")
        }
        SessionError::RecoveryGap { expected, got } => format!("recovery gap: expected offset {expected}, got {got}"),
        SessionError::Envelope(why) => format!("undecodable message dropped: {why}"),
        SessionError::Unsendable(why) => format!("queued message refused by the transport and dropped: {why}"),
    }
}
