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
use crate::json::{parse_number, Scan};
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
    let mut s = Scan::new(text);
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
                match scalar(&mut s) {
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

/// A scalar at the cursor (`Some(None)` for an object or array, skipped).
pub(crate) fn scalar(s: &mut Scan<'_>) -> Option<Option<JsonScalar>> {
    s.ws();
    let v = match s.peek()? {
        b'"' => JsonScalar::String(s.string()?.into_owned()),
        b'{' | b'[' => return s.skip_value().map(|()| None),
        _ if s.word(b"true") => JsonScalar::Bool(true),
        _ if s.word(b"false") => JsonScalar::Bool(false),
        _ if s.word(b"null") => JsonScalar::Null,
        _ => JsonScalar::Number(parse_number(s.number()?)),
    };
    Some(Some(v))
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
