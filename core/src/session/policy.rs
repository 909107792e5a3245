//! Retry policy: why a transport ended ([`Cause`]), whether that is worth another attempt,
//! and the timers that bound each attempt.
//!
//! The default answer is "retry": a client whose job is to stay connected treats almost
//! every ending as something to ride through. Even a clean `1000` from the *server* is
//! retried — servers close with 1000 on deploys and idle sweeps, and a client that stops
//! there is the "closed 1000, never came back" bug. Only two things stop by default:
//!
//! * an HTTP `401`/`403` answer to the upgrade (credentials are wrong; hammering the server
//!   will not fix them — a `request_provider` that refreshes tokens can opt back in through
//!   the predicate),
//! * a request the transport cannot even be built from ([`Cause::InvalidRequest`]).
//!
//! Close codes the application might consider final (1008 policy violation, 1003, 4xxx)
//! are retried by default; install [`RetryPolicy::predicate`] to decide otherwise. The
//! predicate sees the cause and the default decision and returns the final one. It is not
//! consulted for user actions (`close`, `reconnect`).

use super::backoff::BackoffPolicy;
use std::fmt;

/// Transport-level failure categories the host can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// Connection refused (nothing listening).
    Refused,
    /// Host or network unreachable.
    Unreachable,
    /// Name resolution failed.
    Dns,
    /// TLS failed (certificate, protocol).
    Tls,
    /// Connection reset or broken pipe.
    Reset,
    /// The host's own I/O timeout fired.
    Timeout,
    /// Anything else.
    Other,
}

/// Why a transport (or an attempt) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The host reported an I/O error.
    Transport {
        /// Category.
        kind: TransportErrorKind,
        /// Host's description.
        detail: String,
    },
    /// No connection within `connect_timeout_ms` of asking for the transport.
    ConnectTimeout,
    /// Connected, but the WebSocket (and the welcome, with recovery) did not open within
    /// `handshake_timeout_ms`.
    HandshakeTimeout,
    /// The server answered the upgrade with this HTTP status.
    HandshakeRejected {
        /// HTTP status, e.g. 401.
        status: u16,
    },
    /// The opening handshake failed otherwise.
    HandshakeFailed(String),
    /// The request could not be built (bad URL or header).
    InvalidRequest(String),
    /// The transport closed; 1006 when there was no close frame.
    Closed {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// Keepalive (protocol ping or application heartbeat) got no answer in time.
    KeepaliveTimeout,
    /// The peer broke the WebSocket protocol or the session envelope.
    Protocol(String),
    /// [`Session::reconnect`](super::Session::reconnect) was called.
    UserReconnect,
    /// [`Session::close`](super::Session::close) was called.
    UserClose,
}

impl Cause {
    /// The close code to report for this cause: the transport's own, or 1006.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::Closed { code, .. } => *code,
            _ => 1006,
        }
    }

    /// The default retry decision (see the module docs).
    pub fn retry_by_default(&self) -> bool {
        !matches!(
            self,
            Self::HandshakeRejected { status: 401 | 403 } | Self::InvalidRequest(_) | Self::UserClose
        )
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport { kind, detail } => write!(f, "transport error ({kind:?}): {detail}"),
            Self::ConnectTimeout => f.write_str("connect timeout"),
            Self::HandshakeTimeout => f.write_str("handshake timeout"),
            Self::HandshakeRejected { status } => write!(f, "upgrade rejected with HTTP {status}"),
            Self::HandshakeFailed(why) => write!(f, "handshake failed: {why}"),
            Self::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            Self::Closed { code, reason } => write!(f, "closed ({code}) {reason}"),
            Self::KeepaliveTimeout => f.write_str("keepalive timeout"),
            Self::Protocol(why) => write!(f, "protocol error: {why}"),
            Self::UserReconnect => f.write_str("reconnect requested"),
            Self::UserClose => f.write_str("closed by the user"),
        }
    }
}

/// The app's override: sees the cause and the default decision, returns whether to retry.
pub type RetryPredicate = Box<dyn FnMut(&Cause, bool) -> bool + Send>;

