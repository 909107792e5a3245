//! Server half of session recovery: a bounded log of what each session was sent, so a
//! client that reconnects with its session id, its **resume token** and the offset of
//! the last message it processed can be sent everything after that offset.
//!
//! Transport-agnostic and clock-free like the rest of the core: the server passes `now`
//! in, encodes with [`envelope::encode`](super::envelope::encode), and sends through
//! whatever it uses (a server-role `Connection`, or anything else).
//!
//! ```text
//! on upgrade:          check the Origin (server::OriginPolicy), accept, then wait for the
//!                      client's first message (the greeting):
//! on the greeting:     let req = match read_greeting(&m) { Greeting::Resume(r) => Some(r), _ => None };
//!                      // (or ResumeRequest::from_query / from_headers, if the app opted in)
//!                      match log.attach(req, owner, now) {
//!                          Ok(r)  => send encode::welcome(r.session_id(), r.token.expose_hex(), r.recovered)
//!                          Err(AttachError::RateLimited { .. }) => close 1013 (try again later)
//!                          Err(AttachError::Entropy) => close 1011 }
//! to send m:           log.append(sid, m, now);
//! whenever a transport can take more (after attach, append, a drained write buffer):
//!                      for (off, m) in log.next_batch(&attachment, 64 * 1024) { send encode::data(off, &m) }
//! on transport close:  if let Some(a) = log.detach(&attachment, now) { pull next_batch(&a, ..) on a's transport }
//! ```
//!
//! # What it protects
//!
//! The session id is public (it may be logged); the resume token is the credential. A
//! resume needs the id, the token issued with the last welcome (it changes on every
//! successful attach and is compared in constant time) and, if the app passes one, the
//! same owner (e.g. the authenticated user id) as when the session started. Anything
//! else starts a fresh session and leaves the named one alone. So that a welcome lost
//! with its transport (or overtaken by a late greeting on a transport the client
//! abandoned) does not lose the session, a token stays valid until the client presents
//! a newer one, for at most [`MAX_TOKENS`] tokens. Ids and tokens come from
//! the operating system's entropy source, owned by the log: no caller can hand it a
//! predictable one. Tokens never appear in `Debug` output ([`ResumeToken`] redacts).
//!
//! # Limits (see [`RecoveryLogConfig`] for the defaults)
//!
//! * per session: `max_messages` and `max_bytes`; the oldest messages go first;
//! * across sessions: `max_total_bytes`. Stored messages are copied, so what is counted
//!   is what is held (a 6-byte message never pins the 64 KiB read buffer it came in).
//!   Over the budget, detached sessions are dropped (longest detached first), then the
//!   appending session's oldest messages. A session's newest message is always kept, so
//!   the total may exceed the budget by at most one message per session;
//! * `max_sessions`: beyond it, detached sessions that hold nothing are evicted first
//!   (connect-and-leave floods), then the longest-detached ones; attached sessions never;
//! * resumes per session: a token bucket (`attach_burst`, one more every
//!   `attach_refill_ms`); beyond it [`attach`](RecoveryLog::attach) answers
//!   [`AttachError::RateLimited`];
//! * replay is pulled in batches ([`next_batch`](RecoveryLog::next_batch)), so nothing
//!   materialises a whole log per attach;
//! * expiry and eviction use time-ordered queues: the work per attach is O(1) amortised,
//!   whatever the number of sessions.
//!
//! A session is resumable while it is attached, or detached for at most
//! `max_disconnection_ms`, *and* its log still holds every message after the client's
//! offset. A resume with a valid credential but an offset the log cannot serve drops the
//! session if it is detached, and never if it is attached.
//!
//! **Attachments.** Each new attachment supersedes the previous one: the server sends
//! only on the current attachment ([`next_batch`](RecoveryLog::next_batch) returns
//! nothing for the others), and the replay covers whatever the previous transport may
//! not have delivered (make-before-break). Every attachment has its own cursor (what was
//! pulled for it). Superseded attachments that are still open are remembered, newest on
//! top. When the current one detaches, the session *falls back* to the newest one still
//! open and [`detach`](RecoveryLog::detach) names it; its next batches resend from its
//! cursor. That closes a real race: a client abandons a connecting socket, but the server
//! had already accepted it; it attaches after the transport the client actually uses,
//! then closes. Without the fall-back the session would sit on a transport the server no
//! longer sends on — open, answering pings, and silent. (The client drops the duplicates
//! the resend may carry.) At most [`MAX_ATTACHMENTS`] are remembered per session.

