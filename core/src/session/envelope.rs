//! The session envelope: how a server tells the client its session id, whether it resumed
//! the session, and the offset of every message — using nothing but WebSocket messages,
//! so it works over a browser `WebSocket` (no response headers, no custom request headers).
//!
//! # Wire format (`ss1`)
//!
//! Every server→client message starts with one ASCII header line, terminated by `\n`
//! (or by the end of the message when there is no payload). Fields are separated by one
//! space. Data messages keep their frame type (text stays text, binary stays binary); the
//! payload is everything after the `\n`.
//!
//! | message                        | frame       | meaning                                     |
//! |--------------------------------|-------------|---------------------------------------------|
//! | `ss1 welcome <sid> <0\|1>\n`   | text        | first message on every transport: the session id and whether the server resumed it (1) or started a new one (0) |
//! | `ss1 msg <offset>\n<payload>`  | text/binary | application message number `<offset>` (decimal, ≥ 1, increasing by 1 within a session) |
//! | `ss1 drain\n`                  | text        | disconnect warning: this transport closes soon; connect a new one now |
//! | `ss1 pong\n`                   | text        | reply to the client's heartbeat `ss1 ping\n` (see [`Heartbeat::steady`](super::Heartbeat::steady)) |
//! | `ss1 <other> …`                | any         | reserved; ignored for forward compatibility |
//!
//! `<sid>` is 1–128 characters of `[A-Za-z0-9._~-]` (URL- and header-safe as is).
//! A server message without the `ss1 ` prefix is delivered to the app unchanged (no
//! offset, so no de-duplication). Client→server application messages are sent raw.
//!
//! On every later attempt the client adds `ss_sid=<sid>&ss_offset=<last offset processed>`
//! to the URL query (or as headers, see [`ParamPlacement`](super::ParamPlacement)). A
//! server that still holds the session answers `welcome <sid> 1` and replays every message
//! with a greater offset (see [`RecoveryLog`](super::RecoveryLog)); otherwise it answers
//! `welcome <newsid> 0` and numbers from 1 again. The client drops any message whose
//! offset is not greater than the last one processed, which makes replay and
//! make-before-break overlap exactly-once and in order.
//!
//! Offsets are at most [`MAX_OFFSET`] (2^53 − 1), so they stay exact as a JavaScript
//! number; a larger one is a decoding error.
//!
//! The session picks its decoder from an [`EnvelopeKind`]: [`Plain`](EnvelopeKind::Plain)
//! (every message is application data) or [`Steady`](EnvelopeKind::Steady) (this format).

use super::msg::{Message, Text};
use bytes::Bytes;

/// The header prefix of every `ss1` control line.
pub const PREFIX: &str = "ss1 ";
/// Longest header line accepted (bytes, without the `\n`).
pub const MAX_HEADER: usize = 200;
/// Longest session id accepted.
pub const MAX_SESSION_ID: usize = 128;
/// Largest offset accepted: 2^53 − 1, the largest integer a JavaScript number holds exactly.
pub const MAX_OFFSET: u64 = (1 << 53) - 1;

/// What an inbound message means to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The server's greeting on a new transport.
    Welcome {
        /// The session id to present next time.
        session_id: String,
        /// Whether the server resumed the session named in the request.
        recovered: bool,
    },
    /// An application message, with its offset if the server numbers messages.
    Data {
        /// Position in the session's message stream.
        offset: Option<u64>,
        /// The message with the envelope removed.
        message: Message,
    },
    /// The server will close this transport soon.
    DisconnectWarning,
    /// Nothing for the app (heartbeat replies, reserved kinds).
    Ignore,
}

/// How the session reads server messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum EnvelopeKind {
    /// No envelope: every message is application data without an offset.
    #[default]
    Plain,
    /// The `ss1` envelope (see the module docs): welcome, offsets, drain, heartbeat.
    /// Recovery needs it.
    Steady,
}

