//! The fault server's one decision-making thread.
//!
//! Every connection's [`Connection`] (server role), the [`RecoveryLog`], the counters and
//! the faults live here and are touched by this thread only; accept and reader threads
//! just post what happened into its channel. So "append to the log, then send on the
//! current attachment" and "attach, then replay" are atomic with respect to each other,
//! exactly as the log's contract assumes.

use super::command::{Command, FaultConfig, Mode, Reply, Status};
use crate::driver::Clock;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;
use steadysock::session::{
    encode, read_greeting, AttachError, Attachment, Greeting, RecoveryLog, RecoveryLogConfig, ResumeRequest,
};
use steadysock::{Accept, Config, Connection, Event, Message, RandomSource, SeededRandom};

/// How long a write to a client may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often detached sessions are expired when nothing else happens.
const EXPIRE_EVERY_MS: u64 = 100;

/// What the engine hears about.
pub(crate) enum Input {
    Accepted(TcpStream),
    Bytes(u64, Vec<u8>),
    Eof(u64),
    Command(Command, Sender<Reply>),
    Stop,
}

enum Kind {
    /// Accepted in `hang` mode: input is read and ignored.
    Hung,
    Ws {
        ws: Box<Connection>,
        attachment: Option<Attachment>,
        /// A resume request in the upgrade's query or headers (opt-in placements), used
        /// if the greeting does not carry one.
        query_resume: Option<ResumeRequest>,
        /// Drain: close (1001) at this time.
        close_at: Option<u64>,
    },
}

struct Conn {
    stream: TcpStream,
    kind: Kind,
}

struct Ticker {
    remaining: u64,
    every_ms: u64,
    next_at: u64,
}

pub(crate) struct Engine {
    clock: Clock,
    rng: Box<dyn RandomSource>,
    tx: Sender<Input>,
    config: FaultConfig,
    log: RecoveryLog,
    conns: BTreeMap<u64, Conn>,
    next_conn: u64,
    mode: Mode,
    refuse_until: Option<u64>,
    answer_pings: bool,
    ticker: Option<Ticker>,
    next_expire: u64,
    stats: Status,
}

fn log_config(config: FaultConfig) -> RecoveryLogConfig {
    RecoveryLogConfig {
        max_messages: config.log_max_messages,
        max_bytes: usize::MAX,
        max_disconnection_ms: config.max_disconnection_ms,
        max_sessions: 10_000,
        // A test server: scenarios reconnect a thousand times a second (S4).
        attach_refill_ms: 0,
        ..RecoveryLogConfig::default()
    }
}

/// Payload bytes handed to one connection per pull from the log.
const BATCH_BYTES: usize = 64 * 1024;

/// Sends what the log has due on `attachment` (replay, then new messages).
fn pump(log: &mut RecoveryLog, ws: &mut Connection, attachment: &Attachment) {
    loop {
        let batch = log.next_batch(attachment, BATCH_BYTES);
        if batch.is_empty() {
            return;
        }
        for (offset, m) in &batch {
            // A connection that is closing refuses; the log keeps the message for replay.
            let _ = ws.send(encode::data(*offset, m));
        }
    }
}

fn server_config() -> Config {
    Config {
        auto_pong: false,
        close_timeout_ms: 1_000,
        handshake_timeout_ms: Some(10_000),
        ..Config::default()
    }
}

impl Engine {
    pub(crate) fn new(config: FaultConfig, rng: Box<dyn RandomSource>, tx: Sender<Input>) -> Self {
        Self {
            clock: Clock::new(),
            rng,
            tx,
            config,
            log: RecoveryLog::new(log_config(config)),
            conns: BTreeMap::new(),
            next_conn: 0,
            mode: Mode::Normal,
            refuse_until: None,
            answer_pings: true,
            ticker: None,
            next_expire: 0,
            stats: Status::default(),
        }
    }

