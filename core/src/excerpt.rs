//! Peer data in errors, causes and close reasons: its kind, its length and at most a short
//! prefix, never the whole of it. A hostile peer must not be able to make us allocate (or
//! log) in proportion to what it sent: `Debug` of an 8 MiB text of U+0001 is 48 MiB.

use crate::message::Message;

/// Most bytes of peer data quoted, and most bytes of the quote once escaped (a close
/// reason's limit).
pub(crate) const MAX_QUOTE: usize = 123;

/// `"<prefix>"… (<len> bytes)`: the escaped prefix of `data`, cut to [`MAX_QUOTE`] bytes
/// before and after escaping. Escaped as Rust's `Debug` of a string would (`\"`, `\\`,
/// `\n`, `\r`, `\t`, `\0`, `\u{1}`) for quotes, backslashes and the characters that
/// could disturb a log line: C0 and C1 controls, DEL, line and paragraph separators,
/// bidirectional and other invisible format characters; bytes that are not UTF-8 become
/// U+FFFD (a character the prefix cuts in two is left out, not replaced). Other
/// characters are kept as they are (no Unicode tables needed).
pub(crate) fn quote(data: &[u8]) -> String {
    let head = &data[..data.len().min(MAX_QUOTE)];
    let mut out = String::from("\"");
    let mut cut = head.len() < data.len();
    let mut rest = head;
    'all: while !rest.is_empty() {
        let (valid, used, replacement) = match std::str::from_utf8(rest) {
            Ok(s) => (s, rest.len(), None),
            Err(e) => {
                let n = e.valid_up_to();
                let valid = std::str::from_utf8(&rest[..n]).unwrap_or_default();
                match e.error_len() {
                    Some(bad) => (valid, n + bad, Some('\u{FFFD}')),
                    // The prefix ends inside a character the data goes on with: left out.
                    None if cut => (valid, rest.len(), None),
                    // The data itself ends inside a character.
                    None => (valid, rest.len(), Some('\u{FFFD}')),
                }
            }
        };
        for c in valid.chars().chain(replacement) {
            let mut buf = [0u8; 10];
            let piece: &str = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                '\u{1}'..='\u{1f}'
                | '\u{7f}'..='\u{9f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}' => escape_unicode(c, &mut buf),
                c => c.encode_utf8(&mut buf),
            };
            // The quote's content (after the opening `"`) stays within MAX_QUOTE bytes.
            if out.len() - 1 + piece.len() > MAX_QUOTE {
                cut = true;
                break 'all;
            }
            out.push_str(piece);
        }
        rest = &rest[used..];
    }
    out.push('"');
    if cut {
        out.push('…');
    }
    out.push_str(" (");
    push_decimal(&mut out, data.len());
    out.push_str(" bytes)");
    out
}

/// `\u{hex}` (lowercase, no leading zeros) in `buf`.
fn escape_unicode(c: char, buf: &mut [u8; 10]) -> &str {
    let code = u32::from(c);
    let digits = (32 - code.leading_zeros()).div_ceil(4).max(1) as usize;
    buf[..3].copy_from_slice(b"\\u{");
    for i in 0..digits {
        let nibble = (code >> (4 * (digits - 1 - i))) & 0xf;
        buf[3 + i] = b"0123456789abcdef"[nibble as usize];
    }
    buf[3 + digits] = b'}';
    std::str::from_utf8(&buf[..4 + digits]).unwrap_or_default()
}

/// `n` in decimal.
pub(crate) fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}

/// `text message "<prefix>"… (<len> bytes)` or the same for binary.
pub(crate) fn message(m: &Message) -> String {
    let kind = match m {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
    };
    let mut out = String::from(kind);
    out.push_str(" message ");
    out.push_str(&quote(m.as_bytes()));
    out
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
        assert_eq!(quote(b""), "\"\" (0 bytes)");
    }

    #[test]
    fn escapes_as_debug_does_for_what_could_disturb_a_log() {
        for text in [
            "plain text",
            "quote \" backslash \\ nl \n cr \r tab \t nul \0",
            "\u{1}\u{1f}\u{7f}\u{85}\u{9f}",
            "line\u{2028}para\u{2029}rtl\u{202e}bom\u{feff}zw\u{200b}",
            "é ü 😀 中文",
        ] {
            assert_eq!(
                quote(text.as_bytes()),
                format!("{text:?} ({} bytes)", text.len()),
                "{text}"
            );
        }
        assert_eq!(
            quote(b"a\xffb\xe2\x82"),
            "\"a\u{fffd}b\u{fffd}\" (5 bytes)".replace("\\u{fffd}", "\u{FFFD}")
        );
        let long = "x".repeat(200);
        assert_eq!(
            quote(long.as_bytes()),
            format!("\"{}\"… (200 bytes)", &long[..MAX_QUOTE])
        );
        // A valid character cut by the MAX_QUOTE-byte prefix is left out, not shown as
        // U+FFFD (the data is valid UTF-8; only the excerpt ends inside a character).
        let emoji = format!("{}😀tail", "a".repeat(MAX_QUOTE - 3));
        assert_eq!(
            quote(emoji.as_bytes()),
            format!("\"{}\"… ({} bytes)", "a".repeat(MAX_QUOTE - 3), emoji.len())
        );
        // Bytes that are not UTF-8 at the very end of the data still show as U+FFFD.
        assert_eq!(quote(b"ab\xf0\x9f\x98"), "\"ab\u{FFFD}\" (5 bytes)");
        let escapes = "\n".repeat(100);
        let q = quote(escapes.as_bytes());
        assert_eq!(q, format!("\"{}\"… (100 bytes)", "\\n".repeat(MAX_QUOTE / 2)));
    }
}