use super::envelope::{valid_session_id, PREFIX};
use super::msg::{Message, Text};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::fmt;

/// Live attachments remembered per session (older ones are never current again).
pub const MAX_ATTACHMENTS: usize = 8;

/// Resume tokens of one session valid at once (see [`RecoveryLog::attach`]).
pub const MAX_TOKENS: usize = 4;

/// Random bytes in a session id and in a resume token (128 bits each).
pub const SECRET_BYTES: usize = 16;

/// Limits of a [`RecoveryLog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryLogConfig {
    /// Messages kept per session. Default 1 000.
    pub max_messages: usize,
    /// Payload bytes kept per session. Default 1 MiB.
    pub max_bytes: usize,
    /// Payload bytes kept across all sessions. Default 64 MiB.
    pub max_total_bytes: usize,
    /// How long a detached session stays resumable. Default 120 000 ms.
    pub max_disconnection_ms: u64,
    /// Sessions kept; beyond it a detached session is evicted (empty ones first, then
    /// the longest detached). Attached sessions are never evicted. Default 10 000.
    pub max_sessions: usize,
    /// Resumes of one session allowed at once (at least 1). Default 10.
    pub attach_burst: u32,
    /// One more resume is allowed every this many ms (0: unlimited). Default 1 000.
    pub attach_refill_ms: u64,
}

impl Default for RecoveryLogConfig {
    fn default() -> Self {
        Self {
            max_messages: 1_000,
            max_bytes: 1 << 20,
            max_total_bytes: 64 << 20,
            max_disconnection_ms: 120_000,
            max_sessions: 10_000,
            attach_burst: 10,
            attach_refill_ms: 1_000,
        }
    }
}

/// The secret that lets a client resume its session: 128 bits from the OS entropy
/// source, replaced on every successful attach. `Debug` never shows it; compare with
/// `==` (constant time).
#[derive(Clone)]
pub struct ResumeToken([u8; SECRET_BYTES]);

impl ResumeToken {
    /// Parses the 32 lowercase-or-uppercase hex digits of a token.
    pub fn parse(hex: &str) -> Option<Self> {
        let raw = hex.as_bytes();
        if raw.len() != 2 * SECRET_BYTES {
            return None;
        }
        let mut out = [0u8; SECRET_BYTES];
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            *o = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Self(out))
    }

    /// The token as it goes in the welcome: 32 hex digits. The name is loud on purpose:
    /// this is the only way to see it.
    pub fn expose_hex(&self) -> String {
        hex(&self.0)
    }
}

impl PartialEq for ResumeToken {
    /// Constant time: the time taken does not depend on where the tokens differ.
    fn eq(&self, other: &Self) -> bool {
        let diff = self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for ResumeToken {}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResumeToken(<redacted>)")
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex(raw: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    raw.iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 15)] as char])
        .collect()
}

/// The operating system's entropy: the only source of ids and tokens (no caller-provided
/// `RandomSource`, so a predictable one cannot be passed in).
fn os_random() -> Result<[u8; SECRET_BYTES], AttachError> {
    let mut raw = [0u8; SECRET_BYTES];
    getrandom::fill(&mut raw).map_err(|_| AttachError::Entropy)?;
    Ok(raw)
}

/// The session a client asks to resume: id, token and the offset of the last message it
/// processed. `Debug` shows the id and offset, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRequest {
    /// Session id (public).
    pub session_id: String,
    /// The token of the last welcome (secret).
    pub token: ResumeToken,
    /// Offset of the last message the client processed.
    pub offset: u64,
}

