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
//!
//! The fields of a `json` pattern are a list of `(name, value)` pairs in the order given
//! (the JSON form is an object). A name listed twice must equal both values (so with two
//! different values the pattern never matches); the options reader, like a JSON map, keeps
//! the last value of a key given twice in the JSON form.

use super::msg::Message;
use crate::json::{parse_number, Scan};

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
    /// The text is a JSON object with all of these top-level fields equal to these values
    /// (`(name, value)` pairs; the JSON form is an object: `{"json": {"op": 7}}`).
    #[cfg_attr(feature = "serde", serde(with = "fields_as_map"))]
    Json(Vec<(String, JsonScalar)>),
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
        Self::Json(vec![(field.into(), value.into())])
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
fn json_fields_match(text: &str, fields: &[(String, JsonScalar)]) -> bool {
    let mut s = Scan::new(text);
    if s.eat(b'{').is_none() {
        return false;
    }
    if fields.is_empty() {
        return true;
    }
    let mut seen = 0usize;
    // Indexes (into `fields`) of the first entry of each name already decided.
    let mut decided: Vec<usize> = Vec::new();
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
        match fields.iter().position(|(name, _)| *name == *key) {
            Some(first) if !decided.contains(&first) => {
                let Some(Some(got)) = scalar(&mut s) else { return false };
                for (name, want) in &fields[first..] {
                    if *name == *key {
                        if *want != got {
                            return false;
                        }
                        seen += 1;
                    }
                }
                decided.push(first);
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

/// The JSON form of [`MessagePattern::Json`]'s fields: an object (a key given twice keeps
/// its last value, in the place of its first).
#[cfg(feature = "serde")]
mod fields_as_map {
    use super::JsonScalar;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub(super) fn serialize<S: Serializer>(fields: &[(String, JsonScalar)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(fields.len()))?;
        for (k, v) in fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, JsonScalar)>, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Vec<(String, JsonScalar)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields: Vec<(String, JsonScalar)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, JsonScalar>()? {
                    super::set_field(&mut fields, k, v);
                }
                Ok(fields)
            }
        }
        d.deserialize_map(Fields)
    }
}

