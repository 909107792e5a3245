//! Incremental UTF-8 validation.
//!
//! A text message may arrive in many fragments, and a fragment in many reads. The
//! validator remembers how much of the growing buffer is already known to be valid and
//! checks only what is new, so a bad byte fails the connection (1007) as soon as it
//! arrives — not when the message ends — and the total cost stays linear. A sequence
//! cut at the end of the bytes seen so far is not an error until the message ends.

/// Validation progress over one growing message buffer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Utf8Validator {
    /// Length of the prefix already known to be complete, valid UTF-8.
    valid_up_to: usize,
}

/// The bytes can never become valid UTF-8, whatever follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    /// Checks the part of `buf` not yet validated. `buf` must be the same buffer, grown.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(), InvalidUtf8> {
        let start = self.valid_up_to.min(buf.len());
        match simdutf8::compat::from_utf8(&buf[start..]) {
            Ok(_) => {
                self.valid_up_to = buf.len();
                Ok(())
            }
            Err(e) if e.error_len().is_none() => {
                // A sequence cut short by the end of the input: may complete later.
                self.valid_up_to = start + e.valid_up_to();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Whether the whole of `buf` (as last fed) is complete UTF-8.
    pub fn is_complete(&self, buf: &[u8]) -> bool {
        self.valid_up_to == buf.len()
    }

    /// Starts over, for the next message.
    pub fn reset(&mut self) {
        self.valid_up_to = 0;
    }
}

/// The longest prefix of `s` that fits in `max` bytes without cutting a character
/// (close reasons are limited to 123 bytes on the wire).
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `data` one byte at a time: (no byte was invalid, the whole is complete).
    fn feed_bytewise(data: &[u8]) -> (bool, bool) {
        let mut v = Utf8Validator::default();
        let mut buf = Vec::new();
        for &b in data {
            buf.push(b);
            if v.feed(&buf).is_err() {
                return (false, false);
            }
        }
        (true, v.is_complete(&buf))
    }

    #[test]
    fn valid_text_split_anywhere_is_accepted() {
        let s = "κόσμε, hello, 𝄞 music, ẞ";
        assert_eq!(feed_bytewise(s.as_bytes()), (true, true));
    }

    #[test]
    fn truncated_sequence_is_incomplete_not_invalid() {
        let bytes = "𝄞".as_bytes();
        assert_eq!(feed_bytewise(&bytes[..3]), (true, false));
    }

    #[test]
    fn fails_fast_on_first_impossible_byte() {
        // ED A0 80 is a surrogate (U+D800): invalid at its second byte already.
        let mut v = Utf8Validator::default();
        assert!(v.feed(&[0xce, 0xba, 0xed]).is_ok());
        assert_eq!(v.feed(&[0xce, 0xba, 0xed, 0xa0]), Err(InvalidUtf8));
        // F4 90 is above U+10FFFF: invalid before the sequence is complete.
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(&[0xf4, 0x90]), Err(InvalidUtf8));
        // Overlong encoding of '/'.
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(&[0xc0, 0xaf]), Err(InvalidUtf8));
        // A lone continuation byte.
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(&[0x80]), Err(InvalidUtf8));
    }

    #[test]
    fn truncate_never_cuts_a_character() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("𝄞", 3), "");
    }

    #[test]
    fn reset_starts_a_new_message() {
        let mut v = Utf8Validator::default();
        v.feed(b"abc").unwrap();
        v.reset();
        assert!(v.feed(&[0xe2]).is_ok());
        assert!(!v.is_complete(&[0xe2]));
    }
}
