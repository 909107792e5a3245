//! The browser binding: the core's [`Session`] (reconnect, backoff, application heartbeat,
//! queue, recovery) for JavaScript through wasm-bindgen, over a **message transport** — the
//! browser's `WebSocket`, which frames by itself.
//!
//! [`RawSession`] has the JavaScript shape of the Node addon's `RawSession`
//! (`bindings-node/src/session.rs`): the same constructor, method names and getters, and
//! every call answers with the session's pending outputs as one flat array
//! `[TAG, values…, TAG, values…, …, deadline, more]` with the same tags, so one JavaScript
//! `ReconnectingWebSocket` (`bindings-node/lib/reconnecting.js`) runs over either core.
//! A batch ends after a message so that the application can answer it before the next
//! decision (`more` is then `true`: call [`drain`](RawSession::drain)).
//!
//! On top of the Node addon's shape, for a message transport: the outputs
//! [`tag::OPEN_SOCKET`], [`tag::SEND_TEXT`], [`tag::SEND_BINARY`], [`tag::CLOSE_SOCKET`]
//! and the inputs `handleOpen`, `handleText`, `handleBinary`, `handleClose`; the
//! canonical cause and transport-error kind appended to `CLOSED`, `RECONNECTING` and
//! `GAVE_UP` (and the error's kind to `ERROR`); and the getters `transports`,
//! `queuedMessages` and `disconnectWarning()` for hosts that report them.
//!
//! Randomness (backoff jitter) comes from the core's `OsRandom`, which is
//! `crypto.getRandomValues` here (the core's `browser` feature). Nothing runs at module
//! load.

use js_sys::{Array, Uint8Array};
use steadysock::rng::OsRandom;
use steadysock::session::{
    Cause, Output, SendError, Session, SessionError, SessionEvent, SessionOptions, TransportErrorKind, TransportId,
    TransportRequest,
};
use steadysock::{Message, RandomSource, WsUrl};
use wasm_bindgen::prelude::*;

/// Output tags of a session batch; 10–22 are the Node addon's, with the same values.
pub mod tag {
    /// `id, host, port, secure` — byte transport: open a socket (not used in a browser).
    pub const OPEN_TRANSPORT: u32 = 10;
    /// `id, bytes` — byte transport: write to socket `id`.
    pub const TRANSMIT: u32 = 11;
    /// `id` — byte transport: end socket `id` and forget it.
    pub const CLOSE_TRANSPORT: u32 = 12;
    /// `from, to` — state names (`idle`, `connecting`, `open`, `closing`, `backoff`, `closed`).
    pub const STATE: u32 = 13;
    /// `attempt, recovered, protocol`.
    pub const OPEN: u32 = 14;
    /// `data: string`.
    pub const TEXT: u32 = 15;
    /// `data: ArrayBuffer`.
    pub const BINARY: u32 = 16;
    /// `code, reason, why, willReconnect, cause, kind` (`kind` is `""` unless the cause
    /// is `transport`).
    pub const CLOSED: u32 = 17;
    /// `attempt, delayMs, why, cause, kind`.
    pub const RECONNECTING: u32 = 18;
    /// `attempts, why, cause, kind`.
    pub const GAVE_UP: u32 = 19;
    /// `message, kind` — a non-fatal anomaly (`migration_failed`, `recovery_gap`,
    /// `envelope`, `unsendable`).
    pub const ERROR: u32 = 20;
    /// `recovered` — make-before-break finished.
    pub const MIGRATED: u32 = 21;
    /// `id, attempt` — attempt `id` needs its request (URL provider).
    pub const NEED_REQUEST: u32 = 22;
    /// `id, url, protocols: string[]` — message transport: `new WebSocket(url, protocols)`
    /// and report about it with `id`.
    pub const OPEN_SOCKET: u32 = 23;
    /// `id, data: string` — message transport: `ws.send(data)`.
    pub const SEND_TEXT: u32 = 24;
    /// `id, data: ArrayBuffer` — message transport: `ws.send(data)`.
    pub const SEND_BINARY: u32 = 25;
    /// `id, code, reason` — message transport: `ws.close(code, reason)` and forget it
    /// (the code is always one a browser accepts: 1000 or 3000–4999).
    pub const CLOSE_SOCKET: u32 = 26;
}

/// Milliseconds from a JavaScript number (`performance.now()`): non-finite or negative
/// values count as 0, fractions are dropped.
fn ms(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

fn id(raw: f64) -> TransportId {
    TransportId::from_raw(ms(raw))
}

fn kind_name(cause: &Cause) -> &'static str {
    match cause {
        Cause::Transport { kind, .. } => kind.as_str(),
        _ => "",
    }
}

