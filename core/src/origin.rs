//! An `Origin` allow-list for the server role.
//!
//! Browsers attach cookies (and other ambient credentials) to a WebSocket upgrade made by
//! *any* page, and the same-origin policy does not stop a cross-site page from opening a
//! WebSocket (cross-site WebSocket hijacking). A server that authenticates upgrades with
//! cookies must therefore check the request's `Origin` header, which browsers always send
//! and page scripts cannot forge. Non-browser clients can send anything (or nothing), so
//! the check protects browser users; it is not an authentication of the client.
//!
//! Use it on [`Event::Request`](crate::Event::Request), before
//! [`Connection::accept`](crate::Connection::accept):
//!
//! ```
//! use steadysock::OriginPolicy;
//! let policy = OriginPolicy::new(["https://app.example.com", "https://example.com:8443"]);
//! let headers = vec![("Origin".to_string(), "https://APP.example.com:443".to_string())];
//! assert!(policy.check_headers(&headers).is_ok());
//! let evil = vec![("Origin".to_string(), "https://evil.example".to_string())];
//! assert!(policy.check_headers(&evil).is_err()); // reject(403, ..) instead of accept
//! ```
//!
//! Comparison is of the serialised origin (`scheme://host[:port]`), case-insensitive,
//! with the scheme's default port (80 for `http`/`ws`, 443 for `https`/`wss`) removed on
//! both sides. A request with several `Origin` headers is refused. A request without one
//! (a non-browser client) is allowed by default; [`OriginPolicy::require_origin`] refuses
//! it too.

use crate::handshake::{Header, Request};
use std::fmt;

/// Origins a server accepts WebSocket upgrades from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    allowed: Vec<String>,
    allow_missing: bool,
}

/// Why [`OriginPolicy`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRejected {
    /// No `Origin` header, and the policy requires one.
    Missing,
    /// More than one `Origin` header.
    Multiple,
    /// An origin not on the list: its first bytes (at most 123) and its length.
    NotAllowed {
        /// At most the first 123 bytes of the origin, cut at a character boundary.
        prefix: String,
        /// Its full length in bytes.
        len: usize,
    },
}

impl fmt::Display for OriginRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no Origin header"),
            Self::Multiple => f.write_str("more than one Origin header"),
            Self::NotAllowed { prefix, len } => write!(f, "origin not allowed: {prefix:?} ({len} bytes)"),
        }
    }
}

impl std::error::Error for OriginRejected {}

impl OriginPolicy {
    /// Allows exactly these origins (`scheme://host[:port]`, e.g.
    /// `https://app.example.com`), and requests without an `Origin` header.
    pub fn new<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            allowed: origins.into_iter().map(|o| normalise(o.as_ref())).collect(),
            allow_missing: true,
        }
    }

    /// Refuses requests without an `Origin` header too (only browsers will get in).
    pub fn require_origin(mut self) -> Self {
        self.allow_missing = false;
        self
    }

    /// Whether `origin` (the header's value, `None` if absent) is allowed.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match origin {
            None => self.allow_missing,
            Some(o) => {
                let o = normalise(o);
                self.allowed.contains(&o)
            }
        }
    }

    /// Checks the `Origin` header(s) among `headers`.
    pub fn check_headers(&self, headers: &[Header]) -> Result<(), OriginRejected> {
        let mut origins = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("origin"))
            .map(|(_, v)| v.as_str());
        let origin = origins.next();
        if origins.next().is_some() {
            return Err(OriginRejected::Multiple);
        }
        match origin {
            None if self.allow_missing => Ok(()),
            None => Err(OriginRejected::Missing),
            Some(o) if self.allows(Some(o)) => Ok(()),
            Some(o) => Err(OriginRejected::NotAllowed {
                prefix: crate::utf8::truncate(o, 123).to_string(),
                len: o.len(),
            }),
        }
    }

    /// Checks an upgrade request (see [`check_headers`](Self::check_headers)).
    pub fn check(&self, request: &Request) -> Result<(), OriginRejected> {
        self.check_headers(&request.headers)
    }
}

/// Lower case, trimmed, no trailing `/`, no default port.
fn normalise(origin: &str) -> String {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let default_port = match o.split_once("://").map(|(scheme, _)| scheme) {
        Some("http" | "ws") => ":80",
        Some("https" | "wss") => ":443",
        _ => return o,
    };
    match o.strip_suffix(default_port) {
        // Not an IPv6 literal's last group (those end in `]` before the port).
        Some(rest) if !rest.ends_with(':') => rest.to_string(),
        _ => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(values: &[&str]) -> Vec<Header> {
        values.iter().map(|v| ("origin".to_string(), v.to_string())).collect()
    }

    #[test]
    fn allows_listed_origins_only() {
        let p = OriginPolicy::new([
            "https://app.example.com",
            "http://localhost:3000",
            "https://[::1]:8443/",
        ]);
        for ok in [
            "https://app.example.com",
            "HTTPS://App.Example.COM",
            "https://app.example.com:443",
            "https://app.example.com/",
            " http://localhost:3000 ",
            "https://[::1]:8443",
        ] {
            assert_eq!(p.check_headers(&h(&[ok])), Ok(()), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "http://app.example.com",
            "https://app.example.com:8443",
            "https://app.example.com.evil.example",
            "https://sub.app.example.com",
            "null",
            "",
            "http://localhost:3001",
        ] {
            assert!(
                matches!(p.check_headers(&h(&[bad])), Err(OriginRejected::NotAllowed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn missing_multiple_and_bounded_errors() {
        let p = OriginPolicy::new(["https://a.example"]);
        assert_eq!(p.check_headers(&[]), Ok(()), "non-browser clients send none");
        assert_eq!(
            p.clone().require_origin().check_headers(&[]),
            Err(OriginRejected::Missing)
        );
        assert_eq!(
            p.check_headers(&h(&["https://a.example", "https://evil.example"])),
            Err(OriginRejected::Multiple)
        );
        let long = format!("https://{}.example", "é".repeat(10_000));
        let Err(OriginRejected::NotAllowed { prefix, len }) = p.check_headers(&h(&[&long])) else {
            panic!("not refused")
        };
        assert!(prefix.len() <= 123 && long.starts_with(&prefix));
        assert_eq!(len, long.len());
        assert!(p.allows(Some("https://a.example:443")) && !p.allows(Some("https://b.example")));
        let request = Request {
            path: "/".into(),
            headers: vec![("Origin".into(), "https://a.example".into())],
            subprotocols: vec![],
            key: String::new(),
        };
        assert_eq!(p.check(&request), Ok(()));
    }
}
