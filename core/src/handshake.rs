//! The opening handshake (RFC 6455 §4): URL parsing, the client's upgrade request and
//! its validation of the response, the server's parsing of the request and its answer.
//!
//! All functions here are pure: they build bytes or judge bytes. The connection owns
//! the buffering and decides when a head is complete.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::{Digest, Sha1};
use std::fmt;

/// The GUID that RFC 6455 appends to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// How many headers a handshake head may carry.
const MAX_HEADERS: usize = 64;

/// A header as a (name, value) pair, in the order received or to be sent.
pub type Header = (String, String);

/// Why a handshake did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The server answered with something other than `101 Switching Protocols`.
    Rejected(HttpResponse),
    /// The server's 101 response broke RFC 6455 (wrong accept key, missing header …).
    InvalidResponse(String),
    /// The client's request broke RFC 6455; the server answered with `status`.
    InvalidRequest { status: u16, reason: String },
    /// The head grew past the configured limit without ending.
    TooLarge,
    /// The transport ended before the handshake did.
    ConnectionClosed,
    /// The handshake did not finish within the configured time.
    Timeout,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(r) => write!(f, "server rejected the upgrade with HTTP {}", r.status),
            Self::InvalidResponse(why) => write!(f, "invalid handshake response: {why}"),
            Self::InvalidRequest { status, reason } => write!(f, "invalid handshake request ({status}): {reason}"),
            Self::TooLarge => f.write_str("handshake head too large"),
            Self::ConnectionClosed => f.write_str("connection closed during the handshake"),
            Self::Timeout => f.write_str("handshake timed out"),
        }
    }
}

/// An HTTP response that was not an upgrade, kept whole for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code, e.g. 401.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<Header>,
    /// Body bytes (as much as arrived, up to the handshake size limit).
    pub body: Vec<u8>,
}

/// A parsed `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss`: the host must wrap the transport in TLS.
    pub secure: bool,
    /// Host name or IP literal, without brackets.
    pub host: String,
    /// Port, defaulted from the scheme.
    pub port: u16,
    /// Path and query, e.g. `/chat?room=1`; at least `/`.
    pub resource: String,
}

impl WsUrl {
    /// Parses `ws://host[:port][/path][?query]` (or `wss://`). Fragments are refused
    /// (RFC 6455 §3), and so are user-info and anything that is not a WebSocket scheme.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (secure, rest) = if let Some(r) = strip_prefix_ci(url, "ws://") {
            (false, r)
        } else if let Some(r) = strip_prefix_ci(url, "wss://") {
            (true, r)
        } else {
            return Err(format!("not a ws:// or wss:// URL: {url:?}"));
        };
        if url.contains('#') {
            return Err("a WebSocket URL must not have a fragment".into());
        }
        if url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err("URL contains spaces or control characters".into());
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err("user info in WebSocket URLs is not supported".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or("unclosed '[' in host")?;
            let host = &v6[..end];
            let after = &v6[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err("garbage after IPv6 host".into()),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err("URL has no host".into());
        }
        let bracketed = authority.starts_with('[');
        let host_ok = if bracketed {
            // An IPv6 literal: hex digits, colons, and dots for an embedded IPv4.
            host.contains(':') && host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        } else {
            // A registered name or IPv4 address (RFC 3986 reg-name).
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b))
        };
        if !host_ok {
            return Err(format!("invalid host {host:?}"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| format!("invalid port {p:?}"))?,
            None if secure => 443,
            None => 80,
        };
        let resource = if resource.is_empty() {
            "/".to_string()
        } else if resource.starts_with('?') {
            format!("/{resource}")
        } else {
            resource.to_string()
        };
        Ok(Self {
            secure,
            host: host.to_ascii_lowercase(),
            port,
            resource,
        })
    }

    /// The value for the `Host` header: the port only when it is not the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// `Sec-WebSocket-Accept` for a given `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    BASE64.encode(h.finalize())
}

/// A fresh `Sec-WebSocket-Key` from 16 random bytes.
pub fn new_key(random: [u8; 16]) -> String {
    BASE64.encode(random)
}

/// Refuses header names and values that could smuggle a line into the head.
pub fn check_header(name: &str, value: &str) -> Result<(), String> {
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    let value_ok = value.bytes().all(|b| b != b'\r' && b != b'\n' && b != 0);
    if name_ok && value_ok {
        Ok(())
    } else {
        Err(format!("invalid header {name:?}"))
    }
}

