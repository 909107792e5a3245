//! The native half of the `steadysock` npm package: a thin napi wrapper over the core's
//! [`steadysock::Connection`] in the client role.
//!
//! JavaScript owns the I/O (a `net`/`tls` socket and one timer) and feeds what happens into
//! a [`RawConnection`]; every call that can produce work answers with everything the core
//! has pending, in one flat array, so that one input costs one crossing of the FFI boundary
//! (see [`drain`](RawConnection::drain) for the layout). No protocol decision is taken in
//! JavaScript: handshake, framing, masking, UTF-8 validation, the closing handshake and
//! keepalive all happen in the core.

mod rng;
mod session;

pub use session::RawSession;

use bytes::Bytes;
use napi::bindgen_prelude::{Array, ArrayBuffer, BufferSlice, Env, Null};
use napi::{Error as NapiError, Result, Status};
use napi_derive::napi;
use steadysock::connection::Output;
use steadysock::handshake::header_value;
use steadysock::{ClientRequest, Config, Connection, Error as SendError, Event, Keepalive, Message, WsUrl};

/// Output tags of the flat array returned by every driving call. The JavaScript side
/// (`lib/raw.js`) reads the same numbers.
mod tag {
    /// `TRANSMIT, bytes: Buffer` — write these bytes to the socket.
    pub const TRANSMIT: u32 = 0;
    /// `OPEN, protocol: string, extensions: string` — the handshake completed.
    pub const OPEN: u32 = 1;
    /// `TEXT, data: string` — a text message.
    pub const TEXT: u32 = 2;
    /// `BINARY, data: ArrayBuffer` — a binary message.
    pub const BINARY: u32 = 3;
    /// `ERROR, message: string` — the connection failed (a `CLOSED` follows).
    pub const ERROR: u32 = 4;
    /// `CLOSED, code: number, reason: string, wasClean: boolean` — always the last event.
    pub const CLOSED: u32 = 5;
}

/// Keepalive settings from JavaScript: ping after `intervalMs` without one, declare the
/// peer dead `pongTimeoutMs` later.
#[napi(object)]
pub struct KeepaliveOptions {
    pub interval_ms: u32,
    pub pong_timeout_ms: u32,
}

/// Connection options from JavaScript; every field is optional and defaults to the
/// core's [`Config`] default.
#[napi(object)]
pub struct ConnectionOptions {
    /// Extra request headers as `[name, value]` pairs.
    pub headers: Option<Vec<Vec<String>>>,
    /// Subprotocols to offer, in order of preference.
    pub protocols: Option<Vec<String>>,
    pub max_message_size: Option<u32>,
    pub handshake_timeout_ms: Option<u32>,
    pub close_timeout_ms: Option<u32>,
    pub keepalive: Option<KeepaliveOptions>,
    /// Offer permessage-deflate (default true).
    pub deflate: Option<bool>,
}

/// One client connection driven from JavaScript.
#[napi]
pub struct RawConnection {
    conn: Connection,
    host: String,
    port: u16,
    secure: bool,
}

/// Below this size, bytes are copied into memory that V8 allocates; above it, the core's
/// buffer is handed over without a copy. An external buffer costs V8 a finalizer and a
/// weak handle, which for small payloads is dearer (in garbage collection) than the copy.
const EXTERNAL_MIN: usize = 64 << 10;

/// Bytes as a Node `Buffer` (transmits).
pub(crate) fn js_buffer(env: &Env, bytes: Bytes) -> Result<BufferSlice<'_>> {
    if bytes.len() < EXTERNAL_MIN {
        BufferSlice::copy_from(env, &bytes)
    } else {
        BufferSlice::from_data(env, Vec::from(bytes))
    }
}

/// Bytes as an `ArrayBuffer` (binary messages).
pub(crate) fn js_array_buffer(env: &Env, bytes: Bytes) -> Result<ArrayBuffer<'_>> {
    if bytes.len() < EXTERNAL_MIN {
        ArrayBuffer::copy_from(env, &bytes)
    } else {
        ArrayBuffer::from_data(env, Vec::from(bytes))
    }
}

