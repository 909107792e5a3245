//! Deterministic simulation: one session against a recovering server (built on
//! [`RecoveryLog`]) over a simulated network, with a seeded fault schedule.
//!
//! Each schedule runs a fault phase (refused and black-holed connects, resets without a
//! close, server close codes, stalled links that stop answering heartbeats/pings, drain
//! warnings, server restarts that lose every session, outages, 401 rejections, user
//! `reconnect`/`close`/`disconnect_warning`, send bursts against the bounded queue) and
//! then a quiet phase, on a simulated clock. Every step checks:
//!
//! * never stuck: a timer is armed in every state but `Idle`/`Closed` (and none there);
//! * transports: at most two, two only during make-before-break; every socket the host
//!   holds for the session is tracked by it (no leaks), every tracked one exists;
//! * every backoff delay is within the policy's bounds; the queue within its limits;
//! * server→client: per session id, messages arrive exactly once and in order; a session
//!   is only abandoned (`recovered: false`) when the server really lost it;
//! * client→server: no duplicates, in order per transport;
//! * events are coherent: `StateChanged` chains, every `Open` is closed at most once.
//!
//! At the end of the quiet phase the session must be open on the server's current
//! session with nothing missing in either direction.
//!
//! A third of the schedules take each attempt's request from the host
//! ([`RequestSource::Provided`]), answered like an async URL provider: after a delay,
//! sometimes only after the connect timeout (the attempt must fail and be retried, and the
//! late answer must change nothing), sometimes with an error, sometimes never.
//!
//! `STEADYSOCK_SIM_SCHEDULES=n` runs more schedules per transport kind (default 1 000).

use super::super::*;
use crate::connection::{Accept, Config as ConnectionConfig, Connection, Event, Keepalive};
use crate::message::Message;
use crate::rng::{RandomSource, SeededRandom};
use bytes::Bytes;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Messages,
    Bytes,
}

#[derive(Debug)]
struct Params {
    kind: Kind,
    fault_phase_ms: u64,
    quiet_ms: u64,
    mean_fault_gap_ms: u64,
    /// Percent of connects that vanish without an answer.
    p_blackhole: u64,
    /// Percent of connects refused.
    p_refuse: u64,
    /// Percent of upgrades answered with 401 (byte transport only).
    p_reject: u64,
    /// Short `max_disconnection_ms`, so the server may legitimately forget sessions.
    expiry: bool,
    backoff: BackoffPolicy,
    max_retries: Option<u32>,
    queue: QueueLimits,
    /// Requests come from a simulated async provider.
    provided: bool,
}

#[derive(Debug)]
enum Ev {
    // Host → session.
    CConnected(TransportId),
    COpen(TransportId),
    CMsg(TransportId, Message),
    CBytes(TransportId, Bytes),
    CClosed(TransportId, Option<u16>),
    CError(TransportId),
    // Network → server.
    SAccept(TransportId, String),
    SMsg(TransportId, Message),
    SBytes(TransportId, Bytes),
    SClosed(TransportId),
    // Scheduled behaviour.
    Tick,
    ClientSend,
    Fault,
    ServerClose(TransportId, u16),
    Heal,
    AppConnect,
    AppReconnect,
    // The host's request provider answers.
    Provide(TransportId),
    ProvideError(TransportId),
}

/// An event due at `.0`; `.1` keeps equal times in scheduling order.
#[derive(Debug)]
struct Scheduled(u64, u64, Ev);

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

/// One socket, both ends.
struct Link {
    latency: u64,
    c2s_at: u64,
    s2c_at: u64,
    /// The session asked the host to close it.
    released: bool,
    /// The host told the session it closed.
    reported: bool,
    /// Nothing more reaches the client.
    dead: bool,
    server_open: bool,
    stalled: bool,
    attachment: Option<Attachment>,
    conn: Option<Box<Connection>>,
    recv_last: u64,
    /// When the server attached it (larger = newer).
    attach_seq: u64,
}

#[derive(Debug, Default)]
struct Stats {
    schedules: u64,
    steps: u64,
    opens: u64,
    recovered_opens: u64,
    migrations: u64,
    lost_sessions: u64,
    gave_up: u64,
    stopped_by_policy: u64,
    delivered: u64,
    queue_full: u64,
    dup_dropped_or_replayed: u64,
    fallbacks: u64,
    requests_provided: u64,
    requests_late: u64,
    requests_failed: u64,
}

struct World {
    p: Params,
    seed: u64,
    now: u64,
    seq: u64,
    rng: SeededRandom,
    queue: BinaryHeap<Reverse<Scheduled>>,
    s: Session,
    links: BTreeMap<TransportId, Box<Link>>,
    // Server.
    log: RecoveryLog,
    down_until: u64,
    epoch: u64,
    sid_epoch: HashMap<String, u64>,
    current_sid: Option<String>,
    sent_count: HashMap<String, u64>,
    replayed: u64,
    received: HashSet<u64>,
    healed: bool,
    traffic_end: u64,
    // Client app and checker.
    next_c: u64,
    accepted: Vec<(u64, u64)>,
    delivered: HashMap<String, u64>,
    app_sid: Option<String>,
    state: State,
    open_outstanding: bool,
    last_loss: u64,
    stats: Stats,
    tracing: bool,
    /// Ids announced by `NeedRequest` and not opened yet.
    awaiting: HashSet<TransportId>,
    /// Ids whose provider answers after the connect timeout.
    late: HashSet<TransportId>,
}

