//! Client half of session recovery: remember the session id and the offset of the last
//! message processed, and present both on the next attempt.
//!
//! The state here deliberately outlives transports (it is the one thing that must), and
//! is the only such state besides the outbound queue and the retry counters.

use super::envelope::encode;
use super::msg::Message;
use super::output::TransportRequest;
use std::fmt;

/// Where the client presents its session id, resume token and offset on each attempt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ParamPlacement {
    /// In its first message on the transport, `ss2 resume <sid> <token> <offset>\n`
    /// (works everywhere, browsers included; nothing lands in URLs or access logs).
    /// Default.
    #[default]
    FirstMessage,
    /// URL query parameters. **Opt-in, with a risk**: URLs are written to access and proxy
    /// logs and browser history, so whoever reads those can resume the session (and its
    /// replay) until the next welcome replaces the token. Use only where those logs are as
    /// protected as the data.
    Query {
        /// Name of the session-id parameter (e.g. `ss_sid`).
        session: String,
        /// Name of the token parameter (e.g. `ss_token`).
        token: String,
        /// Name of the offset parameter (e.g. `ss_offset`).
        offset: String,
    },
    /// Request headers (byte transports only: browsers cannot set headers).
    Headers {
        /// Name of the session-id header.
        session: String,
        /// Name of the token header.
        token: String,
        /// Name of the offset header.
        offset: String,
    },
}

impl ParamPlacement {
    /// The canonical name of the placement: `first_message`, `query` or `headers`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FirstMessage => "first_message",
            Self::Query { .. } => "query",
            Self::Headers { .. } => "headers",
        }
    }

    /// `ss_sid`, `ss_token`, `ss_offset` in the URL (opt-in; see [`Query`](Self::Query)).
    pub fn query() -> Self {
        Self::Query {
            session: "ss_sid".into(),
            token: "ss_token".into(),
            offset: "ss_offset".into(),
        }
    }

    /// `ss-sid`, `ss-token`, `ss-offset` headers (byte transports).
    pub fn headers() -> Self {
        Self::Headers {
            session: "ss-sid".into(),
            token: "ss-token".into(),
            offset: "ss-offset".into(),
        }
    }
}

/// `line` with its resume token replaced by `<redacted>`, if it is an `ss2 welcome` or
/// `ss2 resume` line (what [`Text`](crate::Text)'s `Debug` shows instead of the secret).
pub(crate) fn redact_control_line(line: &str) -> Option<String> {
    let prefix = ["ss2 welcome ", "ss2 resume "]
        .into_iter()
        .find(|p| line.starts_with(p))?;
    if line.len() > 2 * super::envelope::MAX_HEADER {
        return None;
    }
    let (head, tail) = line.split_at(line.find('\n').unwrap_or(line.len()));
    let mut fields: Vec<&str> = head[prefix.len()..].split(' ').collect();
    if let Some(token) = fields.get_mut(1) {
        *token = "<redacted>";
    }
    Some(format!("{prefix}{}{tail}", fields.join(" ")))
}

/// A secret string (the resume token on the client side): `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; the name is loud so that every use is easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Recovery configuration. Recovery needs the server's cooperation and the `ss2`
/// envelope: with `recovery` set, the session reads server messages as
/// [`EnvelopeKind::Steady`](super::EnvelopeKind::Steady) whatever
/// [`SessionConfig::envelope`](super::SessionConfig::envelope) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// Where to present `sid`, token and `offset` on the next attempt. Default: the first
    /// message.
    pub placement: ParamPlacement,
}

/// What to do with a message carrying an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Deliver it.
    Deliver,
    /// Deliver it, but offsets were skipped before it.
    DeliverAfterGap { expected: u64 },
    /// Already processed: drop it.
    Duplicate,
}

/// Session id, resume token and progress, carried across transports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecoveryState {
    pub(crate) session_id: Option<String>,
    pub(crate) token: Secret,
    pub(crate) last_offset: u64,
}

impl RecoveryState {
    /// The server greeted a new transport.
    pub(crate) fn welcome(&mut self, session_id: String, token: Secret, recovered: bool) {
        let same = self.session_id.as_deref() == Some(session_id.as_str());
        if !(recovered && same) {
            // A new session numbers its messages from scratch.
            self.last_offset = 0;
        }
        self.session_id = Some(session_id);
        self.token = token;
    }