/// JavaScript time (milliseconds, a double) as the core's `u64`.
pub(crate) fn ms(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> NapiError {
    NapiError::new(Status::InvalidArg, message.into())
}

fn config_from(options: &ConnectionOptions) -> Config {
    let mut config = Config::default();
    if let Some(n) = options.max_message_size {
        config.max_message_size = n as usize;
        config.max_frame_size = config.max_frame_size.min(n as usize);
    }
    if let Some(t) = options.handshake_timeout_ms {
        config.handshake_timeout_ms = Some(u64::from(t));
    }
    if let Some(t) = options.close_timeout_ms {
        config.close_timeout_ms = u64::from(t);
    }
    if let Some(k) = &options.keepalive {
        config.keepalive = Some(Keepalive {
            interval_ms: u64::from(k.interval_ms),
            pong_timeout_ms: u64::from(k.pong_timeout_ms),
            any_data_counts: false,
        });
    }
    if options.deflate == Some(false) {
        config.deflate = None;
    }
    config
}

#[napi]
impl RawConnection {
    /// Starts a client connection to `url` (`ws://` or `wss://`); the upgrade request is
    /// pending at once (take it with [`drain`](Self::drain)). Throws on an unusable URL,
    /// header or subprotocol, with the core's reason.
    #[napi(constructor)]
    pub fn new(url: String, options: Option<ConnectionOptions>, now: f64) -> Result<Self> {
        let options = options.unwrap_or(ConnectionOptions {
            headers: None,
            protocols: None,
            max_message_size: None,
            handshake_timeout_ms: None,
            close_timeout_ms: None,
            keepalive: None,
            deflate: None,
        });
        let target = WsUrl::parse(&url).map_err(invalid)?;
        let mut headers = Vec::new();
        for pair in options.headers.iter().flatten() {
            match pair.as_slice() {
                [name, value] => headers.push((name.clone(), value.clone())),
                _ => return Err(invalid("a header must be a [name, value] pair")),
            }
        }
        let request = ClientRequest {
            url,
            headers,
            subprotocols: options.protocols.clone().unwrap_or_default(),
        };
        let conn = Connection::client(&request, config_from(&options), rng::os_random()?, ms(now))
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            conn,
            host: target.host,
            port: target.port,
            secure: target.secure,
        })
    }

    /// Host name or IP literal to connect to (IPv6 without brackets).
    #[napi(getter)]
    pub fn host(&self) -> String {
        self.host.clone()
    }

    /// TCP port to connect to.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        u32::from(self.port)
    }

    /// Whether the transport must be TLS (`wss://`).
    #[napi(getter)]
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Bytes arrived from the socket.
    #[napi]
    pub fn handle_input<'e>(&mut self, env: &'e Env, data: BufferSlice, now: f64) -> Result<Array<'e>> {
        self.conn.handle_input(&data, ms(now));
        self.drain(env)
    }

    /// The socket ended or failed.
    #[napi]
    pub fn handle_eof<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.conn.handle_eof(ms(now));
        self.drain(env)
    }

    /// The timer armed at the last returned deadline fired.
    #[napi]
    pub fn handle_timeout<'e>(&mut self, env: &'e Env, now: f64) -> Result<Array<'e>> {
        self.conn.handle_timeout(ms(now));
        self.drain(env)
    }

    /// Sends a text message; `null` when the connection is no longer open (the message
    /// is not sent: the caller accounts for it).
    #[napi]
    pub fn send_text<'e>(&mut self, env: &'e Env, text: String) -> Result<Option<Array<'e>>> {
        let sent = self.conn.send(Message::text(text));
        self.after_send(env, sent)
    }

    /// Sends a binary message; `null` when the connection is no longer open.
    #[napi]
    pub fn send_binary<'e>(&mut self, env: &'e Env, data: BufferSlice) -> Result<Option<Array<'e>>> {
        let sent = self.conn.send_binary(&data);
        self.after_send(env, sent)
    }

    /// Starts the closing handshake (1005: a close frame without a code); while the
    /// handshake is still running, abandons it. Throws on a code or reason the core
    /// refuses to send.
    #[napi]
    pub fn close<'e>(&mut self, env: &'e Env, code: u32, reason: String, now: f64) -> Result<Array<'e>> {
        let code = u16::try_from(code).map_err(|_| invalid(format!("close code {code} out of range")))?;
        self.conn
            .close(code, &reason, ms(now))
            .map_err(|e| invalid(e.to_string()))?;
        self.transmits(env, true)
    }

    /// What the core has pending, in the order it decided it, as one flat array:
    /// `[TAG, value…, TAG, value…, …, deadline, done, more]`. The values per tag are
    /// listed in [`tag`]. The three last entries are always present: the time at which to
    /// call `handleTimeout` (`null` for no timer), whether the socket should now be ended
    /// (after writing the transmits before it), and whether events may still be pending.
    ///
    /// The batch ends right after a message: the application must be able to answer it
    /// before the core takes its next decision (after a protocol error, the core holds its
    /// close frame until the messages before the error have been handed out, so that the
    /// answers to them go first). The host dispatches the batch, then calls `drain` again
    /// while `more` is true.
    ///
    #[napi]
    pub fn drain<'e>(&mut self, env: &'e Env) -> Result<Array<'e>> {
        let mut out = env.create_array(0)?;
        let more = self.take_outputs(env, &mut out, true)?;
        self.finish(out, more)
    }
}