/// One reconnecting session driven from JavaScript.
#[wasm_bindgen]
pub struct RawSession {
    session: Session,
    /// Whether the session runs over a byte transport (the host frames nothing) or a
    /// message transport (the browser's `WebSocket`).
    bytes: bool,
    now: u64,
}

#[wasm_bindgen]
impl RawSession {
    /// A session for `url`, idle until `connect`, with the core's `SessionOptions` as
    /// JSON text (snake_case keys, every one optional; `"transport": "messages"` for a
    /// browser `WebSocket`). Throws on unusable settings, naming the key.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, options_json: String, now: f64) -> Result<RawSession, JsError> {
        let options = SessionOptions::from_json(&options_json).map_err(|e| JsError::new(&e.to_string()))?;
        let bytes = options.transport.as_str() == "bytes";
        let config = options.into_config(url).map_err(|e| JsError::new(&e.to_string()))?;
        let rng =
            OsRandom::new().map_err(|e| JsError::new(&format!("no random source (crypto.getRandomValues): {e}")))?;
        let rng: Box<dyn RandomSource> = Box::new(rng);
        Ok(RawSession {
            session: Session::new(config, rng, ms(now)),
            bytes,
            now: ms(now),
        })
    }

    /// The state's name.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.session.state().as_str().to_string()
    }

    /// The attempt number within the current run (0 before the first).
    #[wasm_bindgen(getter)]
    pub fn attempt(&self) -> u32 {
        self.session.attempt()
    }

    /// Payload bytes waiting in the queue while not open.
    #[wasm_bindgen(getter, js_name = queuedBytes)]
    pub fn queued_bytes(&self) -> f64 {
        self.session.queued_bytes() as f64
    }

    /// Messages waiting in the queue while not open.
    #[wasm_bindgen(getter, js_name = queuedMessages)]
    pub fn queued_messages(&self) -> f64 {
        self.session.queued_messages() as f64
    }

    /// How many transports the session holds.
    #[wasm_bindgen(getter)]
    pub fn transports(&self) -> u32 {
        self.session.transports().len() as u32
    }

    pub fn connect(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.connect(self.now);
        self.drain()
    }

    pub fn reconnect(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.reconnect(self.now);
        self.drain()
    }

    /// The server announced that it will disconnect: make-before-break.
    #[wasm_bindgen(js_name = disconnectWarning)]
    pub fn disconnect_warning(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.disconnect_warning(self.now);
        self.drain()
    }

    pub fn close(&mut self, code: u32, reason: String, now: f64) -> Result<Array, JsError> {
        self.now = ms(now);
        let code = u16::try_from(code).map_err(|_| JsError::new(&format!("close code {code} out of range")))?;
        self.session.close(code, &reason, self.now);
        Ok(self.drain())
    }

    /// Sends (or queues, while not open) a text message. Throws with the reason when the
    /// session refuses it (`queue_full`, `closed`, `rejected: …`): nothing is dropped
    /// silently.
    #[wasm_bindgen(js_name = sendText)]
    pub fn send_text(&mut self, text: String, now: f64) -> Result<Array, JsError> {
        self.now = ms(now);
        let sent = self.session.send(Message::text(text), self.now);
        self.after_send(sent)
    }

    /// Sends (or queues) a binary message; throws like `sendText`.
    #[wasm_bindgen(js_name = sendBinary)]
    pub fn send_binary(&mut self, data: &[u8], now: f64) -> Result<Array, JsError> {
        self.now = ms(now);
        let sent = self.session.send(Message::binary(data.to_vec()), self.now);
        self.after_send(sent)
    }

    /// Byte transport: socket `id` connected.
    #[wasm_bindgen(js_name = handleConnected)]
    pub fn handle_connected(&mut self, id_: f64, now: f64) -> Array {
        self.now = ms(now);
        self.session.handle_transport_connected(id(id_), self.now);
        self.drain()
    }

    /// Byte transport: bytes arrived on socket `id`.
    #[wasm_bindgen(js_name = handleBytes)]
    pub fn handle_bytes(&mut self, id_: f64, data: &[u8], now: f64) -> Array {
        self.now = ms(now);
        self.session.handle_transport_bytes(id(id_), data, self.now);
        self.drain()
    }

    /// Byte transport: socket `id` ended.
    #[wasm_bindgen(js_name = handleClosed)]
    pub fn handle_closed(&mut self, id_: f64, now: f64) -> Array {
        self.now = ms(now);
        self.session.handle_transport_closed(id(id_), None, "", self.now);
        self.drain()
    }

    /// Message transport: `WebSocket` `id` opened with subprotocol `protocol` (`""`: none).
    #[wasm_bindgen(js_name = handleOpen)]
    pub fn handle_open(&mut self, id_: f64, protocol: String, now: f64) -> Array {
        self.now = ms(now);
        let protocol = if protocol.is_empty() { None } else { Some(protocol) };
        self.session.handle_transport_open(id(id_), protocol, self.now);
        self.drain()
    }

    /// Message transport: a text message arrived on `WebSocket` `id`.
    #[wasm_bindgen(js_name = handleText)]
    pub fn handle_text(&mut self, id_: f64, text: String, now: f64) -> Array {
        self.now = ms(now);
        self.session
            .handle_transport_message(id(id_), Message::text(text), self.now);
        self.drain()
    }

    /// Message transport: a binary message arrived on `WebSocket` `id`.
    #[wasm_bindgen(js_name = handleBinary)]
    pub fn handle_binary(&mut self, id_: f64, data: &[u8], now: f64) -> Array {
        self.now = ms(now);
        self.session
            .handle_transport_message(id(id_), Message::binary(data.to_vec()), self.now);
        self.drain()
    }

    /// Message transport: `WebSocket` `id` closed with the `close` event's `code` (0: none)
    /// and `reason`, exactly as the browser reported them.
    #[wasm_bindgen(js_name = handleClose)]
    pub fn handle_close(&mut self, id_: f64, code: u32, reason: String, now: f64) -> Array {
        self.now = ms(now);
        let code = u16::try_from(code).ok().filter(|&c| c != 0);
        self.session.handle_transport_closed(id(id_), code, &reason, self.now);
        self.drain()
    }

    /// Socket `id` failed; `kind`: refused, unreachable, dns, tls, reset, timeout or other.
    #[wasm_bindgen(js_name = handleError)]
    pub fn handle_error(&mut self, id_: f64, kind: String, detail: String, now: f64) -> Array {
        self.now = ms(now);
        let kind = TransportErrorKind::from_name(&kind).unwrap_or(TransportErrorKind::Other);
        self.session.handle_transport_error(id(id_), kind, &detail, self.now);
        self.drain()
    }

    /// The answer to `NEED_REQUEST` for attempt `id`: the URL (and subprotocols) a URL
    /// provider gave; `headers` as `[name, value]` pairs (a browser `WebSocket` sends none).
    #[wasm_bindgen(js_name = provideRequest)]
    pub fn provide_request(
        &mut self,
        id_: f64,
        url: String,
        protocols: Vec<String>,
        headers: Array,
        now: f64,
    ) -> Result<Array, JsError> {
        self.now = ms(now);
        let mut pairs = Vec::with_capacity(headers.length() as usize);
        for pair in headers.iter() {
            let pair = Array::from(&pair);
            match (pair.length(), pair.get(0).as_string(), pair.get(1).as_string()) {
                (2, Some(name), Some(value)) => pairs.push((name, value)),
                _ => return Err(JsError::new("a header must be a [name, value] pair")),
            }
        }
        let request = TransportRequest {
            url,
            headers: pairs,
            subprotocols: protocols,
        };
        self.session.provide_request(id(id_), request, self.now);
        Ok(self.drain())
    }

    /// The URL provider of attempt `id` failed (threw or rejected) with `reason`.
    #[wasm_bindgen(js_name = provideRequestError)]
    pub fn provide_request_error(&mut self, id_: f64, reason: String, now: f64) -> Array {
        self.now = ms(now);
        self.session.provide_request_error(id(id_), &reason, self.now);
        self.drain()
    }

    /// The timer armed at the last deadline fired.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.handle_timeout(self.now);
        self.drain()
    }

    /// The pending outputs: `[TAG, values…, …, deadline, more]` (see [`tag`]); `deadline`
    /// is `null` when no timer is wanted.
    pub fn drain(&mut self) -> Array {
        let out = Array::new();
        let more = self.take_outputs(&out);
        match self.session.poll_timeout() {
            Some(at) => out.push(&JsValue::from(at as f64)),
            None => out.push(&JsValue::NULL),
        };
        out.push(&JsValue::from(more));
        out
    }
}

