//! Every session setting as one JSON object, so the Python, Node and browser bindings (and
//! the scenario table) turn one dict / object / JSON text into a [`SessionConfig`] the
//! same way, instead of each mapping twenty options by hand. [`SessionOptions::from_json`]
//! reads the text with the core's own small JSON reader (no feature, no serde: the browser
//! build carries no serde); with the `serde` feature the same object also deserialises
//! through any serde `Deserializer`, with the same result (a test compares the two).
//!
//! ```
//! # #[cfg(feature = "bytes-transport")] {
//! use steadysock::session::SessionOptions;
//! let options = SessionOptions::from_json(r#"{
//!     "backoff": {"min_ms": 1000, "max_ms": 10000, "factor": 1.3, "jitter": "none"},
//!     "max_retries": 10,
//!     "disconnect_warning": {"json": {"type": "disconnect"}},
//!     "fatal_close_codes": [4004]
//! }"#).unwrap();
//! let config = options.into_config("wss://example.com/socket").unwrap();
//! assert_eq!(config.retry.max_retries, Some(10));
//! # }
//! ```
//!
//! Every key is optional; a missing key keeps its default, an unknown key is an error
//! naming it (`unknown field `max_retry`, expected one of …`). `null` is accepted where
//! the table says "or `null`" and turns the setting off.
//!
//! | key | type | default | meaning |
//! |-----|------|---------|---------|
//! | `transport` | `"bytes"` \| `"messages"` | `"bytes"` | the host moves bytes (TCP/TLS) or frames itself (browser `WebSocket`) |
//! | `request_source` | `"fixed"` \| `"provided"` | `"fixed"` | `"provided"`: ask the host for every attempt's request ([`Output::NeedRequest`](super::Output::NeedRequest)), e.g. a URL provider or a fresh token |
//! | `headers` | `{name: value}`, `["Name: value"]` or `[[name, value]]` | none | extra request headers (byte transport) |
//! | `subprotocols` | string or list of strings | none | subprotocols to offer |
//! | `backoff.min_ms` | integer | 1 000 | first and smallest retry delay |
//! | `backoff.max_ms` | integer | 30 000 | largest retry delay |
//! | `backoff.factor` | number | 2.0 | growth per retry |
//! | `backoff.jitter` | `"full"` \| `"decorrelated"` \| `"none"` | `"full"` | randomisation ([`Jitter`]) |
//! | `max_retries` | integer or `null` | `null` (forever) | retries per run before `gave_up` |
//! | `min_uptime_ms` | integer | 5 000 | uptime that resets the attempt counter |
//! | `connect_timeout_ms` | integer or `null` | 10 000 | request → connected (and `need_request` → request) |
//! | `handshake_timeout_ms` | integer or `null` | 10 000 | connected → open (also the byte transport's connection handshake timeout) |
//! | `close_timeout_ms` | integer | 5 000 | how long `close()` waits for the closing handshake (also the connection's) |
//! | `fatal_close_codes` | list of integers | `[]` | server close codes that stop reconnecting |
//! | `fatal_http_statuses` | list of integers | `[401, 403]` | upgrade answers that stop reconnecting |
//! | `queue.max_messages` | integer | 1 024 | messages held while not open; then `send` fails with `queue_full` |
//! | `queue.max_bytes` | integer | 1 048 576 | payload bytes held while not open |
//! | `keepalive` | object or `null` | `{"interval_ms": 20000, "pong_timeout_ms": 10000}` | protocol ping/pong (byte transport; ignored by the message transport) |
//! | `keepalive.interval_ms` | integer | 20 000 | ping after this long without traffic |
//! | `keepalive.pong_timeout_ms` | integer | 10 000 | dead this long after an unanswered ping |
//! | `keepalive.any_data_counts` | bool | `true` | any received data counts as an answer |
//! | `keepalive.ping_payload` | string (≤ 125 bytes of UTF-8) or `null` | `null` (an 8-byte counter) | what each ping carries; longer is an error naming the key. Any pong answers a ping, whatever its payload |
//! | `heartbeat` | object or `null` | `null` | application heartbeat (any transport; the browser's only keepalive) |
//! | `heartbeat.interval_ms` | integer ≥ 1 | 20 000 | ping message after this long without a reply |
//! | `heartbeat.timeout_ms` | integer | 10 000 | dead this long after an unanswered ping |
//! | `heartbeat.ping` | string | `"ss2 ping\n"` | the ping message (text) |
//! | `heartbeat.pong` | [pattern](super::MessagePattern) | `ss2 pong` | which messages are the reply (consumed) |
//! | `heartbeat.any_message_counts` | bool | `true` | any message counts as proof of life |
//! | `disconnect_warning` | [pattern](super::MessagePattern) or `null` | `null` | messages that announce a server disconnect (consumed; make-before-break), e.g. `{"json": {"type": "disconnect"}}` |
//! | `envelope` | `"plain"` \| `"steady"` | `"plain"` | how server messages are read (`recovery` implies `"steady"`) |
//! | `recovery` | bool | `false` | session id + resume token + offset, replay after reconnect (`ss2` server) |
//! | `recovery_placement` | `"first_message"` \| `"query"` \| `"headers"` | `"first_message"` | where the client presents its credential: its first message (`ss2 resume …`), or, opt-in, URL query parameters (they land in access logs) or headers |
//! | `recovery_session_param` | string | `"ss_sid"` | name of the session-id parameter (query, headers) |
//! | `recovery_token_param` | string | `"ss_token"` | name of the resume-token parameter (query, headers); keep `token` in it: `Debug` hides the values of such names |
//! | `recovery_offset_param` | string | `"ss_offset"` | name of the offset parameter (query, headers) |
//! | `max_message_size` | integer | 67 108 864 | largest message accepted (byte transport; bigger closes 1009) |
//! | `max_frame_size` | integer | 16 777 216 | largest frame accepted (byte transport) |
//! | `fragment_size` | integer or `null` | `null` | split outgoing messages into frames of this size (byte transport) |
//! | `deflate` | bool | `true` | offer permessage-deflate (byte transport) |
//! | `control_frames` | bool | `false` | report the server's protocol pings and pongs on the open transport (`SessionEvent::Ping`/`Pong`; byte transport), e.g. for websocket-client's `on_ping`/`on_pong` |
//! | `fragments` | bool | `false` | also report each frame of a fragmented message on the open transport (`SessionEvent::Fragment`, before the whole `Message`; the connection's `deliver_fragments`; byte transport, plain envelope), e.g. for websocket-client's `on_cont_message` |
//!
//! How the options of the APIs the bindings replace map onto these keys:
//!
//! | partysocket / reconnecting-websocket | websocket-client `run_forever` / `WebSocketApp` | key |
//! |---|---|---|
//! | `minReconnectionDelay`, `maxReconnectionDelay`, `reconnectionDelayGrowFactor` (no jitter) | `reconnect=s` (fixed delay: `min_ms = max_ms`, `jitter: "none"`) | `backoff` |
//! | `maxRetries` | — | `max_retries` |
//! | `minUptime` | — | `min_uptime_ms` |
//! | `connectionTimeout` | `timeout` | `connect_timeout_ms` |
//! | `maxEnqueuedMessages` | — | `queue.max_messages` |
//! | `url` or `protocols` as a (sync or async) function | `header` as a callable | `request_source: "provided"` (the host answers each `need_request` with URL, headers and subprotocols) |
//! | `protocols` | `subprotocols` | `subprotocols` |
//! | — | `header` (list or dict), `cookie`, `origin`, `host` (replaces the URL's `Host`) | `headers` (`Cookie`, `Origin`, `Host`) |
//! | — | `ping_interval`, `ping_timeout` (0 / `None` = off) | `keepalive` (`null` = off) |
//! | — | `ping_payload` | `keepalive.ping_payload` |
//! | `shouldReconnectOnClose` (a close-code decision) | — | `fatal_close_codes` |
//! | — | `suppress_origin` | the core sends no `Origin` unless `headers` has one (websocket-client derives one from the URL by default: a binding that copies that adds it to `headers` unless `suppress_origin`) |
//! | — | `skip_utf8_validation` | no key: a no-op the binding accepts and ignores (see below) |
//!
//! `skip_utf8_validation` is accepted and ignored on purpose: text is always validated,
//! incrementally as it arrives (so the cost is one pass over bytes already in cache), and
//! a [`Message::Text`] can only hold valid UTF-8, so invalid text never reaches an
//! application as a string; it closes the connection with 1007 as RFC 6455 requires. (websocket-client with the flag set would only fail later, when it
//! decodes the text.)
//!
//! Options that are the host's own business (the `WebSocket` class, `startClosed`,
//! `debug`, proxies, `sslopt`, `sockopt`, `dispatcher`) are not session settings.
//! websocket-client's `suppress_host` has no equivalent: HTTP/1.1 requires `Host`.