macro_rules! check {
    ($w:expr, $cond:expr, $($arg:tt)+) => {
        if !$cond {
            panic!("seed {} ({:?}) at {} ms: {}", $w.seed, $w.p.kind, $w.now, format!($($arg)+));
        }
    };
}

fn pick(rng: &mut SeededRandom, lo: u64, hi: u64) -> u64 {
    lo + rng.next_u64() % (hi - lo + 1)
}

impl World {
    fn new(seed: u64, kind: Kind) -> Self {
        let mut rng = SeededRandom::new(seed ^ 0x5EED);
        let jitter = [Jitter::Full, Jitter::Decorrelated, Jitter::None][(rng.next_u32() % 3) as usize];
        let p = Params {
            kind,
            fault_phase_ms: pick(&mut rng, 20_000, 120_000),
            quiet_ms: 100_000,
            mean_fault_gap_ms: pick(&mut rng, 1_500, 10_000),
            p_blackhole: pick(&mut rng, 0, 15),
            p_refuse: pick(&mut rng, 0, 20),
            p_reject: if kind == Kind::Bytes && rng.next_u32() % 4 == 0 {
                5
            } else {
                0
            },
            expiry: rng.next_u32() % 5 == 0,
            backoff: BackoffPolicy {
                min_delay_ms: pick(&mut rng, 200, 2_000),
                max_delay_ms: pick(&mut rng, 5_000, 30_000),
                factor: [1.5, 2.0, 3.0][(rng.next_u32() % 3) as usize],
                jitter,
            },
            max_retries: (rng.next_u32() % 4 == 0).then(|| pick(&mut rng, 1, 6) as u32),
            queue: QueueLimits {
                max_messages: pick(&mut rng, 5, 50) as usize,
                max_bytes: pick(&mut rng, 100, 2_000) as usize,
            },
            provided: seed % 3 == 0,
        };
        let mut config = match kind {
            Kind::Messages => {
                let mut c = SessionConfig::messages("wss://sim.test/ws");
                c.heartbeat = Some(Heartbeat::steady(5_000, 3_000));
                c
            }
            Kind::Bytes => SessionConfig::new(
                "ws://sim.test/ws",
                TransportKind::Bytes(ConnectionConfig {
                    keepalive: Some(Keepalive {
                        interval_ms: 5_000,
                        pong_timeout_ms: 3_000,
                        any_data_counts: true,
                        ping_payload: None,
                    }),
                    ..ConnectionConfig::default()
                }),
            ),
        };
        config.retry.backoff = p.backoff;
        config.retry.max_retries = p.max_retries;
        config.queue = p.queue;
        config.recovery = Some(RecoveryConfig::default());
        if p.provided {
            config.request_source = RequestSource::Provided;
        }
        let log = RecoveryLog::new(RecoveryLogConfig {
            max_messages: 100_000,
            max_bytes: usize::MAX,
            max_disconnection_ms: if p.expiry { 20_000 } else { u64::MAX / 4 },
            max_sessions: 100,
            attach_refill_ms: 0,
            ..RecoveryLogConfig::default()
        });
        let traffic_end = p.fault_phase_ms + p.quiet_ms - 10_000;
        Self {
            s: Session::new(config, Box::new(SeededRandom::new(seed)), 0),
            p,
            seed,
            now: 0,
            seq: 0,
            rng,
            queue: BinaryHeap::new(),
            links: BTreeMap::new(),
            log,
            down_until: 0,
            epoch: 0,
            sid_epoch: HashMap::new(),
            current_sid: None,
            sent_count: HashMap::new(),
            replayed: 0,
            received: HashSet::new(),
            healed: false,
            traffic_end,
            next_c: 0,
            accepted: Vec::new(),
            delivered: HashMap::new(),
            app_sid: None,
            state: State::Idle,
            open_outstanding: false,
            last_loss: 0,
            stats: Stats::default(),
            tracing: std::env::var("STEADYSOCK_SIM_TRACE").is_ok_and(|v| v == seed.to_string()),
            awaiting: HashSet::new(),
            late: HashSet::new(),
        }
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled(t, self.seq, ev)));
    }

    fn send_to_client(&mut self, id: TransportId, ev: Ev) {
        let Some(l) = self.links.get_mut(&id) else { return };
        let t = (self.now + l.latency).max(l.s2c_at);
        l.s2c_at = t;
        self.at(t, ev);
    }

    fn send_to_server(&mut self, id: TransportId, ev: Ev) {
        let Some(l) = self.links.get_mut(&id) else { return };
        let t = (self.now + l.latency).max(l.c2s_at);
        l.c2s_at = t;
        self.at(t, ev);
    }

    fn run(mut self) -> Stats {
        self.at(300, Ev::Tick);
        self.at(200, Ev::ClientSend);
        let first_fault = pick(&mut self.rng, 0, self.p.mean_fault_gap_ms * 2);
        self.at(first_fault, Ev::Fault);
        self.at(self.p.fault_phase_ms, Ev::Heal);
        self.s.connect(0);
        self.outputs();
        let end = self.p.fault_phase_ms + self.p.quiet_ms;
        loop {
            let next_ev = self.queue.peek().map(|e| e.0 .0);
            let next_timer = self.s.poll_timeout();
            let t = match (next_ev, next_timer) {
                (Some(e), Some(tm)) => e.min(tm),
                (Some(e), None) => e,
                (None, Some(tm)) => tm,
                (None, None) => break,
            };
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            if next_timer.is_some_and(|tm| tm <= t) {
                self.trace(format_args!("timeout"));
                self.s.handle_timeout(self.now);
            } else if let Some(Reverse(Scheduled(_, _, ev))) = self.queue.pop() {
                self.trace(format_args!("{ev:?}"));
                self.apply(ev);
            }
            self.outputs();
            self.check();
            self.stats.steps += 1;
            check!(self, self.stats.steps < 2_000_000, "livelock");
        }
        self.now = end;
        self.final_checks();
        self.stats.schedules = 1;
        self.stats.dup_dropped_or_replayed = self.replayed;
        self.stats
    }

    // ------------------------------------------------------------------ host side

    fn trace(&self, what: std::fmt::Arguments<'_>) {
        if self.tracing {
            eprintln!("{:>8} {:?} {what}", self.now, self.s.state());
        }
    }

    fn outputs(&mut self) {
        while let Some(o) = self.s.poll_output() {
            if !matches!(o, Output::Transmit { .. }) {
                self.trace(format_args!("  -> {o:?}"));
            }
            match o {
                Output::NeedRequest { id, .. } => self.need_request(id),
                Output::OpenTransport { id, request } => {
                    if self.p.provided {
                        check!(
                            self,
                            self.awaiting.remove(&id),
                            "OpenTransport for {id} without a request"
                        );
                        check!(self, !self.late.contains(&id), "a late answer opened {id}");
                    }
                    self.open_transport(id, request)
                }
                Output::Transmit { id, bytes } => {
                    check!(self, self.p.kind == Kind::Bytes, "Transmit on a message transport");
                    self.send_to_server(id, Ev::SBytes(id, bytes));
                }
                Output::SendMessage { id, message } => {
                    check!(self, self.p.kind == Kind::Messages, "SendMessage on a byte transport");
                    self.send_to_server(id, Ev::SMsg(id, message));
                }
                Output::CloseTransport { id, code, reason } => {
                    check!(self, code == 1000 || (3000..=4999).contains(&code), "close code {code}");
                    check!(self, reason.len() <= 123, "reason too long");
                    if self.awaiting.remove(&id) {
                        // The request is no longer wanted; the provider's answer, if it
                        // still comes, must be ignored.
                        continue;
                    }
                    let Some(l) = self.links.get_mut(&id) else {
                        panic!("seed {}: CloseTransport for unknown {id}", self.seed)
                    };
                    let first = !l.released;
                    l.released = true;
                    if first {
                        self.send_to_server(id, Ev::SClosed(id));
                        if self.p.kind == Kind::Messages {
                            // The browser runs the closing handshake and reports it.
                            let l = &self.links[&id];
                            let t = self.now + 2 * l.latency;
                            self.at(t, Ev::CClosed(id, Some(code)));
                        }
                    }
                }
                Output::Event(e) => self.event(e),
            }
        }
    }

    /// The host's async request provider: answers after a delay, too late, with an
    /// error, or never (a faulty provider only before the schedule heals).
    fn need_request(&mut self, id: TransportId) {
        check!(self, self.p.provided, "NeedRequest with a fixed request");
        check!(self, self.awaiting.insert(id), "NeedRequest for {id} twice");
        check!(self, !self.links.contains_key(&id), "NeedRequest for a used id {id}");
        let roll = if self.healed { 99 } else { self.rng.next_u64() % 100 };
        let now = self.now;
        match roll {
            0..8 => {
                self.late.insert(id);
                let t = now + pick(&mut self.rng, 10_001, 14_000);
                self.at(t, Ev::Provide(id));
            }
            8..14 => {
                let t = now + pick(&mut self.rng, 0, 300);
                self.at(t, Ev::ProvideError(id));
            }
            14..17 => {} // never answers
            _ => {
                let t = now + pick(&mut self.rng, 0, 800);
                self.at(t, Ev::Provide(id));
            }
        }
    }

    fn open_transport(&mut self, id: TransportId, request: TransportRequest) {
        check!(self, !self.links.contains_key(&id), "transport id {id} reused");
        let latency = pick(&mut self.rng, 1, 150);
        self.links.insert(
            id,
            Box::new(Link {
                latency,
                c2s_at: 0,
                s2c_at: 0,
                released: false,
                reported: false,
                dead: false,
                server_open: false,
                stalled: false,
                attachment: None,
                conn: None,
                recv_last: 0,
                attach_seq: 0,
            }),
        );
        let roll = self.rng.next_u64() % 100;
        let faulty = !self.healed;
        if self.now < self.down_until || (faulty && roll < self.p.p_refuse) {
            if self.p.kind == Kind::Messages && roll % 2 == 0 {
                self.send_to_client(id, Ev::CClosed(id, None)); // what a browser reports
            } else {
                self.send_to_client(id, Ev::CError(id));
            }
        } else if faulty && roll < self.p.p_refuse + self.p.p_blackhole {
            // Black hole: nothing ever comes back.
        } else {
            match self.p.kind {
                Kind::Messages => self.send_to_server(id, Ev::SAccept(id, request.url)),
                Kind::Bytes => {
                    let conn = Connection::server(
                        ConnectionConfig::default(),
                        Box::new(SeededRandom::new(id.get())),
                        self.now,
                    );
                    if let Some(l) = self.links.get_mut(&id) {
                        l.conn = Some(Box::new(conn));
                    }
                    self.send_to_client(id, Ev::CConnected(id));
                }
            }
        }
    }

    fn apply(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::CConnected(id) => self.s.handle_transport_connected(id, now),
            Ev::COpen(id) => self.s.handle_transport_open(id, None, now),
            Ev::CMsg(id, m) => {
                if !self.links[&id].dead {
                    self.s.handle_transport_message(id, m, now)
                }
            }
            Ev::CBytes(id, b) => {
                if !self.links[&id].dead {
                    self.s.handle_transport_bytes(id, &b, now)
                }
            }
            Ev::CClosed(id, code) => {
                let l = self.links.get_mut(&id).unwrap();
                if !l.reported {
                    l.dead = true;
                    l.reported = true;
                    self.s.handle_transport_closed(id, code, "", now);
                }
            }
            Ev::CError(id) => {
                let l = self.links.get_mut(&id).unwrap();
                if !l.reported && !l.dead {
                    l.dead = true;
                    self.s
                        .handle_transport_error(id, TransportErrorKind::Refused, "refused", now);
                }
            }
            Ev::SAccept(id, url) => {
                if !self.links[&id].released && now >= self.down_until {
                    self.server_open(id, &url);
                }
            }
            Ev::SMsg(id, m) => {
                let l = &self.links[&id];
                if l.server_open && !l.stalled {
                    self.server_message(id, m);
                }
            }
            Ev::SBytes(id, b) => self.server_bytes(id, &b),
            Ev::SClosed(id) => self.server_lost(id),
            Ev::Tick => self.tick(),
            Ev::ClientSend => self.client_send(),
            Ev::Fault => self.fault(),
            Ev::ServerClose(id, code) => self.server_close(id, code),
            Ev::Heal => {
                self.healed = true;
                self.down_until = 0;
            }
            Ev::AppConnect => self.s.connect(now),
            Ev::Provide(id) => {
                if self.late.contains(&id) {
                    self.stats.requests_late += 1;
                } else {
                    self.stats.requests_provided += 1;
                }
                let url = match self.p.kind {
                    Kind::Messages => "wss://sim.test/ws",
                    Kind::Bytes => "ws://sim.test/ws",
                };
                let request = TransportRequest {
                    url: url.into(),
                    ..TransportRequest::default()
                };
                self.s.provide_request(id, request, now);
            }
            Ev::ProvideError(id) => {
                self.stats.requests_failed += 1;
                self.s.provide_request_error(id, "token endpoint failed", now);
            }
            Ev::AppReconnect => {
                if self.s.state() == State::Closed {
                    self.s.reconnect(now)
                }
            }
        }
    }

    // ------------------------------------------------------------------ server

    /// A transport reached the server: it waits for the client's greeting.
    fn server_open(&mut self, id: TransportId, _path: &str) {
        let l = self.links.get_mut(&id).unwrap();
        l.server_open = true;
        if self.p.kind == Kind::Messages {
            self.send_to_client(id, Ev::COpen(id));
        }
    }

    /// The client's greeting: attach (resume or new session), welcome, replay.
    fn server_greeted(&mut self, id: TransportId, m: &Message) {
        let req = match read_greeting(m) {
            Greeting::Resume(r) => Some(r),
            Greeting::Fresh => None,
            Greeting::NotAGreeting => panic!("seed {}: first message {m:?} is not a greeting", self.seed),
        };
        let resume = self.log.attach(req.clone(), None, self.now).expect("attach");
        let sid = resume.session_id().to_string();
        if let Some(req) = &req {
            if !resume.recovered {
                let lost_by_restart = self.sid_epoch.get(&req.session_id).is_none_or(|&e| e < self.epoch);
                check!(
                    self,
                    lost_by_restart || self.p.expiry,
                    "server could not resume {} at {}",
                    req.session_id,
                    req.offset
                );
            }
        }
        self.sid_epoch.entry(sid.clone()).or_insert(self.epoch);
        self.sent_count.entry(sid.clone()).or_insert(0);
        self.current_sid = Some(sid.clone());
        self.seq += 1;
        let seq = self.seq;
        let l = self.links.get_mut(&id).unwrap();
        l.attach_seq = seq;
        l.attachment = Some(resume.attachment.clone());
        self.server_send(id, encode::welcome(&sid, &resume.token.expose_hex(), resume.recovered));
        self.replayed += self.server_pump(id);
    }

    /// Sends what the log has due on `id`'s attachment (replay, then new messages), in
    /// bounded batches; returns how many.
    fn server_pump(&mut self, id: TransportId) -> u64 {
        let mut n = 0;
        loop {
            let Some(a) = self.links.get(&id).and_then(|l| l.attachment.clone()) else {
                return n;
            };
            let batch = self.log.next_batch(&a, 4 * 1024);
            if batch.is_empty() {
                return n;
            }
            for (offset, m) in batch {
                n += 1;
                self.server_send(id, encode::data(offset, &m));
            }
        }
    }

    fn server_send(&mut self, id: TransportId, m: Message) {
        match self.p.kind {
            Kind::Messages => self.send_to_client(id, Ev::CMsg(id, m)),
            Kind::Bytes => {
                if let Some(conn) = self.links.get_mut(&id).and_then(|l| l.conn.as_mut()) {
                    let _ = conn.send(m);
                }
                self.server_flush(id);
            }
        }
    }

    fn server_flush(&mut self, id: TransportId) {
        let mut chunks = vec![];
        let mut finished = false;
        if let Some(conn) = self.links.get_mut(&id).and_then(|l| l.conn.as_mut()) {
            while let Some(b) = conn.poll_transmit() {
                chunks.push(b);
            }
            finished = conn.should_close_transport();
        }
        for b in chunks {
            self.send_to_client(id, Ev::CBytes(id, b));
        }
        if finished {
            if let Some(l) = self.links.get_mut(&id) {
                l.conn = None;
            }
            self.server_detach(id);
            self.send_to_client(id, Ev::CClosed(id, None)); // TCP FIN
        }
    }

    fn server_bytes(&mut self, id: TransportId, data: &[u8]) {
        let now = self.now;
        let Some(l) = self.links.get_mut(&id) else { return };
        if l.stalled {
            return;
        }
        let Some(conn) = l.conn.as_mut() else { return };
        conn.handle_input(data, now);
        let events: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
        for e in events {
            match e {
                Event::Request(r) => {
                    let reject = !self.healed && self.rng.next_u64() % 100 < self.p.p_reject;
                    let conn = self.links.get_mut(&id).and_then(|l| l.conn.as_mut()).unwrap();
                    if reject {
                        conn.reject(401, &[], b"token expired").unwrap();
                    } else {
                        conn.accept(Accept::default(), now).unwrap();
                        self.server_open(id, &r.path);
                    }
                }
                Event::Message(m) if self.links[&id].server_open => self.server_message(id, m),
                Event::Closed(_) => self.server_detach(id),
                _ => {}
            }
        }
        self.server_flush(id);
    }

    fn server_message(&mut self, id: TransportId, m: Message) {
        if self.links[&id].attachment.is_none() {
            self.server_greeted(id, &m);
            return;
        }
        let Message::Text(t) = &m else {
            panic!("seed {}: unexpected binary", self.seed)
        };
        if t.as_str() == "ss2 ping\n" {
            self.server_send(id, encode::pong());
            return;
        }
        let n: u64 = t.as_str().strip_prefix('c').and_then(|s| s.parse().ok()).unwrap();
        check!(self, self.received.insert(n), "client message c{n} received twice");
        let l = self.links.get_mut(&id).unwrap();
        check!(
            self,
            n > l.recv_last,
            "client message c{n} after c{} on {id}",
            l.recv_last
        );
        l.recv_last = n;
    }

    fn server_detach(&mut self, id: TransportId) {
        let now = self.now;
        if let Some(l) = self.links.get_mut(&id) {
            l.server_open = false;
            if let Some(a) = l.attachment.take() {
                if let Some(f) = self.log.detach(&a, now) {
                    self.fallback(f);
                }
            }
        }
    }

    /// The session fell back to an older transport that is still open: resend there.
    fn fallback(&mut self, f: Attachment) {
        let target = self
            .links
            .iter()
            .find(|(_, l)| l.server_open && l.attachment.as_ref() == Some(&f));
        let Some((&id, l)) = target else { return };
        if l.stalled {
            return;
        }
        self.stats.fallbacks += 1;
        self.server_pump(id);
    }

    /// The client side went away (close, reset).
    fn server_lost(&mut self, id: TransportId) {
        let now = self.now;
        if let Some(conn) = self.links.get_mut(&id).and_then(|l| l.conn.as_mut()) {
            conn.handle_eof(now);
        }
        if let Some(l) = self.links.get_mut(&id) {
            l.conn = None;
        }
        self.server_detach(id);
    }

    /// The server closes a transport with `code`.
    fn server_close(&mut self, id: TransportId, code: u16) {
        if !self.links.get(&id).is_some_and(|l| l.server_open) {
            return;
        }
        match self.p.kind {
            Kind::Messages => {
                self.server_detach(id);
                self.send_to_client(id, Ev::CClosed(id, Some(code)));
            }
            Kind::Bytes => {
                let now = self.now;
                if let Some(conn) = self.links.get_mut(&id).and_then(|l| l.conn.as_mut()) {
                    let _ = conn.close(code, "server says bye", now);
                }
                self.server_detach(id);
                self.server_flush(id);
            }
        }
    }

    /// Abrupt end: no close frame, both sides learn at once.
    fn reset(&mut self, id: TransportId) {
        if let Some(l) = self.links.get_mut(&id) {
            l.conn = None;
        }
        self.server_detach(id);
        let now = self.now;
        self.at(now, Ev::CClosed(id, None));
    }

    fn server_links(&self) -> Vec<TransportId> {
        let mut v: Vec<_> = self
            .links
            .iter()
            .filter(|(_, l)| l.server_open)
            .map(|(id, _)| *id)
            .collect();
        v.sort();
        v
    }

    /// The newest open transport, if the server may send on it. The server's app talks
    /// to the session attached there (an abandoned attempt may have created one of its
    /// own); a transport superseded by a newer attachment gets nothing more.
    fn current_link(&mut self) -> Option<TransportId> {
        let (id, sid) = self
            .links
            .iter()
            .filter(|(_, l)| l.server_open)
            .filter_map(|(id, l)| Some((l.attach_seq, *id, l.attachment.as_ref()?.session_id().to_string())))
            .max()
            .map(|(_, id, sid)| (id, sid))?;
        self.current_sid = Some(sid);
        // The RecoveryLog contract: send only on the session's current attachment.
        let att = self.links[&id].attachment.as_ref()?;
        self.log.is_current(att).then_some(id)
    }

    fn tick(&mut self) {
        if self.now < self.traffic_end {
            let gap = pick(&mut self.rng, 200, 3_000);
            self.at(self.now + gap, Ev::Tick);
        }
        if self.now < self.down_until {
            return;
        }
        let link = self.current_link();
        let Some(sid) = self.current_sid.clone() else { return };
        let n = self.sent_count.get(&sid).copied().unwrap_or(0) + 1;
        let m = Message::text(format!("{sid}#{n}"));
        match self.log.append(&sid, m.clone(), self.now) {
            None => self.current_sid = None, // expired
            Some(offset) => {
                check!(self, offset == n, "log offset {offset} != {n}");
                self.sent_count.insert(sid, n);
                if let Some(id) = link.filter(|id| !self.links[id].stalled) {
                    self.server_pump(id);
                }
            }
        }
    }

    // ------------------------------------------------------------------ client app

    fn client_send(&mut self) {
        if self.now < self.traffic_end {
            let gap = pick(&mut self.rng, 200, 3_000);
            self.at(self.now + gap, Ev::ClientSend);
        }
        self.send_one();
    }

    fn send_one(&mut self) {
        self.next_c += 1;
        let n = self.next_c;
        match self.s.send(Message::text(format!("c{n}")), self.now) {
            Ok(()) => self.accepted.push((n, self.now)),
            Err(SendError::QueueFull { messages, bytes }) => {
                self.stats.queue_full += 1;
                check!(
                    self,
                    messages == self.s.queued_messages() && bytes == self.s.queued_bytes(),
                    "QueueFull reports the queue"
                );
            }
            Err(SendError::Closed) => {
                check!(
                    self,
                    matches!(self.s.state(), State::Closed | State::Closing),
                    "Closed error while {:?}",
                    self.s.state()
                )
            }
            Err(e) => panic!("seed {}: {e}", self.seed),
        }
    }

    fn fault(&mut self) {
        if self.healed {
            return;
        }
        let gap = pick(&mut self.rng, 100, self.p.mean_fault_gap_ms * 2);
        self.at(self.now + gap, Ev::Fault);
        let links = self.server_links();
        let any = |w: &mut World| (!links.is_empty()).then(|| links[(w.rng.next_u64() as usize) % links.len()]);
        let now = self.now;
        // Client messages in flight or sent onto a stalled link may be lost (at most once).
        self.last_loss = now;
        match self.rng.next_u64() % 100 {
            0..15 => {
                if let Some(id) = any(self) {
                    self.reset(id)
                }
            }
            15..30 => {
                if let Some(id) = any(self) {
                    let codes = [1000, 1001, 1008, 1011, 1012, 1013, 4000, 4999];
                    let code = codes[(self.rng.next_u64() % 8) as usize];
                    self.server_close(id, code);
                }
            }
            30..40 => {
                if let Some(id) = any(self) {
                    self.links.get_mut(&id).unwrap().stalled = true;
                }
            }
            40..55 => {
                if let Some(id) = self.current_link().filter(|id| !self.links[id].stalled) {
                    self.server_send(id, encode::drain());
                    let grace = pick(&mut self.rng, 1_000, 8_000);
                    self.at(now + grace, Ev::ServerClose(id, 1012));
                }
            }
            55..62 => {
                // Restart: every session is lost, every socket dies, down for a while.
                self.log.clear();
                self.epoch += 1;
                self.current_sid = None;
                for id in links.clone() {
                    self.reset(id);
                }
                self.down_until = now + pick(&mut self.rng, 0, 20_000);
            }
            62..68 => {
                // Outage (load balancer): sockets die, sessions survive on the server.
                for id in links.clone() {
                    self.reset(id);
                }
                self.down_until = now + pick(&mut self.rng, 5_000, 60_000);
            }
            68..73 => self.s.reconnect(now),
            73..77 => {
                self.s.close(1000, "user", now);
                let later = pick(&mut self.rng, 1_000, 20_000);
                self.at(now + later, Ev::AppConnect);
            }
            77..82 => self.s.disconnect_warning(now),
            82..90 => {
                for _ in 0..pick(&mut self.rng, 5, 60) {
                    self.send_one();
                }
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------------ checks

    fn event(&mut self, e: SessionEvent) {
        match e {
            SessionEvent::StateChanged { from, to } => {
                check!(
                    self,
                    from == self.state,
                    "StateChanged from {from:?} but was {:?}",
                    self.state
                );
                check!(self, from != to, "StateChanged to the same state");
                self.state = to;
            }
            SessionEvent::Open { recovered, .. } => {
                check!(self, !self.open_outstanding, "Open twice without Closed");
                self.open_outstanding = true;
                self.stats.opens += 1;
                self.stats.recovered_opens += u64::from(recovered);
                self.session_changed(recovered);
            }
            SessionEvent::Migrated { recovered } => {
                check!(self, self.open_outstanding, "Migrated while not open");
                self.last_loss = self.now;
                self.stats.migrations += 1;
                self.session_changed(recovered);
            }
            SessionEvent::Message(m) => {
                let Message::Text(t) = m else { panic!("binary") };
                let (sid, n) = t.as_str().split_once('#').unwrap();
                let n: u64 = n.parse().unwrap();
                check!(
                    self,
                    self.app_sid.as_deref() == Some(sid),
                    "message of {sid} while in {:?}",
                    self.app_sid
                );
                let last = self.delivered.entry(sid.to_string()).or_insert(0);
                check!(self, n == *last + 1, "{sid}: got #{n} after #{last}");
                *last = n;
                self.stats.delivered += 1;
            }
            SessionEvent::Closed {
                will_reconnect, cause, ..
            } => {
                if will_reconnect {
                    check!(self, self.open_outstanding, "Closed(will_reconnect) without Open");
                } else {
                    check!(
                        self,
                        self.s.state() == State::Closed,
                        "final Closed while {:?}",
                        self.s.state()
                    );
                    if cause != Cause::UserClose {
                        self.stats.stopped_by_policy += 1;
                        let later = pick(&mut self.rng, 1_000, 30_000);
                        self.at(self.now + later, Ev::AppReconnect);
                    }
                }
                self.open_outstanding = false;
                self.last_loss = self.now;
            }
            SessionEvent::Reconnecting { attempt, delay_ms, .. } => {
                if delay_ms == 0 {
                    check!(
                        self,
                        self.state == State::Connecting,
                        "zero delay outside a migration hand-over"
                    );
                } else {
                    let b = self.p.backoff;
                    let (_, hi) = b.bounds(attempt);
                    check!(
                        self,
                        delay_ms >= b.min_delay_ms && delay_ms <= b.max_delay_ms && delay_ms <= hi,
                        "delay {delay_ms} for attempt {attempt} outside policy {b:?}"
                    );
                }
            }
            SessionEvent::GaveUp { attempts, .. } => {
                self.stats.gave_up += 1;
                let max = self.p.max_retries.unwrap_or(u32::MAX);
                check!(
                    self,
                    attempts == max.saturating_add(1),
                    "gave up after {attempts} attempts, max_retries {max}"
                );
            }
            SessionEvent::Error(SessionError::RecoveryGap { expected, got }) => {
                panic!("seed {}: recovery gap {expected}..{got}", self.seed)
            }
            SessionEvent::Error(_) => {}
            // The simulation never turns `control_frames` on.
            SessionEvent::Ping(_) | SessionEvent::Pong(_) => panic!("seed {}: control frame reported", self.seed),
            // Nor `fragments`.
            SessionEvent::Fragment { .. } => panic!("seed {}: fragment reported", self.seed),
        }
    }

    /// A welcome moved the app onto `session_id()`; check nothing was lost unfairly.
    fn session_changed(&mut self, recovered: bool) {
        let sid = self.s.session_id().map(str::to_string);
        check!(self, sid.is_some(), "open without a session id");
        if recovered {
            check!(self, sid == self.app_sid, "recovered onto a different session");
        } else if let Some(old) = self.app_sid.clone().filter(|o| Some(o) != sid.as_ref()) {
            // The old session ended: whatever it did not deliver is lost. Only fair when
            // the server forgot it.
            let lost_by_restart = self.sid_epoch.get(&old).is_none_or(|&e| e < self.epoch);
            check!(
                self,
                lost_by_restart || self.p.expiry,
                "session {old} abandoned although the server kept it"
            );
            self.stats.lost_sessions += 1;
        }
        self.app_sid = sid;
    }

    fn check(&mut self) {
        let tracked = self.s.transports();
        check!(self, tracked.len() <= 2, "{} transports", tracked.len());
        check!(
            self,
            tracked.len() < 2 || self.s.is_migrating(),
            "two transports without migration"
        );
        for id in &tracked {
            check!(
                self,
                self.links.get(id).is_some_and(|l| !l.reported) || self.awaiting.contains(id),
                "tracked {id} is neither a live socket nor awaiting its request"
            );
        }
        for id in &self.awaiting {
            check!(self, tracked.contains(id), "{id} awaits a request the session forgot");
        }
        for (id, l) in &self.links {
            check!(
                self,
                l.released || l.reported || tracked.contains(id),
                "leaked socket {id}"
            );
        }
        check!(self, self.s.state() == self.state, "StateChanged events out of sync");
        let timer = self.s.poll_timeout();
        match self.s.state() {
            State::Idle | State::Closed => check!(self, timer.is_none(), "timer armed while {:?}", self.s.state()),
            st => check!(self, timer.is_some(), "stuck in {st:?} without a timer"),
        }
        if let Some(t) = timer {
            check!(
                self,
                t >= self.now || self.s.state() != State::Backoff,
                "backoff deadline in the past"
            );
        }
        check!(
            self,
            self.s.queued_messages() <= self.p.queue.max_messages && self.s.queued_bytes() <= self.p.queue.max_bytes,
            "queue over its limits"
        );
    }

    fn final_checks(&mut self) {
        check!(
            self,
            self.s.state() == State::Open,
            "not open at the end: {:?} ({:?})",
            self.s.state(),
            self.p
        );
        let sid = self.current_sid.clone();
        check!(
            self,
            sid.is_some() && self.s.session_id() == sid.as_deref(),
            "not on the server's current session"
        );
        let sid = sid.unwrap();
        let sent = self.sent_count[&sid];
        let got = self.delivered.get(&sid).copied().unwrap_or(0);
        check!(self, got == sent, "{sid}: delivered {got} of {sent}");
        let missing: Vec<u64> = self
            .accepted
            .iter()
            .filter(|(n, t)| *t > self.last_loss && !self.received.contains(n))
            .map(|(n, _)| *n)
            .collect();
        check!(
            self,
            missing.is_empty(),
            "client messages accepted after the last loss never arrived: {missing:?}"
        );

        // A user close at the end stops everything and releases every socket.
        self.s.close(1000, "done", self.now);
        self.outputs();
        for _ in 0..100 {
            let next_ev = self.queue.peek().map(|e| e.0 .0);
            let next = [next_ev, self.s.poll_timeout()].into_iter().flatten().min();
            let Some(t) = next else { break };
            self.now = self.now.max(t);
            if self.s.poll_timeout().is_some_and(|tm| tm <= t) {
                self.s.handle_timeout(self.now);
            } else if let Some(Reverse(Scheduled(_, _, ev))) = self.queue.pop() {
                if matches!(
                    ev,
                    Ev::CClosed(..) | Ev::CMsg(..) | Ev::CBytes(..) | Ev::SClosed(_) | Ev::SBytes(..) | Ev::SMsg(..)
                ) {
                    self.apply(ev);
                }
            }
            self.outputs();
            if self.s.state() == State::Closed {
                break;
            }
        }
        check!(
            self,
            self.s.state() == State::Closed && self.s.poll_timeout().is_none(),
            "close did not finish"
        );
        check!(self, self.s.transports().is_empty(), "transports left after close");
        for (id, l) in &self.links {
            check!(self, l.released || l.reported, "socket {id} left open after close");
        }
    }
}

fn schedules() -> u64 {
    std::env::var("STEADYSOCK_SIM_SCHEDULES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn simulate(kind: Kind) -> Stats {
    let mut total = Stats::default();
    let only: Option<u64> = std::env::var("STEADYSOCK_SIM_TRACE").ok().and_then(|v| v.parse().ok());
    for seed in 0..schedules() {
        if only.is_some_and(|o| o != seed) {
            continue;
        }
        let s = World::new(seed, kind).run();
        total.schedules += s.schedules;
        total.steps += s.steps;
        total.opens += s.opens;
        total.recovered_opens += s.recovered_opens;
        total.migrations += s.migrations;
        total.lost_sessions += s.lost_sessions;
        total.gave_up += s.gave_up;
        total.stopped_by_policy += s.stopped_by_policy;
        total.delivered += s.delivered;
        total.queue_full += s.queue_full;
        total.dup_dropped_or_replayed += s.dup_dropped_or_replayed;
        total.fallbacks += s.fallbacks;
        total.requests_provided += s.requests_provided;
        total.requests_late += s.requests_late;
        total.requests_failed += s.requests_failed;
    }
    eprintln!("{kind:?}: {total:?}");
    // The schedules must actually exercise what they claim to.
    assert!(total.recovered_opens > total.schedules, "{total:?}");
    assert!(total.migrations > total.schedules / 4, "{total:?}");
    assert!(
        total.lost_sessions > 0 && total.gave_up > 0 && total.queue_full > 0,
        "{total:?}"
    );
    assert!(total.dup_dropped_or_replayed > 0, "{total:?}");
    assert!(
        total.requests_provided > total.schedules && total.requests_late > 0 && total.requests_failed > 0,
        "{total:?}"
    );
    total
}

#[test]
fn simulation_message_transport() {
    simulate(Kind::Messages);
}

#[test]
fn simulation_byte_transport() {
    let total = simulate(Kind::Bytes);
    assert!(
        total.stopped_by_policy > total.gave_up,
        "401s stop the session too: {total:?}"
    );
}
