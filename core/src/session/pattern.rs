//! Message patterns: how an application says "this message is a disconnect warning" or
//! "this message is the heartbeat reply" as plain data, so the same setting works from
//! Rust, Python, JavaScript or a JSON file (no callback runs inside the session).
//!
//! | pattern (JSON form)                               | matches a text message that …                                   |
//! |---------------------------------------------------|-----------------------------------------------------------------|
//! | `{"exact": "ss2 pong\n"}`                         | equals the text                                                  |
//! | `{"prefix": "DRAIN"}`                             | starts with the text                                             |
//! | `{"json": {"type": "disconnect"}}`                | is a JSON object whose top-level fields include all of these with equal values (string, number, `true`/`false`, `null`); Slack's `{"type":"disconnect",…}`, Discord's `{"op":7,…}` |
//! | `{"any": [p1, p2]}`                               | matches any of the patterns                                      |
//!
//! Binary messages never match. The JSON test reads the message only as far as it needs:
//! it must start (after whitespace) with `{`, the first occurrence of each named field
//! decides, and scanning stops once every field was seen, so a large message with the
//! fields up front costs little and a non-JSON message costs one byte comparison.
//! Numbers compare by value (`7` equals `7.0`).

use super::msg::Message;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A test on an inbound message (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize, serde::Serialize),
    serde(rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum MessagePattern {
    /// The whole text equals this.
    Exact(String),
    /// The text starts with this.
    Prefix(String),
    /// The text is a JSON object with all of these top-level fields equal to these values.
    Json(BTreeMap<String, JsonScalar>),
    /// Any of these patterns matches.
    Any(Vec<MessagePattern>),
}

/// A JSON value a [`MessagePattern::Json`] field can be compared with.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize), serde(untagged))]
pub enum JsonScalar {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (compared as `f64`).
    Number(f64),
    /// A string (compared after unescaping).
    String(String),
}

impl From<&str> for JsonScalar {
    fn from(s: &str) -> Self {
        Self::String(s.to_string())
    }
}

impl From<f64> for JsonScalar {
    fn from(n: f64) -> Self {
        Self::Number(n)
    }
}

impl From<bool> for JsonScalar {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl MessagePattern {
    /// `{"json": {field: value}}`: a JSON object whose `field` equals `value`.
    pub fn json_field(field: impl Into<String>, value: impl Into<JsonScalar>) -> Self {
        Self::Json(BTreeMap::from([(field.into(), value.into())]))
    }

    /// Whether `message` matches (binary messages never do).
    pub fn matches(&self, message: &Message) -> bool {
        match message {
            Message::Text(t) => self.matches_text(t.as_str()),
            Message::Binary(_) => false,
        }
    }

    /// Whether the text of a message matches.
    pub fn matches_text(&self, text: &str) -> bool {
        match self {
            Self::Exact(s) => text == s,
            Self::Prefix(p) => text.starts_with(p.as_str()),
            Self::Json(fields) => json_fields_match(text, fields),
            Self::Any(ps) => ps.iter().any(|p| p.matches_text(text)),
        }
    }
}

/// Whether `text` is a JSON object holding every one of `fields` (first occurrence wins).
fn json_fields_match(text: &str, fields: &BTreeMap<String, JsonScalar>) -> bool {
    let mut s = Scan {
        b: text.as_bytes(),
        text,
        i: 0,
    };
    if s.eat(b'{').is_none() {
        return false;
    }
    let mut seen = 0usize;
    let mut decided: Vec<&str> = Vec::new();
    if fields.is_empty() {
        return true;
    }
    s.ws();
    if s.peek() == Some(b'}') {
        return false;
    }
    loop {
        s.ws();
        let Some(key) = s.string() else { return false };
        if s.eat(b':').is_none() {
            return false;
        }
        match fields.get_key_value(key.as_ref()) {
            Some((name, want)) if !decided.contains(&name.as_str()) => {
                match s.scalar() {
                    Some(Some(got)) if got == *want => {}
                    _ => return false,
                }
                decided.push(name);
                seen += 1;
                if seen == fields.len() {
                    return true;
                }
            }
            _ => {
                if s.skip_value().is_none() {
                    return false;
                }
            }
        }
        s.ws();
        match s.peek() {
            Some(b',') => s.i += 1,
            _ => return false,
        }
    }
}

/// A cursor over JSON text.
struct Scan<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// A string at the cursor, unescaped (borrowed when it has no escapes).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let start = self.i;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Borrowed(&self.text[start..self.i - 1]));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.i]);
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.i += 1;
                    let c = match self.peek()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                    return None;
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code)?);
                            continue;
                        }
                        _ => return None,
                    };
                    self.i += 1;
                    out.push(c);
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy one whole UTF-8 character.
                    let ch = self.text[self.i..].chars().next()?;
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.i..self.i + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }

    /// Skips one value without validating its inside.
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    /// A scalar at the cursor (`Some(None)` for an object or array, skipped).
    fn scalar(&mut self) -> Option<Option<JsonScalar>> {
        self.ws();
        let lit = |s: &mut Self, word: &[u8], v: JsonScalar| {
            if s.b.get(s.i..s.i + word.len())? == word {
                s.i += word.len();
                Some(Some(v))
            } else {
                None
            }
        };
        match self.peek()? {
            b'"' => Some(Some(JsonScalar::String(self.string()?.into_owned()))),
            b't' => lit(self, b"true", JsonScalar::Bool(true)),
            b'f' => lit(self, b"false", JsonScalar::Bool(false)),
            b'n' => lit(self, b"null", JsonScalar::Null),
            b'{' | b'[' => self.skip_value().map(|()| None),
            _ => self.number().map(|n| Some(JsonScalar::Number(n))),
        }
    }

    /// A number in JSON's grammar.
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            s.i > from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        self.text[start..self.i].parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disconnect() -> MessagePattern {
        MessagePattern::json_field("type", "disconnect")
    }

    #[test]
    fn exact_prefix_any_and_binary() {
        let p = MessagePattern::Any(vec![
            MessagePattern::Exact("ss2 pong\n".into()),
            MessagePattern::Prefix("PONG ".into()),
        ]);
        assert!(p.matches(&Message::text("ss2 pong\n")));
        assert!(p.matches(&Message::text("PONG 12")));
        assert!(!p.matches(&Message::text("ss2 pong")));
        assert!(!p.matches(&Message::text("pong")));
        assert!(!p.matches(&Message::binary(b"ss2 pong\n".to_vec())));
        assert!(!MessagePattern::Any(vec![]).matches_text(""));
    }

    #[test]
    fn json_field_equals() {
        let p = disconnect();
        for yes in [
            r#"{"type":"disconnect"}"#,
            r#"  { "reason" : "warning", "type" : "disconnect", "debug_info": {"host": "x"} }"#,
            r#"{"a":[1,{"type":"no"}],"b":"}\"{","type":"disconnect"}"#,
            r#"{"\u0074ype":"disc\u006fnnect"}"#,
            r#"{"type":"disconnect", then garbage"#,
            r#"{"type":"disconnect""#,
        ] {
            assert!(p.matches_text(yes), "{yes}");
        }
        for no in [
            r#"{"type":"hello"}"#,
            r#"{"kind":"disconnect"}"#,
            r#"{"inner":{"type":"disconnect"}}"#,
            r#"["type","disconnect"]"#,
            r#""type":"disconnect""#,
            r#"{"type":"hello","type":"disconnect"}"#,
            r#"{"type":{"x":"disconnect"}}"#,
            r#"{"type":"disconnect"#,
            r#"{}"#,
            "",
            "disconnect",
        ] {
            assert!(!p.matches_text(no), "{no}");
        }
    }

    #[test]
    fn json_numbers_bools_null_and_several_fields() {
        let op7 = MessagePattern::json_field("op", 7.0);
        assert!(op7.matches_text(r#"{"t":null,"s":null,"op":7,"d":null}"#));
        assert!(op7.matches_text(r#"{"op":7.0}"#));
        assert!(op7.matches_text(r#"{"op":7e0}"#));
        assert!(!op7.matches_text(r#"{"op":70}"#));
        assert!(!op7.matches_text(r#"{"op":"7"}"#));
        assert!(!op7.matches_text(r#"{"op":07}"#));
        assert!(!op7.matches_text(r#"{"op":-}"#));
        let both = MessagePattern::Json(BTreeMap::from([
            ("ok".to_string(), JsonScalar::Bool(true)),
            ("err".to_string(), JsonScalar::Null),
        ]));
        assert!(both.matches_text(r#"{"err":null,"x":[],"ok":true}"#));
        assert!(!both.matches_text(r#"{"err":null}"#));
        assert!(!both.matches_text(r#"{"err":null,"ok":false}"#));
        assert!(!both.matches_text(r#"{"err":nul,"ok":true}"#));
        let empty = MessagePattern::Json(BTreeMap::new());
        assert!(empty.matches_text("{}") && !empty.matches_text("[]"));
        let astral = MessagePattern::json_field("e", "😀");
        assert!(astral.matches_text(r#"{"e":"\ud83d\ude00"}"#));
        assert!(astral.matches_text(r#"{"e":"😀"}"#));
        assert!(!astral.matches_text(r#"{"e":"\ud83d"}"#));
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        use crate::rng::{RandomSource, SeededRandom};
        let mut rng = SeededRandom::new(5);
        let pool: &[&str] = &[
            "{", "}", "[", "]", "\"", "\\", "u", "d83d", ":", ",", "type", "op", "7", "-", ".", "e", "é", " ", "null",
            "\\u", "t",
        ];
        let ps = [disconnect(), MessagePattern::json_field("op", 7.0)];
        for _ in 0..20_000 {
            let n = rng.next_u32() % 16;
            let mut s = String::from("{");
            for _ in 0..n {
                s.push_str(pool[(rng.next_u32() as usize) % pool.len()]);
            }
            for p in &ps {
                let _ = p.matches_text(&s);
            }
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_form() {
        let p: MessagePattern = serde_json::from_str(
            r#"{"any": [{"json": {"type": "disconnect", "n": 1, "x": null}}, {"prefix": "bye"}]}"#,
        )
        .unwrap();
        assert!(p.matches_text(r#"{"x":null,"n":1,"type":"disconnect"}"#));
        assert!(p.matches_text("bye now"));
        let err = serde_json::from_str::<MessagePattern>(r#"{"regex": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("regex"), "{err}");
    }
}
