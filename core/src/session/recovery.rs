//! Client half of session recovery: remember the session id and the offset of the last
//! message processed, and present both on the next attempt.
//!
//! The state here deliberately outlives transports (it is the one thing that must), and
//! is the only such state besides the outbound queue and the retry counters.

use super::output::TransportRequest;

/// Where the recovery parameters go on each attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamPlacement {
    /// URL query parameters (works everywhere, including browsers). Default:
    /// `ss_sid` and `ss_offset`.
    Query {
        /// Name of the session-id parameter.
        session: String,
        /// Name of the offset parameter.
        offset: String,
    },
    /// Request headers (byte transports only: browsers cannot set headers).
    Headers {
        /// Name of the session-id header.
        session: String,
        /// Name of the offset header.
        offset: String,
    },
}

impl ParamPlacement {
    /// The canonical name of the placement: `query` or `headers`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Query { .. } => "query",
            Self::Headers { .. } => "headers",
        }
    }
}

impl Default for ParamPlacement {
    fn default() -> Self {
        Self::Query {
            session: "ss_sid".into(),
            offset: "ss_offset".into(),
        }
    }
}

/// Recovery configuration. Recovery needs the server's cooperation and the `ss1`
/// envelope: with `recovery` set, the session reads server messages as
/// [`EnvelopeKind::Steady`](super::EnvelopeKind::Steady) whatever
/// [`SessionConfig::envelope`](super::SessionConfig::envelope) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// Where to put `sid` and `offset` on the next attempt. Default query parameters.
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

/// Session id and progress, carried across transports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecoveryState {
    pub(crate) session_id: Option<String>,
    pub(crate) last_offset: u64,
}

impl RecoveryState {
    /// The server greeted a new transport.
    pub(crate) fn welcome(&mut self, session_id: String, recovered: bool) {
        let same = self.session_id.as_deref() == Some(session_id.as_str());
        if !(recovered && same) {
            // A new session numbers its messages from scratch.
            self.last_offset = 0;
        }
        self.session_id = Some(session_id);
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

    /// Adds `sid` and `offset` to `req`, if there is a session to resume.
    pub(crate) fn apply(&self, req: &mut TransportRequest, placement: &ParamPlacement) {
        let Some(sid) = &self.session_id else { return };
        let offset = self.last_offset.to_string();
        match placement {
            ParamPlacement::Query {
                session,
                offset: offset_name,
            } => {
                req.url = with_query(&req.url, &[(session, sid), (offset_name, &offset)]);
            }
            ParamPlacement::Headers {
                session,
                offset: offset_name,
            } => {
                req.headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case(session) && !k.eq_ignore_ascii_case(offset_name));
                req.headers.push((session.clone(), sid.clone()));
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
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split('=').next().unwrap_or_default();
            !encoded.iter().any(|(k, _)| k == name)
        })
        .map(str::to_string)
        .collect();
    parts.extend(encoded.into_iter().map(|(k, v)| format!("{k}={v}")));
    format!("{path}?{}{fragment}", parts.join("&"))
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
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
    fn state_offsets_and_welcome() {
        let mut s = RecoveryState::default();
        let mut req = TransportRequest {
            url: "ws://h/".into(),
            ..Default::default()
        };
        s.apply(&mut req, &ParamPlacement::default());
        assert_eq!(req.url, "ws://h/", "no session yet: nothing to resume");

        s.welcome("s1".into(), false);
        assert_eq!(s.admit(1), Admit::Deliver);
        assert_eq!(s.admit(2), Admit::Deliver);
        assert_eq!(s.admit(2), Admit::Duplicate);
        assert_eq!(s.admit(1), Admit::Duplicate);
        assert_eq!(s.admit(5), Admit::DeliverAfterGap { expected: 3 });
        s.apply(&mut req, &ParamPlacement::default());
        assert_eq!(req.url, "ws://h/?ss_sid=s1&ss_offset=5");

        s.welcome("s1".into(), true);
        assert_eq!(s.last_offset, 5, "resumed: keep progress");
        s.welcome("s2".into(), false);
        assert_eq!(
            (s.session_id.as_deref(), s.last_offset),
            (Some("s2"), 0),
            "new session: offsets restart"
        );

        let mut req = TransportRequest {
            headers: vec![("SS-SID".into(), "old".into())],
            ..Default::default()
        };
        s.apply(
            &mut req,
            &ParamPlacement::Headers {
                session: "ss-sid".into(),
                offset: "ss-offset".into(),
            },
        );
        assert_eq!(
            req.headers,
            vec![("ss-sid".into(), "s2".into()), ("ss-offset".into(), "0".into())]
        );
    }
}