impl EnvelopeKind {
    /// The canonical name: `plain` or `steady`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Steady => "steady",
        }
    }

    /// Whether the server sends a [`Inbound::Welcome`] before anything else on each
    /// transport. When true, the session is `Open` only after the welcome.
    pub fn expects_welcome(self) -> bool {
        matches!(self, Self::Steady)
    }

    /// Classifies one message. An error drops the message and is reported as
    /// [`SessionError::Envelope`](super::SessionError::Envelope) (or fails the attempt
    /// while a welcome is awaited).
    pub fn decode(self, message: Message) -> Result<Inbound, String> {
        match self {
            Self::Plain => Ok(Inbound::Data { offset: None, message }),
            Self::Steady => decode(message),
        }
    }
}

/// Whether `sid` is a valid `ss1` session id.
pub fn valid_session_id(sid: &str) -> bool {
    !sid.is_empty()
        && sid.len() <= MAX_SESSION_ID
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

fn decode(message: Message) -> Result<Inbound, String> {
    let raw = message.as_bytes();
    if !raw.starts_with(PREFIX.as_bytes()) {
        return Ok(Inbound::Data { offset: None, message });
    }
    let header_end = raw.iter().take(MAX_HEADER + 1).position(|&b| b == b'\n');
    let (header, payload_start) = match header_end {
        Some(i) => (&raw[..i], i + 1),
        None if raw.len() <= MAX_HEADER => (raw, raw.len()),
        None => return Err("ss1 header line too long".into()),
    };
    let header = std::str::from_utf8(header).map_err(|_| "ss1 header is not ASCII".to_string())?;
    let mut fields = header[PREFIX.len()..].split(' ');
    match fields.next() {
        Some("welcome") => {
            let sid = fields.next().unwrap_or_default();
            let recovered = match fields.next() {
                Some("1") => true,
                Some("0") => false,
                _ => return Err("ss1 welcome: recovered flag must be 0 or 1".into()),
            };
            if !valid_session_id(sid) {
                return Err("ss1 welcome: invalid session id".into());
            }
            Ok(Inbound::Welcome {
                session_id: sid.to_string(),
                recovered,
            })
        }
        Some("msg") => {
            let offset = fields.next().and_then(parse_offset).ok_or("ss1 msg: invalid offset")?;
            let message = match message {
                Message::Text(t) => {
                    let rest = t.into_bytes().slice(payload_start..);
                    // The header is ASCII and ends at a byte boundary, so the rest is UTF-8.
                    Message::Text(Text::from_utf8(rest).map_err(|_| "ss1 msg: invalid UTF-8")?)
                }
                Message::Binary(b) => Message::Binary(b.slice(payload_start..)),
            };
            Ok(Inbound::Data {
                offset: Some(offset),
                message,
            })
        }
        Some("drain") => Ok(Inbound::DisconnectWarning),
        _ => Ok(Inbound::Ignore),
    }
}

fn parse_offset(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&o| (1..=MAX_OFFSET).contains(&o))
}

/// Encoders for the server side of the `ss1` envelope.
pub mod encode {
    use super::*;

    /// `ss1 welcome <sid> <0|1>\n`.
    pub fn welcome(session_id: &str, recovered: bool) -> Message {
        Message::text(format!("{PREFIX}welcome {session_id} {}\n", u8::from(recovered)))
    }

    /// `ss1 msg <offset>\n<payload>`, keeping the frame type.
    pub fn data(offset: u64, message: &Message) -> Message {
        let header = format!("{PREFIX}msg {offset}\n");
        let mut buf = Vec::with_capacity(header.len() + message.len());
        buf.extend_from_slice(header.as_bytes());
        buf.extend_from_slice(message.as_bytes());
        match message {
            Message::Text(_) => match Text::from_utf8(Bytes::from(buf)) {
                Ok(t) => Message::Text(t),
                // Unreachable: ASCII header + valid UTF-8 payload.
                Err(_) => Message::Binary(Bytes::new()),
            },
            Message::Binary(_) => Message::Binary(Bytes::from(buf)),
        }
    }

    /// `ss1 drain\n`.
    pub fn drain() -> Message {
        Message::text(format!("{PREFIX}drain\n"))
    }

