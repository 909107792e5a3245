//! Retry policy: why a transport ended ([`Cause`]), whether that is worth another attempt,
//! and the timers that bound each attempt.
//!
//! The default answer is "retry": a client whose job is to stay connected treats almost
//! every ending as something to ride through. Even a clean `1000` from the *server* is
//! retried — servers close with 1000 on deploys and idle sweeps, and a client that stops
//! there is the "closed 1000, never came back" bug. Only these stop by default:
//!
//! * an HTTP status in [`RetryPolicy::fatal_http_statuses`] (default `401` and `403`:
//!   credentials are wrong, and hammering the server will not fix them; remove them when
//!   the host provides a fresh token with every request),
//! * a close code in [`RetryPolicy::fatal_close_codes`] (default none; e.g. `[1008, 4004]`
//!   for a server that closes with those when the client must not come back),
//! * a request the transport cannot even be built from ([`Cause::InvalidRequest`]).
//!
//! The decision is data, the same in every binding. User actions (`close`, `reconnect`)
//! are not subject to it.

use super::backoff::BackoffPolicy;
use std::collections::BTreeSet;
use std::fmt;

/// Transport-level failure categories the host can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
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

impl TransportErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::Refused,
        Self::Unreachable,
        Self::Dns,
        Self::Tls,
        Self::Reset,
        Self::Timeout,
        Self::Other,
    ];

    /// The canonical name: `refused`, `unreachable`, `dns`, `tls`, `reset`, `timeout`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Unreachable => "unreachable",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Reset => "reset",
            Self::Timeout => "timeout",
            Self::Other => "other",
        }
    }

    /// The kind with this canonical name (what a binding passes in from its language).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transport (or an attempt) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The host reported an I/O error.
    Transport {
        /// Category.
        kind: TransportErrorKind,
        /// Host's description.
        detail: String,
    },
    /// With [`RequestSource::Provided`](super::RequestSource::Provided): the host did not
    /// answer `NeedRequest` within `connect_timeout_ms`.
    RequestTimeout,
    /// With [`RequestSource::Provided`](super::RequestSource::Provided): the host reported
    /// that it could not build the request (e.g. the token endpoint failed). Retried like
    /// a network error.
    RequestFailed(String),
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

    /// The canonical name: `transport`, `request_timeout`, `request_failed`,
    /// `connect_timeout`, `handshake_timeout`, `handshake_rejected`, `handshake_failed`,
    /// `invalid_request`, `closed`, `keepalive_timeout`, `protocol`, `user_reconnect`,
    /// `user_close`. The details (kind, status, code, text) are in the fields and in
    /// [`Display`](fmt::Display).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Transport { .. } => "transport",
            Self::RequestTimeout => "request_timeout",
            Self::RequestFailed(_) => "request_failed",
            Self::ConnectTimeout => "connect_timeout",
            Self::HandshakeTimeout => "handshake_timeout",
            Self::HandshakeRejected { .. } => "handshake_rejected",
            Self::HandshakeFailed(_) => "handshake_failed",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Closed { .. } => "closed",
            Self::KeepaliveTimeout => "keepalive_timeout",
            Self::Protocol(_) => "protocol",
            Self::UserReconnect => "user_reconnect",
            Self::UserClose => "user_close",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport { kind, detail } => write!(f, "transport error ({kind}): {detail}"),
            Self::RequestTimeout => f.write_str("no request provided in time"),
            Self::RequestFailed(why) => write!(f, "request provider failed: {why}"),
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

/// When and how often to try again.
#[derive(Debug, Clone, PartialEq)]
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
    /// From `OpenTransport` to "connected" (byte transport) or "open" (message transport),
    /// and, with a provided request, from `NeedRequest` to `provide_request`.
    /// Default 10 000 ms.
    pub connect_timeout_ms: Option<u64>,
    /// From "connected" to the session being open (WebSocket handshake done and, with
    /// recovery, the welcome received). Default 10 000 ms.
    pub handshake_timeout_ms: Option<u64>,
    /// How long `close()` waits for the closing handshake before forgetting the
    /// transport. Default 5 000 ms.
    pub close_timeout_ms: u64,
    /// Close codes from the server that end the session instead of a retry. Default empty.
    pub fatal_close_codes: BTreeSet<u16>,
    /// HTTP statuses answering the upgrade that end the session. Default `{401, 403}`.
    pub fatal_http_statuses: BTreeSet<u16>,
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
            fatal_close_codes: BTreeSet::new(),
            fatal_http_statuses: {
                // Built by insertion: the same set, and the browser build carries no
                // sort + bulk-build code for it.
                let mut s = BTreeSet::new();
                s.insert(401);
                s.insert(403);
                s
            },
        }
    }
}

impl RetryPolicy {
    /// Whether `cause` is worth another attempt (see the module docs).
    pub fn should_retry(&self, cause: &Cause) -> bool {
        match cause {
            Cause::HandshakeRejected { status } => !self.fatal_http_statuses.contains(status),
            Cause::Closed { code, .. } => !self.fatal_close_codes.contains(code),
            Cause::InvalidRequest(_) | Cause::UserClose => false,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(code: u16) -> Cause {
        Cause::Closed {
            code,
            reason: String::new(),
        }
    }

    #[test]
    fn defaults_retry_everything_but_auth_and_bad_requests() {
        let p = RetryPolicy::default();
        for code in [1000, 1001, 1003, 1006, 1008, 1011, 1012, 1013, 4000, 4999] {
            assert!(p.should_retry(&closed(code)), "{code}");
        }
        for c in [
            Cause::ConnectTimeout,
            Cause::RequestTimeout,
            Cause::RequestFailed("token endpoint down".into()),
            Cause::HandshakeTimeout,
            Cause::KeepaliveTimeout,
            Cause::HandshakeRejected { status: 500 },
            Cause::HandshakeRejected { status: 404 },
            Cause::Transport {
                kind: TransportErrorKind::Refused,
                detail: String::new(),
            },
            Cause::Protocol(String::new()),
            Cause::UserReconnect,
        ] {
            assert!(p.should_retry(&c), "{c}");
        }
        assert!(!p.should_retry(&Cause::HandshakeRejected { status: 401 }));
        assert!(!p.should_retry(&Cause::HandshakeRejected { status: 403 }));
        assert!(!p.should_retry(&Cause::InvalidRequest("x".into())));
        assert!(!p.should_retry(&Cause::UserClose));
    }

    #[test]
    fn fatal_sets_decide() {
        let p = RetryPolicy {
            fatal_close_codes: BTreeSet::from([1008, 4004]),
            fatal_http_statuses: BTreeSet::from([403]),
            ..RetryPolicy::default()
        };
        assert!(!p.should_retry(&closed(1008)));
        assert!(!p.should_retry(&closed(4004)));
        assert!(p.should_retry(&closed(1011)));
        assert!(p.should_retry(&Cause::HandshakeRejected { status: 401 }));
        assert!(!p.should_retry(&Cause::HandshakeRejected { status: 403 }));
        assert!(!p.should_retry(&Cause::UserClose));
    }

    #[test]
    fn names_are_unique_snake_case() {
        let names: Vec<&str> = TransportErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        for k in TransportErrorKind::ALL {
            assert_eq!(TransportErrorKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(TransportErrorKind::from_name("nope"), None);
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len());
    }
}