/// What a client's first message on a transport says (see [`read_greeting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// `ss2 hello`: no session to resume (or the client chose not to).
    Fresh,
    /// `ss2 resume <sid> <token> <offset>`.
    Resume(ResumeRequest),
    /// Not a greeting (an older or envelope-less client): attach a fresh session and
    /// treat the message as application data.
    NotAGreeting,
}

/// Reads a client's first message: `ss2 hello\n` or `ss2 resume <sid> <token> <offset>\n`
/// (text). A malformed `resume` is [`Greeting::Fresh`]: the client asked for recovery
/// and gets a new session.
pub fn read_greeting(message: &Message) -> Greeting {
    let Message::Text(t) = message else {
        return Greeting::NotAGreeting;
    };
    let Some(line) = t.as_str().strip_prefix(PREFIX) else {
        return Greeting::NotAGreeting;
    };
    let line = line.strip_suffix('\n').unwrap_or(line);
    let mut fields = line.split(' ');
    match fields.next() {
        Some("hello") => Greeting::Fresh,
        Some("resume") => {
            let (Some(sid), Some(token), Some(offset), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Greeting::Fresh;
            };
            ResumeRequest::parse(sid, token, offset).map_or(Greeting::Fresh, Greeting::Resume)
        }
        _ => Greeting::NotAGreeting,
    }
}

impl ResumeRequest {
    /// Reads `ss_sid`, `ss_token` and `ss_offset` from a request target's query
    /// (opt-in placement: URLs end up in access logs).
    pub fn from_query(path_and_query: &str) -> Option<Self> {
        Self::from_query_named(path_and_query, "ss_sid", "ss_token", "ss_offset")
    }

    /// Reads the named parameters from a request target's query.
    pub fn from_query_named(path_and_query: &str, session: &str, token: &str, offset: &str) -> Option<Self> {
        let query = path_and_query.split_once('?')?.1;
        let query = query.split('#').next().unwrap_or_default();
        let find = |name: &str| {
            query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v)
        };
        Self::parse(find(session)?, find(token)?, find(offset)?)
    }

    /// Reads the named headers (case-insensitive names).
    pub fn from_headers(headers: &[(String, String)], session: &str, token: &str, offset: &str) -> Option<Self> {
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        Self::parse(find(session)?, find(token)?, find(offset)?)
    }

    fn parse(sid: &str, token: &str, offset: &str) -> Option<Self> {
        if offset.is_empty() || offset.len() > 20 || !offset.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let offset = offset.parse().ok()?;
        let token = ResumeToken::parse(token)?;
        valid_session_id(sid).then(|| Self {
            session_id: sid.to_string(),
            token,
            offset,
        })
    }
}

/// Why [`RecoveryLog::attach`] gave no attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachError {
    /// The session was resumed too often lately (a valid credential; the session is kept).
    /// Close the transport with 1013 (try again later).
    RateLimited {
        /// When the next resume will be allowed, from `now`.
        retry_after_ms: u64,
    },
    /// The operating system's entropy source failed: no id or token can be made.
    Entropy,
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RateLimited { retry_after_ms } => {
                write!(f, "session resumed too often; retry in {retry_after_ms} ms")
            }
            Self::Entropy => f.write_str("the OS entropy source failed"),
        }
    }
}

impl std::error::Error for AttachError {}

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

/// The answer to [`RecoveryLog::attach`]. Pull the replay (if any) with
/// [`RecoveryLog::next_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// This transport's attachment.
    pub attachment: Attachment,
    /// Whether the requested session was resumed.
    pub recovered: bool,
    /// The token to put in the welcome (the only place it goes). The previous one is
    /// no longer valid.
    pub token: ResumeToken,
}

impl Resume {
    /// The session id to announce in the welcome.
    pub fn session_id(&self) -> &str {
        self.attachment.session_id()
    }
}

#[derive(Debug, Clone, Copy)]
struct Live {
    generation: u64,
    /// Offset this transport has been handed up to (its cursor).
    sent_upto: u64,
}

