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
//! Only the message transport is built here (the core without its `bytes-transport`
//! feature: no framing, handshake or deflate in the module; `"transport": "bytes"` is
//! refused by the constructor). As in Node: `"transport": "messages"` in the options, then
//! `OPEN_WEBSOCKET` / `SEND_MESSAGE` / `CLOSE_TRANSPORT` out and `handleOpen`,
//! `handleText`, `handleBinary`, `handleClosed(id, code, reason)`, `handleError` in.
//!
//! Randomness (backoff jitter) comes from the core's `OsRandom`, which is
//! `crypto.getRandomValues` here (the core's `browser` feature). Nothing runs at module
//! load.

use js_sys::{Array, Uint8Array};
use steadysock::rng::OsRandom;
use steadysock::session::{
    Cause, Output, SendError, Session, SessionEvent, SessionOptions, TransportErrorKind, TransportId, TransportRequest,
};
use steadysock::{Message, RandomSource};
use wasm_bindgen::prelude::*;

/// Output tags of a session batch: the Node addon's (`bindings-node/src/session.rs`), same
/// numbers, same values after each.
pub mod tag {
    /// `id, host, port, secure` — byte transport: open a socket (not used in a browser).
    pub const OPEN_TRANSPORT: u32 = 10;
    /// `id, bytes: Uint8Array` — byte transport: write to socket `id`.
    pub const TRANSMIT: u32 = 11;
    /// `id, code, reason` — end socket `id` (a WebSocket: `close(code, reason)`; the code is
    /// always one a browser accepts: 1000 or 3000–4999) and forget it.
    pub const CLOSE_TRANSPORT: u32 = 12;
    /// `from, to` — state names (`idle`, `connecting`, `open`, `closing`, `backoff`, `closed`).
    pub const STATE: u32 = 13;
    /// `attempt, recovered, protocol, extensions`.
    pub const OPEN: u32 = 14;
    /// `data: string`.
    pub const TEXT: u32 = 15;
    /// `data: ArrayBuffer`.
    pub const BINARY: u32 = 16;
    /// `code, reason, willReconnect, cause, kind, why` — `cause` the canonical name, `kind`
    /// the transport error's (or `null`), `why` human text.
    pub const CLOSED: u32 = 17;
    /// `attempt, delayMs, cause, kind, why`.
    pub const RECONNECTING: u32 = 18;
    /// `attempts, cause, kind, why`.
    pub const GAVE_UP: u32 = 19;
    /// `error, detail` — a non-fatal anomaly: its canonical name and human text.
    pub const ERROR: u32 = 20;
    /// `recovered` — make-before-break finished.
    pub const MIGRATED: u32 = 21;
    /// `id, attempt` — attempt `id` needs its request (URL provider).
    pub const NEED_REQUEST: u32 = 22;
    /// `id, url, protocols: string[]` — message transport: `new WebSocket(url, protocols)`.
    pub const OPEN_WEBSOCKET: u32 = 23;
    /// `id, data: string | ArrayBuffer` — message transport: `send(data)` on socket `id`.
    pub const SEND_MESSAGE: u32 = 24;
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

fn num(n: impl Into<f64>) -> JsValue {
    JsValue::from(n.into())
}

fn string(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn array_buffer(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).buffer().into()
}

fn push(out: &Array, values: &[JsValue]) {
    for v in values {
        out.push(v);
    }
}

/// A cause as three values: canonical name, transport error kind (or `null`), text.
fn cause_values(cause: &Cause) -> [JsValue; 3] {
    let kind = match cause {
        Cause::Transport { kind, .. } => string(kind.as_str()),
        _ => JsValue::NULL,
    };
    [string(cause.as_str()), kind, string(&cause.to_string())]
}

/// One reconnecting session driven from JavaScript.
#[wasm_bindgen]
pub struct RawSession {
    session: Session,
    /// The time of the latest call, for what the wrapper itself reports.
    now: u64,
}

#[wasm_bindgen]
impl RawSession {
    /// A session for `url`, idle until `connect`, with the core's `SessionOptions` as
    /// JSON text (snake_case keys, every one optional; `"transport": "messages"` for a
    /// browser `WebSocket`). Throws on unusable settings, naming the key.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, options_json: String, now: f64) -> Result<RawSession, JsError> {
        // The core's own small JSON reader (no serde in the module); errors name the key.
        let options = SessionOptions::from_json(&options_json).map_err(|e| JsError::new(&e.to_string()))?;
        let config = options.into_config(url).map_err(|e| JsError::new(&e.to_string()))?;
        let rng =
            OsRandom::new().map_err(|e| JsError::new(&format!("no random source (crypto.getRandomValues): {e}")))?;
        let rng: Box<dyn RandomSource> = Box::new(rng);
        Ok(RawSession {
            session: Session::new(config, rng, ms(now)),
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

    /// Whether the session wants a timer (`poll_timeout()` is set).
    #[wasm_bindgen(getter, js_name = timerArmed)]
    pub fn timer_armed(&self) -> bool {
        self.session.poll_timeout().is_some()
    }

    /// How many transports the session tracks (two only during make-before-break).
    #[wasm_bindgen(getter)]
    pub fn transports(&self) -> u32 {
        self.session.transports().len() as u32
    }

    /// Messages waiting in the queue while not open.
    #[wasm_bindgen(getter, js_name = queuedMessages)]
    pub fn queued_messages(&self) -> u32 {
        self.session.queued_messages() as u32
    }

    /// Payload bytes waiting in the queue while not open.
    #[wasm_bindgen(getter, js_name = queuedBytes)]
    pub fn queued_bytes(&self) -> f64 {
        self.session.queued_bytes() as f64
    }

    pub fn connect(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.connect(self.now);
        self.drain()
    }

    /// The server announced that it will disconnect: make-before-break.
    #[wasm_bindgen(js_name = disconnectWarning)]
    pub fn disconnect_warning(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.disconnect_warning(self.now);
        self.drain()
    }

    pub fn reconnect(&mut self, now: f64) -> Array {
        self.now = ms(now);
        self.session.reconnect(self.now);
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

    /// Socket `id` closed: a byte transport's end of stream (`code` and `reason` null), or a
    /// WebSocket's `close` event with its code and reason, exactly as the browser gave them.
    #[wasm_bindgen(js_name = handleClosed)]
    pub fn handle_closed(&mut self, id_: f64, code: Option<u32>, reason: Option<String>, now: f64) -> Array {
        self.now = ms(now);
        let code = code.and_then(|c| u16::try_from(c).ok());
        self.session
            .handle_transport_closed(id(id_), code, reason.as_deref().unwrap_or(""), self.now);
        self.drain()
    }

    /// Message transport: `WebSocket` `id` opened with subprotocol `protocol` and
    /// extensions `extensions` (`""`: none).
    #[wasm_bindgen(js_name = handleOpen)]
    pub fn handle_open(&mut self, id_: f64, protocol: String, extensions: String, now: f64) -> Array {
        self.now = ms(now);
        let protocol = (!protocol.is_empty()).then_some(protocol);
        self.session
            .handle_transport_open_with_extensions(id(id_), protocol, extensions, self.now);
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

    /// Empties the outbound queue: its messages, oldest first (strings and ArrayBuffers).
    #[wasm_bindgen(js_name = takeUnsent)]
    pub fn take_unsent(&mut self) -> Array {
        let out = Array::new();
        for message in self.session.take_unsent() {
            match message {
                Message::Text(text) => out.push(&string(text.as_str())),
                Message::Binary(bytes) => out.push(&array_buffer(&bytes)),
            };
        }
        out
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
                Output::OpenTransport { id, request } => {
                    let protocols: Array = request.subprotocols.iter().map(|p| string(p)).collect();
                    let values = [
                        num(tag::OPEN_WEBSOCKET),
                        num(id.get() as f64),
                        string(&request.url),
                        protocols.into(),
                    ];
                    push(out, &values);
                }
                Output::Transmit { id, bytes } => {
                    let data: JsValue = Uint8Array::from(&bytes[..]).into();
                    push(out, &[num(tag::TRANSMIT), num(id.get() as f64), data]);
                }
                Output::SendMessage { id, message } => {
                    let data = match message {
                        Message::Text(text) => string(text.as_str()),
                        Message::Binary(bytes) => array_buffer(&bytes),
                    };
                    push(out, &[num(tag::SEND_MESSAGE), num(id.get() as f64), data]);
                }
                Output::CloseTransport { id, code, reason } => {
                    push(
                        out,
                        &[
                            num(tag::CLOSE_TRANSPORT),
                            num(id.get() as f64),
                            num(code),
                            string(&reason),
                        ],
                    );
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
            extensions,
        } => {
            let protocol = string(subprotocol.as_deref().unwrap_or(""));
            push(
                out,
                &[
                    num(tag::OPEN),
                    num(attempt),
                    JsValue::from(recovered),
                    protocol,
                    string(&extensions),
                ],
            );
        }
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
        } => {
            push(
                out,
                &[
                    num(tag::CLOSED),
                    num(code),
                    string(&reason),
                    JsValue::from(will_reconnect),
                ],
            );
            push(out, &cause_values(&cause));
        }
        SessionEvent::Reconnecting {
            attempt,
            delay_ms,
            cause,
        } => {
            push(out, &[num(tag::RECONNECTING), num(attempt), num(delay_ms as f64)]);
            push(out, &cause_values(&cause));
        }
        SessionEvent::GaveUp { attempts, cause } => {
            push(out, &[num(tag::GAVE_UP), num(attempts)]);
            push(out, &cause_values(&cause));
        }
        SessionEvent::Migrated { recovered } => push(out, &[num(tag::MIGRATED), JsValue::from(recovered)]),
        SessionEvent::Error(e) => push(out, &[num(tag::ERROR), string(e.as_str()), string(&e.to_string())]),
        // A kind added to the core later needs a tag here.
        #[allow(unreachable_patterns)]
        _ => {}
    }
    false
}

/// The module's allocator: talc instead of the default dlmalloc, measured 1.6 KB smaller
/// gzipped (82 434 -> 80 841 bytes for the whole module) and faster for small blocks.
/// Memory grows as needed and is never returned (as with dlmalloc).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