    /// Decides about a message with `offset`, and records it when delivered.
    pub(crate) fn admit(&mut self, offset: u64) -> Admit {
        if offset <= self.last_offset {
            return Admit::Duplicate;
        }
        let expected = self.last_offset.saturating_add(1);
        self.last_offset = offset;
        if offset == expected {
            Admit::Deliver
        } else {
            Admit::DeliverAfterGap { expected }
        }
    }

    /// The first message on a new transport: the resume request (first-message placement
    /// with a session to resume) or `ss2 hello`.
    pub(crate) fn greeting(&self, placement: &ParamPlacement) -> Message {
        match (&self.session_id, placement) {
            (Some(sid), ParamPlacement::FirstMessage) => encode::resume(sid, self.token.expose(), self.last_offset),
            _ => encode::hello(),
        }
    }

    /// Adds `sid`, token and `offset` to `req` (query or header placement), if there is a
    /// session to resume.
    pub(crate) fn apply(&self, req: &mut TransportRequest, placement: &ParamPlacement) {
        let Some(sid) = &self.session_id else { return };
        let offset = self.last_offset.to_string();
        let token = self.token.expose();
        match placement {
            ParamPlacement::FirstMessage => {}
            ParamPlacement::Query {
                session,
                token: token_name,
                offset: offset_name,
            } => {
                req.url = with_query(&req.url, &[(session, sid), (token_name, token), (offset_name, &offset)]);
            }
            ParamPlacement::Headers {
                session,
                token: token_name,
                offset: offset_name,
            } => {
                req.headers.retain(|(k, _)| {
                    ![session, token_name, offset_name]
                        .iter()
                        .any(|n| k.eq_ignore_ascii_case(n))
                });
                req.headers.push((session.clone(), sid.clone()));
                req.headers.push((token_name.clone(), token.to_string()));
                req.headers.push((offset_name.clone(), offset));
            }
        }
    }
}

/// `url` with `params` set in its query: existing parameters of the same names are
/// replaced (a provider may hand back a URL from a previous attempt), others kept, and any
/// fragment preserved. Names and values are percent-encoded.
pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let (path, query) = match base.find('?') {
        Some(i) => (&base[..i], &base[i + 1..]),
        None => (base, ""),
    };
    let encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    let mut out = String::with_capacity(url.len() + 64);
    out.push_str(path);
    out.push('?');
    let mut first = true;
    let mut part = |out: &mut String, pieces: &[&str]| {
        if !std::mem::take(&mut first) {
            out.push('&');
        }
        pieces.iter().for_each(|p| out.push_str(p));
    };
    for p in query.split('&').filter(|p| !p.is_empty()) {
        let name = p.split('=').next().unwrap_or_default();
        if !encoded.iter().any(|(k, _)| k == name) {
            part(&mut out, &[p]);
        }
    }
    for (k, v) in &encoded {
        part(&mut out, &[k, "=", v]);
    }
    out.push_str(fragment);
    out
}

