//! The session envelope: how a server tells the client its session id, whether it resumed
//! the session, and the offset of every message — using nothing but WebSocket messages,
//! so it works over a browser `WebSocket` (no response headers, no custom request headers).
//!
//! # Wire format (`ss2`)
//!
//! Every server→client message starts with one ASCII header line, terminated by `\n`
//! (or by the end of the message when there is no payload). Fields are separated by one
//! space. Data messages keep their frame type (text stays text, binary stays binary); the
//! payload is everything after the `\n`.
//!
//! | message                                | frame       | meaning                                     |
//! |----------------------------------------|-------------|---------------------------------------------|
//! | `ss2 welcome <sid> <token> <0\|1>\n`   | text        | first message on every transport: the session id (public), the resume token (secret, new on every welcome) and whether the server resumed the session (1) or started a new one (0) |
//! | `ss2 msg <offset>\n<payload>`          | text/binary | application message number `<offset>` (decimal, ≥ 1, increasing by 1 within a session) |
//! | `ss2 drain\n`                          | text        | disconnect warning: this transport closes soon; connect a new one now |
//! | `ss2 pong\n`                           | text        | reply to the client's heartbeat `ss2 ping\n` (see [`Heartbeat::steady`](super::Heartbeat::steady)) |
//! | `ss2 <other> …`                        | any         | reserved; ignored for forward compatibility |
//!
//! `<sid>` and `<token>` are 1–128 characters of `[A-Za-z0-9._~-]` (URL- and header-safe
//! as is; the built-in server issues 32 hex digits, 128 bits, for each). A server message
//! without the `ss2 ` prefix is delivered to the app unchanged (no offset, so no
//! de-duplication). Client→server application messages are sent raw.
//!
//! The client's **first message** on every transport is its greeting, before the welcome:
//! `ss2 resume <sid> <token> <offset>\n` when it has a session to resume (the offset is
//! the last one it processed), `ss2 hello\n` otherwise. So the secret never travels in
//! the URL (which lands in access and proxy logs), and this works in browsers, which
//! cannot set request headers. Byte transports may put the three values in headers
//! instead, and the URL is possible as an opt-in (see
//! [`ParamPlacement`](super::ParamPlacement)); the greeting is then `ss2 hello\n`. A
//! server that still holds the session and accepts the credential answers
//! `welcome <sid> <newtoken> 1` and replays every message with a greater offset (see
//! [`RecoveryLog`](super::RecoveryLog)); otherwise it answers `welcome <newsid> <token> 0`
//! and numbers from 1 again. The client drops any message whose offset is not greater than
//! the last one processed, which makes replay and make-before-break overlap exactly-once
//! and in order.
//!
//! `ss2` replaced `ss1` (which had no token and put the session id alone in the URL); no
//! deployed peer speaks `ss1`, so it is not kept.
//!
//! Offsets are at most [`MAX_OFFSET`] (2^53 − 1), so they stay exact as a JavaScript
//! number; a larger one is a decoding error.
//!
//! The session picks its decoder from an [`EnvelopeKind`]: [`Plain`](EnvelopeKind::Plain)
//! (every message is application data) or [`Steady`](EnvelopeKind::Steady) (this format).

use super::msg::{Message, Text};
pub use super::recovery::Secret;
use bytes::Bytes;

/// The header prefix of every `ss2` control line.
pub const PREFIX: &str = "ss2 ";
/// Longest header line accepted (bytes, without the `\n`).
pub const MAX_HEADER: usize = 200;
/// Longest session id accepted.
pub const MAX_SESSION_ID: usize = 128;
/// Largest offset accepted: 2^53 − 1, the largest integer a JavaScript number holds exactly.
pub const MAX_OFFSET: u64 = (1 << 53) - 1;

/// What an inbound message means to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inbound {
    /// The server's greeting on a new transport.
    Welcome {
        /// The session id to present next time (public).
        session_id: String,
        /// The resume token to present next time (secret; replaced by every welcome).
        token: Secret,
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
    /// The `ss2` envelope (see the module docs): welcome, offsets, drain, heartbeat.
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

    /// Whether the client sends the `ss2` greeting (`ss2 resume …` or `ss2 hello`) as its
    /// first message on each transport: [`Steady`](Self::Steady) does.
    pub fn greets(self) -> bool {
        matches!(self, Self::Steady)
    }
}

