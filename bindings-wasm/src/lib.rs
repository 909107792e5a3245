//! The browser binding: the core's [`Session`] (reconnect, backoff, application heartbeat,
//! queue, recovery) for JavaScript through wasm-bindgen, over a **message transport** — the
//! browser's `WebSocket`, which frames by itself.
//!
//! [`RawSession`] has the method names and getters of the Node addon's `RawSession`
//! (`bindings-node/src/session.rs`), but answers through linear memory instead of building
//! a JavaScript `Array` value by value: every call writes **all** of the session's pending
//! outputs into one buffer of `f64` words plus a UTF-8 byte arena and returns the buffer's
//! address (layout in [`code`]). `bindings-node/lib/wasm-session.mjs` decodes it into the
//! napi addon's flat batches `[TAG, values…, …, deadline, more]` (same tags, same values),
//! so one JavaScript `ReconnectingWebSocket` (`bindings-node/lib/reconnecting.js`) runs over
//! either core; it also keeps the addon's rule that a batch ends after a message (the
//! buffer marks those places, and the decoder hands out the rest on the next call). One
//! crossing per input, and only numbers, `&str` and `&[u8]` cross: the generated glue
//! stays small and no JavaScript value is made from inside the module.
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

use steadysock::rng::OsRandom;
use steadysock::session::{
    Cause, Output, SendError, Session, SessionEvent, SessionOptions, TransportErrorKind, TransportId, TransportRequest,
};
use steadysock::{Message, RandomSource};
use wasm_bindgen::prelude::*;

/// Output tags of a session batch: the Node addon's (`bindings-node/src/session.rs`), same
/// numbers, same values after each (as the decoder gives them).
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

/// How values are written into a batch buffer.
///
/// The buffer is `f64` words: `[n, arena, word…]` — `n` words after the first two, `arena`
/// the address of the UTF-8/byte arena that strings and binary payloads are read from, in
/// order. A word ≥ 0 is a number (a tag, an id, a code, a time: every number an output
/// carries is ≥ 0); a negative word is one of the codes below. The last word is the
/// deadline (a number, or [`NULL`] for no timer).
pub mod code {
    /// `null`.
    pub const NULL: f64 = -1.0;
    /// `false`.
    pub const FALSE: f64 = -2.0;
    /// `true`.
    pub const TRUE: f64 = -3.0;
    /// A string: the next word is its UTF-8 length; the bytes are the arena's next.
    pub const TEXT: f64 = -4.0;
    /// An `ArrayBuffer`: the next word is its length; the bytes are the arena's next.
    pub const BYTES: f64 = -5.0;
    /// The message this call was given (`handleText`/`handleBinary`: delivered;
    /// `sendText`/`sendBinary`: sent), unchanged: the JavaScript value is reused instead of
    /// copied back out (once per call).
    pub const INPUT: f64 = -6.0;
    /// A list of strings: the next word is the count, then that many [`TEXT`] values.
    pub const LIST: f64 = -7.0;
    /// A batch ends here (after a message): the application acts before the rest.
    pub const END: f64 = -8.0;
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

/// A batch buffer being written (see [`code`]).
#[derive(Default)]
struct Batch {
    words: Vec<f64>,
    arena: Vec<u8>,
}

impl Batch {
    fn start(&mut self) {
        self.words.clear();
        self.arena.clear();
        self.words.extend([0.0, 0.0]);
    }

    /// The buffer's address, its header filled in.
    fn finish(&mut self) -> u32 {
        self.words[0] = (self.words.len() - 2) as f64;
        self.words[1] = self.arena.as_ptr() as usize as f64;
        self.words.as_ptr() as usize as u32
    }

    fn num(&mut self, n: impl Into<f64>) -> &mut Self {
        self.words.push(n.into());
        self
    }

    fn flag(&mut self, b: bool) -> &mut Self {
        self.num(if b { code::TRUE } else { code::FALSE })
    }

    fn id(&mut self, id: TransportId) -> &mut Self {
        self.num(id.get() as f64)
    }

    fn str(&mut self, s: &str) -> &mut Self {
        self.bytes_as(code::TEXT, s.as_bytes())
    }

    fn bytes_as(&mut self, kind: f64, b: &[u8]) -> &mut Self {
        self.words.extend([kind, b.len() as f64]);
        self.arena.extend_from_slice(b);
        self
    }

