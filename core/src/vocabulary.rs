//! One vocabulary: the canonical snake_case name of every state, event, cause and error.
//!
//! Bindings, logs and the scenario table use these names (`as_str()` on each type, and
//! the same names through serde where the type is serializable); none keeps a table of
//! its own. The names never change once published; enums that will grow are
//! `#[non_exhaustive]`, so a host written today keeps compiling and should treat an
//! unknown name as "something else happened". That is every event, output, cause and
//! error enum, and the option enums; the only exhaustive ones are closed by the
//! protocol: `connection::State` (the four `readyState`s), `Role`, `Message` (text or
//! binary), `frame::OpCode` (RFC 6455's opcodes) and `JsonScalar` (JSON's scalars).
//!
//! | type | names |
//! |------|-------|
//! | [`session::State`] | `idle`, `connecting`, `open`, `closing`, `backoff`, `closed` |
//! | [`session::SessionEvent`] | `state_changed`, `open`, `migrated`, `message`, `closed`, `reconnecting`, `gave_up`, `error`, `ping`, `pong`, `fragment` |
//! | [`session::Cause`] | `transport`, `request_timeout`, `request_failed`, `connect_timeout`, `handshake_timeout`, `handshake_rejected`, `handshake_failed`, `invalid_request`, `closed`, `keepalive_timeout`, `protocol`, `user_reconnect`, `user_close` |
//! | [`session::TransportErrorKind`] | `refused`, `unreachable`, `dns`, `tls`, `reset`, `timeout`, `other` |
//! | [`session::SessionError`] | `migration_failed`, `recovery_gap`, `envelope`, `unsendable` |
//! | [`session::SendError`] | `queue_full`, `closed`, `rejected` |
//! | [`session::Output`] | `need_request`, `open_transport`, `transmit`, `send_message`, `close_transport`, `event` |
//! | [`session::Jitter`] | `none`, `full`, `decorrelated` |
//! | [`session::EnvelopeKind`] | `plain`, `steady` |
//! | [`session::RequestSource`] | `fixed`, `provided` |
//! | [`session::TransportKind`] | `bytes`, `messages` |
//! | [`session::ParamPlacement`] | `first_message`, `query`, `headers` |
//! | [`connection::State`] | `connecting`, `open`, `closing`, `closed` |
//! | [`connection::Output`] | `transmit`, `event` |
//! | [`connection::Event`] | `request`, `open`, `message`, `fragment`, `ping`, `pong`, `handshake_failed`, `error`, `closed` |
//! | [`connection::Error`] | `invalid_url`, `invalid_header`, `invalid_state`, `invalid_close_code`, `reason_too_long`, `control_payload_too_long`, `protocol`, `keepalive_timeout` |
//! | [`HandshakeError`] | `rejected`, `invalid_response`, `invalid_request`, `too_large`, `connection_closed`, `timeout` |
//! | [`connection::Role`] | `client`, `server` |
//! | [`OriginRejected`] | `missing`, `multiple`, `not_allowed` |
//! | [`InflateError`] | `corrupt`, `too_big` |
//! | [`session::AttachError`] | `rate_limited`, `entropy` |
//!
//! Details (codes, statuses, reasons) travel in the fields of each value; the human text
//! of `Display` is for people and is never matched on.
//!
//! [`session::State`]: crate::session::State
//! [`session::SessionEvent`]: crate::session::SessionEvent
//! [`session::Cause`]: crate::session::Cause
//! [`session::TransportErrorKind`]: crate::session::TransportErrorKind
//! [`session::SessionError`]: crate::session::SessionError
//! [`session::SendError`]: crate::session::SendError
//! [`session::Output`]: crate::session::Output
//! [`session::Jitter`]: crate::session::Jitter
//! [`session::EnvelopeKind`]: crate::session::EnvelopeKind
//! [`session::RequestSource`]: crate::session::RequestSource
//! [`session::TransportKind`]: crate::session::TransportKind
//! [`session::ParamPlacement`]: crate::session::ParamPlacement
//! [`connection::State`]: crate::connection::State
//! [`connection::Output`]: crate::connection::Output
//! [`connection::Event`]: crate::connection::Event
//! [`connection::Error`]: crate::connection::Error
//! [`connection::Role`]: crate::connection::Role
//! [`HandshakeError`]: crate::HandshakeError
//! [`OriginRejected`]: crate::OriginRejected
//! [`InflateError`]: crate::deflate::InflateError
//! [`session::AttachError`]: crate::session::AttachError

#[cfg(feature = "bytes-transport")]
use crate::connection::{Error, Event, Output, Role, State};
#[cfg(feature = "bytes-transport")]
use crate::handshake::HandshakeError;

#[cfg(feature = "bytes-transport")]
impl State {
    /// The canonical name (see the [vocabulary](crate::vocabulary)).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closing => "closing",
            Self::Closed => "closed",
        }
    }
}

#[cfg(feature = "bytes-transport")]
impl Role {
    /// The canonical name: `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }
}

