//! Server half of session recovery: a bounded log of what each session was sent, so a
//! client that reconnects with `(sid, offset)` can be replayed everything after `offset`.
//!
//! Transport-agnostic and clock-free like the rest of the core: the server passes `now`
//! in, encodes with [`envelope::encode`](super::envelope::encode), and sends through
//! whatever it uses (a server-role `Connection`, or anything else).
//!
//! ```text
//! on upgrade request:  let r = log.attach(ResumeRequest::from_query(path), rng, now);
//!                      send encode::welcome(r.session_id(), r.recovered)
//!                      for (off, m) in r.replay: send encode::data(off, &m)
//! to send m:           if let Some(off) = log.append(sid, m.clone(), now) {
//!                          on the transport whose attachment is_current: send encode::data(off, &m) }
//! on transport close:  if let Some(f) = log.detach(&attachment, now) {
//!                          on f.attachment's transport: for (off, m) in f.replay: send encode::data(off, &m) }
//! periodically:        log.expire(now)
//! ```
//!
//! A session is resumable while it is attached, or detached for at most
//! `max_disconnection_ms`, *and* its log still holds every message after the client's
//! offset.
//!
//! **Attachments.** Each new attachment supersedes the previous one: the server sends
//! only on the current attachment, and the replay covers whatever the previous transport
//! may not have delivered (make-before-break). Superseded attachments that are still
//! open are remembered, newest on top, with the offset they had been sent up to. When the
//! current one detaches, the session *falls back* to the newest one still open and
//! [`detach`](RecoveryLog::detach) returns what to resend there. That closes a real race:
//! a client abandons a connecting socket, but the server had already accepted it; it
//! attaches after the transport the client actually uses, then closes. Without the
//! fall-back the session would sit on a transport the server no longer sends on — open,
//! answering pings, and silent. (The client drops the duplicates the resend may carry.)
//! At most [`MAX_ATTACHMENTS`] are remembered per session.

use super::envelope::valid_session_id;
use super::msg::Message;
use crate::rng::RandomSource;
use std::collections::{HashMap, VecDeque};

/// Live attachments remembered per session (older ones are never current again).
pub const MAX_ATTACHMENTS: usize = 8;

/// Limits of a [`RecoveryLog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryLogConfig {
    /// Messages kept per session. Default 1 000.
    pub max_messages: usize,
    /// Payload bytes kept per session. Default 1 MiB.
    pub max_bytes: usize,
    /// How long a detached session stays resumable. Default 120 000 ms.
    pub max_disconnection_ms: u64,
    /// Sessions kept; beyond it the longest-detached session is evicted. Attached
    /// sessions are never evicted. Default 10 000.
    pub max_sessions: usize,
}

impl Default for RecoveryLogConfig {
    fn default() -> Self {
        Self {
            max_messages: 1_000,
            max_bytes: 1 << 20,
            max_disconnection_ms: 120_000,
            max_sessions: 10_000,
        }
    }
}

/// The `(sid, offset)` a client presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRequest {
    /// Session id.
    pub session_id: String,
    /// Offset of the last message the client processed.
    pub offset: u64,
}

impl ResumeRequest {
    /// Reads `ss_sid` and `ss_offset` from a request target's query.
    pub fn from_query(path_and_query: &str) -> Option<Self> {
        Self::from_query_named(path_and_query, "ss_sid", "ss_offset")
    }

    /// Reads the named parameters from a request target's query.
    pub fn from_query_named(path_and_query: &str, session: &str, offset: &str) -> Option<Self> {
        let query = path_and_query.split_once('?')?.1;
        let query = query.split('#').next().unwrap_or_default();
        let find = |name: &str| {
            query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v)
        };
        Self::parse(find(session)?, find(offset)?)
    }

    /// Reads the named headers (case-insensitive names).
    pub fn from_headers(headers: &[(String, String)], session: &str, offset: &str) -> Option<Self> {
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        Self::parse(find(session)?, find(offset)?)
    }

    fn parse(sid: &str, offset: &str) -> Option<Self> {
        if !offset.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let offset = offset.parse().ok()?;
        valid_session_id(sid).then(|| Self {
            session_id: sid.to_string(),
            offset,
        })
    }
}

/// One transport's claim on a session. Only the newest live attachment is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    session_id: String,
    generation: u64,
}

impl Attachment {
    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

/// The answer to [`RecoveryLog::attach`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// This transport's attachment.
    pub attachment: Attachment,
    /// Whether the requested session was resumed.
    pub recovered: bool,
    /// Messages after the client's offset, oldest first (empty for a new session).
    pub replay: Vec<(u64, Message)>,
}