use super::backoff::{BackoffPolicy, Jitter};
use super::config::{RequestSource, SessionConfig, TransportKind};
use super::envelope::EnvelopeKind;
use super::heartbeat::{steady_pong, Heartbeat};
use super::msg::Message;
use super::pattern::MessagePattern;
use super::queue::QueueLimits;
use super::recovery::{ParamPlacement, RecoveryConfig};
#[cfg(feature = "bytes-transport")]
use crate::connection::{Config as ConnectionConfig, Keepalive, PingPayload};
#[cfg(feature = "serde")]
use serde::{
    de::{self, Deserializer, MapAccess, SeqAccess, Visitor},
    Deserialize, Serialize, Serializer,
};
use std::fmt;

mod reader;

/// All session settings; see the [module docs](self) for every key and its default.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct SessionOptions {
    /// `transport`.
    pub transport: TransportType,
    /// `request_source`.
    pub request_source: RequestSource,
    /// `headers`, in order.
    pub headers: Headers,
    /// `subprotocols`, in order of preference.
    pub subprotocols: Subprotocols,
    /// `backoff`.
    pub backoff: BackoffOptions,
    /// `max_retries`.
    pub max_retries: Option<u32>,
    /// `min_uptime_ms`.
    pub min_uptime_ms: u64,
    /// `connect_timeout_ms`.
    pub connect_timeout_ms: Option<u64>,
    /// `handshake_timeout_ms`.
    pub handshake_timeout_ms: Option<u64>,
    /// `close_timeout_ms`.
    pub close_timeout_ms: u64,
    /// `fatal_close_codes`.
    pub fatal_close_codes: Vec<u16>,
    /// `fatal_http_statuses`.
    pub fatal_http_statuses: Vec<u16>,
    /// `queue`.
    pub queue: QueueOptions,
    /// `keepalive` (`None` = off).
    pub keepalive: Option<KeepaliveOptions>,
    /// `heartbeat` (`None` = off).
    pub heartbeat: Option<HeartbeatOptions>,
    /// `disconnect_warning`.
    pub disconnect_warning: Option<MessagePattern>,
    /// `envelope`.
    pub envelope: EnvelopeKind,
    /// `recovery`.
    pub recovery: bool,
    /// `recovery_placement`.
    pub recovery_placement: RecoveryPlacement,
    /// `recovery_session_param`.
    pub recovery_session_param: String,
    /// `recovery_token_param`.
    pub recovery_token_param: String,
    /// `recovery_offset_param`.
    pub recovery_offset_param: String,
    /// `max_message_size`.
    pub max_message_size: usize,
    /// `max_frame_size`.
    pub max_frame_size: usize,
    /// `fragment_size`.
    pub fragment_size: Option<usize>,
    /// `deflate`.
    pub deflate: bool,
    /// `control_frames`.
    pub control_frames: bool,
    /// `fragments`.
    pub fragments: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        let connection = ConnectionDefaults::get();
        let retry = super::policy::RetryPolicy::default();
        Self {
            transport: TransportType::Bytes,
            request_source: RequestSource::Fixed,
            headers: Headers::default(),
            subprotocols: Subprotocols::default(),
            backoff: BackoffOptions::default(),
            max_retries: retry.max_retries,
            min_uptime_ms: retry.min_uptime_ms,
            connect_timeout_ms: retry.connect_timeout_ms,
            handshake_timeout_ms: retry.handshake_timeout_ms,
            close_timeout_ms: retry.close_timeout_ms,
            fatal_close_codes: retry.fatal_close_codes,
            fatal_http_statuses: retry.fatal_http_statuses,
            queue: QueueOptions::default(),
            keepalive: Some(KeepaliveOptions::default()),
            heartbeat: None,
            disconnect_warning: None,
            envelope: EnvelopeKind::Plain,
            recovery: false,
            recovery_placement: RecoveryPlacement::FirstMessage,
            recovery_session_param: "ss_sid".into(),
            recovery_token_param: "ss_token".into(),
            recovery_offset_param: "ss_offset".into(),
            max_message_size: connection.max_message_size,
            max_frame_size: connection.max_frame_size,
            fragment_size: connection.fragment_size,
            deflate: connection.deflate,
            control_frames: false,
            fragments: false,
        }
    }
}

