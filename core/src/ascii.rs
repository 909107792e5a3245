//! Text cut at an ASCII separator byte (`' '`, `':'`, `'&'`, …): what `str::split` and
//! `str::split_once` with a `char` do for such a separator, as a plain byte scan. The
//! texts cut here are short (an envelope header, a header line, a URL), and the browser
//! build then carries no `char` pattern searcher (and no `memchr`) for them.

/// `s` cut at the first `sep` (an ASCII byte): the text before it and the text after it,
/// or `None` without one. `str::split_once(sep as char)`.
pub(crate) fn cut(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let i = s.bytes().position(|b| b == sep)?;
    // An ASCII byte is a whole character: both sides are on character boundaries.
    Some((&s[..i], &s[i + 1..]))
}

/// The value of `s` if it is only ASCII digits (at least one) and fits in a `u64`: what
/// `str::parse::<u64>` gives for such a text, without its sign handling.
pub(crate) fn digits_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, c| {
        n.checked_mul(10)?
            .checked_add(u64::from(c.checked_sub(b'0').filter(|&d| d < 10)?))
    })
}

/// The pieces of `s` between `sep`s (an ASCII byte), empty ones included: the same
/// pieces as `str::split(sep as char)`.
pub(crate) fn split(s: &str, sep: u8) -> Split<'_> {
    Split { rest: Some(s), sep }
}

/// See [`split`].
pub(crate) struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        Some(match cut(s, self.sep) {
            Some((piece, rest)) => {
                self.rest = Some(rest);
                piece
            }
            None => {
                self.rest = None;
                s
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_as_str_parse() {
        for s in [
            "0",
            "7",
            "0042",
            "18446744073709551615",
            "18446744073709551616",
            "",
            "+1",
            "-1",
            "1 ",
            "1a",
            "٣",
        ] {
            let want = if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<u64>().ok()
            } else {
                None
            };
            assert_eq!(digits_u64(s), want, "{s:?}");
        }
    }

    #[test]
    fn same_pieces_as_str_split() {
        for s in [
            "",
            " ",
            "a",
            "a b",
            " a  b ",
            "ss2 msg 12",
            "é b:é",
            "a:b:c",
            "::",
            "x&y=1&&z",
        ] {
            for sep in [b' ', b':', b'&', b'='] {
                let want: Vec<&str> = s.split(sep as char).collect();
                assert_eq!(split(s, sep).collect::<Vec<_>>(), want, "{s:?} at {:?}", sep as char);
                assert_eq!(cut(s, sep), s.split_once(sep as char), "{s:?} at {:?}", sep as char);
            }
        }
    }
}