struct SessionLog {
    /// Tokens issued and still valid, oldest first, numbered: `(n, token)`. The newest
    /// is the last welcome's; older ones stay valid until the client presents a newer
    /// one (a welcome may be lost with its transport, or overtaken by a late greeting on
    /// an abandoned one). At most [`MAX_TOKENS`].
    tokens: VecDeque<(u64, ResumeToken)>,
    owner: Option<Box<[u8]>>,
    entries: VecDeque<(u64, Message)>,
    bytes: usize,
    /// Offset the next message gets.
    next_offset: u64,
    /// Open attachments, oldest first; the last one is current.
    live: Vec<Live>,
    detached_at: u64,
    /// Which detach the queue entries must name to be valid.
    detach_epoch: u64,
    /// Resume token bucket (scaled by 1; refilled lazily).
    bucket: u32,
    bucket_at: u64,
}

impl fmt::Debug for SessionLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLog")
            .field("messages", &self.entries.len())
            .field("bytes", &self.bytes)
            .field("next_offset", &self.next_offset)
            .field("live", &self.live)
            .field("owner_len", &self.owner.as_ref().map(|o| o.len()))
            .finish_non_exhaustive()
    }
}

impl SessionLog {
    fn newest(&self) -> u64 {
        self.next_offset.saturating_sub(1)
    }

    fn attached(&self) -> bool {
        !self.live.is_empty()
    }

    fn front(&self) -> u64 {
        self.entries.front().map_or(self.next_offset, |(o, _)| *o)
    }

    fn resumable(&self, offset: u64, now: u64, max_disconnection_ms: u64) -> bool {
        let alive = self.attached() || now.saturating_sub(self.detached_at) <= max_disconnection_ms;
        alive && offset <= self.newest() && self.front() <= offset.saturating_add(1)
    }

    /// Takes one resume from the bucket, or says when the next one is allowed.
    fn take_resume(&mut self, now: u64, burst: u32, refill_ms: u64) -> Result<(), AttachError> {
        if refill_ms == 0 {
            return Ok(());
        }
        let burst = burst.max(1);
        let gained = now.saturating_sub(self.bucket_at) / refill_ms;
        if gained > 0 {
            self.bucket = u32::try_from(gained)
                .unwrap_or(u32::MAX)
                .saturating_add(self.bucket)
                .min(burst);
            self.bucket_at = self.bucket_at.saturating_add(gained.saturating_mul(refill_ms));
        }
        if self.bucket == 0 {
            let next = self.bucket_at.saturating_add(refill_ms);
            return Err(AttachError::RateLimited {
                retry_after_ms: next.saturating_sub(now).max(1),
            });
        }
        if self.bucket == burst {
            // Refill time counts from the first resume taken out of a full bucket.
            self.bucket_at = now;
        }
        self.bucket -= 1;
        Ok(())
    }

    fn push(&mut self, generation: u64, sent_upto: u64) {
        if self.live.len() >= MAX_ATTACHMENTS {
            self.live.remove(0);
        }
        self.live.push(Live { generation, sent_upto });
    }
}

/// Per-session bounded logs of sent messages (server side of recovery).
#[derive(Debug, Default)]
pub struct RecoveryLog {
    config: RecoveryLogConfig,
    sessions: HashMap<String, SessionLog>,
    generations: u64,
    total_bytes: usize,
    /// Detached sessions in the order they detached: `(detached_at, epoch, sid)`. An
    /// entry is valid while the session exists, is detached and still has that epoch.
    detached: VecDeque<(u64, u64, String)>,
    /// Detached sessions that held no message when they detached, same order.
    empty: VecDeque<(u64, String)>,
    epochs: u64,
    /// Queue entries and sessions looked at (structural cost measure, tests only).
    examined: u64,
}