fn push(out: &Array, values: &[JsValue]) {
    for v in values {
        out.push(v);
    }
}

fn num(n: impl Into<f64>) -> JsValue {
    JsValue::from(n.into())
}

fn string(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn array_buffer(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).buffer().into()
}

impl RawSession {
    fn after_send(&mut self, sent: Result<(), SendError>) -> Result<Array, JsError> {
        match sent {
            Ok(()) => Ok(self.drain()),
            Err(SendError::QueueFull { .. }) => Err(JsError::new("queue_full")),
            Err(SendError::Closed) => Err(JsError::new("closed")),
            Err(SendError::Rejected(why)) => Err(JsError::new(&format!("rejected: {why}"))),
            Err(e) => Err(JsError::new(&e.to_string())),
        }
    }

    /// Moves outputs into `out` until none is left (false) or a message was taken (true).
    fn take_outputs(&mut self, out: &Array) -> bool {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::NeedRequest { id, attempt, .. } => {
                    push(out, &[num(tag::NEED_REQUEST), num(id.get() as f64), num(attempt)]);
                }
                Output::OpenTransport { id, request } if !self.bytes => {
                    let protocols: Array = request.subprotocols.iter().map(|p| string(p)).collect();
                    push(
                        out,
                        &[
                            num(tag::OPEN_SOCKET),
                            num(id.get() as f64),
                            string(&request.url),
                            protocols.into(),
                        ],
                    );
                }
                Output::OpenTransport { id, request } => match WsUrl::parse(&request.url) {
                    Ok(url) => push(
                        out,
                        &[
                            num(tag::OPEN_TRANSPORT),
                            num(id.get() as f64),
                            string(&url.host),
                            num(url.port),
                            JsValue::from(url.secure),
                        ],
                    ),
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
                    let data: JsValue = Uint8Array::from(&bytes[..]).into();
                    push(out, &[num(tag::TRANSMIT), num(id.get() as f64), data]);
                }
                Output::SendMessage { id, message } => match message {
                    Message::Text(text) => {
                        push(out, &[num(tag::SEND_TEXT), num(id.get() as f64), string(text.as_str())])
                    }
                    Message::Binary(bytes) => push(
                        out,
                        &[num(tag::SEND_BINARY), num(id.get() as f64), array_buffer(&bytes)],
                    ),
                },
                Output::CloseTransport { id, code, reason } => {
                    if self.bytes {
                        push(out, &[num(tag::CLOSE_TRANSPORT), num(id.get() as f64)]);
                    } else {
                        push(
                            out,
                            &[num(tag::CLOSE_SOCKET), num(id.get() as f64), num(code), string(&reason)],
                        );
                    }
                }
                Output::Event(event) => {
                    let message = take_event(out, event);
                    if message {
                        return true;
                    }
                }
                // A kind added to the core later needs a tag here.
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
        false
    }
}