#[cfg(feature = "bytes-transport")]
impl Output {
    /// The canonical name: `transmit` or `event`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Transmit(_) => "transmit",
            Self::Event(_) => "event",
        }
    }
}

#[cfg(feature = "bytes-transport")]
impl Event {
    /// The canonical name (see the [vocabulary](crate::vocabulary)).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Request(_) => "request",
            Self::Open(_) => "open",
            Self::Message(_) => "message",
            Self::Fragment { .. } => "fragment",
            Self::Ping(_) => "ping",
            Self::Pong(_) => "pong",
            Self::HandshakeFailed(_) => "handshake_failed",
            Self::Error(_) => "error",
            Self::Closed(_) => "closed",
        }
    }
}

#[cfg(feature = "bytes-transport")]
impl Error {
    /// The canonical name (see the [vocabulary](crate::vocabulary)).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidUrl(_) => "invalid_url",
            Self::InvalidHeader(_) => "invalid_header",
            Self::InvalidState(_) => "invalid_state",
            Self::InvalidCloseCode(_) => "invalid_close_code",
            Self::ReasonTooLong(_) => "reason_too_long",
            Self::ControlPayloadTooLong(_) => "control_payload_too_long",
            Self::Protocol { .. } => "protocol",
            Self::KeepaliveTimeout => "keepalive_timeout",
        }
    }
}

#[cfg(feature = "bytes-transport")]
impl HandshakeError {
    /// The canonical name (see the [vocabulary](crate::vocabulary)).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Rejected(_) => "rejected",
            Self::InvalidResponse(_) => "invalid_response",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::TooLarge => "too_large",
            Self::ConnectionClosed => "connection_closed",
            Self::Timeout => "timeout",
        }
    }
}

#[cfg(all(test, feature = "bytes-transport"))]
mod tests {
    use crate::session::{
        Cause, EnvelopeKind, Jitter, ParamPlacement, RequestSource, SendError, SessionError, SessionEvent, State,
        TransportErrorKind, TransportKind,
    };

    fn snake(name: &str) -> bool {
        !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            && !name.starts_with('_')
            && !name.ends_with('_')
    }

    fn unique_snake(kind: &str, names: &[&str]) {
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{kind}: duplicate names in {names:?}");
        for n in names {
            assert!(snake(n), "{kind}: {n:?} is not snake_case");
        }
    }