/// The byte transport's defaults that [`SessionOptions::default`] shows (the
/// connection's own, when it is built).
struct ConnectionDefaults {
    max_message_size: usize,
    max_frame_size: usize,
    fragment_size: Option<usize>,
    deflate: bool,
}

impl ConnectionDefaults {
    /// Without a byte transport: `connection::Config::default()`'s sizes (a test checks
    /// them), no deflate.
    #[cfg_attr(feature = "bytes-transport", allow(dead_code))]
    const WITHOUT_BYTES: Self = Self {
        max_message_size: 64 << 20,
        max_frame_size: 16 << 20,
        fragment_size: None,
        deflate: false,
    };

    fn get() -> Self {
        #[cfg(feature = "bytes-transport")]
        {
            let c = ConnectionConfig::default();
            Self {
                max_message_size: c.max_message_size,
                max_frame_size: c.max_frame_size,
                fragment_size: c.fragment_size,
                deflate: c.deflate.is_some(),
            }
        }
        #[cfg(not(feature = "bytes-transport"))]
        Self::WITHOUT_BYTES
    }
}

/// `transport`: which kind of transport the host provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum TransportType {
    /// The host moves bytes ([`TransportKind::Bytes`]).
    #[default]
    Bytes,
    /// The host's WebSocket frames ([`TransportKind::Messages`]).
    Messages,
}

