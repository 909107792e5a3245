//! Everything a [`Session`](super::Session) is configured with: plain data, no callbacks,
//! so every binding configures it the same way (see also
//! [`SessionOptions`](super::SessionOptions), the same settings as one JSON object).

use super::envelope::EnvelopeKind;
use super::heartbeat::Heartbeat;
use super::output::TransportRequest;
use super::pattern::MessagePattern;
use super::policy::RetryPolicy;
use super::queue::QueueLimits;
use super::recovery::RecoveryConfig;
#[cfg(feature = "bytes-transport")]
use crate::connection::{Config as ConnectionConfig, Keepalive};

/// Which kind of transport the host provides.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The host moves bytes (TCP/TLS); the session runs one client
    /// [`Connection`](crate::Connection) per attempt with this configuration (set its
    /// `keepalive` for protocol-level ping/pong).
    #[cfg(feature = "bytes-transport")]
    Bytes(ConnectionConfig),
    /// The host's WebSocket frames for us (a browser `WebSocket`): the session sees
    /// open / message / close and keeps alive with an application [`Heartbeat`].
    Messages,
}

impl TransportKind {
    /// The canonical name: `bytes` or `messages`.
    pub fn as_str(&self) -> &'static str {
        match self {
            #[cfg(feature = "bytes-transport")]
            Self::Bytes(_) => "bytes",
            Self::Messages => "messages",
        }
    }
}

/// Where each attempt's request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum RequestSource {
    /// [`SessionConfig::request`] for every attempt (recovery parameters added).
    #[default]
    Fixed,
    /// Ask the host for every attempt: the session emits
    /// [`Output::NeedRequest`](super::Output::NeedRequest) and waits (up to
    /// `connect_timeout_ms`) for [`Session::provide_request`](super::Session::provide_request)
    /// or [`Session::provide_request_error`](super::Session::provide_request_error). The
    /// host may answer at once (a sync provider) or later (an async one: a token fetched
    /// over HTTP); both look the same to the session.
    Provided,
}

impl RequestSource {
    /// The canonical name: `fixed` or `provided`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Provided => "provided",
        }
    }
}

/// Session configuration. [`SessionConfig::new`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// The request used for every attempt with [`RequestSource::Fixed`].
    pub request: TransportRequest,
    /// Where each attempt's request comes from. Default [`RequestSource::Fixed`].
    /// Recovery parameters are added to whatever the host provides.
    pub request_source: RequestSource,
    /// Byte or message transport.
    pub transport: TransportKind,
    /// Retry, backoff and timeouts.
    pub retry: RetryPolicy,
    /// Bounds of the queue used while not open.
    pub queue: QueueLimits,
    /// Application heartbeat. Default `None` (byte transports usually rely on the
    /// connection's protocol keepalive instead).
    pub heartbeat: Option<Heartbeat>,
    /// How server messages are read. Default [`EnvelopeKind::Plain`]; recovery implies
    /// [`EnvelopeKind::Steady`].
    pub envelope: EnvelopeKind,
    /// Session recovery (session id, resume token and offset over the `ss2` envelope).
    /// Default `None`: messages are delivered as they come.
    pub recovery: Option<RecoveryConfig>,
    /// Application messages matching this are disconnect warnings (consumed, not
    /// delivered): the session moves to a new transport before the old one dies, as on
    /// `ss2 drain`. E.g. Slack's `{"type":"disconnect"}`:
    /// `MessagePattern::json_field("type", "disconnect")`. Default `None`.
    pub disconnect_warning: Option<MessagePattern>,
    /// Report the protocol pings and pongs the server sends on the open transport as
    /// [`SessionEvent::Ping`](super::SessionEvent::Ping) /
    /// [`SessionEvent::Pong`](super::SessionEvent::Pong) (byte transport; the connection
    /// answers pings itself either way). Default `false`.
    pub control_frames: bool,
}

impl SessionConfig {
    /// Defaults for `url` over `transport`.
    pub fn new(url: impl Into<String>, transport: TransportKind) -> Self {
        Self {
            request: TransportRequest {
                url: url.into(),
                headers: Vec::new(),
                subprotocols: Vec::new(),
            },
            request_source: RequestSource::Fixed,
            transport,
            retry: RetryPolicy::default(),
            queue: QueueLimits::default(),
            heartbeat: None,
            envelope: EnvelopeKind::Plain,
            recovery: None,
            disconnect_warning: None,
            control_frames: false,
        }
    }

    /// Defaults for a byte transport, with protocol keepalive on: a ping after 20 s
    /// without traffic, dead after 10 s without an answer (every RFC 6455 server answers
    /// pings, and without them a half-open TCP connection is never noticed).
    #[cfg(feature = "bytes-transport")]
    pub fn bytes(url: impl Into<String>) -> Self {
        let connection = ConnectionConfig {
            keepalive: Some(Keepalive::default()),
            ..ConnectionConfig::default()
        };
        Self::new(url, TransportKind::Bytes(connection))
    }

    /// Defaults for a message transport. Set [`heartbeat`](Self::heartbeat) if the
    /// server can answer one (e.g. [`Heartbeat::steady`]): browsers expose no ping.
    pub fn messages(url: impl Into<String>) -> Self {
        Self::new(url, TransportKind::Messages)
    }

    /// The envelope the session actually uses: [`EnvelopeKind::Steady`] with recovery on,
    /// [`envelope`](Self::envelope) otherwise.
    pub fn effective_envelope(&self) -> EnvelopeKind {
        if self.recovery.is_some() {
            EnvelopeKind::Steady
        } else {
            self.envelope
        }
    }
}