/// When and how often to try again.
pub struct RetryPolicy {
    /// Delay between attempts. Default: see [`BackoffPolicy::default`].
    pub backoff: BackoffPolicy,
    /// Retries after the first attempt of a run before giving up (`GaveUp`, then `Closed`).
    /// Default `None`: never give up.
    pub max_retries: Option<u32>,
    /// A connection that stayed open at least this long resets the attempt counter and the
    /// backoff; shorter ones count as failed attempts (so a flapping server backs off).
    /// Default 5 000 ms.
    pub min_uptime_ms: u64,
    /// From `OpenTransport` to "connected" (byte transport) or "open" (message transport).
    /// Default 10 000 ms.
    pub connect_timeout_ms: Option<u64>,
    /// From "connected" to the session being open (WebSocket handshake done and, with
    /// recovery, the welcome received). Default 10 000 ms.
    pub handshake_timeout_ms: Option<u64>,
    /// How long `close()` waits for the closing handshake before forgetting the
    /// transport. Default 5 000 ms.
    pub close_timeout_ms: u64,
    /// Overrides the default retry decision. Default `None`.
    pub predicate: Option<RetryPredicate>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            backoff: BackoffPolicy::default(),
            max_retries: None,
            min_uptime_ms: 5_000,
            connect_timeout_ms: Some(10_000),
            handshake_timeout_ms: Some(10_000),
            close_timeout_ms: 5_000,
            predicate: None,
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("backoff", &self.backoff)
            .field("max_retries", &self.max_retries)
            .field("min_uptime_ms", &self.min_uptime_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("handshake_timeout_ms", &self.handshake_timeout_ms)
            .field("close_timeout_ms", &self.close_timeout_ms)
            .field("predicate", &self.predicate.as_ref().map(|_| "..."))
            .finish()
    }
}

impl RetryPolicy {
    /// The final retry decision for `cause`: the default, then the predicate.
    pub(crate) fn should_retry(&mut self, cause: &Cause) -> bool {
        let default = cause.retry_by_default();
        match (&mut self.predicate, cause) {
            (_, Cause::UserClose | Cause::UserReconnect) => default,
            (Some(p), _) => p(cause, default),
            (None, _) => default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_retry_everything_but_auth_and_bad_requests() {
        for code in [1000, 1001, 1003, 1006, 1008, 1011, 1012, 1013, 4000, 4999] {
            assert!(
                Cause::Closed {
                    code,
                    reason: String::new()
                }
                .retry_by_default(),
                "{code}"
            );
        }
        for c in [
            Cause::ConnectTimeout,
            Cause::HandshakeTimeout,
            Cause::KeepaliveTimeout,
            Cause::HandshakeRejected { status: 500 },
            Cause::HandshakeRejected { status: 404 },
            Cause::Transport {
                kind: TransportErrorKind::Refused,
                detail: String::new(),
            },
            Cause::Protocol(String::new()),
        ] {
            assert!(c.retry_by_default(), "{c}");
        }
        assert!(!Cause::HandshakeRejected { status: 401 }.retry_by_default());
        assert!(!Cause::HandshakeRejected { status: 403 }.retry_by_default());
        assert!(!Cause::InvalidRequest("x".into()).retry_by_default());
    }

    #[test]
    fn predicate_overrides_but_not_user_actions() {
        let mut p = RetryPolicy {
            predicate: Some(Box::new(|c, default| match c {
                Cause::Closed { code: 1008, .. } => false,
                Cause::HandshakeRejected { status: 401 } => true,
                _ => default,
            })),
            ..RetryPolicy::default()
        };
        assert!(!p.should_retry(&Cause::Closed {
            code: 1008,
            reason: String::new()
        }));
        assert!(p.should_retry(&Cause::Closed {
            code: 1011,
            reason: String::new()
        }));
        assert!(p.should_retry(&Cause::HandshakeRejected { status: 401 }));
        assert!(!p.should_retry(&Cause::UserClose));
    }
}