impl TransportType {
    /// The canonical name: `bytes` or `messages` (as [`TransportKind::as_str`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Messages => "messages",
        }
    }
}

/// `recovery_placement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum RecoveryPlacement {
    /// The client's first message on each transport (`ss2 resume …`). Works in browsers.
    #[default]
    FirstMessage,
    /// URL query parameters (opt-in: URLs land in access and proxy logs).
    Query,
    /// Request headers (byte transport only).
    Headers,
}

impl RecoveryPlacement {
    /// The canonical name: `first_message`, `query` or `headers` (as
    /// [`ParamPlacement::as_str`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstMessage => "first_message",
            Self::Query => "query",
            Self::Headers => "headers",
        }
    }
}

/// `backoff`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct BackoffOptions {
    /// `backoff.min_ms`.
    pub min_ms: u64,
    /// `backoff.max_ms`.
    pub max_ms: u64,
    /// `backoff.factor`.
    pub factor: f64,
    /// `backoff.jitter`.
    pub jitter: Jitter,
}

impl Default for BackoffOptions {
    fn default() -> Self {
        let b = BackoffPolicy::default();
        Self {
            min_ms: b.min_delay_ms,
            max_ms: b.max_delay_ms,
            factor: b.factor,
            jitter: b.jitter,
        }
    }
}

/// `queue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct QueueOptions {
    /// `queue.max_messages`.
    pub max_messages: usize,
    /// `queue.max_bytes`.
    pub max_bytes: usize,
}

impl Default for QueueOptions {
    fn default() -> Self {
        let q = QueueLimits::default();
        Self {
            max_messages: q.max_messages,
            max_bytes: q.max_bytes,
        }
    }
}

/// `keepalive`: protocol ping/pong of a byte transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct KeepaliveOptions {
    /// `keepalive.interval_ms`.
    pub interval_ms: u64,
    /// `keepalive.pong_timeout_ms`.
    pub pong_timeout_ms: u64,
    /// `keepalive.any_data_counts`.
    pub any_data_counts: bool,
    /// `keepalive.ping_payload` (`None`: a counter).
    pub ping_payload: Option<String>,
}

impl Default for KeepaliveOptions {
    /// The connection's `Keepalive::default()` (without a byte transport, the same values;
    /// a test checks them).
    fn default() -> Self {
        #[cfg(feature = "bytes-transport")]
        {
            let k = Keepalive::default();
            Self {
                interval_ms: k.interval_ms,
                pong_timeout_ms: k.pong_timeout_ms,
                any_data_counts: k.any_data_counts,
                ping_payload: None,
            }
        }
        #[cfg(not(feature = "bytes-transport"))]
        Self {
            interval_ms: 20_000,
            pong_timeout_ms: 10_000,
            any_data_counts: true,
            ping_payload: None,
        }
    }
}