    /// The names of every variant are distinct and snake_case, and the table in the
    /// module docs lists exactly these (so the docs cannot drift from the code).
    #[test]
    fn every_name_is_unique_snake_case_and_documented() {
        let doc = include_str!("vocabulary.rs");
        let row = |ty: &str, names: &[&str]| {
            unique_snake(ty, names);
            let listed = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            let line = format!("//! | [`{ty}`] | {listed} |");
            assert!(doc.contains(&line), "the vocabulary table lacks: {line}");
        };
        row("session::State", &State::ALL.map(State::as_str));
        let closed = || Cause::Closed {
            code: 1000,
            reason: String::new(),
        };
        row(
            "session::SessionEvent",
            &[
                SessionEvent::StateChanged {
                    from: State::Idle,
                    to: State::Open,
                },
                SessionEvent::Open {
                    attempt: 1,
                    recovered: false,
                    subprotocol: None,
                    extensions: String::new(),
                },
                SessionEvent::Migrated { recovered: false },
                SessionEvent::Message(crate::Message::text("")),
                SessionEvent::Closed {
                    code: 1000,
                    reason: String::new(),
                    cause: closed(),
                    will_reconnect: true,
                },
                SessionEvent::Reconnecting {
                    attempt: 1,
                    delay_ms: 0,
                    cause: closed(),
                },
                SessionEvent::GaveUp {
                    attempts: 1,
                    cause: closed(),
                },
                SessionEvent::Error(SessionError::Envelope(String::new())),
                SessionEvent::Ping(bytes::Bytes::new()),
                SessionEvent::Pong(bytes::Bytes::new()),
                SessionEvent::Fragment {
                    opcode: 0,
                    fin: true,
                    data: bytes::Bytes::new(),
                },
            ]
            .iter()
            .map(SessionEvent::as_str)
            .collect::<Vec<_>>(),
        );
        let s = String::new;
        row(
            "session::Cause",
            &[
                Cause::Transport {
                    kind: TransportErrorKind::Other,
                    detail: s(),
                },
                Cause::RequestTimeout,
                Cause::RequestFailed(s()),
                Cause::ConnectTimeout,
                Cause::HandshakeTimeout,
                Cause::HandshakeRejected { status: 401 },
                Cause::HandshakeFailed(s()),
                Cause::InvalidRequest(s()),
                closed(),
                Cause::KeepaliveTimeout,
                Cause::Protocol(s()),
                Cause::UserReconnect,
                Cause::UserClose,
            ]
            .iter()
            .map(Cause::as_str)
            .collect::<Vec<_>>(),
        );
        row(
            "session::TransportErrorKind",
            &TransportErrorKind::ALL.map(TransportErrorKind::as_str),
        );
        row(
            "session::SessionError",
            &[
                SessionError::MigrationFailed {
                    cause: closed(),
                    retry_in_ms: 0,
                },
                SessionError::RecoveryGap { expected: 1, got: 2 },
                SessionError::Envelope(s()),
                SessionError::Unsendable(s()),
            ]
            .iter()
            .map(SessionError::as_str)
            .collect::<Vec<_>>(),
        );
        row(
            "session::SendError",
            &[
                SendError::QueueFull { messages: 0, bytes: 0 },
                SendError::Closed,
                SendError::Rejected(s()),
            ]
            .iter()
            .map(SendError::as_str)
            .collect::<Vec<_>>(),
        );
        row(
            "session::Jitter",
            &[Jitter::None, Jitter::Full, Jitter::Decorrelated].map(Jitter::as_str),
        );
        row(
            "session::EnvelopeKind",
            &[EnvelopeKind::Plain, EnvelopeKind::Steady].map(EnvelopeKind::as_str),
        );
        row(
            "session::RequestSource",
            &[RequestSource::Fixed, RequestSource::Provided].map(RequestSource::as_str),
        );
        row(
            "session::TransportKind",
            &[
                TransportKind::Bytes(crate::Config::default()).as_str(),
                TransportKind::Messages.as_str(),
            ],
        );
        row(
            "session::ParamPlacement",
            &[
                ParamPlacement::default().as_str(),
                ParamPlacement::query().as_str(),
                ParamPlacement::Headers {
                    session: s(),
                    token: s(),
                    offset: s(),
                }
                .as_str(),
            ],
        );
        use crate::connection::{Error, Role, State as C};
        row(
            "connection::State",
            &[C::Connecting, C::Open, C::Closing, C::Closed].map(C::as_str),
        );
        row("connection::Role", &[Role::Client, Role::Server].map(Role::as_str));
        row(
            "connection::Error",
            &[
                Error::InvalidUrl(s()),
                Error::InvalidHeader(s()),
                Error::InvalidState(C::Open),
                Error::InvalidCloseCode(0),
                Error::ReasonTooLong(0),
                Error::ControlPayloadTooLong(0),
                Error::Protocol {
                    code: 1002,
                    reason: s(),
                },
                Error::KeepaliveTimeout,
            ]
            .iter()
            .map(Error::as_str)
            .collect::<Vec<_>>(),
        );
        use crate::handshake::{HandshakeError as H, HttpResponse};
        let response = HttpResponse {
            status: 401,
            headers: Vec::new(),
            body: Vec::new(),
        };
        row(
            "HandshakeError",
            &[
                H::Rejected(response),
                H::InvalidResponse(s()),
                H::InvalidRequest {
                    status: 400,
                    reason: s(),
                },
                H::TooLarge,
                H::ConnectionClosed,
                H::Timeout,
            ]
            .iter()
            .map(H::as_str)
            .collect::<Vec<_>>(),
        );
        use crate::OriginRejected as O;
        row(
            "OriginRejected",
            &[O::Missing, O::Multiple, O::NotAllowed { prefix: s(), len: 0 }]
                .iter()
                .map(O::as_str)
                .collect::<Vec<_>>(),
        );
        use crate::deflate::InflateError as I;
        row("InflateError", &[I::Corrupt, I::TooBig].map(I::as_str));
        #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
        {
            use crate::session::AttachError as A;
            row(
                "session::AttachError",
                &[A::RateLimited { retry_after_ms: 0 }, A::Entropy].map(|a| a.as_str()),
            );
        }
        use crate::connection::{CloseInfo, Event, HandshakeInfo, Output};
        row(
            "connection::Output",
            &[
                Output::Transmit(bytes::Bytes::new()),
                Output::Event(Event::Error(Error::KeepaliveTimeout)),
            ]
            .iter()
            .map(Output::as_str)
            .collect::<Vec<_>>(),
        );
        use crate::handshake::Request;
        row(
            "connection::Event",
            &[
                Event::Request(Request {
                    path: s(),
                    headers: Vec::new(),
                    subprotocols: Vec::new(),
                    key: s(),
                }),
                Event::Open(HandshakeInfo {
                    path: s(),
                    subprotocol: None,
                    headers: Vec::new(),
                }),
                Event::Message(crate::Message::text("")),
                Event::Fragment {
                    opcode: 0,
                    fin: true,
                    data: bytes::Bytes::new(),
                },
                Event::Ping(bytes::Bytes::new()),
                Event::Pong(bytes::Bytes::new()),
                Event::HandshakeFailed(H::Timeout),
                Event::Error(Error::KeepaliveTimeout),
                Event::Closed(CloseInfo {
                    code: 1000,
                    reason: s(),
                    clean: true,
                    remote: false,
                }),
            ]
            .iter()
            .map(Event::as_str)
            .collect::<Vec<_>>(),
        );
    }
}
