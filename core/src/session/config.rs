//! Everything a [`Session`](super::Session) is configured with.

use super::heartbeat::Heartbeat;
use super::msg::Message;
use super::output::TransportRequest;
use super::policy::RetryPolicy;
use super::queue::QueueLimits;
use super::recovery::RecoveryConfig;
use crate::connection::{Config as ConnectionConfig, Keepalive};
use std::fmt;

/// Which kind of transport the host provides.
#[derive(Debug, Clone)]
pub enum TransportKind {
    /// The host moves bytes (TCP/TLS); the session runs one client
    /// [`Connection`](crate::Connection) per attempt with this configuration (set its
    /// `keepalive` for protocol-level ping/pong).
    Bytes(ConnectionConfig),
    /// The host's WebSocket frames for us (a browser `WebSocket`): the session sees
    /// open / message / close and keeps alive with an application [`Heartbeat`].
    Messages,
}

/// What the request provider learns about the attempt it is building a request for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptInfo {
    /// Attempt number within the current run (1 = first).
    pub attempt: u32,
    /// Whether this is a make-before-break transport (the current one stays up).
    pub migration: bool,
}

/// Builds the request for each attempt (e.g. to put a fresh token in the URL).
pub type RequestProvider = Box<dyn FnMut(&AttemptInfo) -> TransportRequest + Send>;

/// Recognises application messages that are disconnect warnings.
pub type MessageMatcher = Box<dyn FnMut(&Message) -> bool + Send>;

/// Session configuration. [`SessionConfig::new`] gives the documented defaults.
pub struct SessionConfig {
    /// The request used for every attempt, unless `request_provider` is set.
    pub request: TransportRequest,
    /// Called on every attempt to build the request (token refresh). Recovery
    /// parameters are added to whatever it returns.
    pub request_provider: Option<RequestProvider>,
    /// Byte or message transport.
    pub transport: TransportKind,
    /// Retry, backoff and timeouts.
    pub retry: RetryPolicy,
    /// Bounds of the queue used while not open.
    pub queue: QueueLimits,
    /// Application heartbeat. Default `None` (byte transports usually rely on the
    /// connection's protocol keepalive instead).
    pub heartbeat: Option<Heartbeat>,
    /// Session recovery (session id, resume token + offset, the `ss2` envelope by default).
    /// Default `None`: messages are delivered as they come.
    pub recovery: Option<RecoveryConfig>,
    /// Application messages matching this are disconnect warnings (and not delivered).
    pub disconnect_matcher: Option<MessageMatcher>,
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
            request_provider: None,
            transport,
            retry: RetryPolicy::default(),
            queue: QueueLimits::default(),
            heartbeat: None,
            recovery: None,
            disconnect_matcher: None,
        }
    }

    /// Defaults for a byte transport, with protocol keepalive on: a ping after 20 s
    /// without traffic, dead after 10 s without an answer (every RFC 6455 server answers
    /// pings, and without them a half-open TCP connection is never noticed).
    pub fn bytes(url: impl Into<String>) -> Self {
        let connection = ConnectionConfig {
            keepalive: Some(Keepalive {
                interval_ms: 20_000,
                pong_timeout_ms: 10_000,
                any_data_counts: true,
            }),
            ..ConnectionConfig::default()
        };
        Self::new(url, TransportKind::Bytes(connection))
    }

    /// Defaults for a message transport. Set [`heartbeat`](Self::heartbeat) if the
    /// server can answer one (e.g. [`Heartbeat::steady`]): browsers expose no ping.
    pub fn messages(url: impl Into<String>) -> Self {
        Self::new(url, TransportKind::Messages)
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("request", &self.request)
            .field("request_provider", &self.request_provider.as_ref().map(|_| "..."))
            .field("transport", &self.transport)
            .field("retry", &self.retry)
            .field("queue", &self.queue)
            .field("heartbeat", &self.heartbeat)
            .field("recovery", &self.recovery)
            .field("disconnect_matcher", &self.disconnect_matcher.as_ref().map(|_| "..."))
            .finish()
    }
}