    /// A message; the one the call was given (`input`, taken) as [`code::INPUT`].
    fn message(&mut self, m: &Message, input: &mut Option<Message>) -> &mut Self {
        if input.as_ref() == Some(m) {
            *input = None;
            return self.num(code::INPUT);
        }
        match m {
            Message::Text(t) => self.str(t.as_str()),
            Message::Binary(b) => self.bytes_as(code::BYTES, b),
        }
    }

    /// A cause as three values: canonical name, transport error kind (or `null`), text.
    fn cause(&mut self, cause: &Cause) -> &mut Self {
        self.str(cause.as_str());
        match cause {
            Cause::Transport { kind, .. } => self.str(kind.as_str()),
            _ => self.num(code::NULL),
        };
        self.str(&cause.to_string())
    }
}

/// One reconnecting session driven from JavaScript.
#[wasm_bindgen]
pub struct RawSession {
    session: Session,
    /// The time of the latest call, for what the wrapper itself reports.
    now: u64,
    batch: Batch,
    /// Strings staged for [`provide_request`](RawSession::provide_request).
    staged: Vec<String>,
}

#[wasm_bindgen]
impl RawSession {
    /// A session for `url`, idle until `connect`, with the core's `SessionOptions` as
    /// JSON text (snake_case keys, every one optional; `"transport": "messages"` for a
    /// browser `WebSocket`). Throws on unusable settings, naming the key.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, options_json: String, now: f64) -> Result<RawSession, JsError> {
        // The JSON text is parsed by the browser (JSON.parse) and read through
        // serde-wasm-bindgen: no JSON parser in the module (serde_json was a third of it).
        let value =
            js_sys::JSON::parse(&options_json).map_err(|_| JsError::new("invalid session options: not JSON text"))?;
        let options: SessionOptions = serde_wasm_bindgen::from_value(value)
            .map_err(|e| JsError::new(&format!("invalid session options: {e}")))?;
        let config = options.into_config(url).map_err(|e| JsError::new(&e.to_string()))?;
        let rng =
            OsRandom::new().map_err(|e| JsError::new(&format!("no random source (crypto.getRandomValues): {e}")))?;
        let rng: Box<dyn RandomSource> = Box::new(rng);
        Ok(RawSession {
            session: Session::new(config, rng, ms(now)),
            now: ms(now),
            batch: Batch::default(),
            staged: Vec::new(),
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

    pub fn connect(&mut self, now: f64) -> u32 {
        self.now = ms(now);
        self.session.connect(self.now);
        self.drain()
    }

    /// The server announced that it will disconnect: make-before-break.
    #[wasm_bindgen(js_name = disconnectWarning)]
    pub fn disconnect_warning(&mut self, now: f64) -> u32 {
        self.now = ms(now);
        self.session.disconnect_warning(self.now);
        self.drain()
    }

    pub fn reconnect(&mut self, now: f64) -> u32 {
        self.now = ms(now);
        self.session.reconnect(self.now);
        self.drain()
    }

    pub fn close(&mut self, code: u32, reason: &str, now: f64) -> Result<u32, JsError> {
        self.now = ms(now);
        let code = u16::try_from(code).map_err(|_| JsError::new(&format!("close code {code} out of range")))?;
        self.session.close(code, reason, self.now);
        Ok(self.drain())
    }

    /// Sends (or queues, while not open) a text message. Throws with the reason when the
    /// session refuses it (`queue_full`, `closed`, `rejected: …`): nothing is dropped
    /// silently. When it goes out at once, its `SEND_MESSAGE` says [`code::INPUT`].
    #[wasm_bindgen(js_name = sendText)]
    pub fn send_text(&mut self, text: String, now: f64) -> Result<u32, JsError> {
        self.send(Message::text(text), now)
    }

    /// Sends (or queues) a binary message; throws like `sendText`.
    #[wasm_bindgen(js_name = sendBinary)]
    pub fn send_binary(&mut self, data: Vec<u8>, now: f64) -> Result<u32, JsError> {
        self.send(Message::binary(data), now)
    }

    /// Byte transport: socket `id` connected.
    #[wasm_bindgen(js_name = handleConnected)]
    pub fn handle_connected(&mut self, id_: f64, now: f64) -> u32 {
        self.now = ms(now);
        self.session.handle_transport_connected(id(id_), self.now);
        self.drain()
    }

    /// Byte transport: bytes arrived on socket `id`.
    #[wasm_bindgen(js_name = handleBytes)]
    pub fn handle_bytes(&mut self, id_: f64, data: &[u8], now: f64) -> u32 {
        self.now = ms(now);
        self.session.handle_transport_bytes(id(id_), data, self.now);
        self.drain()
    }

    /// Socket `id` closed: a byte transport's end of stream (`code` and `reason` null), or a
    /// WebSocket's `close` event with its code and reason, exactly as the browser gave them.
    #[wasm_bindgen(js_name = handleClosed)]
    pub fn handle_closed(&mut self, id_: f64, code: Option<u32>, reason: Option<String>, now: f64) -> u32 {
        self.now = ms(now);
        let code = code.and_then(|c| u16::try_from(c).ok());
        self.session
            .handle_transport_closed(id(id_), code, reason.as_deref().unwrap_or(""), self.now);
        self.drain()
    }

    /// Message transport: `WebSocket` `id` opened with subprotocol `protocol` and
    /// extensions `extensions` (`""`: none).
    #[wasm_bindgen(js_name = handleOpen)]
    pub fn handle_open(&mut self, id_: f64, protocol: String, extensions: String, now: f64) -> u32 {
        self.now = ms(now);
        let protocol = (!protocol.is_empty()).then_some(protocol);
        self.session
            .handle_transport_open_with_extensions(id(id_), protocol, extensions, self.now);
        self.drain()
    }

    /// Message transport: a text message arrived on `WebSocket` `id`. When the session
    /// delivers it unchanged, the batch says [`code::INPUT`] instead of copying it back.
    #[wasm_bindgen(js_name = handleText)]
    pub fn handle_text(&mut self, id_: f64, text: String, now: f64) -> u32 {
        self.handle_message(id_, Message::text(text), now)
    }

    /// Message transport: a binary message arrived on `WebSocket` `id` (as `handleText`).
    #[wasm_bindgen(js_name = handleBinary)]
    pub fn handle_binary(&mut self, id_: f64, data: Vec<u8>, now: f64) -> u32 {
        self.handle_message(id_, Message::binary(data), now)
    }

    /// Socket `id` failed; `kind`: refused, unreachable, dns, tls, reset, timeout or other.
    #[wasm_bindgen(js_name = handleError)]
    pub fn handle_error(&mut self, id_: f64, kind: &str, detail: &str, now: f64) -> u32 {
        self.now = ms(now);
        let kind = TransportErrorKind::from_name(kind).unwrap_or(TransportErrorKind::Other);
        self.session.handle_transport_error(id(id_), kind, detail, self.now);
        self.drain()
    }

    /// One string for the next [`provide_request`](RawSession::provide_request) (strings
    /// cross one at a time: no JavaScript array is read from here).
    pub fn stage(&mut self, s: String) {
        self.staged.push(s);
    }

    /// The answer to `NEED_REQUEST` for attempt `id`: the URL a URL provider gave; the
    /// strings staged since the last call are its `protocols` subprotocols, then header
    /// names and values in pairs (a browser `WebSocket` sends none).
    #[wasm_bindgen(js_name = provideRequest)]
    pub fn provide_request(&mut self, id_: f64, url: String, protocols: u32, now: f64) -> Result<u32, JsError> {
        self.now = ms(now);
        let mut staged = std::mem::take(&mut self.staged);
        let headers = staged.split_off((protocols as usize).min(staged.len()));
        if headers.len() % 2 != 0 {
            return Err(JsError::new("a header must be a [name, value] pair"));
        }
        let mut pairs = Vec::with_capacity(headers.len() / 2);
        let mut it = headers.into_iter();
        while let (Some(name), Some(value)) = (it.next(), it.next()) {
            pairs.push((name, value));
        }
        let request = TransportRequest {
            url,
            headers: pairs,
            subprotocols: staged,
        };
        self.session.provide_request(id(id_), request, self.now);
        Ok(self.drain())
    }

    /// The URL provider of attempt `id` failed (threw or rejected) with `reason`.
    #[wasm_bindgen(js_name = provideRequestError)]
    pub fn provide_request_error(&mut self, id_: f64, reason: &str, now: f64) -> u32 {
        self.now = ms(now);
        self.session.provide_request_error(id(id_), reason, self.now);
        self.drain()
    }

    /// The timer armed at the last deadline fired.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) -> u32 {
        self.now = ms(now);
        self.session.handle_timeout(self.now);
        self.drain()
    }

    /// Empties the outbound queue: a buffer (see [`code`]) of its messages, oldest first,
    /// then [`code::NULL`] in the deadline's place.
    #[wasm_bindgen(js_name = takeUnsent)]
    pub fn take_unsent(&mut self) -> u32 {
        self.batch.start();
        for message in self.session.take_unsent() {
            self.batch.message(&message, &mut None);
        }
        self.batch.num(code::NULL);
        self.batch.finish()
    }

    /// Every pending output (see [`code`]), a batch end after each message, then the
    /// deadline.
    pub fn drain(&mut self) -> u32 {
        self.encode(None)
    }
}

impl RawSession {
    fn handle_message(&mut self, id_: f64, message: Message, now: f64) -> u32 {
        self.now = ms(now);
        // A clone is a reference count (the payload is `Bytes`), kept to recognise it.
        let input = Some(message.clone());
        self.session.handle_transport_message(id(id_), message, self.now);
        self.encode(input)
    }