/// Sets `name` to `value` in a JSON pattern's fields being read: a name given twice keeps
/// its last value (in the place of its first), as a JSON map would.
pub(crate) fn set_field(fields: &mut Vec<(String, JsonScalar)>, name: String, value: JsonScalar) {
    match fields.iter_mut().find(|(n, _)| *n == name) {
        Some(field) => field.1 = value,
        None => fields.push((name, value)),
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
        let both = MessagePattern::Json(vec![
            ("ok".to_string(), JsonScalar::Bool(true)),
            ("err".to_string(), JsonScalar::Null),
        ]);
        assert!(both.matches_text(r#"{"err":null,"x":[],"ok":true}"#));
        assert!(!both.matches_text(r#"{"err":null}"#));
        assert!(!both.matches_text(r#"{"err":null,"ok":false}"#));
        assert!(!both.matches_text(r#"{"err":nul,"ok":true}"#));
        let empty = MessagePattern::Json(Vec::new());
        assert!(empty.matches_text("{}") && !empty.matches_text("[]"));
        let astral = MessagePattern::json_field("e", "😀");
        assert!(astral.matches_text(r#"{"e":"\ud83d\ude00"}"#));
        assert!(astral.matches_text(r#"{"e":"😀"}"#));
        assert!(!astral.matches_text(r#"{"e":"\ud83d"}"#));
    }

    #[test]
    fn a_name_listed_twice_must_equal_both_values() {
        let same = MessagePattern::Json(vec![
            ("op".to_string(), JsonScalar::Number(7.0)),
            ("t".to_string(), JsonScalar::Null),
            ("op".to_string(), JsonScalar::Number(7.0)),
        ]);
        assert!(same.matches_text(r#"{"op":7,"t":null}"#));
        assert!(same.matches_text(r#"{"t":null,"op":7.0}"#));
        assert!(!same.matches_text(r#"{"op":7}"#));
        assert!(!same.matches_text(r#"{"op":8,"t":null}"#));
        let differ = MessagePattern::Json(vec![
            ("op".to_string(), JsonScalar::Number(7.0)),
            ("op".to_string(), JsonScalar::Number(8.0)),
        ]);
        assert!(!differ.matches_text(r#"{"op":7}"#));
        assert!(!differ.matches_text(r#"{"op":8}"#));
        assert!(!differ.matches_text(r#"{"op":7,"op":8}"#));
    }

    /// A peer's deeply nested value is skipped by a loop, not by recursion: no stack
    /// overflow, and the fields after it are still read.
    #[test]
    fn deep_nesting_in_a_message_is_skipped_without_recursion() {
        let p = disconnect();
        let deep = 100_000;
        let nested = format!(
            r#"{{"a":{}{},"type":"disconnect"}}"#,
            "[{\"x\":".repeat(deep),
            "1}]".repeat(deep)
        );
        assert!(p.matches_text(&nested));
        let unclosed = format!(r#"{{"a":{}"type":"disconnect"}}"#, "[".repeat(deep));
        assert!(!p.matches_text(&unclosed));
        assert!(!p.matches_text(&"{\"a\":[".repeat(deep)));
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

    /// How many top-level entries the JSON object `text` has, repeated names included.
    #[cfg(feature = "serde")]
    fn count_top_level_names(text: &str) -> usize {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
                let mut n = 0;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(n)
            }
        }
        let mut d = serde_json::Deserializer::from_str(text);
        serde::Deserializer::deserialize_map(&mut d, Count).unwrap_or(usize::MAX)
    }

    /// Mutated messages (bytes deleted, inserted, repeated) never panic the matcher, and
    /// on those that are JSON objects without a repeated top-level name its answer is the
    /// one read from serde_json's parse of the whole message.
    #[cfg(feature = "serde")]
    #[test]
    fn json_matching_agrees_with_a_full_parse_on_mutated_messages() {
        use crate::rng::{RandomSource, SeededRandom};
        use serde_json::{Map, Value};
        let messages = [
            r#"{"op":7,"d":{"heartbeat_interval":41250},"s":null,"t":null}"#,
            r#"{"type":"disconnect","reason":"warning","debug_info":{"host":"x"}}"#,
            r#"{"t":"MESSAGE_CREATE","op":0,"d":{"content":"é😀 \" \\ \u00e9\ud83d\ude00","n":[1,2.5,-3e2]}}"#,
            r#" { "ok" : true , "err" : null , "op" : 7.0 , "type" : "disc\u006fnnect" } "#,
        ];
        let patterns = [
            MessagePattern::json_field("op", 7.0),
            MessagePattern::json_field("type", "disconnect"),
            MessagePattern::Json(vec![
                ("ok".into(), JsonScalar::Bool(true)),
                ("err".into(), JsonScalar::Null),
            ]),
            MessagePattern::json_field("t", "MESSAGE_CREATE"),
            MessagePattern::json_field("s", JsonScalar::Null),
        ];
        const POOL: &[&str] = &[
            "{", "}", "[", "]", "\"", "\\", ":", ",", " ", "7", "0", ".", "e", "-", "é", "😀", "\\u", "00", "null",
            "true", "\u{1}", "op", "type",
        ];
        let expected = |p: &MessagePattern, object: &Map<String, Value>| {
            let MessagePattern::Json(fields) = p else {
                unreachable!()
            };
            fields.iter().all(|(name, want)| match (object.get(name), want) {
                (Some(Value::Null), JsonScalar::Null) => true,
                (Some(Value::Bool(a)), JsonScalar::Bool(b)) => a == b,
                (Some(Value::String(a)), JsonScalar::String(b)) => a == b,
                (Some(Value::Number(a)), JsonScalar::Number(b)) => a.as_f64() == Some(*b),
                _ => false,
            })
        };
        let mut rng = SeededRandom::new(11);
        let mut checked = 0;
        for round in 0..20_000 {
            let mut text: Vec<char> = messages[round % messages.len()].chars().collect();
            for _ in 0..1 + rng.next_u32() % 2 {
                let at = (rng.next_u32() as usize) % (text.len() + 1);
                match rng.next_u32() % 3 {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 => {
                        let end = (at + 1 + (rng.next_u32() as usize) % 8).min(text.len());
                        let copy: Vec<char> = text[at.min(end)..end].to_vec();
                        text.splice(at..at, copy);
                    }
                    _ => {
                        let piece = POOL[(rng.next_u32() as usize) % POOL.len()];
                        text.splice(at..at, piece.chars());
                    }
                }
            }
            let text: String = text.into_iter().collect();
            let matched: Vec<bool> = patterns.iter().map(|p| p.matches_text(&text)).collect();
            // A full parse that also counts the top-level names (a repeated one: skipped).
            let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if object.len() != count_top_level_names(&text) {
                continue;
            }
            checked += 1;
            for (p, got) in patterns.iter().zip(matched) {
                assert_eq!(got, expected(p, &object), "{p:?} on {text}");
            }
        }
        assert!(checked > 2_000, "{checked}");
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
        let last = serde_json::from_str::<MessagePattern>(r#"{"json": {"op": 7, "t": 1, "op": 8}}"#).unwrap();
        assert_eq!(
            last,
            MessagePattern::Json(vec![
                ("op".into(), JsonScalar::Number(8.0)),
                ("t".into(), JsonScalar::Number(1.0))
            ])
        );
        assert_eq!(serde_json::to_string(&last).unwrap(), r#"{"json":{"op":8.0,"t":1.0}}"#);
        let err = serde_json::from_str::<MessagePattern>(r#"{"regex": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("regex"), "{err}");
    }
}