/// `heartbeat`: an application-level ping message and its reply.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct HeartbeatOptions {
    /// `heartbeat.interval_ms`.
    pub interval_ms: u64,
    /// `heartbeat.timeout_ms`.
    pub timeout_ms: u64,
    /// `heartbeat.ping`.
    pub ping: String,
    /// `heartbeat.pong`.
    pub pong: MessagePattern,
    /// `heartbeat.any_message_counts`.
    pub any_message_counts: bool,
}

impl Default for HeartbeatOptions {
    fn default() -> Self {
        Self {
            interval_ms: 20_000,
            timeout_ms: 10_000,
            ping: "ss2 ping\n".into(),
            pong: steady_pong(),
            any_message_counts: true,
        }
    }
}

/// Why options could not be read or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsError(pub String);

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid session options: {}", self.0)
    }
}

impl std::error::Error for OptionsError {}

impl SessionOptions {
    /// Options from JSON text (an object; `{}` gives every default), read by the core's own
    /// small JSON reader: no feature needed, and the same result as the serde derives
    /// (feature `serde`) give through serde_json for the same text (but for the last bits
    /// of a number with more than 19 significant digits or an exponent beyond ±22, and
    /// for patterns nested more than 32 deep, which are refused). An error names the key
    /// (`backoff.jitter: unknown variant `lots`, expected one of …`).
    pub fn from_json(text: &str) -> Result<Self, OptionsError> {
        reader::read(text)
    }

    /// The configuration these options describe, for `url` (with `request_source:
    /// "provided"` the URL comes from the host and `url` is ignored).
    pub fn into_config(self, url: impl Into<String>) -> Result<SessionConfig, OptionsError> {
        let bad = |why: &str| Err(OptionsError(why.to_string()));
        if self.heartbeat.as_ref().is_some_and(|h| h.interval_ms == 0) {
            return bad("heartbeat.interval_ms must be at least 1");
        }
        if self.keepalive.as_ref().is_some_and(|k| k.interval_ms == 0) {
            return bad("keepalive.interval_ms must be at least 1 (null turns keepalive off)");
        }
        // A ping carries at most 125 bytes (a control frame's limit).
        const PING_PAYLOAD_MAX: usize = 125;
        let ping_payload = self.keepalive.as_ref().and_then(|k| k.ping_payload.as_deref());
        if let Some(text) = ping_payload.filter(|t| t.len() > PING_PAYLOAD_MAX) {
            return Err(OptionsError(format!(
                "keepalive.ping_payload is {} bytes; a ping carries at most {PING_PAYLOAD_MAX}",
                text.len()
            )));
        }
        #[cfg(feature = "bytes-transport")]
        let ping_payload = match ping_payload {
            None => None,
            Some(text) => Some(PingPayload::new(text.to_owned()).map_err(|_| {
                OptionsError(format!(
                    "keepalive.ping_payload is {} bytes; a ping carries at most {}",
                    text.len(),
                    PingPayload::MAX
                ))
            })?),
        };
        if !(self.backoff.factor.is_finite() && self.backoff.factor >= 1.0) {
            return bad("backoff.factor must be a number ≥ 1");
        }
        if self.backoff.max_ms < self.backoff.min_ms {
            return bad("backoff.max_ms must be at least backoff.min_ms");
        }
        let messages = self.transport == TransportType::Messages;
        if messages && self.recovery && self.recovery_placement == RecoveryPlacement::Headers {
            return bad("recovery_placement \"headers\" needs the bytes transport (browsers cannot set headers)");
        }
        let transport = match self.transport {
            TransportType::Messages => TransportKind::Messages,
            #[cfg(not(feature = "bytes-transport"))]
            TransportType::Bytes => return bad("transport \"bytes\" needs the core's bytes-transport feature"),
            #[cfg(feature = "bytes-transport")]
            TransportType::Bytes => {
                let defaults = ConnectionConfig::default();
                TransportKind::Bytes(ConnectionConfig {
                    max_message_size: self.max_message_size,
                    max_frame_size: self.max_frame_size,
                    fragment_size: self.fragment_size.filter(|&n| n > 0),
                    keepalive: self.keepalive.as_ref().map(|k| Keepalive {
                        interval_ms: k.interval_ms,
                        pong_timeout_ms: k.pong_timeout_ms,
                        any_data_counts: k.any_data_counts,
                        ping_payload: ping_payload.clone(),
                    }),
                    deflate: if self.deflate { defaults.deflate.clone() } else { None },
                    // The connection's own timers must not cut the session's short.
                    handshake_timeout_ms: self.handshake_timeout_ms,
                    close_timeout_ms: self.close_timeout_ms,
                    deliver_fragments: self.fragments,
                    ..defaults
                })
            }
        };
        let mut config = SessionConfig::new(url, transport);
        config.request.headers = self.headers.0;
        config.request.subprotocols = self.subprotocols.0;
        config.request_source = self.request_source;
        config.retry.backoff = BackoffPolicy {
            min_delay_ms: self.backoff.min_ms,
            max_delay_ms: self.backoff.max_ms,
            factor: self.backoff.factor,
            jitter: self.backoff.jitter,
        };
        config.retry.max_retries = self.max_retries;
        config.retry.min_uptime_ms = self.min_uptime_ms;
        config.retry.connect_timeout_ms = self.connect_timeout_ms;
        config.retry.handshake_timeout_ms = self.handshake_timeout_ms;
        config.retry.close_timeout_ms = self.close_timeout_ms;
        config.retry.fatal_close_codes = self.fatal_close_codes;
        config.retry.fatal_http_statuses = self.fatal_http_statuses;
        config.queue = QueueLimits {
            max_messages: self.queue.max_messages,
            max_bytes: self.queue.max_bytes,
        };
        config.heartbeat = self.heartbeat.map(|h| Heartbeat {
            interval_ms: h.interval_ms,
            timeout_ms: h.timeout_ms,
            ping: Message::text(h.ping),
            pong: h.pong,
            any_message_counts: h.any_message_counts,
        });
        config.disconnect_warning = self.disconnect_warning;
        config.control_frames = self.control_frames;
        config.envelope = self.envelope;
        if self.recovery {
            let (session, token, offset) = (
                self.recovery_session_param,
                self.recovery_token_param,
                self.recovery_offset_param,
            );
            config.recovery = Some(RecoveryConfig {
                placement: match self.recovery_placement {
                    RecoveryPlacement::FirstMessage => ParamPlacement::FirstMessage,
                    RecoveryPlacement::Query => ParamPlacement::Query { session, token, offset },
                    RecoveryPlacement::Headers => ParamPlacement::Headers { session, token, offset },
                },
            });
        }
        Ok(config)
    }
}

