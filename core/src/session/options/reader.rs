//! [`SessionOptions::from_json`]'s reader: the options' JSON text read with the core's own
//! JSON cursor ([`crate::json`]), no serde and no feature needed, so every binding (and
//! the browser build, which carries no serde) reads options the same way. It gives what
//! the serde derives give for the same text (a test compares the two on every example):
//! every key optional, a missing key its default (a nested object's missing keys their
//! defaults), unknown and repeated keys refused (but a `json` pattern's fields, a map,
//! keep the last value of a repeated name), `null` only where the module docs allow it,
//! a number beyond `f64` (`1e400`) refused. An error names the key: `backoff.jitter:
//! unknown variant `lots`, expected one of …`. Two known differences: a number with more
//! than 19 significant digits or a decimal exponent beyond ±22 (`2.5e-93`) may differ
//! from serde_json's reading in the last bits (neither rounds such numbers exactly; see
//! [`parse_number`]), and patterns nested more than [`MAX_DEPTH`] deep are refused
//! (serde_json's own limit is about twice that).

use super::{
    header_line, BackoffOptions, Headers, HeartbeatOptions, KeepaliveOptions, OptionsError, QueueOptions,
    RecoveryPlacement, SessionOptions, Subprotocols, TransportType,
};
use crate::json::{parse_number, Scan};
use crate::session::pattern::{scalar, set_field, JsonScalar, MessagePattern};
use crate::session::{EnvelopeKind, Jitter, RequestSource};
use std::borrow::Cow;
use std::fmt::Write;

/// A failure; its text is in [`Reader::error`] (a zero-sized error keeps every `?` of
/// the reader cheap).
struct Fail;

type R<T> = Result<T, Fail>;

/// Patterns nest (`any`); deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 32;

const TOP: &[&str] = &[
    "transport",
    "request_source",
    "headers",
    "subprotocols",
    "backoff",
    "max_retries",
    "min_uptime_ms",
    "connect_timeout_ms",
    "handshake_timeout_ms",
    "close_timeout_ms",
    "fatal_close_codes",
    "fatal_http_statuses",
    "queue",
    "keepalive",
    "heartbeat",
    "disconnect_warning",
    "envelope",
    "recovery",
    "recovery_placement",
    "recovery_session_param",
    "recovery_token_param",
    "recovery_offset_param",
    "max_message_size",
    "max_frame_size",
    "fragment_size",
    "deflate",
    "control_frames",
    "fragments",
];
const BACKOFF: &[&str] = &["min_ms", "max_ms", "factor", "jitter"];
const QUEUE: &[&str] = &["max_messages", "max_bytes"];
const KEEPALIVE: &[&str] = &["interval_ms", "pong_timeout_ms", "any_data_counts", "ping_payload"];
const HEARTBEAT: &[&str] = &["interval_ms", "timeout_ms", "ping", "pong", "any_message_counts"];
const PATTERN: &[&str] = &["exact", "prefix", "json", "any"];

const TRANSPORT: [TransportType; 2] = [TransportType::Bytes, TransportType::Messages];
const REQUEST_SOURCE: [RequestSource; 2] = [RequestSource::Fixed, RequestSource::Provided];
const ENVELOPE: [EnvelopeKind; 2] = [EnvelopeKind::Plain, EnvelopeKind::Steady];
const PLACEMENT: [RecoveryPlacement; 3] = [
    RecoveryPlacement::FirstMessage,
    RecoveryPlacement::Query,
    RecoveryPlacement::Headers,
];
const JITTER: [Jitter; 3] = [Jitter::None, Jitter::Full, Jitter::Decorrelated];

/// Reads options from JSON text.
pub(super) fn read(text: &str) -> Result<SessionOptions, OptionsError> {
    let mut r = Reader {
        s: Scan::new(text),
        path: Vec::new(),
        error: String::new(),
    };
    let mut o = SessionOptions::default();
    match read_into(&mut r, &mut o) {
        Ok(()) => Ok(o),
        Err(Fail) => Err(OptionsError(r.error)),
    }
}