impl RawConnection {
    fn after_send<'e>(&mut self, env: &'e Env, sent: std::result::Result<(), SendError>) -> Result<Option<Array<'e>>> {
        match sent {
            Ok(()) => self.transmits(env, false).map(Some),
            Err(SendError::InvalidState(_)) => Ok(None),
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// Moves transmits (and, with `events`, events) into `out`; true when it stopped
    /// early, with events possibly left.
    fn take_outputs(&mut self, env: &Env, out: &mut Array, events: bool) -> Result<bool> {
        loop {
            // The core's outputs in its order. After an application call only the
            // transmits are taken: the events wait for the host's next drain, so that no
            // listener runs inside `send()` or `close()`.
            let output = if events {
                self.conn.poll_output()
            } else {
                self.conn.poll_transmit().map(Output::Transmit)
            };
            let event = match output {
                None => return Ok(false),
                Some(Output::Transmit(bytes)) => {
                    out.insert(tag::TRANSMIT)?;
                    out.insert(js_buffer(env, bytes)?)?;
                    continue;
                }
                Some(Output::Event(event)) => event,
                // `Output` is non-exhaustive; a kind added to the core later needs a tag here.
                Some(_) => continue,
            };
            match event {
                Event::Open(info) => {
                    out.insert(tag::OPEN)?;
                    out.insert(info.subprotocol.unwrap_or_default())?;
                    out.insert(header_value(&info.headers, "sec-websocket-extensions").unwrap_or(""))?;
                }
                Event::Message(Message::Text(text)) => {
                    out.insert(tag::TEXT)?;
                    out.insert(text.as_str())?;
                    return Ok(true);
                }
                Event::Message(Message::Binary(bytes)) => {
                    out.insert(tag::BINARY)?;
                    out.insert(js_array_buffer(env, bytes)?)?;
                    return Ok(true);
                }
                Event::HandshakeFailed(e) => {
                    out.insert(tag::ERROR)?;
                    out.insert(e.to_string())?;
                }
                Event::Error(e) => {
                    out.insert(tag::ERROR)?;
                    out.insert(e.to_string())?;
                }
                Event::Closed(info) => {
                    out.insert(tag::CLOSED)?;
                    out.insert(u32::from(info.code))?;
                    out.insert(info.reason)?;
                    out.insert(info.clean)?;
                }
                // Pings are answered by the core; pongs only feed its keepalive; a client
                // never sees a request.
                Event::Ping(_) | Event::Pong(_) | Event::Request(_) => {}
            }
        }
    }

    /// Appends the trailer: deadline, done, more.
    fn finish<'e>(&self, mut out: Array<'e>, more: bool) -> Result<Array<'e>> {
        match self.conn.poll_timeout() {
            Some(at) => out.insert(at as f64)?,
            None => out.insert(Null)?,
        }
        out.insert(self.conn.should_close_transport())?;
        out.insert(more)?;
        Ok(out)
    }

    /// After an application call: the transmits only, so that no event reaches a listener
    /// from inside `send()` or `close()`; `more` tells the host to drain events later.
    /// `events` says whether the call may have queued events (sending never does).
    fn transmits<'e>(&mut self, env: &'e Env, events: bool) -> Result<Array<'e>> {
        let mut out = env.create_array(0)?;
        self.take_outputs(env, &mut out, false)?;
        self.finish(out, events)
    }
}