fn encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_added_replaced_and_encoded() {
        assert_eq!(with_query("ws://h/p", &[("a", "1")]), "ws://h/p?a=1");
        assert_eq!(with_query("ws://h/p?x=y", &[("a", "1")]), "ws://h/p?x=y&a=1");
        assert_eq!(
            with_query("ws://h/p?a=0&x=y&", &[("a", "1"), ("b", "2")]),
            "ws://h/p?x=y&a=1&b=2"
        );
        assert_eq!(with_query("ws://h/p?#f", &[("a", "x y&z")]), "ws://h/p?a=x%20y%26z#f");
        assert_eq!(with_query("", &[("a", "1")]), "?a=1");
    }

    #[test]
    fn control_lines_with_tokens_never_show_in_debug() {
        let welcome = encode::welcome("sid1", "s3cr3t", true);
        let greeting = encode::resume("sid1", "s3cr3t", 7);
        for m in [&welcome, &greeting] {
            let shown = format!("{m:?}");
            assert!(
                !shown.contains("s3cr3t") && shown.contains("sid1 <redacted>"),
                "{shown}"
            );
        }
        let out = super::super::Output::SendMessage {
            id: super::super::TransportId(1),
            message: greeting,
        };
        assert!(!format!("{out:?}").contains("s3cr3t"));
        assert_eq!(
            format!("{:?}", Message::text("ss2 msg 1\nhi")),
            "Text(\"ss2 msg 1\\nhi\")"
        );
        assert_eq!(redact_control_line("ss2 resume x"), Some("ss2 resume x".into()));
    }

    /// Query and header placements: the request a host may log never shows the token,
    /// nor does the upgrade request a server sees.
    #[test]
    fn requests_with_tokens_never_show_them_in_debug() {
        let mut s = RecoveryState::default();
        s.welcome("sid1".into(), Secret::new("s3cr3t"), false);
        for placement in [ParamPlacement::query(), ParamPlacement::headers()] {
            let mut req = TransportRequest {
                url: "wss://h/ws?room=1".into(),
                headers: vec![("Authorization".into(), "Bearer b34r3r".into())],
                subprotocols: vec![],
            };
            s.apply(&mut req, &placement);
            let on_wire = format!("{} {:?}", req.url, req.headers);
            assert!(on_wire.contains("s3cr3t"), "the token is sent: {on_wire}");
            let out = super::super::Output::OpenTransport {
                id: super::super::TransportId(1),
                request: req.clone(),
            };
            for shown in [format!("{req:?}"), format!("{out:?}")] {
                assert!(!shown.contains("s3cr3t") && !shown.contains("b34r3r"), "{shown}");
                assert!(shown.contains("sid1") && shown.contains("room=1"), "{shown}");
            }
            #[cfg(feature = "bytes-transport")]
            {
                let head = crate::handshake::client_request(
                    &crate::WsUrl::parse(&req.url).unwrap(),
                    "dGhlIHNhbXBsZSBub25jZQ==",
                    &[],
                    None,
                    &req.headers,
                );
                let seen = crate::handshake::parse_request(head.as_bytes()).unwrap();
                assert_eq!(seen.header("authorization"), Some("Bearer b34r3r"));
                let shown = format!("{seen:?}");
                assert!(!shown.contains("s3cr3t") && !shown.contains("b34r3r"), "{shown}");
                assert!(shown.contains("sid1"), "{shown}");
            }
        }
    }

    #[test]
    fn state_offsets_and_welcome() {
        let mut s = RecoveryState::default();
        let mut req = TransportRequest {
            url: "ws://h/".into(),
            ..Default::default()
        };
        s.apply(&mut req, &ParamPlacement::query());
        assert_eq!(req.url, "ws://h/", "no session yet: nothing to resume");
        assert_eq!(s.greeting(&ParamPlacement::default()), Message::text("ss2 hello\n"));

        s.welcome("s1".into(), Secret::new("t1"), false);
        assert_eq!(s.admit(1), Admit::Deliver);
        assert_eq!(s.admit(2), Admit::Deliver);
        assert_eq!(s.admit(2), Admit::Duplicate);
        assert_eq!(s.admit(1), Admit::Duplicate);
        assert_eq!(s.admit(5), Admit::DeliverAfterGap { expected: 3 });
        // Default placement: the first message, and nothing in the URL.
        s.apply(&mut req, &ParamPlacement::default());
        assert_eq!(req.url, "ws://h/");
        assert_eq!(
            s.greeting(&ParamPlacement::default()),
            Message::text("ss2 resume s1 t1 5\n")
        );
        assert_eq!(s.greeting(&ParamPlacement::query()), Message::text("ss2 hello\n"));
        s.apply(&mut req, &ParamPlacement::query());
        assert_eq!(req.url, "ws://h/?ss_sid=s1&ss_token=t1&ss_offset=5");
        assert!(!format!("{s:?}").contains("t1"), "the token never shows in Debug");

        s.welcome("s1".into(), Secret::new("t2"), true);
        assert_eq!(s.last_offset, 5, "resumed: keep progress");
        assert_eq!(s.token.expose(), "t2", "every welcome replaces the token");
        s.welcome("s2".into(), Secret::new("t3"), false);
        assert_eq!(
            (s.session_id.as_deref(), s.last_offset),
            (Some("s2"), 0),
            "new session: offsets restart"
        );

        let mut req = TransportRequest {
            headers: vec![("SS-SID".into(), "old".into()), ("ss-Token".into(), "old".into())],
            ..Default::default()
        };
        s.apply(&mut req, &ParamPlacement::headers());
        assert_eq!(
            req.headers,
            vec![
                ("ss-sid".into(), "s2".into()),
                ("ss-token".into(), "t3".into()),
                ("ss-offset".into(), "0".into())
            ]
        );
    }
}
