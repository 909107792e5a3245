//! The core's one small JSON reader: a cursor over JSON text ([`Scan`]) used by the
//! message patterns (reading a received message only as far as a pattern needs) and by
//! the session options reader (`SessionOptions::from_json`), and the one number parser
//! both use ([`parse_number`]), so a number in an option and the same number in a message
//! always compare equal. No serde, no float-parsing tables: the browser build carries
//! only this.

use std::borrow::Cow;

/// Powers of ten that an `f64` holds exactly (10^0 ..= 10^22).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The value of a JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, already
/// checked by [`Scan::number`]).
///
/// Exact (the nearest `f64`, as `str::parse` gives) on Clinger's fast path: at most 19
/// significant digits whose integer (the mantissa) is at most 2^53, and a decimal
/// exponent of at most 22 in size, so one correctly rounded multiplication or division by
/// an exactly representable power of ten gives the result. That covers every option and
/// every number a pattern is likely to name (`7`, `1.3`, `4004`, `-2.5e3`). Otherwise
/// (more digits: the 20th and later are dropped; a larger mantissa or exponent) it is
/// mantissa × 10^exponent in `f64` arithmetic, which may be one or a few ulps away from
/// the nearest value. Both sides of a pattern comparison go through this function, so
/// equal texts always compare equal.
pub(crate) fn parse_number(text: &str) -> f64 {
    let b = text.as_bytes();
    let mut i = 0;
    let negative = b.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let (mut mantissa, mut digits, mut exp) = (0u64, 0u32, 0i64);
    let mut fraction = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                if digits < 19 {
                    mantissa = mantissa * 10 + u64::from(c - b'0');
                    if mantissa > 0 {
                        digits += 1;
                    }
                    exp -= i64::from(fraction);
                } else if !fraction {
                    exp += 1;
                }
            }
            b'.' => fraction = true,
            _ => break,
        }
        i += 1;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let sign = match b.get(i) {
            Some(b'-') => {
                i += 1;
                -1
            }
            Some(b'+') => {
                i += 1;
                1
            }
            _ => 1,
        };
        let mut e = 0i64;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            // Saturates far beyond any f64 (see the clamp below) and beyond the number of
            // digits any text can have, so the digits' own offset (`0.000…1e…`) still
            // counts whatever the size of both.
            e = e.saturating_mul(10).saturating_add(i64::from(c - b'0'));
            i += 1;
        }
        exp = exp.saturating_add(sign * e);
    }
    // Beyond ±400 the result is 0 or infinite for every 19-digit mantissa.
    let mut e = exp.clamp(-400, 400) as i32;
    let mut v = mantissa as f64;
    if mantissa != 0 {
        while e > 22 {
            v *= 1e22;
            e -= 22;
        }
        while e < -22 {
            v /= 1e22;
            e += 22;
        }
        let p = POW10[e.unsigned_abs() as usize];
        v = if e < 0 { v / p } else { v * p };
    }
    if negative {
        -v
    } else {
        v
    }
}

/// A cursor over JSON text.
pub(crate) struct Scan<'a> {
    pub(crate) b: &'a [u8],
    text: &'a str,
    pub(crate) i: usize,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            b: text.as_bytes(),
            text,
            i: 0,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub(crate) fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Skips whitespace, then `c` if it is next.
    pub(crate) fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// `word` (a literal such as `null`) if it is at the cursor.
    pub(crate) fn word(&mut self, word: &[u8]) -> bool {
        let found = self.b.get(self.i..self.i + word.len()) == Some(word);
        if found {
            self.i += word.len();
        }
        found
    }

    /// A string at the cursor, unescaped (borrowed when it has no escapes).
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
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
        let mut v = 0;
        for _ in 0..4 {
            let d = char::from(self.peek()?).to_digit(16)?;
            v = v * 16 + d;
            self.i += 1;
        }
        Some(v)
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
    pub(crate) fn skip_value(&mut self) -> Option<()> {
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

    /// A number in JSON's grammar at the cursor: its text (for [`parse_number`], or an
    /// integer reading).
    pub(crate) fn number(&mut self) -> Option<&'a str> {
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
        Some(&self.text[start..self.i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> f64 {
        let mut s = Scan::new(text);
        let t = s.number().unwrap();
        assert_eq!(t.len(), text.len(), "{text}");
        parse_number(t)
    }

    #[test]
    fn fast_path_numbers_are_exact() {
        for text in [
            "0",
            "-0",
            "7",
            "7.0",
            "7e0",
            "1.3",
            "0.1",
            "-2.5e3",
            "4004",
            "1e22",
            "1e-22",
            "123456789.125",
            "0.000001",
            "9007199254740992",
            "3.14159",
            "1E5",
            "1e+5",
            "1.5e-7",
        ] {
            assert_eq!(num(text), text.parse::<f64>().unwrap(), "{text}");
        }
    }

    /// The fast path's promise on random numbers: a mantissa up to 2^53 and a decimal
    /// exponent within ±22, written with the point anywhere, read as `str::parse` does.
    #[test]
    fn fast_path_is_exact_on_random_numbers() {
        use crate::rng::{RandomSource, SeededRandom};
        let mut rng = SeededRandom::new(3);
        for _ in 0..50_000 {
            let mantissa = (rng.next_u64() % ((1 << 53) + 1)) >> (rng.next_u32() % 53);
            let digits = mantissa.to_string();
            let exp = (rng.next_u32() % 45) as i32 - 22;
            let point = (rng.next_u32() as usize) % (digits.len() + 1);
            let (int, frac) = digits.split_at(point);
            let int = if int.is_empty() { "0" } else { int };
            let dot = if frac.is_empty() { "" } else { "." };
            let text = format!("{int}{dot}{frac}e{}", exp + frac.len() as i32);
            assert_eq!(num(&text), text.parse::<f64>().unwrap(), "{text}");
        }
    }

    #[test]
    fn other_numbers_are_close() {
        for text in [
            "12345678901234567890123",
            "1.7976931348623157e308",
            "0.0000000000000000000000000001",
            "1e400",
            "-1e400",
            "1e-400",
            "123456789012345678.9e-30",
            "0.1234567890123456789012345",
            "1e99999999999999999999",
            "0.30000000000000004",
        ] {
            let (got, want) = (num(text), text.parse::<f64>().unwrap());
            let close = got == want || ((got - want) / want).abs() < 1e-15;
            assert!(close, "{text}: {got} vs {want}");
        }
    }

    #[test]
    fn a_long_fraction_offsets_a_large_exponent() {
        // 0.000…01e1100001 is 1: the exponent is larger than any f64's, but so is the
        // number of leading zeros it makes up for.
        let zeros = "0".repeat(1_100_000);
        for (text, want) in [
            (format!("0.{zeros}1e1100001"), 1.0),
            (format!("0.{zeros}25e1100001"), 2.5),
            (format!("1{zeros}e-1100000"), 1.0),
        ] {
            // (str::parse caps the written exponent at 65 536, and says 0 or inf here.)
            assert_eq!(num(&text), want, "{}…", &text[..20]);
        }
    }

    #[test]
    fn number_grammar() {
        for bad in ["-", "07", "1.", ".5", "1e", "1e+", "+1", "x"] {
            let mut s = Scan::new(bad);
            assert!(s.number().is_none_or(|t| t.len() < bad.len()), "{bad}");
        }
    }
}