    /// Runs until `Stop` (or until every sender is gone).
    pub(crate) fn run(mut self, rx: Receiver<Input>) {
        loop {
            let now = self.clock.now();
            let wait = self
                .next_deadline()
                .map_or(Duration::from_millis(EXPIRE_EVERY_MS), |t| {
                    Duration::from_millis(t.saturating_sub(now))
                });
            match rx.recv_timeout(wait) {
                Ok(Input::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(input) => self.input(input),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.timers();
        }
        for id in self.conns.keys().copied().collect::<Vec<_>>() {
            self.remove(id);
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        let conns = self.conns.values().filter_map(|c| match &c.kind {
            Kind::Ws { ws, close_at, .. } => [ws.poll_timeout(), *close_at].into_iter().flatten().min(),
            Kind::Hung => None,
        });
        conns
            .chain(self.refuse_until)
            .chain(self.ticker.as_ref().map(|t| t.next_at))
            .chain(Some(self.next_expire))
            .min()
    }

    fn input(&mut self, input: Input) {
        let now = self.clock.now();
        match input {
            Input::Accepted(stream) => self.accept(stream, now),
            Input::Bytes(id, data) => {
                if let Some(Conn {
                    kind: Kind::Ws { ws, .. },
                    ..
                }) = self.conns.get_mut(&id)
                {
                    ws.handle_input(&data, now);
                    self.process(id);
                }
            }
            Input::Eof(id) => match self.conns.get_mut(&id).map(|c| &mut c.kind) {
                Some(Kind::Ws { ws, .. }) => {
                    ws.handle_eof(now);
                    self.process(id);
                }
                Some(Kind::Hung) => self.remove(id),
                None => {}
            },
            Input::Command(cmd, reply) => {
                let answer = self.execute(cmd, now);
                let _ = reply.send(answer);
            }
            Input::Stop => {}
        }
    }

    fn timers(&mut self) {
        let now = self.clock.now();
        if self.refuse_until.is_some_and(|t| now >= t) {
            self.refuse_until = None;
        }
        if now >= self.next_expire {
            self.log.expire(now);
            self.next_expire = now + EXPIRE_EVERY_MS;
        }
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            let Some(Conn {
                kind: Kind::Ws { ws, close_at, .. },
                ..
            }) = self.conns.get_mut(&id)
            else {
                continue;
            };
            if close_at.is_some_and(|t| now >= t) {
                *close_at = None;
                let _ = ws.close(1001, "drained", now);
            }
            if ws.poll_timeout().is_some_and(|t| now >= t) {
                ws.handle_timeout(now);
            }
            self.process(id);
        }
        while let Some(t) = self.ticker.as_mut().filter(|t| now >= t.next_at) {
            t.remaining -= 1;
            t.next_at += t.every_ms.max(1);
            if t.remaining == 0 {
                self.ticker = None;
            }
            self.send_numbered(now);
        }
    }

    // ------------------------------------------------------------------ connections

    fn accept(&mut self, stream: TcpStream, now: u64) {
        self.stats.accepted += 1;
        let mode = if self.refuse_until.is_some() {
            Mode::Refuse
        } else {
            self.mode
        };
        if mode == Mode::Refuse {
            self.stats.refused += 1;
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        self.next_conn += 1;
        let id = self.next_conn;
        if let Err(e) = self.start_reader(id, &stream) {
            eprintln!("fault-server: cannot read from connection: {e}");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let kind = if mode == Mode::Hang {
            self.stats.hung += 1;
            Kind::Hung
        } else {
            let rng = Box::new(SeededRandom::new(self.rng.next_u64()));
            Kind::Ws {
                ws: Box::new(Connection::server(server_config(), rng, now)),
                attachment: None,
                query_resume: None,
                close_at: None,
            }
        };
        self.conns.insert(id, Conn { stream, kind });
    }

    fn start_reader(&self, id: u64, stream: &TcpStream) -> io::Result<()> {
        let mut reader = stream.try_clone()?;
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name(format!("fault-reader-{id}"))
            .spawn(move || {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(Input::Bytes(id, buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(Input::Eof(id));
            })?;
        Ok(())
    }

    /// Writes what the connection has for the wire, handles its events, and lets it go
    /// once it is over.
    fn process(&mut self, id: u64) {
        let now = self.clock.now();
        let Some(mut conn) = self.conns.remove(&id) else { return };
        let Kind::Ws {
            ws,
            attachment,
            query_resume,
            ..
        } = &mut conn.kind
        else {
            self.conns.insert(id, conn);
            return;
        };
        loop {
            flush(ws, &mut conn.stream, now);
            let Some(event) = ws.poll_event() else { break };
            match event {
                Event::Request(request) => {
                    let accept = Accept {
                        subprotocol: request.subprotocols.first().cloned(),
                        headers: Vec::new(),
                    };
                    if ws.accept(accept, now).is_err() {
                        continue;
                    }
                    // Opt-in placements (query, headers); by default the credential
                    // comes in the client's first message.
                    *query_resume = ResumeRequest::from_query(&request.path)
                        .or_else(|| ResumeRequest::from_headers(&request.headers, "ss-sid", "ss-token", "ss-offset"));
                }
                Event::Message(m) if attachment.is_none() => {
                    let resume = match read_greeting(&m) {
                        Greeting::Resume(r) => Some(r),
                        Greeting::Fresh | Greeting::NotAGreeting => query_resume.take(),
                    };
                    // Another open connection still attached to the requested session:
                    // the client is moving over before the old one is gone.
                    let overlapping = resume.as_ref().is_some_and(|r| {
                        self.conns.values().any(|c| match &c.kind {
                            Kind::Ws {
                                ws,
                                attachment: Some(a),
                                ..
                            } => a.session_id() == r.session_id && ws.state() == steadysock::State::Open,
                            _ => false,
                        })
                    });
                    let r = match self.log.attach(resume, None, now) {
                        Ok(r) => r,
                        Err(e) => {
                            let code = if matches!(e, AttachError::RateLimited { .. }) {
                                1013
                            } else {
                                1011
                            };
                            let _ = ws.close(code, "cannot attach", now);
                            continue;
                        }
                    };
                    if r.recovered {
                        self.stats.resumed += 1;
                        if overlapping {
                            self.stats.make_before_break += 1;
                        }
                    } else {
                        self.stats.new_sessions += 1;
                    }
                    self.stats.current_session = Some(r.session_id().to_string());
                    let _ = ws.send(encode::welcome(r.session_id(), &r.token.expose_hex(), r.recovered));
                    pump(&mut self.log, ws, &r.attachment);
                    *attachment = Some(r.attachment);
                    if !matches!(read_greeting(&m), Greeting::NotAGreeting) {
                        continue;
                    }
                    self.stats.received.push(describe(&m));
                }
                Event::Open(_) => self.stats.handshakes += 1,
                Event::Message(m) => {
                    if m == encode::ping() {
                        self.stats.pings_received += 1;
                        if self.answer_pings {
                            self.stats.pings_answered += 1;
                            let _ = ws.send(encode::pong());
                        }
                    } else {
                        self.stats.received.push(describe(&m));
                    }
                }
                Event::Ping(payload) => {
                    self.stats.pings_received += 1;
                    if self.answer_pings {
                        self.stats.pings_answered += 1;
                        let _ = ws.pong(&payload);
                    }
                }
                Event::Pong(_) | Event::HandshakeFailed(_) | Event::Error(_) | Event::Closed(_) => {}
            }
        }
        let over = ws.should_close_transport();
        self.conns.insert(id, conn);
        if over {
            self.remove(id);
        }
    }

    /// Closes the socket of `id` and detaches its session (resending on a fallback
    /// attachment if the log names one).
    fn remove(&mut self, id: u64) {
        let Some(conn) = self.conns.remove(&id) else { return };
        let _ = conn.stream.shutdown(Shutdown::Both);
        let Kind::Ws {
            attachment: Some(a), ..
        } = conn.kind
        else {
            return;
        };
        let now = self.clock.now();
        let Some(fallback) = self.log.detach(&a, now) else {
            return;
        };
        let log = &mut self.log;
        let target = self.conns.iter_mut().find_map(|(id, c)| match &mut c.kind {
            Kind::Ws {
                ws,
                attachment: Some(a),
                ..
            } if *a == fallback => Some((*id, ws)),
            _ => None,
        });
        if let Some((id, ws)) = target {
            pump(log, ws, &fallback);
            self.process(id);
        }
    }

    fn remove_all(&mut self) {
        for id in self.conns.keys().copied().collect::<Vec<_>>() {
            self.remove(id);
        }
    }

    // ------------------------------------------------------------------ messages to clients

    /// Appends the next numbered message to the current session and sends it on the
    /// current attachment, if that one is connected.
    fn send_numbered(&mut self, now: u64) -> bool {
        self.stats.sent += 1;
        let message = Message::text(format!("m{}", self.stats.sent));
        let offset = self
            .stats
            .current_session
            .clone()
            .and_then(|sid| self.log.append(&sid, message, now));
        let Some(_) = offset else {
            self.stats.lost += 1;
            return false;
        };
        let current = self.conns.iter_mut().find_map(|(id, c)| match &mut c.kind {
            Kind::Ws {
                ws,
                attachment: Some(a),
                ..
            } if self.log.is_current(a) => Some((*id, ws, a.clone())),
            _ => None,
        });
        if let Some((id, ws, a)) = current {
            pump(&mut self.log, ws, &a);
            self.process(id);
        }
        true
    }

    // ------------------------------------------------------------------ commands

    fn execute(&mut self, cmd: Command, now: u64) -> Reply {
        match cmd {
            Command::Mode(mode) => self.mode = mode,
            Command::Drop => self.remove_all(),
            Command::Close { code, reason } => {
                let ids: Vec<u64> = self.conns.keys().copied().collect();
                for id in ids {
                    match self.conns.get_mut(&id).map(|c| &mut c.kind) {
                        Some(Kind::Ws { ws, .. }) => {
                            if let Err(e) = ws.close(code, &reason, now) {
                                return Reply::Err(e.to_string());
                            }
                            self.process(id);
                        }
                        Some(Kind::Hung) => self.remove(id),
                        None => {}
                    }
                }
            }
            Command::Pings(on) => self.answer_pings = on,
            Command::Drain { grace_ms } => {
                let ids: Vec<u64> = self.conns.keys().copied().collect();
                for id in ids {
                    if let Some(Conn {
                        kind: Kind::Ws { ws, close_at, .. },
                        ..
                    }) = self.conns.get_mut(&id)
                    {
                        if ws.state() == steadysock::State::Open && close_at.is_none() {
                            let _ = ws.send(encode::drain());
                            *close_at = Some(now + grace_ms);
                            self.process(id);
                        }
                    }
                }
            }
            Command::Restart { refuse_ms, keep_log } => {
                self.remove_all();
                if !keep_log {
                    self.log.clear();
                    self.stats.current_session = None;
                }
                self.refuse_until = Some(now + refuse_ms);
            }
            Command::Send { n } => {
                if self.stats.current_session.is_none() {
                    return Reply::Err("no session to send to".into());
                }
                for _ in 0..n {
                    self.send_numbered(now);
                }
            }
            Command::Tick { n, every_ms } => {
                self.ticker = (n > 0).then_some(Ticker {
                    remaining: n,
                    every_ms,
                    next_at: now,
                });
                self.timers();
            }
            Command::Status => return Reply::Status(Box::new(self.status())),
            Command::Reset(config) => {
                self.remove_all();
                self.config = config;
                self.log = RecoveryLog::new(log_config(config));
                self.mode = Mode::Normal;
                self.refuse_until = None;
                self.answer_pings = true;
                self.ticker = None;
                self.stats = Status::default();
            }
        }
        Reply::Ok
    }

    fn status(&self) -> Status {
        Status {
            mode: self.mode.name().into(),
            restarting: self.refuse_until.is_some(),
            max_disconnection_ms: self.config.max_disconnection_ms,
            connections: self.conns.len(),
            sessions: self.log.len(),
            ticking: self.ticker.as_ref().map_or(0, |t| t.remaining),
            ..self.stats.clone()
        }
    }
}

/// Writes everything the connection has queued; a failed write ends the connection.
fn flush(ws: &mut Connection, stream: &mut TcpStream, now: u64) {
    while let Some(bytes) = ws.poll_transmit() {
        if stream.write_all(&bytes).is_err() {
            ws.handle_eof(now);
        }
    }
}

fn describe(m: &Message) -> String {
    match m {
        Message::Text(t) => t.as_str().to_string(),
        Message::Binary(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("0x{hex}")
        }
    }
}
