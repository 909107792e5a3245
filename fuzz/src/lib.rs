//! Shared harness for the steadysock fuzz targets: an in-memory client/server pair, a
//! deterministic splitter that cuts the fuzz input into reads, a timer driver, and a
//! `Watch` that checks the invariants every `Connection` must keep whatever it is fed.

use steadysock::{
    Accept, ClientRequest, Config, Connection, Error, Event, Keepalive, Message, RandomSource, SeededRandom, State,
};

/// Frame and message limits small enough for the fuzzer to reach the 1009 paths.
pub const MAX_FRAME: usize = 4096;
pub const MAX_MESSAGE: usize = 8192;

/// The URL every harness client uses. With `SeededRandom::new(CLIENT_SEED)` the client's
/// `Sec-WebSocket-Key` is fixed, so seeds can carry the matching accept key.
pub const CLIENT_URL: &str = "ws://example.com/chat";
pub const CLIENT_SEED: u64 = 1;
pub const SERVER_SEED: u64 = 2;

/// Splits an input into its `[flags, seed_lo, seed_hi]` header and the rest; `None` when
/// too short. Every connection target starts this way.
pub fn split_input(data: &[u8]) -> Option<(u8, u64, &[u8])> {
    let [flags, lo, hi, rest @ ..] = data else { return None };
    Some((*flags, u64::from(u16::from_le_bytes([*lo, *hi])), rest))
}

/// The fuzz limits, with optional keepalive; other settings are `Config::default()`.
pub fn config(keepalive: bool, auto_pong: bool, max_handshake_size: usize) -> Config {
    Config {
        max_frame_size: MAX_FRAME,
        max_message_size: MAX_MESSAGE,
        fragment_size: Some(100),
        close_timeout_ms: 5_000,
        handshake_timeout_ms: Some(10_000),
        max_handshake_size,
        keepalive: keepalive.then_some(Keepalive {
            interval_ms: 1_000,
            pong_timeout_ms: 500,
            any_data_counts: false,
            ping_payload: None,
        }),
        auto_pong,
        // Everything else (permessage-deflate, when core has it) as the defaults.
        ..Config::default()
    }
}

pub fn client_request(subprotocols: bool) -> ClientRequest {
    ClientRequest {
        url: CLIENT_URL.into(),
        headers: vec![("X-Fuzz".into(), "1".into())],
        subprotocols: if subprotocols {
            vec!["chat".into(), "v2".into()]
        } else {
            Vec::new()
        },
    }
}

pub fn rng(seed: u64) -> Box<dyn RandomSource> {
    Box::new(SeededRandom::new(seed))
}

/// Whether a known, already reported core bug should be stepped around so that fuzzing
/// can go on past it: `STEADYSOCK_FUZZ_ALLOW_KNOWN` holds a comma-separated list of
/// names (see fuzz/README.md). Unset or empty: every invariant is checked.
pub fn allow_known(name: &str) -> bool {
    static LIST: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        std::env::var("STEADYSOCK_FUZZ_ALLOW_KNOWN")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|k| k == name)
}

/// `STEADYSOCK_FUZZ_DEBUG=1` prints every event, to triage an input by hand.
pub fn debug() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("STEADYSOCK_FUZZ_DEBUG").is_some_and(|v| v != "0"))
}

/// Everything `c` wants to send.
pub fn drain_tx(c: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        assert!(!b.is_empty(), "poll_transmit returned an empty chunk");
        out.extend_from_slice(&b);
    }
    out
}

/// Cuts the input into reads, and decides the other small choices of a run, from a
/// seed taken from the input itself (so every run is reproducible from its bytes).
pub struct Splitter {
    rng: SeededRandom,
    max_chunk: usize,
}

impl Splitter {
    /// `class` 0..=3: reads of 1..=4, 1..=32, 1..=512 bytes, or 1..=8192.
    pub fn new(seed: u64, class: u8) -> Self {
        let max_chunk = match class & 3 {
            0 => 4,
            1 => 32,
            2 => 512,
            _ => 8192,
        };
        Self {
            rng: SeededRandom::new(seed),
            max_chunk,
        }
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.rng.next_u64() % n
        }
    }

    /// Splits `data` into the next read and the rest.
    pub fn next_chunk<'a>(&mut self, data: &'a [u8]) -> (&'a [u8], &'a [u8]) {
        let n = 1 + self.below(self.max_chunk as u64) as usize;
        data.split_at(n.min(data.len()))
    }
}

/// Runs due timers the way a host does: while `poll_timeout()` is at or before `now`,
/// call `handle_timeout(now)`. A connection whose timer never moves past `now` would
/// spin its host forever.
pub fn drive_timers(c: &mut Connection, now: u64) {
    for _ in 0..16 {
        match c.poll_timeout() {
            Some(t) if t <= now => c.handle_timeout(now),
            _ => return,
        }
    }
    panic!(
        "timer makes no progress: poll_timeout() = {:?} at now = {now} after 16 handle_timeout calls ({:?})",
        c.poll_timeout(),
        c
    );
}