/// Whether a `Connection` header value carries the `upgrade` token (RFC 6455 §4.1).
pub fn has_upgrade_token(value: &str) -> bool {
    value.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// The client's upgrade request.
///
/// Two of the request's own headers can be overridden by `headers` (websocket-client's
/// `host`, `suppress_host` and `connection` options): a `Host` header replaces the one made
/// from the URL (an empty value sends none), a `Connection` header replaces `Upgrade`
/// ([`Connection::client`](crate::Connection::client) refuses one without the `upgrade`
/// token). Other headers follow the request's own, in order.
pub fn client_request(
    url: &WsUrl,
    key: &str,
    subprotocols: &[String],
    extensions: Option<&str>,
    headers: &[Header],
) -> String {
    let host = header_value(headers, "host").map_or_else(|| url.host_header(), str::to_string);
    let connection = header_value(headers, "connection").unwrap_or("Upgrade");
    let mut req = format!("GET {} HTTP/1.1\r\n", url.resource);
    if !host.is_empty() {
        req.push_str(&format!("Host: {host}\r\n"));
    }
    req.push_str(&format!(
        "Upgrade: websocket\r\nConnection: {connection}\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    ));
    if !subprotocols.is_empty() {
        req.push_str(&format!("Sec-WebSocket-Protocol: {}\r\n", subprotocols.join(", ")));
    }
    if let Some(ext) = extensions {
        req.push_str(&format!("Sec-WebSocket-Extensions: {ext}\r\n"));
    }
    for (n, v) in headers {
        if !n.eq_ignore_ascii_case("host") && !n.eq_ignore_ascii_case("connection") {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    req.push_str("\r\n");
    req
}

/// Where the end of an HTTP head is (`\r\n\r\n`), as the length of the head.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn collect_headers(headers: &[httparse::Header<'_>]) -> Vec<Header> {
    headers
        .iter()
        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
        .collect()
}

/// The first value of header `name` (case-insensitive).
pub fn header_value<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Comma-separated tokens of every header called `name`, trimmed.
pub fn header_tokens<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The raw values of every header called `name`.
pub fn header_tokens_raw<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    header_tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// A response head parsed from a complete head.
#[derive(Debug)]
pub struct ResponseHead {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<Header>,
}

/// Parses a complete response head (`head` ends with the blank line).
pub fn parse_response(head: &[u8]) -> Result<ResponseHead, HandshakeError> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hs);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(ResponseHead {
            status: resp.code.unwrap_or(0),
            headers: collect_headers(resp.headers),
        }),
        Ok(httparse::Status::Partial) => Err(HandshakeError::InvalidResponse("incomplete response head".into())),
        Err(e) => Err(HandshakeError::InvalidResponse(format!("malformed response head: {e}"))),
    }
}

/// What a valid 101 response agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreed {
    /// The subprotocol the server chose, if any.
    pub subprotocol: Option<String>,
    /// The raw `Sec-WebSocket-Extensions` value, if any.
    pub extensions: Option<String>,
}

/// Validates a 101 response against what the client asked for.
pub fn validate_response(head: &ResponseHead, key: &str, offered: &[String]) -> Result<Agreed, HandshakeError> {
    let bad = |why: &str| Err(HandshakeError::InvalidResponse(why.to_string()));
    if !has_token(&head.headers, "upgrade", "websocket") {
        return bad("missing 'Upgrade: websocket'");
    }
    if !has_token(&head.headers, "connection", "upgrade") {
        return bad("missing 'Connection: Upgrade'");
    }
    match header_value(&head.headers, "sec-websocket-accept") {
        Some(v) if v.trim() == accept_key(key) => {}
        Some(_) => return bad("Sec-WebSocket-Accept does not match the key"),
        None => return bad("missing Sec-WebSocket-Accept"),
    }
    let subprotocol = match header_value(&head.headers, "sec-websocket-protocol") {
        Some(p) => {
            let p = p.trim();
            if !offered.iter().any(|o| o == p) {
                return bad("server chose a subprotocol the client did not offer");
            }
            Some(p.to_string())
        }
        None => None,
    };
    let extensions: Vec<&str> = header_tokens(&head.headers, "sec-websocket-extensions").collect();
    let extensions = if extensions.is_empty() {
        None
    } else {
        Some(extensions.join(", "))
    };
    Ok(Agreed {
        subprotocol,
        extensions,
    })
}