/// One event into `out`; true for a message (the batch ends there).
fn take_event(out: &Array, event: SessionEvent) -> bool {
    match event {
        SessionEvent::StateChanged { from, to } => {
            push(out, &[num(tag::STATE), string(from.as_str()), string(to.as_str())]);
        }
        SessionEvent::Open {
            attempt,
            recovered,
            subprotocol,
        } => push(
            out,
            &[
                num(tag::OPEN),
                num(attempt),
                JsValue::from(recovered),
                string(subprotocol.as_deref().unwrap_or("")),
            ],
        ),
        SessionEvent::Message(Message::Text(text)) => {
            push(out, &[num(tag::TEXT), string(text.as_str())]);
            return true;
        }
        SessionEvent::Message(Message::Binary(bytes)) => {
            push(out, &[num(tag::BINARY), array_buffer(&bytes)]);
            return true;
        }
        SessionEvent::Closed {
            code,
            reason,
            cause,
            will_reconnect,
        } => push(
            out,
            &[
                num(tag::CLOSED),
                num(code),
                string(&reason),
                string(&cause.to_string()),
                JsValue::from(will_reconnect),
                string(cause.as_str()),
                string(kind_name(&cause)),
            ],
        ),
        SessionEvent::Reconnecting {
            attempt,
            delay_ms,
            cause,
        } => push(
            out,
            &[
                num(tag::RECONNECTING),
                num(attempt),
                num(delay_ms as f64),
                string(&cause.to_string()),
                string(cause.as_str()),
                string(kind_name(&cause)),
            ],
        ),
        SessionEvent::GaveUp { attempts, cause } => push(
            out,
            &[
                num(tag::GAVE_UP),
                num(attempts),
                string(&cause.to_string()),
                string(cause.as_str()),
                string(kind_name(&cause)),
            ],
        ),
        SessionEvent::Migrated { recovered } => push(out, &[num(tag::MIGRATED), JsValue::from(recovered)]),
        SessionEvent::Error(e) => push(out, &[num(tag::ERROR), string(&session_error(&e)), string(e.as_str())]),
        // A kind added to the core later needs a tag here.
        #[allow(unreachable_patterns)]
        _ => {}
    }
    false
}

fn session_error(e: &SessionError) -> String {
    match e {
        SessionError::MigrationFailed { cause, retry_in_ms } => {
            format!("make-before-break failed ({cause}); retrying in {retry_in_ms} ms")
        }
        SessionError::RecoveryGap { expected, got } => format!("recovery gap: expected offset {expected}, got {got}"),
        SessionError::Envelope(why) => format!("undecodable message dropped: {why}"),
        SessionError::Unsendable(why) => format!("queued message refused by the transport and dropped: {why}"),
        other => other.to_string(),
    }
}