impl RecoveryLog {
    /// An empty log.
    pub fn new(config: RecoveryLogConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Attaches a new transport. With a valid credential — a valid token (the newest, or
    /// an older one the client has not replaced yet: see the module docs) and the same
    /// `owner` as when the session started (`None` for anonymous sessions) — resumes the
    /// requested session if its log can serve the offset (and its resume budget allows);
    /// otherwise starts a new session with a fresh id. A wrong token or owner never
    /// touches the named session. Call it with the client's greeting
    /// ([`read_greeting`]), or with a request from the query or headers if the app opted
    /// in to those placements.
    ///
    /// `owner` is whatever the app authenticated (a user id, a certificate hash); a
    /// session is bound to the owner it started with.
    pub fn attach(
        &mut self,
        request: Option<ResumeRequest>,
        owner: Option<&[u8]>,
        now: u64,
    ) -> Result<Resume, AttachError> {
        self.expire(now);
        self.generations = self.generations.saturating_add(1);
        let generation = self.generations;
        let (burst, refill) = (self.config.attach_burst, self.config.attach_refill_ms);
        if let Some(req) = request {
            self.examined += 1;
            let max = self.config.max_disconnection_ms;
            let mut drop_it = false;
            if let Some(log) = self.sessions.get_mut(&req.session_id) {
                let same_owner = log.owner.as_deref() == owner;
                // Every comparison runs, each in constant time.
                let matched = log
                    .tokens
                    .iter()
                    .fold(None, |hit, (n, t)| if *t == req.token { Some(*n) } else { hit });
                let token_ok = matched.is_some();
                if token_ok && same_owner {
                    if log.resumable(req.offset, now, max) {
                        log.take_resume(now, burst, refill)?;
                        let token = ResumeToken(os_random()?);
                        // Presenting token n proves the client holds it: older ones die.
                        let presented = matched.unwrap_or(0);
                        log.tokens.retain(|(n, _)| *n >= presented);
                        let next = log.tokens.back().map_or(0, |(n, _)| n + 1);
                        if log.tokens.len() >= MAX_TOKENS {
                            log.tokens.pop_front();
                        }
                        log.tokens.push_back((next, token.clone()));
                        log.push(generation, req.offset);
                        return Ok(Resume {
                            attachment: Attachment {
                                session_id: req.session_id,
                                generation,
                            },
                            recovered: true,
                            token,
                        });
                    }
                    // The owner's own session, which cannot serve the offset: they move on
                    // to a new one. An attached session stays (its transport is live).
                    drop_it = !log.attached();
                }
            }
            if drop_it {
                self.remove(&req.session_id);
            }
        }
        self.make_room();
        let token = ResumeToken(os_random()?);
        let session_id = loop {
            let sid = hex(&os_random()?);
            if !self.sessions.contains_key(&sid) {
                break sid;
            }
        };
        let log = SessionLog {
            tokens: VecDeque::from([(0, token.clone())]),
            owner: owner.map(Box::from),
            entries: VecDeque::new(),
            bytes: 0,
            next_offset: 1,
            live: vec![Live {
                generation,
                sent_upto: 0,
            }],
            detached_at: now,
            detach_epoch: 0,
            bucket: burst,
            bucket_at: now,
        };
        self.sessions.insert(session_id.clone(), log);
        Ok(Resume {
            attachment: Attachment { session_id, generation },
            recovered: false,
            token,
        })
    }

    /// Records a copy of `message` for the session (the copy is what counts against the
    /// limits); returns its offset, or `None` if the session is unknown (expired or
    /// evicted). Deliver it with [`next_batch`](Self::next_batch) on the current
    /// attachment.
    pub fn append(&mut self, session_id: &str, message: Message, _now: u64) -> Option<u64> {
        let (max_messages, max_bytes) = (self.config.max_messages, self.config.max_bytes);
        let message = owned(&message);
        let log = self.sessions.get_mut(session_id)?;
        let offset = log.next_offset;
        log.next_offset = log.next_offset.saturating_add(1);
        let len = message.len();
        log.bytes = log.bytes.saturating_add(len);
        self.total_bytes = self.total_bytes.saturating_add(len);
        log.entries.push_back((offset, message));
        let mut freed = 0usize;
        while log.entries.len() > 1 && (log.entries.len() > max_messages || log.bytes > max_bytes) {
            if let Some((_, m)) = log.entries.pop_front() {
                log.bytes -= m.len();
                freed += m.len();
            }
        }
        self.total_bytes -= freed;
        if self.total_bytes > self.config.max_total_bytes {
            self.over_budget(session_id);
        }
        Some(offset)
    }

    /// The next messages to send on `attachment`, oldest first, and moves its cursor past
    /// them: what a resume replays, then each message appended since. At most
    /// `max_bytes` of payload, but always at least one message when any is due. Empty if
    /// the attachment is not current (or gone). If the log dropped messages this cursor
    /// had not reached (limits), the batch starts at the oldest kept one, and the client
    /// reports the gap.
    pub fn next_batch(&mut self, attachment: &Attachment, max_bytes: usize) -> Vec<(u64, Message)> {
        let Some(log) = self.sessions.get_mut(&attachment.session_id) else {
            return Vec::new();
        };
        let front = log.front();
        let Some(top) = log.live.last_mut().filter(|l| l.generation == attachment.generation) else {
            return Vec::new();
        };
        let skip = top.sent_upto.saturating_add(1).saturating_sub(front);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for (offset, m) in log.entries.iter().skip(skip) {
            if !batch.is_empty() && bytes.saturating_add(m.len()) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(m.len());
            batch.push((*offset, m.clone()));
        }
        if let Some((last, _)) = batch.last() {
            top.sent_upto = *last;
        }
        batch
    }

    /// Whether `attachment` is current and has messages due ([`next_batch`](Self::next_batch)
    /// would return some).
    pub fn has_pending(&self, attachment: &Attachment) -> bool {
        self.sessions.get(&attachment.session_id).is_some_and(|l| {
            let newest_kept = l.entries.back().map_or(0, |(o, _)| *o);
            l.live
                .last()
                .is_some_and(|top| top.generation == attachment.generation && top.sent_upto < newest_kept)
        })
    }

    /// Whether `attachment` is the session's current one (the one to send on).
    pub fn is_current(&self, attachment: &Attachment) -> bool {
        self.sessions
            .get(&attachment.session_id)
            .and_then(|l| l.live.last())
            .is_some_and(|top| top.generation == attachment.generation)
    }

    /// The transport of `attachment` is gone. If it was current and an older attachment
    /// is still open, that one becomes current again and is returned: pull
    /// [`next_batch`](Self::next_batch) for it (it resends from its own cursor). If none
    /// is left, the disconnection clock starts.
    pub fn detach(&mut self, attachment: &Attachment, now: u64) -> Option<Attachment> {
        let log = self.sessions.get_mut(&attachment.session_id)?;
        let index = log.live.iter().position(|l| l.generation == attachment.generation)?;
        let was_current = index + 1 == log.live.len();
        log.live.remove(index);
        if !was_current {
            return None;
        }
        match log.live.last().copied() {
            None => {
                self.epochs += 1;
                log.detached_at = now;
                log.detach_epoch = self.epochs;
                let sid = attachment.session_id.clone();
                if log.entries.is_empty() {
                    self.empty.push_back((self.epochs, sid.clone()));
                }
                self.detached.push_back((now, self.epochs, sid));
                self.compact();
                None
            }
            Some(top) => Some(Attachment {
                session_id: attachment.session_id.clone(),
                generation: top.generation,
            }),
        }
    }

    /// Drops sessions detached for longer than `max_disconnection_ms`; returns how many.
    /// O(1) amortised: it only looks at the front of the time-ordered queue.
    pub fn expire(&mut self, now: u64) -> usize {
        let max = self.config.max_disconnection_ms;
        let mut dropped = 0;
        while let Some((at, epoch, sid)) = self.detached.front() {
            self.examined += 1;
            let valid = self.is_detached_with(sid, *epoch);
            if valid && now.saturating_sub(*at) <= max {
                break;
            }
            if let Some((_, _, sid)) = self.detached.pop_front() {
                if valid {
                    self.remove(&sid);
                    dropped += 1;
                }
            }
        }
        while let Some((epoch, sid)) = self.empty.front() {
            if self.is_detached_with(sid, *epoch) {
                break;
            }
            self.examined += 1;
            self.empty.pop_front();
        }
        dropped
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Payload bytes held across all sessions.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// Forgets everything (a server restart, in tests).
    pub fn clear(&mut self) {
        self.sessions.clear();
        self.detached.clear();
        self.empty.clear();
        self.total_bytes = 0;
    }

    fn is_detached_with(&self, sid: &str, epoch: u64) -> bool {
        self.sessions
            .get(sid)
            .is_some_and(|l| !l.attached() && l.detach_epoch == epoch)
    }

    fn remove(&mut self, sid: &str) {
        if let Some(log) = self.sessions.remove(sid) {
            self.total_bytes -= log.bytes;
        }
    }

    /// Drops queue entries that no longer name a detached session once they outnumber
    /// the sessions (amortised O(1): each compaction at least halves the queues).
    fn compact(&mut self) {
        let limit = 2 * self.sessions.len() + 64;
        if self.detached.len() > limit {
            let sessions = &self.sessions;
            let valid = |sid: &str, epoch: u64| {
                sessions
                    .get(sid)
                    .is_some_and(|l| !l.attached() && l.detach_epoch == epoch)
            };
            self.detached.retain(|(_, e, s)| valid(s, *e));
            self.empty.retain(|(e, s)| valid(s, *e));
        }
        if self.empty.len() > limit {
            let sessions = &self.sessions;
            self.empty
                .retain(|(e, s)| sessions.get(s).is_some_and(|l| !l.attached() && l.detach_epoch == *e));
        }
    }

    /// The oldest valid detached session, preferring ones that hold nothing.
    fn pop_victim(&mut self, prefer_empty: bool) -> Option<String> {
        if prefer_empty {
            while let Some((epoch, sid)) = self.empty.pop_front() {
                self.examined += 1;
                if self.is_detached_with(&sid, epoch) && self.sessions.get(&sid).is_some_and(|l| l.entries.is_empty()) {
                    return Some(sid);
                }
            }
        }
        while let Some((_, epoch, sid)) = self.detached.pop_front() {
            self.examined += 1;
            if self.is_detached_with(&sid, epoch) {
                return Some(sid);
            }
        }
        None
    }

    fn make_room(&mut self) {
        while self.sessions.len() >= self.config.max_sessions.max(1) {
            match self.pop_victim(true) {
                Some(sid) => self.remove(&sid),
                None => break,
            }
        }
    }

    /// Over the global budget after appending to `appender`: drop detached sessions
    /// (longest detached first), then the appender's oldest messages (its newest stays).
    fn over_budget(&mut self, appender: &str) {
        let mut kept = None;
        while self.total_bytes > self.config.max_total_bytes {
            let Some(sid) = self.pop_victim(false) else { break };
            if sid == appender {
                // Detached and appended to: trimmed below instead, and stays queued.
                let at = self.sessions.get(&sid).map_or(0, |l| l.detached_at);
                let epoch = self.sessions.get(&sid).map_or(0, |l| l.detach_epoch);
                kept = Some((at, epoch, sid));
                continue;
            }
            self.remove(&sid);
        }
        if let Some(entry) = kept {
            self.detached.push_front(entry);
        }
        let Some(log) = self.sessions.get_mut(appender) else {
            return;
        };
        while self.total_bytes > self.config.max_total_bytes && log.entries.len() > 1 {
            if let Some((_, m)) = log.entries.pop_front() {
                log.bytes -= m.len();
                self.total_bytes -= m.len();
            }
        }
    }

    #[cfg(test)]
    fn examined(&self) -> u64 {
        self.examined
    }
}

/// A copy that owns exactly its payload (a received message may be a view into a much
/// larger read buffer).
fn owned(message: &Message) -> Message {
    match message {
        Message::Text(t) => Message::Text(Text::from_validated(Bytes::copy_from_slice(t.as_bytes()))),
        Message::Binary(b) => Message::Binary(Bytes::copy_from_slice(b)),
    }
}

#[cfg(test)]
mod tests;