impl Resume {
    /// The session id to announce in the welcome.
    pub fn session_id(&self) -> &str {
        self.attachment.session_id()
    }
}

/// What to resend after the current attachment went away and an older one, still open,
/// became current again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The attachment that is current again.
    pub attachment: Attachment,
    /// Messages its transport may have missed, oldest first.
    pub replay: Vec<(u64, Message)>,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    generation: u64,
    /// Offset this transport had been sent up to when it was superseded.
    sent_upto: u64,
}

#[derive(Debug)]
struct SessionLog {
    entries: VecDeque<(u64, Message)>,
    bytes: usize,
    /// Offset the next message gets.
    next_offset: u64,
    /// Open attachments, oldest first; the last one is current.
    live: Vec<Live>,
    detached_at: u64,
}

impl SessionLog {
    fn newest(&self) -> u64 {
        self.next_offset.saturating_sub(1)
    }

    fn attached(&self) -> bool {
        !self.live.is_empty()
    }

    fn resumable(&self, offset: u64, now: u64, max_disconnection_ms: u64) -> bool {
        let alive = self.attached() || now.saturating_sub(self.detached_at) <= max_disconnection_ms;
        let oldest = self.entries.front().map_or(self.next_offset, |(o, _)| *o);
        alive && offset <= self.newest() && oldest <= offset.saturating_add(1)
    }

    /// Entries after `offset` (offsets in the log are contiguous).
    fn after(&self, offset: u64) -> Vec<(u64, Message)> {
        let front = self.entries.front().map_or(self.next_offset, |(o, _)| *o);
        let skip = offset.saturating_add(1).saturating_sub(front);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        self.entries.iter().skip(skip).cloned().collect()
    }

    fn push(&mut self, generation: u64) {
        let newest = self.newest();
        if let Some(top) = self.live.last_mut() {
            top.sent_upto = newest;
        }
        if self.live.len() >= MAX_ATTACHMENTS {
            self.live.remove(0);
        }
        self.live.push(Live {
            generation,
            sent_upto: newest,
        });
    }
}

/// Per-session bounded logs of sent messages (server side of recovery).
#[derive(Debug, Default)]
pub struct RecoveryLog {
    config: RecoveryLogConfig,
    sessions: HashMap<String, SessionLog>,
    generations: u64,
}

impl RecoveryLog {
    /// An empty log.
    pub fn new(config: RecoveryLogConfig) -> Self {
        Self {
            config,
            sessions: HashMap::new(),
            generations: 0,
        }
    }

    /// Attaches a new transport: resumes the requested session if possible (returning
    /// what to replay), otherwise starts a new session with a fresh id.
    pub fn attach(&mut self, request: Option<ResumeRequest>, rng: &mut dyn RandomSource, now: u64) -> Resume {
        self.expire(now);
        self.generations = self.generations.saturating_add(1);
        let generation = self.generations;
        if let Some(req) = request {
            let max = self.config.max_disconnection_ms;
            match self.sessions.get_mut(&req.session_id) {
                Some(log) if log.resumable(req.offset, now, max) => {
                    log.push(generation);
                    let replay = log.after(req.offset);
                    let attachment = Attachment {
                        session_id: req.session_id,
                        generation,
                    };
                    return Resume {
                        attachment,
                        recovered: true,
                        replay,
                    };
                }
                // Known but not resumable: the client moves on to a new session.
                Some(_) => {
                    self.sessions.remove(&req.session_id);
                }
                None => {}
            }
        }
        self.make_room();
        let session_id = loop {
            let mut raw = [0u8; 16];
            rng.fill(&mut raw);
            let sid: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            if !self.sessions.contains_key(&sid) {
                break sid;
            }
        };
        let log = SessionLog {
            entries: VecDeque::new(),
            bytes: 0,
            next_offset: 1,
            live: vec![Live {
                generation,
                sent_upto: 0,
            }],
            detached_at: now,
        };
        self.sessions.insert(session_id.clone(), log);
        Resume {
            attachment: Attachment { session_id, generation },
            recovered: false,
            replay: Vec::new(),
        }
    }

    /// Records a message for the session; returns its offset, or `None` if the session
    /// is unknown (expired or evicted). Send it only on the current attachment.
    pub fn append(&mut self, session_id: &str, message: Message, _now: u64) -> Option<u64> {
        let (max_messages, max_bytes) = (self.config.max_messages, self.config.max_bytes);
        let log = self.sessions.get_mut(session_id)?;
        let offset = log.next_offset;
        log.next_offset = log.next_offset.saturating_add(1);
        log.bytes = log.bytes.saturating_add(message.len());
        log.entries.push_back((offset, message));
        while log.entries.len() > max_messages || log.bytes > max_bytes {
            match log.entries.pop_front() {
                Some((_, m)) => log.bytes = log.bytes.saturating_sub(m.len()),
                None => break,
            }
        }
        Some(offset)
    }