/// A valid upgrade request, as the server saw it. `Debug` hides credentials (see
/// [`is_sensitive`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Request target: path and query.
    pub path: String,
    /// All headers as received.
    pub headers: Vec<Header>,
    /// Subprotocols the client offered, in its order of preference.
    pub subprotocols: Vec<String>,
    /// The client's `Sec-WebSocket-Key`.
    pub key: String,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("path", &redact_query(&self.path))
            .field("headers", &redact_headers(&self.headers))
            .field("subprotocols", &self.subprotocols)
            .field("key", &self.key)
            .finish()
    }
}

// The credential redaction lives in `crate::redact` (the Session's `Debug` output needs it
// without the byte transport too).
pub use crate::redact::is_sensitive;
use crate::redact::{redact_headers, redact_query};

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// The value of query parameter `name` (no percent-decoding).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        let query = self.path.split_once('?')?.1;
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// Parses and validates a complete request head.
pub fn parse_request(head: &[u8]) -> Result<Request, HandshakeError> {
    let invalid = |status: u16, reason: &str| HandshakeError::InvalidRequest {
        status,
        reason: reason.to_string(),
    };
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hs);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(invalid(400, "incomplete request head")),
        Err(e) => return Err(invalid(400, &format!("malformed request head: {e}"))),
    }
    if req.method != Some("GET") {
        return Err(invalid(405, "method must be GET"));
    }
    if req.version != Some(1) {
        return Err(invalid(505, "HTTP/1.1 required"));
    }
    let path = req.path.unwrap_or("/").to_string();
    let headers = collect_headers(req.headers);
    if header_value(&headers, "host").is_none() {
        return Err(invalid(400, "missing Host"));
    }
    if !has_token(&headers, "upgrade", "websocket") {
        return Err(invalid(400, "missing 'Upgrade: websocket'"));
    }
    if !has_token(&headers, "connection", "upgrade") {
        return Err(invalid(400, "missing 'Connection: Upgrade'"));
    }
    if header_value(&headers, "sec-websocket-version").map(str::trim) != Some("13") {
        return Err(invalid(426, "Sec-WebSocket-Version must be 13"));
    }
    let key = match header_value(&headers, "sec-websocket-key").map(str::trim) {
        Some(k) if BASE64.decode(k).map(|d| d.len() == 16).unwrap_or(false) => k.to_string(),
        _ => return Err(invalid(400, "missing or malformed Sec-WebSocket-Key")),
    };
    let subprotocols = header_tokens(&headers, "sec-websocket-protocol")
        .map(str::to_string)
        .collect();
    Ok(Request {
        path,
        headers,
        subprotocols,
        key,
    })
}

