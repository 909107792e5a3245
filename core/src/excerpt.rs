//! Peer data in errors, causes and close reasons: its kind, its length and at most a short
//! prefix, never the whole of it. A hostile peer must not be able to make us allocate (or
//! log) in proportion to what it sent: `Debug` of an 8 MiB text of U+0001 is 48 MiB.

use crate::message::Message;

/// Most bytes of peer data quoted, and most bytes of the quote once escaped (a close
/// reason's limit).
pub(crate) const MAX_QUOTE: usize = 123;

/// `"<prefix>"… (<len> bytes)`: the escaped prefix of `data` (lossy UTF-8), cut to
/// [`MAX_QUOTE`] bytes before and after escaping.
pub(crate) fn quote(data: &[u8]) -> String {
    let head = &data[..data.len().min(MAX_QUOTE)];
    let lossy = String::from_utf8_lossy(head);
    let escaped: String = lossy.escape_debug().collect();
    let cut = crate::utf8::truncate(&escaped, MAX_QUOTE);
    let more = if cut.len() < escaped.len() || head.len() < data.len() {
        "…"
    } else {
        ""
    };
    format!("\"{cut}\"{more} ({} bytes)", data.len())
}

/// `text message "<prefix>"… (<len> bytes)` or the same for binary.
pub(crate) fn message(m: &Message) -> String {
    let kind = match m {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
    };
    format!("{kind} message {}", quote(m.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_whatever_the_input() {
        assert_eq!(quote(b"hi"), "\"hi\" (2 bytes)");
        let hostile = "\u{1}".repeat(8 << 20);
        let q = message(&Message::text(hostile.clone()));
        assert!(q.len() < 200, "{} bytes", q.len());
        assert!(q.starts_with("text message \"\\u{1}") && q.ends_with(&format!("… ({} bytes)", 8 << 20)));
        let q = quote(&[0xff; 1000]);
        assert!(q.len() < 200 && q.ends_with("(1000 bytes)"));
        let q = message(&Message::text("é".repeat(100)));
        assert!(q.len() < 200 && q.contains("(200 bytes)"));
    }
}