fn read_into(r: &mut Reader<'_>, o: &mut SessionOptions) -> R<()> {
    r.object(TOP, &mut |r, key| {
        match key {
            0 => o.transport = TRANSPORT[r.variant(&TRANSPORT.map(TransportType::as_str))?],
            1 => o.request_source = REQUEST_SOURCE[r.variant(&REQUEST_SOURCE.map(RequestSource::as_str))?],
            2 => o.headers = r.headers()?,
            3 => o.subprotocols = r.subprotocols()?,
            4 => o.backoff = r.backoff()?,
            5 => o.max_retries = r.opt(|r| r.uint(u32::MAX.into()).map(|n| n as u32))?,
            6 => o.min_uptime_ms = r.u64()?,
            7 => o.connect_timeout_ms = r.opt(Reader::u64)?,
            8 => o.handshake_timeout_ms = r.opt(Reader::u64)?,
            9 => o.close_timeout_ms = r.u64()?,
            10 => o.fatal_close_codes = r.u16s()?,
            11 => o.fatal_http_statuses = r.u16s()?,
            12 => {
                let mut q = QueueOptions::default();
                r.object(QUEUE, &mut |r, key| {
                    let n = r.usize()?;
                    match key {
                        0 => q.max_messages = n,
                        _ => q.max_bytes = n,
                    }
                    Ok(())
                })?;
                o.queue = q;
            }
            13 => o.keepalive = r.opt(Reader::keepalive)?,
            14 => o.heartbeat = r.opt(Reader::heartbeat)?,
            15 => o.disconnect_warning = r.opt(Reader::pattern)?,
            16 => o.envelope = ENVELOPE[r.variant(&ENVELOPE.map(EnvelopeKind::as_str))?],
            17 => o.recovery = r.bool()?,
            18 => o.recovery_placement = PLACEMENT[r.variant(&PLACEMENT.map(RecoveryPlacement::as_str))?],
            19 => o.recovery_session_param = r.string()?,
            20 => o.recovery_token_param = r.string()?,
            21 => o.recovery_offset_param = r.string()?,
            22 => o.max_message_size = r.usize()?,
            23 => o.max_frame_size = r.usize()?,
            24 => o.fragment_size = r.opt(Reader::usize)?,
            25 => o.deflate = r.bool()?,
            26 => o.control_frames = r.bool()?,
            _ => o.fragments = r.bool()?,
        }
        Ok(())
    })?;
    r.s.ws();
    if r.s.peek().is_some() {
        return Err(r.expected("the end of the text after the options object"));
    }
    Ok(())
}

/// The JSON cursor and the key path being read (for error texts).
struct Reader<'a> {
    s: Scan<'a>,
    path: Vec<&'static str>,
    /// The text of the first failure.
    error: String,
}

/// "one of `a`, `b`, `c`".
fn one_of(names: &[&str]) -> String {
    let mut out = String::from("one of ");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
    out
}

impl<'a> Reader<'a> {
    /// An error at the current key: `backoff.factor: why`.
    fn err(&mut self, why: &str) -> Fail {
        let out = &mut self.error;
        for (i, key) in self.path.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(key);
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(why);
        Fail
    }

    /// "expected `what` at byte N".
    fn expected(&mut self, what: &str) -> Fail {
        let mut why = String::from("expected ");
        why.push_str(what);
        let _ = write!(why, " at byte {}", self.s.i);
        self.err(&why)
    }

    fn expect(&mut self, c: u8, what: &str) -> R<()> {
        self.s.eat(c).ok_or_else(|| self.expected(what))
    }