/// Invariants of one connection's event stream and state, checked as the host drains it.
#[derive(Debug)]
pub struct Watch {
    pub name: &'static str,
    pub server: bool,
    pub max_message: usize,
    pub closed: bool,
    pub opened: bool,
    pub requests: usize,
    pub protocol_errors: usize,
    pub transport_done: bool,
    pub handshake_failed: bool,
    /// Bytes fed to this connection and bytes it sent, to bound amplification.
    pub bytes_in: usize,
    pub bytes_out: usize,
    /// Output the application itself asked for (sends, pings), not driven by input.
    pub app_bytes: usize,
}

impl Watch {
    pub fn new(name: &'static str, server: bool, max_message: usize) -> Self {
        Self {
            name,
            server,
            max_message,
            closed: false,
            opened: false,
            requests: 0,
            protocol_errors: 0,
            transport_done: false,
            handshake_failed: false,
            bytes_in: 0,
            bytes_out: 0,
            app_bytes: 0,
        }
    }

    /// Feeds one read, counting it.
    pub fn input(&mut self, c: &mut Connection, data: &[u8], now: u64) {
        self.bytes_in += data.len();
        c.handle_input(data, now);
        self.check_state(c);
    }

    /// State-level invariants that hold at any moment.
    pub fn check_state(&mut self, c: &Connection) {
        let n = self.name;
        if self.closed {
            assert_eq!(c.state(), State::Closed, "{n}: state left Closed after Event::Closed");
        }
        if self.transport_done {
            assert!(
                c.should_close_transport(),
                "{n}: should_close_transport went back to false"
            );
        }
        if c.should_close_transport() {
            self.transport_done = true;
            assert_eq!(
                c.state(),
                State::Closed,
                "{n}: the host is told to drop the transport but the state is not Closed"
            );
            assert_eq!(
                c.poll_timeout(),
                None,
                "{n}: a timer is armed after the transport was dropped"
            );
        }
    }

    /// Takes every pending transmission (counted) and event (checked).
    pub fn drain(&mut self, c: &mut Connection) -> (Vec<u8>, Vec<Event>) {
        let tx = drain_tx(c);
        self.bytes_out += tx.len();
        // A peer can make us echo (pongs, close frames) and a client masks what it
        // sends: never more than 4x the input, plus the handshake and a close frame.
        assert!(
            self.bytes_out <= 4 * self.bytes_in + self.app_bytes + 16 * 1024,
            "{}: output amplification: {} bytes out for {} in ({} asked by the application)",
            self.name,
            self.bytes_out,
            self.bytes_in,
            self.app_bytes
        );
        let mut events = Vec::new();
        while let Some(ev) = c.poll_event() {
            if debug() {
                eprintln!("[{}] {:?} (state {:?})", self.name, ev, c.state());
            }
            self.check_event(c, &ev);
            events.push(ev);
        }
        self.check_state(c);
        (tx, events)
    }

    fn check_event(&mut self, c: &Connection, ev: &Event) {
        let n = self.name;
        assert!(!self.closed, "{n}: event after Event::Closed: {ev:?}");
        match ev {
            Event::Request(_) => {
                assert!(self.server, "{n}: Event::Request on a client");
                assert!(!self.opened, "{n}: Event::Request after Open");
                self.requests += 1;
                assert_eq!(self.requests, 1, "{n}: more than one Event::Request");
            }
            Event::Open(_) => {
                assert!(!self.opened, "{n}: Event::Open twice");
                assert!(!self.handshake_failed, "{n}: Event::Open after HandshakeFailed");
                if self.server {
                    assert_eq!(self.requests, 1, "{n}: server opened without a Request");
                }
                self.opened = true;
            }
            Event::Message(m) => {
                assert!(self.opened, "{n}: message before Open");
                assert!(
                    m.len() <= self.max_message,
                    "{n}: message of {} bytes exceeds max_message_size {}",
                    m.len(),
                    self.max_message
                );
                if let Message::Text(t) = m {
                    assert!(
                        std::str::from_utf8(t.as_bytes()).is_ok(),
                        "{n}: Message::Text holds invalid UTF-8: {:?}",
                        t.as_bytes()
                    );
                }
            }
            Event::Fragment { opcode, data, .. } => {
                // Only with `deliver_fragments` (off in the fuzzers' configs).
                assert!(self.opened, "{n}: fragment before Open");
                assert!(*opcode <= 2, "{n}: fragment with opcode {opcode}");
                assert!(data.len() <= self.max_message, "{n}: fragment of {} bytes", data.len());
            }
            Event::Ping(p) | Event::Pong(p) => {
                assert!(self.opened, "{n}: ping/pong before Open");
                assert!(p.len() <= 125, "{n}: control payload of {} bytes", p.len());
            }
            Event::HandshakeFailed(_) => {
                assert!(!self.opened, "{n}: HandshakeFailed after Open");
                assert!(!self.handshake_failed, "{n}: HandshakeFailed twice");
                self.handshake_failed = true;
            }
            Event::Error(e) => {
                if let Error::Protocol { code, .. } = e {
                    assert!(
                        matches!(code, 1002 | 1007 | 1008 | 1009 | 1011),
                        "{n}: protocol error with close code {code}"
                    );
                    self.protocol_errors += 1;
                    assert_eq!(self.protocol_errors, 1, "{n}: more than one protocol error reported");
                }
            }
            Event::Closed(info) => {
                self.closed = true;
                assert_eq!(c.state(), State::Closed, "{n}: Event::Closed but state {:?}", c.state());
                // Every close reason, the peer's or ours (which may quote what the peer
                // sent), fits what a close frame could carry: 123 bytes.
                assert!(
                    info.reason.len() <= 123,
                    "{n}: close reason of {} bytes",
                    info.reason.len()
                );
            }
            // `Event` is non-exhaustive: a kind added to the core needs its invariants
            // here before the fuzzers may pass over it.
            other => panic!("{n}: event kind {:?} has no invariants in this checker", other.as_str()),
        }
    }