    /// Sends `message`; when it goes out at once, its `SEND_MESSAGE` says [`code::INPUT`].
    fn send(&mut self, message: Message, now: f64) -> Result<u32, JsError> {
        self.now = ms(now);
        let input = Some(message.clone());
        match self.session.send(message, self.now) {
            Ok(()) => Ok(self.encode(input)),
            Err(SendError::QueueFull { .. }) => Err(JsError::new("queue_full")),
            Err(SendError::Closed) => Err(JsError::new("closed")),
            Err(SendError::Rejected(why)) => Err(JsError::new(&format!("rejected: {why}"))),
            Err(e) => Err(JsError::new(&e.to_string())),
        }
    }

    /// Writes every pending output and the deadline into the batch buffer; its address.
    fn encode(&mut self, mut input: Option<Message>) -> u32 {
        let b = &mut self.batch;
        b.start();
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::NeedRequest { id, attempt, .. } => {
                    b.num(tag::NEED_REQUEST).id(id).num(attempt);
                }
                Output::OpenTransport { id, request } => {
                    b.num(tag::OPEN_WEBSOCKET).id(id).str(&request.url);
                    b.num(code::LIST).num(request.subprotocols.len() as f64);
                    for p in &request.subprotocols {
                        b.str(p);
                    }
                }
                Output::Transmit { id, bytes } => {
                    // (byte transport only: never in a browser; the data as an ArrayBuffer)
                    b.num(tag::TRANSMIT).id(id).bytes_as(code::BYTES, &bytes);
                }
                Output::SendMessage { id, message } => {
                    b.num(tag::SEND_MESSAGE).id(id).message(&message, &mut input);
                }
                Output::CloseTransport { id, code, reason } => {
                    b.num(tag::CLOSE_TRANSPORT).id(id).num(code).str(&reason);
                }
                Output::Event(event) => event_into(b, event, &mut input),
                // A kind added to the core later needs a tag here.
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
        match self.session.poll_timeout() {
            Some(at) => b.num(at as f64),
            None => b.num(code::NULL),
        };
        b.finish()
    }
}

/// One event into `b`; a message ends the batch ([`code::END`]).
fn event_into(b: &mut Batch, event: SessionEvent, input: &mut Option<Message>) {
    match event {
        SessionEvent::StateChanged { from, to } => {
            b.num(tag::STATE).str(from.as_str()).str(to.as_str());
        }
        SessionEvent::Open {
            attempt,
            recovered,
            subprotocol,
            extensions,
        } => {
            b.num(tag::OPEN).num(attempt).flag(recovered);
            b.str(subprotocol.as_deref().unwrap_or("")).str(&extensions);
        }
        SessionEvent::Message(message) => {
            let t = match message {
                Message::Text(_) => tag::TEXT,
                Message::Binary(_) => tag::BINARY,
            };
            b.num(t).message(&message, input).num(code::END);
        }
        SessionEvent::Closed {
            code,
            reason,
            cause,
            will_reconnect,
        } => {
            b.num(tag::CLOSED)
                .num(code)
                .str(&reason)
                .flag(will_reconnect)
                .cause(&cause);
        }
        SessionEvent::Reconnecting {
            attempt,
            delay_ms,
            cause,
        } => {
            b.num(tag::RECONNECTING).num(attempt).num(delay_ms as f64).cause(&cause);
        }
        SessionEvent::GaveUp { attempts, cause } => {
            b.num(tag::GAVE_UP).num(attempts).cause(&cause);
        }
        SessionEvent::Migrated { recovered } => {
            b.num(tag::MIGRATED).flag(recovered);
        }
        SessionEvent::Error(e) => {
            b.num(tag::ERROR).str(e.as_str()).str(&e.to_string());
        }
        // A kind added to the core later needs a tag here.
        #[allow(unreachable_patterns)]
        _ => {}
    }
}