/// `headers`: request headers in order. Reads `{"Name": "value"}`, `["Name: value"]`
/// (websocket-client's list form) or `[["Name", "value"]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

#[cfg(feature = "serde")]
impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of header values, or a list of \"Name: value\" strings or [name, value] pairs")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(Headers(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Headers, A::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Item {
                    Line(String),
                    Pair(String, String),
                }
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Item>()? {
                    out.push(match item {
                        Item::Pair(k, v) => (k, v),
                        Item::Line(line) => header_line(&line).map_err(de::Error::custom)?,
                    });
                }
                Ok(Headers(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `"Name: value"` line of `headers`: the name and the value, trimmed of spaces and
/// tabs (HTTP's optional whitespace).
fn header_line(line: &str) -> Result<(String, String), String> {
    match crate::ascii::cut(line, b':') {
        Some((k, v)) => Ok((k.trim_ascii().to_string(), v.trim_ascii().to_string())),
        None => {
            let mut why = String::from("header \"");
            why.push_str(line);
            why.push_str("\": expected \"Name: value\"");
            Err(why)
        }
    }
}

/// `subprotocols`: one string or a list, in order of preference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subprotocols(pub Vec<String>);

#[cfg(feature = "serde")]
impl Serialize for Subprotocols {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for Subprotocols {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a subprotocol or a list of subprotocols")]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(Subprotocols(match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }))
    }
}

/// Without a byte transport: options still read, a message transport configures, bytes do
/// not.
#[cfg(all(test, not(feature = "bytes-transport")))]
mod tests_without_bytes {
    use super::*;

    #[test]
    fn messages_configure_and_bytes_are_refused() {
        let o = SessionOptions::from_json(r#"{"transport": "messages", "max_retries": 3}"#).unwrap();
        let c = o.into_config("ws://h/").unwrap();
        assert_eq!(c.transport, TransportKind::Messages);
        assert_eq!(c.retry.max_retries, Some(3));
        let e = SessionOptions::default().into_config("ws://h/").unwrap_err();
        assert!(e.0.contains("bytes-transport"), "{e}");
    }
}

/// Options text with every key set away from its default (tests here and the reader's).
#[cfg(all(test, any(feature = "bytes-transport", feature = "serde")))]
pub(crate) const EVERY_KEY_JSON: &str = r#"{
            "transport": "bytes", "request_source": "provided",
            "headers": {"Authorization": "Bearer x", "X-A": "1"},
            "subprotocols": "chat.v1",
            "backoff": {"min_ms": 3000, "max_ms": 10000, "factor": 1.3, "jitter": "none"},
            "max_retries": 4, "min_uptime_ms": 100, "connect_timeout_ms": 4000,
            "handshake_timeout_ms": null, "close_timeout_ms": 250,
            "fatal_close_codes": [1008, 4004], "fatal_http_statuses": [],
            "queue": {"max_messages": 5, "max_bytes": 100},
            "keepalive": {"interval_ms": 30000, "pong_timeout_ms": 5000, "ping_payload": "hb"},
            "heartbeat": {"interval_ms": 1000, "timeout_ms": 500, "ping": "ping", "pong": {"exact": "pong"}},
            "disconnect_warning": {"json": {"type": "disconnect"}},
            "envelope": "steady", "recovery": true, "recovery_placement": "headers",
            "recovery_session_param": "sid", "recovery_token_param": "tok", "recovery_offset_param": "off",
            "max_message_size": 1000, "max_frame_size": 500, "fragment_size": 100, "deflate": false
        }"#;

#[cfg(all(test, feature = "bytes-transport"))]
mod tests {
    use super::*;
    use crate::session::{Cause, RetryPolicy};

    #[test]
    fn sizes_without_bytes_are_the_connection_defaults() {
        let (w, c) = (ConnectionDefaults::WITHOUT_BYTES, ConnectionConfig::default());
        assert_eq!(
            (w.max_message_size, w.max_frame_size, w.fragment_size),
            (c.max_message_size, c.max_frame_size, c.fragment_size)
        );
    }

    #[test]
    fn empty_object_is_the_documented_defaults() {
        let config = SessionOptions::from_json("{}").unwrap().into_config("ws://h/").unwrap();
        let bytes = SessionConfig::bytes("ws://h/");
        assert_eq!(config, bytes);
        assert_eq!(config.retry, RetryPolicy::default());
    }

    #[test]
    fn every_key_reaches_the_config() {
        let o = SessionOptions::from_json(EVERY_KEY_JSON).unwrap();
        let c = o.into_config("ws://h/").unwrap();
        assert_eq!(c.request_source, RequestSource::Provided);
        assert_eq!(
            c.request.headers,
            vec![("Authorization".into(), "Bearer x".into()), ("X-A".into(), "1".into())]
        );
        assert_eq!(c.request.subprotocols, vec!["chat.v1".to_string()]);
        assert_eq!(c.retry.backoff.min_delay_ms, 3000);
        assert_eq!(c.retry.backoff.max_delay_ms, 10000);
        assert_eq!(c.retry.backoff.factor, 1.3);
        assert_eq!(c.retry.backoff.jitter, Jitter::None);
        assert_eq!(c.retry.max_retries, Some(4));
        assert_eq!(c.retry.min_uptime_ms, 100);
        assert_eq!(c.retry.connect_timeout_ms, Some(4000));
        assert_eq!(c.retry.handshake_timeout_ms, None);
        assert_eq!(c.retry.close_timeout_ms, 250);
        assert!(!c.retry.should_retry(&Cause::Closed {
            code: 4004,
            reason: String::new()
        }));
        assert!(c.retry.should_retry(&Cause::HandshakeRejected { status: 401 }));
        assert_eq!(
            c.queue,
            QueueLimits {
                max_messages: 5,
                max_bytes: 100
            }
        );
        let TransportKind::Bytes(conn) = &c.transport else {
            panic!()
        };
        assert_eq!(
            conn.keepalive,
            Some(Keepalive {
                interval_ms: 30000,
                pong_timeout_ms: 5000,
                any_data_counts: true,
                ping_payload: Some(PingPayload::new("hb").unwrap()),
            })
        );
        assert_eq!(
            (
                conn.max_message_size,
                conn.max_frame_size,
                conn.fragment_size,
                conn.deflate.is_some()
            ),
            (1000, 500, Some(100), false)
        );
        let hb = c.heartbeat.as_ref().unwrap();
        assert_eq!((hb.interval_ms, hb.timeout_ms), (1000, 500));
        assert_eq!(hb.ping, Message::text("ping"));
        assert!(hb.pong.matches(&Message::text("pong")));
        assert!(c
            .disconnect_warning
            .as_ref()
            .unwrap()
            .matches(&Message::text(r#"{"type":"disconnect","reason":"warning"}"#)));
        assert_eq!(c.envelope, EnvelopeKind::Steady);
        assert_eq!(
            c.recovery,
            Some(RecoveryConfig {
                placement: ParamPlacement::Headers {
                    session: "sid".into(),
                    token: "tok".into(),
                    offset: "off".into()
                }
            })
        );
    }

    #[test]
    fn null_turns_off_and_header_forms() {
        let c = SessionOptions::from_json(r#"{"keepalive": null, "headers": ["Origin: http://x", ["Cookie", "a=b"]]}"#)
            .unwrap()
            .into_config("ws://h/")
            .unwrap();
        let TransportKind::Bytes(conn) = &c.transport else {
            panic!()
        };
        assert_eq!(conn.keepalive, None);
        assert_eq!(
            c.request.headers,
            vec![("Origin".into(), "http://x".into()), ("Cookie".into(), "a=b".into())]
        );
        let m = SessionOptions::from_json(r#"{"transport": "messages", "heartbeat": {}, "recovery": true}"#)
            .unwrap()
            .into_config("wss://h/")
            .unwrap();
        assert_eq!(m.transport, TransportKind::Messages);
        assert_eq!(m.heartbeat, Some(Heartbeat::steady(20_000, 10_000)));
        assert_eq!(m.effective_envelope(), EnvelopeKind::Steady);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        for (json, needle) in [
            (r#"{"max_retry": 3}"#, "max_retry"),
            (r#"{"backoff": {"min": 3}}"#, "min"),
            (r#"{"queue": {"max_message": 3}}"#, "max_message"),
            (r#"{"backoff": {"jitter": "lots"}}"#, "lots"),
            (r#"{"transport": "pigeon"}"#, "pigeon"),
            (r#"{"disconnect_warning": {"regex": "x"}}"#, "regex"),
            (r#"{"headers": ["no colon"]}"#, "no colon"),
        ] {
            let err = SessionOptions::from_json(json).unwrap_err();
            assert!(err.to_string().contains(needle), "{json}: {err}");
        }
        for (json, needle) in [
            (r#"{"heartbeat": {"interval_ms": 0}}"#, "heartbeat.interval_ms"),
            (r#"{"backoff": {"factor": 0.5}}"#, "backoff.factor"),
            (r#"{"backoff": {"min_ms": 10, "max_ms": 5}}"#, "backoff.max_ms"),
            (
                &format!(r#"{{"keepalive": {{"ping_payload": "{}"}}}}"#, "x".repeat(126)),
                "keepalive.ping_payload is 126 bytes",
            ),
            (
                r#"{"transport": "messages", "recovery": true, "recovery_placement": "headers"}"#,
                "headers",
            ),
        ] {
            let err = SessionOptions::from_json(json)
                .unwrap()
                .into_config("ws://h/")
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{json}: {err}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn round_trips_through_json() {
        let o = SessionOptions {
            disconnect_warning: Some(MessagePattern::json_field("op", 7.0)),
            heartbeat: Some(HeartbeatOptions::default()),
            headers: Headers(vec![("A".into(), "b".into())]),
            control_frames: true,
            fragments: true,
            ..SessionOptions::default()
        };
        let text = serde_json::to_string(&o).unwrap();
        assert_eq!(SessionOptions::from_json(&text).unwrap(), o);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn vocabulary_serializes_as_its_canonical_name() {
        use crate::session::{State, TransportErrorKind};
        for s in State::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in TransportErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for j in [Jitter::None, Jitter::Full, Jitter::Decorrelated] {
            assert_eq!(serde_json::to_value(j).unwrap(), j.as_str());
        }
        for e in [EnvelopeKind::Plain, EnvelopeKind::Steady] {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        for r in [RequestSource::Fixed, RequestSource::Provided] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for t in [TransportType::Bytes, TransportType::Messages] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for p in [
            RecoveryPlacement::FirstMessage,
            RecoveryPlacement::Query,
            RecoveryPlacement::Headers,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}