    /// Whether `attachment` is the session's current one (the one to send on).
    pub fn is_current(&self, attachment: &Attachment) -> bool {
        self.sessions
            .get(&attachment.session_id)
            .and_then(|l| l.live.last())
            .is_some_and(|top| top.generation == attachment.generation)
    }

    /// The transport of `attachment` is gone. If it was current and an older attachment
    /// is still open, that one becomes current again and the answer says what to resend
    /// on it; if none is left, the disconnection clock starts.
    pub fn detach(&mut self, attachment: &Attachment, now: u64) -> Option<Fallback> {
        let log = self.sessions.get_mut(&attachment.session_id)?;
        let index = log.live.iter().position(|l| l.generation == attachment.generation)?;
        let was_current = index + 1 == log.live.len();
        log.live.remove(index);
        if !was_current {
            return None;
        }
        match log.live.last().copied() {
            None => {
                log.detached_at = now;
                None
            }
            Some(top) => Some(Fallback {
                attachment: Attachment {
                    session_id: attachment.session_id.clone(),
                    generation: top.generation,
                },
                replay: log.after(top.sent_upto),
            }),
        }
    }

    /// Drops sessions detached for longer than `max_disconnection_ms`; returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        let max = self.config.max_disconnection_ms;
        let before = self.sessions.len();
        self.sessions
            .retain(|_, l| l.attached() || now.saturating_sub(l.detached_at) <= max);
        before - self.sessions.len()
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Forgets everything (a server restart, in tests).
    pub fn clear(&mut self) {
        self.sessions.clear();
    }