    /// After EOF and every timer: the connection must have ended, and said so.
    /// Returns what it still sent on the way.
    pub fn finish(&mut self, c: &mut Connection, now: u64) -> Vec<u8> {
        c.handle_eof(now);
        let (mut out, _) = self.drain(c);
        drive_timers(c, now.saturating_add(1 << 40));
        out.extend(self.drain(c).0);
        let n = self.name;
        assert!(self.closed, "{n}: no Event::Closed after handle_eof and all timers");
        assert!(c.should_close_transport(), "{n}: transport not released after EOF");
        assert_eq!(c.poll_timeout(), None, "{n}: timer armed after the end");
        // Everything after the end is refused without effect.
        assert!(c.send_text("late").is_err(), "{n}: send accepted after Closed");
        assert!(c.ping(b"late").is_err(), "{n}: ping accepted after Closed");
        assert!(
            c.close(1000, "late", now).is_ok(),
            "{n}: close after Closed is not a no-op"
        );
        let (late, _) = self.drain(c);
        assert!(late.is_empty(), "{n}: bytes queued after Closed: {late:?}");
        assert_eq!(c.state(), State::Closed);
        out
    }
}

/// The peer in a pair is a well-behaved implementation: whatever the fuzzed side sends
/// it must be valid WebSocket, so the peer must never report a protocol violation.
pub fn check_peer_events(events: &[Event], who: &str) {
    for ev in events {
        match ev {
            Event::Error(Error::Protocol { code, reason }) => {
                panic!("{who}: the fuzzed side sent invalid WebSocket data: {code} {reason}")
            }
            Event::HandshakeFailed(e) => panic!("{who}: handshake failed against the fuzzed side: {e:?}"),
            _ => {}
        }
    }
}

/// An open client/server pair over the fuzz config; panics if the handshake fails.
pub fn open_pair(cfg: &Config) -> (Connection, Connection) {
    let mut c = Connection::client(&client_request(true), cfg.clone(), rng(CLIENT_SEED), 0).expect("client");
    let mut s = Connection::server(cfg.clone(), rng(SERVER_SEED), 0);
    let req = drain_tx(&mut c);
    s.handle_input(&req, 0);
    let Some(Event::Request(r)) = s.poll_event() else {
        panic!("no request")
    };
    assert_eq!(r.subprotocols, vec!["chat", "v2"]);
    s.accept(
        Accept {
            subprotocol: Some("chat".into()),
            headers: Vec::new(),
        },
        0,
    )
    .expect("accept");
    let resp = drain_tx(&mut s);
    c.handle_input(&resp, 0);
    assert!(matches!(s.poll_event(), Some(Event::Open(_))));
    assert!(matches!(c.poll_event(), Some(Event::Open(_))));
    assert_eq!((c.state(), s.state()), (State::Open, State::Open));
    (c, s)
}

/// Checks that an HTTP head the connection wrote is one well-formed head: CRLF line
/// ends only, and the first blank line is at its end (no header smuggled in).
pub fn check_head(bytes: &[u8], what: &str) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or_else(|| panic!("{what}: no end of head in {:?}", String::from_utf8_lossy(bytes)));
    let head = &bytes[..end];
    for (i, &b) in head.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && head[i - 1] == b'\r', "{what}: bare LF in head");
        }
        if b == b'\r' {
            assert!(head.get(i + 1) == Some(&b'\n'), "{what}: bare CR in head");
        }
        assert!(b != 0, "{what}: NUL in head");
    }
}