/// Whether `sid` is a valid `ss2` session id.
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
        None => return Err("ss2 header line too long".into()),
    };
    let header = std::str::from_utf8(header).map_err(|_| "ss2 header is not ASCII".to_string())?;
    let mut fields = crate::ascii::split(&header[PREFIX.len()..], b' ');
    match fields.next() {
        Some("welcome") => {
            let sid = fields.next().unwrap_or_default();
            let token = fields.next().unwrap_or_default();
            let recovered = match fields.next() {
                Some("1") => true,
                Some("0") => false,
                _ => return Err("ss2 welcome: recovered flag must be 0 or 1".into()),
            };
            if !valid_session_id(sid) {
                return Err("ss2 welcome: invalid session id".into());
            }
            if !valid_session_id(token) {
                return Err("ss2 welcome: invalid token".into());
            }
            Ok(Inbound::Welcome {
                session_id: sid.to_string(),
                token: Secret::new(token),
                recovered,
            })
        }
        Some("msg") => {
            let offset = fields.next().and_then(parse_offset).ok_or("ss2 msg: invalid offset")?;
            let message = match message {
                Message::Text(t) => {
                    let rest = t.into_bytes().slice(payload_start..);
                    // The header is ASCII and ends at a byte boundary, so the rest is UTF-8.
                    Message::Text(Text::from_utf8(rest).map_err(|_| "ss2 msg: invalid UTF-8")?)
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
    if s.len() > 20 {
        return None;
    }
    crate::ascii::digits_u64(s).filter(|&o| (1..=MAX_OFFSET).contains(&o))
}

/// Encoders for the server side of the `ss2` envelope.
pub mod encode {
    use super::*;

    /// `ss2 welcome <sid> <token> <0|1>\n` (server → client).
    pub fn welcome(session_id: &str, token: &str, recovered: bool) -> Message {
        Message::text(format!(
            "{PREFIX}welcome {session_id} {token} {}\n",
            u8::from(recovered)
        ))
    }

    /// `ss2 hello\n`: the client's first message when it has no session to resume.
    pub fn hello() -> Message {
        Message::text(format!("{PREFIX}hello\n"))
    }

    /// `ss2 resume <sid> <token> <offset>\n`: the client's first message when it resumes.
    pub fn resume(session_id: &str, token: &str, offset: u64) -> Message {
        Message::text(format!("{PREFIX}resume {session_id} {token} {offset}\n"))
    }

    /// `ss2 msg <offset>\n<payload>`, keeping the frame type.
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

    /// `ss2 drain\n`.
    pub fn drain() -> Message {
        Message::text(format!("{PREFIX}drain\n"))
    }

    /// `ss2 ping\n` (client heartbeat).
    pub fn ping() -> Message {
        Message::text(format!("{PREFIX}ping\n"))
    }

    /// `ss2 pong\n` (server heartbeat reply).
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
            dec(encode::welcome("abc-1", "tok.2", true)),
            Ok(Inbound::Welcome {
                session_id: "abc-1".into(),
                token: Secret::new("tok.2"),
                recovered: true
            })
        );
        let shown = format!("{:?}", dec(encode::welcome("abc-1", "tok.2", false)));
        assert!(shown.contains("abc-1") && !shown.contains("tok.2"), "{shown}");
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
        assert_eq!(dec(Message::text("ss2 future stuff")), Ok(Inbound::Ignore));
        assert_eq!(
            dec(Message::text("ss2 msg 3")),
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
            "ss2 msg 0\nx",
            "ss2 msg -1\nx",
            "ss2 msg +1\nx",
            "ss2 msg 99999999999999999999999\nx",
            "ss2 msg 9007199254740992\nx",
            "ss2 msg\nx",
            "ss2 welcome\n",
            "ss2 welcome abc\n",
            "ss2 welcome abc 1\n",
            "ss2 welcome abc t 2\n",
            "ss2 welcome a/b t 1\n",
            "ss2 welcome abc t/u 1\n",
            "ss2 welcome  t 1\n",
            "ss2 welcome abc  1\n",
            // Offsets: only ASCII digits, no sign or space, within u64 and MAX_OFFSET.
            "ss2 msg  1\nx",
            "ss2 msg 1\r\nx",
            "ss2 msg \u{661}\nx",
            "ss2 msg 1\u{e9}\nx",
            "ss2 msg \u{e9}1\nx",
            "ss2 msg 18446744073709551616\nx",
            "ss2 msg 184467440737095516150\nx",
            "ss2 welcome \u{e9} t 1\n",
            "ss2 welcome abc t\u{e9} 1\n",
            "ss2 welcome abc t 1\u{e9}\n",
        ] {
            assert!(dec(Message::text(bad)).is_err(), "{bad:?}");
        }
        // Leading zeros read as str::parse reads them; a separator next to a multi-byte
        // character cuts the header at the right place.
        assert_eq!(
            dec(Message::text("ss2 msg 00000000000000000007\né x")),
            Ok(Inbound::Data {
                offset: Some(7),
                message: Message::text("é x")
            })
        );
        assert_eq!(dec(Message::text("ss2 \u{e9} 1\n")), Ok(Inbound::Ignore));
        let long = format!("ss2 msg {}", "1".repeat(300));
        assert!(dec(Message::text(long)).is_err());
        assert!(dec(Message::binary(b"ss2 msg 1\xff\n".to_vec())).is_err());
        assert!(!valid_session_id(&"a".repeat(129)));
        assert!(valid_session_id(&"a".repeat(128)));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut rng = crate::rng::SeededRandom::new(9);
        use crate::rng::RandomSource;
        let seeds: [&[u8]; 4] = [b"ss2 ", b"ss2 msg ", b"ss2 welcome ", b"ss2 drain"];
        for i in 0..5_000 {
            let mut buf = seeds[i % 4].to_vec();
            let n = (rng.next_u32() % 24) as usize;
            for _ in 0..n {
                let pool = b"0123456789 \n\xffab-.\xc3\xa9+\r";
                buf.push(pool[(rng.next_u32() as usize) % pool.len()]);
            }
            let _ = dec(Message::binary(buf.clone()));
            if let Ok(s) = String::from_utf8(buf) {
                let _ = dec(Message::text(s));
            }
        }
    }
}