    /// `ss1 ping\n` (client heartbeat).
    pub fn ping() -> Message {
        Message::text(format!("{PREFIX}ping\n"))
    }

    /// `ss1 pong\n` (server heartbeat reply).
    pub fn pong() -> Message {
        Message::text(format!("{PREFIX}pong\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(m: Message) -> Result<Inbound, String> {
        EnvelopeKind::Steady.decode(m)
    }

    #[test]
    fn round_trips() {
        assert_eq!(
            dec(encode::welcome("abc-1", true)),
            Ok(Inbound::Welcome {
                session_id: "abc-1".into(),
                recovered: true
            })
        );
        assert_eq!(
            dec(encode::data(42, &Message::text("héllo\nworld"))),
            Ok(Inbound::Data {
                offset: Some(42),
                message: Message::text("héllo\nworld")
            })
        );
        assert_eq!(
            dec(encode::data(7, &Message::binary(vec![0u8, 255, 10]))),
            Ok(Inbound::Data {
                offset: Some(7),
                message: Message::binary(vec![0u8, 255, 10])
            })
        );
        assert_eq!(
            dec(encode::data(1, &Message::text(""))),
            Ok(Inbound::Data {
                offset: Some(1),
                message: Message::text("")
            })
        );
        assert_eq!(dec(encode::drain()), Ok(Inbound::DisconnectWarning));
        assert_eq!(
            dec(encode::data(MAX_OFFSET, &Message::text("last"))),
            Ok(Inbound::Data {
                offset: Some(MAX_OFFSET),
                message: Message::text("last")
            })
        );
        assert_eq!(
            EnvelopeKind::Plain.decode(encode::drain()),
            Ok(Inbound::Data {
                offset: None,
                message: encode::drain()
            })
        );
        assert_eq!(dec(encode::pong()), Ok(Inbound::Ignore));
        assert_eq!(dec(Message::text("ss1 future stuff")), Ok(Inbound::Ignore));
        assert_eq!(
            dec(Message::text("ss1 msg 3")),
            Ok(Inbound::Data {
                offset: Some(3),
                message: Message::text("")
            })
        );
    }

    #[test]
    fn passthrough_and_errors() {
        assert_eq!(
            dec(Message::text("hello")),
            Ok(Inbound::Data {
                offset: None,
                message: Message::text("hello")
            })
        );
        for bad in [
            "ss1 msg 0\nx",
            "ss1 msg -1\nx",
            "ss1 msg +1\nx",
            "ss1 msg 99999999999999999999999\nx",
            "ss1 msg 9007199254740992\nx",
            "ss1 msg\nx",
            "ss1 welcome\n",
            "ss1 welcome abc\n",
            "ss1 welcome abc 2\n",
            "ss1 welcome a/b 1\n",
            "ss1 welcome  1\n",
        ] {
            assert!(dec(Message::text(bad)).is_err(), "{bad:?}");
        }
        let long = format!("ss1 msg {}", "1".repeat(300));
        assert!(dec(Message::text(long)).is_err());
        assert!(dec(Message::binary(b"ss1 msg 1\xff\n".to_vec())).is_err());
        assert!(!valid_session_id(&"a".repeat(129)));
        assert!(valid_session_id(&"a".repeat(128)));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut rng = crate::rng::SeededRandom::new(9);
        use crate::rng::RandomSource;
        let seeds: [&[u8]; 4] = [b"ss1 ", b"ss1 msg ", b"ss1 welcome ", b"ss1 drain"];
        for i in 0..5_000 {
            let mut buf = seeds[i % 4].to_vec();
            let n = (rng.next_u32() % 24) as usize;
            for _ in 0..n {
                let pool = b"0123456789 \n\xffab-.";
                buf.push(pool[(rng.next_u32() as usize) % pool.len()]);
            }
            let _ = dec(Message::binary(buf.clone()));
            if let Ok(s) = String::from_utf8(buf) {
                let _ = dec(Message::text(s));
            }
        }
    }
}