    fn make_room(&mut self) {
        while self.sessions.len() >= self.config.max_sessions.max(1) {
            let victim = self
                .sessions
                .iter()
                .filter(|(_, l)| !l.attached())
                .min_by_key(|(_, l)| l.detached_at)
                .map(|(k, _)| k.clone());
            match victim {
                Some(k) => self.sessions.remove(&k),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRandom;

    fn msg(i: u64) -> Message {
        Message::text(format!("m{i}"))
    }

    fn cfg() -> RecoveryLogConfig {
        RecoveryLogConfig {
            max_messages: 5,
            max_bytes: 1_000,
            max_disconnection_ms: 1_000,
            max_sessions: 3,
        }
    }

    #[test]
    fn replays_after_offset_and_supersedes_attachments() {
        let mut rng = SeededRandom::new(1);
        let mut log = RecoveryLog::new(cfg());
        let r = log.attach(None, &mut rng, 0);
        assert!(!r.recovered && r.replay.is_empty());
        let sid = r.session_id().to_string();
        for i in 1..=4 {
            assert_eq!(log.append(&sid, msg(i), 0), Some(i));
        }
        // Make-before-break: a second attachment while the first is still attached.
        let r2 = log.attach(
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset: 2,
            }),
            &mut rng,
            10,
        );
        assert!(r2.recovered);
        assert_eq!(r2.replay, vec![(3, msg(3)), (4, msg(4))]);
        assert!(!log.is_current(&r.attachment) && log.is_current(&r2.attachment));
        assert_eq!(log.detach(&r.attachment, 20), None);
        assert!(
            log.is_current(&r2.attachment),
            "a superseded transport leaving must not detach the successor"
        );
        let r3 = log.attach(
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset: 4,
            }),
            &mut rng,
            30,
        );
        assert!(r3.recovered && r3.replay.is_empty());
    }

    #[test]
    fn current_leaving_falls_back_to_the_newest_open_attachment() {
        let mut rng = SeededRandom::new(5);
        let mut log = RecoveryLog::new(cfg());
        let a = log.attach(None, &mut rng, 0);
        let sid = a.session_id().to_string();
        log.append(&sid, msg(1), 0);
        let req = |offset| {
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset,
            })
        };
        // A second transport attaches (e.g. one the client already abandoned) ...
        let b = log.attach(req(1), &mut rng, 1);
        log.append(&sid, msg(2), 1);
        log.append(&sid, msg(3), 1);
        assert!(!log.is_current(&a.attachment));
        // ... and goes away: the first is current again, with what went to the second.
        let f = log.detach(&b.attachment, 2).expect("fall back");
        assert_eq!(f.attachment, a.attachment);
        assert_eq!(f.replay, vec![(2, msg(2)), (3, msg(3))]);
        assert!(log.is_current(&a.attachment));
        assert_eq!(log.detach(&a.attachment, 3), None);
        assert!(!log.is_current(&a.attachment));
        // Detached now: the disconnection clock runs from 3.
        assert_eq!(log.expire(1_003), 0);
        assert_eq!(log.expire(1_004), 1);
    }

    #[test]
    fn attachments_per_session_are_bounded() {
        let mut rng = SeededRandom::new(6);
        let mut log = RecoveryLog::new(cfg());
        let first = log.attach(None, &mut rng, 0);
        let sid = first.session_id().to_string();
        let all: Vec<_> = (0..20)
            .map(|_| {
                let req = ResumeRequest {
                    session_id: sid.clone(),
                    offset: 0,
                };
                log.attach(Some(req), &mut rng, 0)
            })
            .collect();
        for r in all.iter().rev() {
            log.detach(&r.attachment, 0);
        }
        assert!(
            !log.is_current(&first.attachment),
            "forgotten attachments never come back"
        );
    }

    #[test]
    fn expiry_by_disconnection_time() {
        let mut rng = SeededRandom::new(2);
        let mut log = RecoveryLog::new(cfg());
        let r = log.attach(None, &mut rng, 0);
        let sid = r.session_id().to_string();
        log.append(&sid, msg(1), 0);
        log.detach(&r.attachment, 100);
        assert_eq!(log.expire(1_100), 0, "exactly max_disconnection_ms is still fine");
        let again = log.attach(
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset: 0,
            }),
            &mut rng,
            1_100,
        );
        assert!(again.recovered);
        log.detach(&again.attachment, 1_200);
        assert_eq!(log.expire(2_201), 1);
        let late = log.attach(
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset: 1,
            }),
            &mut rng,
            2_300,
        );
        assert!(!late.recovered && late.session_id() != sid);
        assert_eq!(log.append(&sid, msg(2), 0), None);
    }

    #[test]
    fn trimmed_log_or_bogus_offset_is_not_resumable() {
        let mut rng = SeededRandom::new(3);
        let mut log = RecoveryLog::new(cfg());
        let r = log.attach(None, &mut rng, 0);
        let sid = r.session_id().to_string();
        for i in 1..=8 {
            log.append(&sid, msg(i), 0);
        }
        // Entries 4..=8 kept (max 5): offset 3 still resumable, offset 2 is not.
        let ok = log.attach(
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset: 3,
            }),
            &mut rng,
            1,
        );
        assert_eq!(
            ok.replay.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            vec![4, 5, 6, 7, 8]
        );
        let ahead = log.attach(
            Some(ResumeRequest {
                session_id: sid.clone(),
                offset: 9,
            }),
            &mut rng,
            1,
        );
        assert!(!ahead.recovered, "an offset the server never sent cannot be resumed");
        let r = log.attach(None, &mut rng, 0);
        let sid = r.session_id().to_string();
        for i in 1..=8 {
            log.append(&sid, msg(i), 0);
        }
        let gone = log.attach(
            Some(ResumeRequest {
                session_id: sid,
                offset: 2,
            }),
            &mut rng,
            1,
        );
        assert!(!gone.recovered);
    }

    #[test]
    fn bounded_sessions_evict_longest_detached() {
        let mut rng = SeededRandom::new(4);
        let mut log = RecoveryLog::new(cfg());
        let a = log.attach(None, &mut rng, 0);
        let b = log.attach(None, &mut rng, 0);
        let _c = log.attach(None, &mut rng, 0);
        log.detach(&b.attachment, 5);
        log.detach(&a.attachment, 10);
        let _d = log.attach(None, &mut rng, 20);
        assert_eq!(log.len(), 3);
        assert!(
            log.append(b.session_id(), msg(1), 20).is_none(),
            "b was detached longest"
        );
        assert!(log.append(a.session_id(), msg(1), 20).is_some());
    }

    #[test]
    fn resume_request_parsing() {
        assert_eq!(
            ResumeRequest::from_query("/ws?x=1&ss_sid=abc&ss_offset=12"),
            Some(ResumeRequest {
                session_id: "abc".into(),
                offset: 12
            })
        );
        assert_eq!(ResumeRequest::from_query("/ws?ss_sid=abc"), None);
        assert_eq!(ResumeRequest::from_query("/ws?ss_sid=a%2Fb&ss_offset=1"), None);
        assert_eq!(ResumeRequest::from_query("/ws?ss_sid=abc&ss_offset=-1"), None);
        assert_eq!(ResumeRequest::from_query("/ws"), None);
        let h = vec![
            ("SS-SID".to_string(), "abc".to_string()),
            ("ss-offset".to_string(), " 3".to_string()),
        ];
        assert_eq!(
            ResumeRequest::from_headers(&h, "ss-sid", "ss-offset"),
            Some(ResumeRequest {
                session_id: "abc".into(),
                offset: 3
            })
        );
    }
}