    /// `{"key": value, …}` with any keys: `entry` reads each value.
    fn map(&mut self, entry: &mut dyn FnMut(&mut Self, Cow<'a, str>) -> R<()>) -> R<()> {
        self.expect(b'{', "an object")?;
        if self.s.eat(b'}').is_some() {
            return Ok(());
        }
        loop {
            self.s.ws();
            let key = self.s.string().ok_or_else(|| self.expected("a key (a string)"))?;
            self.expect(b':', "`:`")?;
            entry(self, key)?;
            self.s.ws();
            match self.s.peek() {
                Some(b',') => self.s.i += 1,
                Some(b'}') => {
                    self.s.i += 1;
                    return Ok(());
                }
                _ => return Err(self.expected("`,` or `}`")),
            }
        }
    }

    /// An object with these keys, each at most once: `field` reads the value of `keys[i]`.
    fn object(&mut self, keys: &[&'static str], field: &mut dyn FnMut(&mut Self, usize) -> R<()>) -> R<()> {
        let mut seen = 0u64;
        self.map(&mut |r, key| {
            let Some(i) = keys.iter().position(|k| *k == key) else {
                return Err(r.unknown("unknown field `", &key, keys));
            };
            if seen & (1 << i) != 0 {
                let mut why = String::from("duplicate field `");
                why.push_str(keys[i]);
                why.push('`');
                return Err(r.err(&why));
            }
            seen |= 1 << i;
            r.path.push(keys[i]);
            field(r, i)?;
            r.path.pop();
            Ok(())
        })
    }

    /// `[item, …]`: `item` reads each.
    fn array(&mut self, item: &mut dyn FnMut(&mut Self) -> R<()>) -> R<()> {
        self.expect(b'[', "an array")?;
        if self.s.eat(b']').is_some() {
            return Ok(());
        }
        loop {
            item(self)?;
            self.s.ws();
            match self.s.peek() {
                Some(b',') => self.s.i += 1,
                Some(b']') => {
                    self.s.i += 1;
                    return Ok(());
                }
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
    }

    /// `null` (then `None`) or what `value` reads.
    fn opt<T>(&mut self, value: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        self.s.ws();
        if self.s.word(b"null") {
            return Ok(None);
        }
        value(self).map(Some)
    }

    /// A non-negative integer (no fraction, no exponent) up to `max`.
    fn uint(&mut self, max: u64) -> R<u64> {
        self.s.ws();
        let n = self.s.number().and_then(crate::ascii::digits_u64);
        match n.filter(|&n| n <= max) {
            Some(n) => Ok(n),
            None => {
                let mut why = String::new();
                let _ = write!(why, "expected an integer from 0 to {max}");
                Err(self.err(&why))
            }
        }
    }

    fn u64(&mut self) -> R<u64> {
        self.uint(u64::MAX)
    }

    fn usize(&mut self) -> R<usize> {
        // usize is at most 64 bits wide on every target Rust supports.
        self.uint(usize::MAX as u64).map(|n| n as usize)
    }

    fn u16s(&mut self) -> R<Vec<u16>> {
        let mut out = Vec::new();
        self.array(&mut |r| {
            out.push(r.uint(u16::MAX.into())? as u16);
            Ok(())
        })?;
        Ok(out)
    }

    fn f64(&mut self) -> R<f64> {
        self.s.ws();
        let t = self.s.number().ok_or_else(|| self.err("expected a number"))?;
        self.finite(parse_number(t))
    }

    /// `n` if it is finite: a number beyond `f64` (`1e400`) is refused, as serde_json
    /// refuses it, rather than read as infinite.
    fn finite(&mut self, n: f64) -> R<f64> {
        if n.is_finite() {
            Ok(n)
        } else {
            Err(self.err("number out of range"))
        }
    }

    fn bool(&mut self) -> R<bool> {
        self.s.ws();
        if self.s.word(b"true") {
            Ok(true)
        } else if self.s.word(b"false") {
            Ok(false)
        } else {
            Err(self.err("expected true or false"))
        }
    }

    fn string(&mut self) -> R<String> {
        self.s.ws();
        match self.s.string() {
            Some(s) => Ok(s.into_owned()),
            None => Err(self.err("expected a string")),
        }
    }

    /// The index of one of `names` (canonical names: `as_str`).
    fn variant(&mut self, names: &[&str]) -> R<usize> {
        let got = self.string()?;
        match names.iter().position(|n| *n == got) {
            Some(i) => Ok(i),
            None => Err(self.unknown("unknown variant `", &got, names)),
        }
    }

    /// "unknown field `got`, expected one of `a`, `b`".
    fn unknown(&mut self, what: &str, got: &str, names: &[&str]) -> Fail {
        let mut why = String::from(what);
        why.push_str(got);
        why.push_str("`, expected ");
        why.push_str(&one_of(names));
        self.err(&why)
    }

    fn headers(&mut self) -> R<Headers> {
        let mut out = Vec::new();
        self.s.ws();
        if self.s.peek() == Some(b'{') {
            self.map(&mut |r, name| {
                out.push((name.into_owned(), r.string()?));
                Ok(())
            })?;
        } else {
            self.array(&mut |r| {
                r.s.ws();
                if r.s.peek() == Some(b'[') {
                    let mut pair = Vec::new();
                    r.array(&mut |r| {
                        pair.push(r.string()?);
                        Ok(())
                    })?;
                    let mut pair = pair.into_iter();
                    match (pair.next(), pair.next(), pair.next()) {
                        (Some(name), Some(value), None) => out.push((name, value)),
                        _ => return Err(r.err("expected a [name, value] pair")),
                    }
                } else {
                    let line = r.string()?;
                    out.push(header_line(&line).map_err(|why| r.err(&why))?);
                }
                Ok(())
            })?;
        }
        Ok(Headers(out))
    }

    fn subprotocols(&mut self) -> R<Subprotocols> {
        self.s.ws();
        if self.s.peek() != Some(b'[') {
            return Ok(Subprotocols(vec![self.string()?]));
        }
        let mut out = Vec::new();
        self.array(&mut |r| {
            out.push(r.string()?);
            Ok(())
        })?;
        Ok(Subprotocols(out))
    }

    fn backoff(&mut self) -> R<BackoffOptions> {
        let mut b = BackoffOptions::default();
        self.object(BACKOFF, &mut |r, key| {
            match key {
                0 => b.min_ms = r.u64()?,
                1 => b.max_ms = r.u64()?,
                2 => b.factor = r.f64()?,
                _ => b.jitter = JITTER[r.variant(&JITTER.map(Jitter::as_str))?],
            }
            Ok(())
        })?;
        Ok(b)
    }

    fn keepalive(&mut self) -> R<KeepaliveOptions> {
        let mut k = KeepaliveOptions::default();
        self.object(KEEPALIVE, &mut |r, key| {
            match key {
                0 => k.interval_ms = r.u64()?,
                1 => k.pong_timeout_ms = r.u64()?,
                2 => k.any_data_counts = r.bool()?,
                _ => k.ping_payload = r.opt(Reader::string)?,
            }
            Ok(())
        })?;
        Ok(k)
    }

    fn heartbeat(&mut self) -> R<HeartbeatOptions> {
        let mut h = HeartbeatOptions::default();
        self.object(HEARTBEAT, &mut |r, key| {
            match key {
                0 => h.interval_ms = r.u64()?,
                1 => h.timeout_ms = r.u64()?,
                2 => h.ping = r.string()?,
                3 => h.pong = r.pattern()?,
                _ => h.any_message_counts = r.bool()?,
            }
            Ok(())
        })?;
        Ok(h)
    }

    /// A [`MessagePattern`]: an object with exactly one of `exact`, `prefix`, `json`, `any`.
    fn pattern(&mut self) -> R<MessagePattern> {
        if self.path.len() > MAX_DEPTH {
            return Err(self.err("patterns nested too deeply"));
        }
        self.expect(b'{', "a pattern object")?;
        self.s.ws();
        let key = self
            .s
            .string()
            .ok_or_else(|| self.expected("a pattern name (a string)"))?;
        let Some(i) = PATTERN.iter().position(|k| *k == key) else {
            return Err(self.unknown("unknown variant `", &key, PATTERN));
        };
        self.expect(b':', "`:`")?;
        self.path.push(PATTERN[i]);
        let p = match i {
            0 => MessagePattern::Exact(self.string()?),
            1 => MessagePattern::Prefix(self.string()?),
            2 => {
                let mut fields = Vec::new();
                self.map(&mut |r, name| {
                    let v = scalar(&mut r.s)
                        .flatten()
                        .ok_or_else(|| r.err("expected a string, number, true, false or null"))?;
                    if let JsonScalar::Number(n) = v {
                        r.finite(n)?;
                    }
                    set_field(&mut fields, name.into_owned(), v);
                    Ok(())
                })?;
                MessagePattern::Json(fields)
            }
            _ => {
                let mut any = Vec::new();
                self.array(&mut |r| {
                    any.push(r.pattern()?);
                    Ok(())
                })?;
                MessagePattern::Any(any)
            }
        };
        self.path.pop();
        self.expect(b'}', "`}` (a pattern has one key)")?;
        Ok(p)
    }
}

/// The hand reader and the serde derives (through serde_json) agree: the same options for
/// every text the options tests use, and both refuse the same bad texts.
#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    const GOOD: &[&str] = &[
        "{}",
        " { } ",
        r#"{"transport": "messages", "max_retries": 3}"#,
        super::super::EVERY_KEY_JSON,
        r#"{"keepalive": null, "headers": ["Origin: http://x", ["Cookie", "a=b"]]}"#,
        r#"{"transport": "messages", "heartbeat": {}, "recovery": true}"#,
        r#"{"backoff": {"min_ms": 1000, "max_ms": 10000, "factor": 1.3, "jitter": "none"}, "max_retries": 10,
            "disconnect_warning": {"json": {"type": "disconnect"}}, "fatal_close_codes": [4004]}"#,
        r#"{"heartbeat": {"interval_ms": 0}}"#,
        r#"{"backoff": {"factor": 0.5}}"#,
        r#"{"backoff": {"factor": 2, "jitter": "decorrelated"}}"#,
        r#"{"backoff": {"factor": -2.5e-3, "jitter": "full"}}"#,
        r#"{"backoff": {"min_ms": 10, "max_ms": 5}}"#,
        r#"{"transport": "messages", "recovery": true, "recovery_placement": "headers"}"#,
        r#"{"recovery_placement": "query", "envelope": "plain", "request_source": "fixed"}"#,
        r#"{"recovery_placement": "first_message", "control_frames": true, "fragments": true}"#,
        r#"{"subprotocols": ["a", "b\u00e9\n"], "headers": [], "fatal_http_statuses": [401, 403, 65535]}"#,
        r#"{"headers": ["  Name :  v a l  ", "X:"], "subprotocols": []}"#,
        r#"{"max_retries": null, "connect_timeout_ms": null, "fragment_size": null, "disconnect_warning": null}"#,
        r#"{"max_retries": 4294967295, "min_uptime_ms": 18446744073709551615}"#,
        r#"{"keepalive": {"any_data_counts": false, "ping_payload": null}, "heartbeat": null}"#,
        r#"{"heartbeat": {"ping": "p\"\\\/\b\f\n\r\t\ud83d\ude00", "pong": {"prefix": "PONG"}, "any_message_counts": false}}"#,
        r#"{"disconnect_warning": {"any": [{"json": {"op": 7, "x": null, "ok": true, "s": "v", "f": -1.5e2}},
            {"prefix": "bye"}, {"any": []}, {"exact": ""}]}}"#,
        r#"{"disconnect_warning": {"json": {"a": 1, "a": 2}}}"#,
        r#"{"disconnect_warning": {"json": {}}}"#,
        // Numbers at the edges of the grammar and of f64.
        r#"{"backoff": {"factor": -0}}"#,
        r#"{"backoff": {"factor": 1E5}}"#,
        r#"{"backoff": {"factor": 0.1e1}}"#,
        r#"{"backoff": {"factor": 1e-400}}"#,
        r#"{"backoff": {"factor": 1e-99999999999999999999}}"#,
        r#"{"backoff": {"factor": 0e99999999999999999999}}"#,
        r#"{"backoff": {"factor": 123456789012345678901234567890}}"#,
        r#"{"backoff": {"factor": 2.2250738585072014e-308}}"#,
        r#"{"disconnect_warning": {"json": {"a": -0, "b": 1E-2}}}"#,
        // Strings: an escaped NUL, a raw DEL, a repeated header name.
        "{\"heartbeat\": {\"ping\": \"\\u0000 a\u{7f}b\"}}",
        r#"{"headers": {"a": "1", "a": "2"}}"#,
        "\t{}\r\n",
    ];

    const BAD: &[&str] = &[
        "",
        "null",
        "{",
        r#"{"max_retry": 3}"#,
        r#"{"backoff": {"min": 3}}"#,
        r#"{"queue": {"max_message": 3}}"#,
        r#"{"backoff": {"jitter": "lots"}}"#,
        r#"{"transport": "pigeon"}"#,
        r#"{"disconnect_warning": {"regex": "x"}}"#,
        r#"{"headers": ["no colon"]}"#,
        r#"{"headers": [["a", "b", "c"]]}"#,
        r#"{"headers": [["a"]]}"#,
        r#"{"headers": {"a": 1}}"#,
        r#"{"headers": "a: b"}"#,
        r#"{"subprotocols": 3}"#,
        r#"{"subprotocols": [3]}"#,
        r#"{"max_retries": -1}"#,
        r#"{"max_retries": 4294967296}"#,
        r#"{"max_retries": 1.5}"#,
        r#"{"max_retries": 1e3}"#,
        r#"{"max_retries": "3"}"#,
        r#"{"min_uptime_ms": null}"#,
        r#"{"min_uptime_ms": 18446744073709551616}"#,
        r#"{"fatal_close_codes": [65536]}"#,
        r#"{"fatal_close_codes": 4004}"#,
        r#"{"fatal_close_codes": [4004,]}"#,
        r#"{"recovery": null}"#,
        r#"{"recovery": 1}"#,
        r#"{"backoff": {"factor": "2"}}"#,
        r#"{"backoff": {"factor": .5}}"#,
        r#"{"backoff": null}"#,
        r#"{"queue": null}"#,
        r#"{"max_retries": 3, "max_retries": 4}"#,
        r#"{"backoff": {"min_ms": 1, "min_ms": 2}}"#,
        r#"{"max_retries": 3} x"#,
        r#"{"max_retries": 3,}"#,
        r#"{"max_retries" 3}"#,
        r#"{max_retries: 3}"#,
        r#"{"disconnect_warning": {"exact": "a", "prefix": "b"}}"#,
        r#"{"disconnect_warning": {}}"#,
        r#"{"disconnect_warning": {"json": {"a": [1]}}}"#,
        r#"{"disconnect_warning": {"json": {"a": {}}}}"#,
        r#"{"disconnect_warning": {"any": {"exact": "a"}}}"#,
        r#"{"disconnect_warning": "x"}"#,
        r#"{"heartbeat": {"pong": null}}"#,
        r#"{"heartbeat": {"ping": "\x"}}"#,
        r#"{"heartbeat": {"ping": "\ud83d"}}"#,
        "{\"heartbeat\": {\"ping\": \"a\u{1}b\"}}",
        "{\"heartbeat\": {\"ping\": \"a\tb\"}}",
        r#"{"heartbeat": {"ping": "\ude00"}}"#,
        r#"{"heartbeat": {"ping": "\ud83dx"}}"#,
        r#"{"heartbeat": {"ping": "\ud83d\u0041"}}"#,
        r#"{"heartbeat": {"ping": "\u00"}}"#,
        r#"{"heartbeat": {"ping": "\U0041"}}"#,
        // Numbers JSON refuses, and numbers beyond f64 (serde_json: "number out of range").
        r#"{"backoff": {"factor": 01}}"#,
        r#"{"backoff": {"factor": -}}"#,
        r#"{"backoff": {"factor": 1.}}"#,
        r#"{"backoff": {"factor": 1e400}}"#,
        r#"{"backoff": {"factor": -1e400}}"#,
        r#"{"backoff": {"factor": 1e99999999999999999999}}"#,
        r#"{"backoff": {"factor": 1.7976931348623159e308}}"#,
        r#"{"disconnect_warning": {"json": {"a": 1e400}}}"#,
        r#"{"disconnect_warning": {"json": {"a": 01}}}"#,
        r#"{"max_retries": -0}"#,
        r#"{"max_retries": 01}"#,
        r#"{"max_retries": 3.0}"#,
        r#"{"fragment_size": nul}"#,
        r#"{"fragment_size": nullx}"#,
        r#"{"recovery": truex}"#,
        r#"{"headers": ["a:b", ]}"#,
        "{}\u{a0}",
        "\u{feff}{}",
    ];

    fn serde(text: &str) -> Result<SessionOptions, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn reader_and_serde_agree() {
        for text in GOOD {
            let hand = SessionOptions::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(Ok(hand), serde(text), "{text}");
        }
        for text in BAD {
            let hand = SessionOptions::from_json(text);
            assert!(hand.is_err(), "{text}: {hand:?}");
            assert!(serde(text).is_err(), "{text}");
        }
        // serde also reads a struct from an array of its fields in order; the options are
        // only ever an object.
        assert!(SessionOptions::from_json("[]").is_err());
    }

    /// Mutated texts of the corpus (bytes deleted, inserted, replaced, repeated): the
    /// reader never panics, and it accepts exactly what serde_json accepts, with the same
    /// options.
    #[test]
    fn reader_and_serde_agree_on_mutated_texts() {
        use crate::rng::{RandomSource, SeededRandom};
        const POOL: &[&str] = &[
            "{", "}", "[", "]", "\"", "\\", ":", ",", " ", "\n", "\t", "\u{1}", "-", "+", ".", "e", "E", "0", "1", "9",
            "null", "true", "é", "😀", "\\u", "d83d", "dc00", "\\ud83d", "x", "any", "json", "exact",
        ];
        const ROUNDS: usize = 20_000;
        let mut rng = SeededRandom::new(7);
        let corpus: Vec<&str> = GOOD.iter().chain(BAD).copied().collect();
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..ROUNDS {
            let mut text: Vec<char> = corpus[round % corpus.len()].chars().collect();
            for _ in 0..1 + rng.next_u32() % 2 {
                let at = (rng.next_u32() as usize) % (text.len() + 1);
                let piece: Vec<char> = POOL[(rng.next_u32() as usize) % POOL.len()].chars().collect();
                match rng.next_u32() % 4 {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => {
                        text.splice(at..at + 1, piece);
                    }
                    2 => {
                        let end = (at + 1 + (rng.next_u32() as usize) % 8).min(text.len());
                        let copy: Vec<char> = text[at.min(end)..end].to_vec();
                        text.splice(at..at, copy);
                    }
                    _ => {
                        text.splice(at..at, piece);
                    }
                }
            }
            let text: String = text.into_iter().collect();
            let hand = SessionOptions::from_json(&text).map_err(|e| e.to_string());
            match (hand, serde(&text)) {
                (Ok(a), Ok(b)) => {
                    assert!(same_but_last_bits(a.clone(), &b), "{text}\nhand:  {a:?}\nserde: {b:?}");
                    accepted += 1;
                }
                (Err(_), Err(_)) => refused += 1,
                // serde also reads a struct from an array of its fields (see above).
                (Err(_), Ok(_)) if text.trim_start().starts_with('[') => {}
                // Just below f64::MAX serde_json may round past it and refuse the number
                // (`1.797693134862315623159e308`, which str::parse reads as f64::MAX).
                (Ok(a), Err(e)) if e.starts_with("number out of range") && a.backoff.factor.abs() > 1.79e308 => {}
                (a, b) => panic!("{text}\nhand:  {a:?}\nserde: {b:?}"),
            }
        }
        // Both outcomes were exercised.
        assert!(accepted > ROUNDS / 50 && refused > ROUNDS / 2, "{accepted} {refused}");
    }

    /// `hand == serde`, but for numbers off the exact fast path of
    /// [`parse_number`](crate::json::parse_number) (`-2.5e-93`), where neither reader
    /// rounds exactly and the two may differ in the last bits (at most 8 ulps here).
    fn same_but_last_bits(mut hand: SessionOptions, serde: &SessionOptions) -> bool {
        fn near(a: &mut f64, b: f64) {
            if a.is_sign_negative() == b.is_sign_negative() && a.to_bits().abs_diff(b.to_bits()) <= 8 {
                *a = b;
            }
        }
        fn pattern(a: &mut MessagePattern, b: &MessagePattern) {
            match (a, b) {
                (MessagePattern::Json(a), MessagePattern::Json(b)) if a.len() == b.len() => {
                    for ((_, a), (_, b)) in a.iter_mut().zip(b) {
                        if let (JsonScalar::Number(a), JsonScalar::Number(b)) = (a, b) {
                            near(a, *b);
                        }
                    }
                }
                (MessagePattern::Any(a), MessagePattern::Any(b)) if a.len() == b.len() => {
                    a.iter_mut().zip(b).for_each(|(a, b)| pattern(a, b));
                }
                _ => {}
            }
        }
        near(&mut hand.backoff.factor, serde.backoff.factor);
        if let (Some(a), Some(b)) = (&mut hand.disconnect_warning, &serde.disconnect_warning) {
            pattern(a, b);
        }
        if let (Some(a), Some(b)) = (&mut hand.heartbeat, &serde.heartbeat) {
            pattern(&mut a.pong, &b.pong);
        }
        hand == *serde
    }

    #[test]
    fn a_json_pattern_keeps_the_last_value_of_a_repeated_name() {
        let o = SessionOptions::from_json(r#"{"disconnect_warning": {"json": {"op": 7, "t": "x", "op": 9}}}"#).unwrap();
        assert_eq!(
            o.disconnect_warning,
            Some(MessagePattern::Json(vec![
                ("op".into(), JsonScalar::Number(9.0)),
                ("t".into(), JsonScalar::String("x".into())),
            ]))
        );
    }

    #[test]
    fn errors_name_the_key() {
        for (text, want) in [
            (
                r#"{"max_retry": 3}"#,
                "invalid session options: unknown field `max_retry`, expected one of `transport`, ",
            ),
            (
                r#"{"backoff": {"jitter": "lots"}}"#,
                "invalid session options: backoff.jitter: unknown variant `lots`, expected one of `none`, `full`, `decorrelated`",
            ),
            (
                r#"{"backoff": {"min": 3}}"#,
                "invalid session options: backoff: unknown field `min`, expected one of `min_ms`, `max_ms`, `factor`, `jitter`",
            ),
            (
                r#"{"fatal_close_codes": [65536]}"#,
                "invalid session options: fatal_close_codes: expected an integer from 0 to 65535",
            ),
            (
                r#"{"disconnect_warning": {"any": [{"regex": "x"}]}}"#,
                "invalid session options: disconnect_warning.any: unknown variant `regex`, expected one of `exact`, `prefix`, `json`, `any`",
            ),
            (r#"{"headers": ["no colon"]}"#, r#"headers: header "no colon": expected "Name: value""#),
            (r#"{"recovery": true, "recovery": true}"#, "duplicate field `recovery`"),
            (r#"{"backoff": {"factor": 1e400}}"#, "backoff.factor: number out of range"),
            (
                r#"{"disconnect_warning": {"json": {"a": -1e400}}}"#,
                "disconnect_warning.json: number out of range",
            ),
            (r#"{"max_retries": 3} x"#, "expected the end of the text after the options object at byte 19"),
        ] {
            let err = SessionOptions::from_json(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let deep = r#"{"any": ["#.repeat(100);
        let err = SessionOptions::from_json(&format!(r#"{{"disconnect_warning": {deep}"#)).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
    }
}