/// The server's `101 Switching Protocols`.
pub fn accept_response(key: &str, subprotocol: Option<&str>, extensions: Option<&str>, headers: &[Header]) -> String {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    if let Some(p) = subprotocol {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    if let Some(e) = extensions {
        r.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
    }
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r
}

/// A plain HTTP error response that ends the connection.
pub fn error_response(status: u16, headers: &[Header], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
    let mut r = format!(
        "HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if status == 426 {
        r.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("\r\n");
    let mut out = r.into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_accept_key_vector() {
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn url_parsing() {
        let u = WsUrl::parse("ws://Example.com/chat?x=1").unwrap();
        assert_eq!(
            (u.secure, u.host.as_str(), u.port, u.resource.as_str()),
            (false, "example.com", 80, "/chat?x=1")
        );
        assert_eq!(u.host_header(), "example.com");
        let u = WsUrl::parse("wss://h:8443").unwrap();
        assert_eq!((u.secure, u.port, u.resource.as_str()), (true, 8443, "/"));
        assert_eq!(u.host_header(), "h:8443");
        let u = WsUrl::parse("ws://[::1]:9001?a=b").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.resource.as_str()), ("::1", 9001, "/?a=b"));
        assert_eq!(u.host_header(), "[::1]:9001");
        for bad in [
            "http://x/",
            "ws://",
            "ws://h:99999/",
            "ws://h/#frag",
            "ws://u@h/",
            "ws://h/a b",
            "ws://[::1/",
            "ws://:]:0",
            "ws://a:b:80/",
            "ws://[abc]/",
            "ws://[::1]x/",
            "ws://h]/",
        ] {
            assert!(WsUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    fn rfc_request() -> &'static [u8] {
        b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }

    #[test]
    fn server_parses_the_rfc_request() {
        let r = parse_request(rfc_request()).unwrap();
        assert_eq!(r.path, "/chat");
        assert_eq!(r.subprotocols, vec!["chat", "superchat"]);
        assert_eq!(r.header("origin"), Some("http://example.com"));
        let resp = accept_response(&r.key, Some("chat"), None, &[]);
        assert!(resp.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(resp.starts_with("HTTP/1.1 101 "));
    }

    #[test]
    fn server_rejects_bad_requests_with_the_right_status() {
        let status = |req: &[u8]| match parse_request(req) {
            Err(HandshakeError::InvalidRequest { status, .. }) => status,
            other => panic!("expected rejection, got {other:?}"),
        };
        let good = std::str::from_utf8(rfc_request()).unwrap();
        assert_eq!(status(good.replace("GET", "POST").as_bytes()), 405);
        assert_eq!(status(good.replace("Version: 13", "Version: 8").as_bytes()), 426);
        assert_eq!(
            status(good.replace("dGhlIHNhbXBsZSBub25jZQ==", "short").as_bytes()),
            400
        );
        assert_eq!(
            status(good.replace("Upgrade: websocket", "Upgrade: h2c").as_bytes()),
            400
        );
        assert_eq!(status(good.replace("Host: server.example.com\r\n", "").as_bytes()), 400);
        assert_eq!(status(b"\x00\x01garbage\r\n\r\n"), 400);
    }

    #[test]
    fn client_validates_the_response() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let offered = vec!["chat".to_string()];
        let ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
        let head = parse_response(ok).unwrap();
        assert_eq!(head.status, 101);
        let agreed = validate_response(&head, key, &offered).unwrap();
        assert_eq!(agreed.subprotocol.as_deref(), Some("chat"));
        let text = std::str::from_utf8(ok).unwrap();
        for broken in [
            text.replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            text.replace("Upgrade: websocket\r\n", ""),
            text.replace("Connection: Upgrade", "Connection: keep-alive"),
            text.replace("Protocol: chat", "Protocol: other"),
        ] {
            let head = parse_response(broken.as_bytes()).unwrap();
            assert!(validate_response(&head, key, &offered).is_err(), "{broken}");
        }
    }

    #[test]
    fn client_request_carries_everything() {
        let u = WsUrl::parse("ws://h:81/p?q=1").unwrap();
        let r = client_request(
            &u,
            "KEY",
            &["a".into(), "b".into()],
            None,
            &[("X-T".into(), "v".into())],
        );
        assert!(r.starts_with("GET /p?q=1 HTTP/1.1\r\nHost: h:81\r\n"));
        assert!(r.contains("Sec-WebSocket-Protocol: a, b\r\n"));
        assert!(r.contains("X-T: v\r\n"));
        assert!(r.ends_with("\r\n\r\n"));
        let req = parse_request(r.replace("KEY", "dGhlIHNhbXBsZSBub25jZQ==").as_bytes()).unwrap();
        assert_eq!(req.query_param("q"), Some("1"));
    }

    #[test]
    fn a_host_header_replaces_the_urls() {
        let u = WsUrl::parse("ws://10.0.0.1:81/p").unwrap();
        let headers = [("host".into(), "api.example.com".into()), ("X-T".into(), "v".into())];
        let r = client_request(&u, "KEY", &[], None, &headers);
        assert!(r.starts_with("GET /p HTTP/1.1\r\nHost: api.example.com\r\n"), "{r}");
        assert_eq!(r.to_ascii_lowercase().matches("host:").count(), 1, "{r}");
        assert!(r.contains("X-T: v\r\n"));
    }

    #[test]
    fn header_injection_is_refused() {
        assert!(check_header("X-A", "ok").is_ok());
        assert!(check_header("X-A", "a\r\nEvil: 1").is_err());
        assert!(check_header("Bad Name", "v").is_err());
        assert!(check_header("", "v").is_err());
    }
}
