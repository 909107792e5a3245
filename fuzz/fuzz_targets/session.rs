//! The Session fed arbitrary event sequences, over both transport kinds.
//!
//! Input: `[flags, seed, ops...]`. flags bit 0: byte transport (each transport then has a
//! real server `Connection` answering it); bit 1: recovery (ss2 envelope) on; bit 2:
//! `max_retries = 2`; bit 3: requests provided by the host (`NeedRequest`, answered by
//! ops with `provide_request` / `provide_request_error`, for live or stale ids, or never).
//! Every op byte picks a host event or user call (transport ids are
//! taken from what the Session asked for, or stale ones), time moves forward, and after
//! every op the outputs are drained and the invariants checked:
//! - at most two transports, two only while migrating;
//! - `StateChanged` events agree with `state()`;
//! - Idle/Closed arm no timer; Connecting, Backoff and Closing always arm one (never stuck);
//! - the outbound queue stays within its limits;
//! - no output grows with what the peer sent, except the data itself (transmits, sent
//!   messages, delivered messages): op 8 also delivers large hostile messages (up to
//!   1 MiB of U+0001, or of `ss2 ` control lines), and every other output must stay
//!   under [`MAX_OTHER_OUTPUT`] bytes of `Debug`, every close reason under 123 bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use steadysock::session::{
    Output, QueueLimits, RecoveryConfig, RequestSource, Session, SessionConfig, SessionEvent, State,
    TransportErrorKind, TransportId, TransportRequest,
};
use steadysock::{Accept, Config, Connection, Event, Message, SeededRandom};

/// Largest `Debug` of an output that is not data.
const MAX_OTHER_OUTPUT: usize = 2_048;

const QUEUE: QueueLimits = QueueLimits {
    max_messages: 6,
    max_bytes: 300,
};

struct Harness {
    s: Session,
    bytes: bool,
    now: u64,
    state: State,
    /// Transports the Session asked for, with the server side of byte transports.
    links: BTreeMap<u64, Option<Connection>>,
    seen: Vec<TransportId>,
    /// Ids the Session asked a request for.
    needs: Vec<TransportId>,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(out) = self.s.poll_output() {
            match out {
                Output::OpenTransport { id, .. } => {
                    let server = self
                        .bytes
                        .then(|| Connection::server(Config::default(), Box::new(SeededRandom::new(9)), self.now));
                    self.links.insert(id.get(), server);
                    self.seen.push(id);
                }
                Output::Transmit { id, bytes } => {
                    if let Some(Some(server)) = self.links.get_mut(&id.get()) {
                        server.handle_input(&bytes, self.now);
                        while let Some(ev) = server.poll_event() {
                            if let Event::Request(_) = ev {
                                let _ = server.accept(Accept::default(), self.now);
                            }
                        }
                    }
                }
                Output::CloseTransport { id, ref reason, .. } => {
                    assert!(reason.len() <= 123, "close reason of {} bytes", reason.len());
                    self.links.remove(&id.get());
                }
                Output::SendMessage { .. } | Output::Event(SessionEvent::Message(_)) => {}
                Output::Event(ref e) if format!("{e:?}").len() > MAX_OTHER_OUTPUT => {
                    panic!("an event grew with the input: {} bytes", format!("{e:?}").len())
                }
                Output::Event(SessionEvent::StateChanged { from, to }) => {
                    assert_eq!(from, self.state, "StateChanged from a state we were not in");
                    self.state = to;
                }
                Output::NeedRequest { id, .. } => self.needs.push(id),
                Output::Event(_) => {}
                _ => {}
            }
        }
        self.check();
    }

    fn check(&self) {
        let tracked = self.s.transports();
        assert!(tracked.len() <= 2, "{} transports", tracked.len());
        assert!(
            tracked.len() < 2 || self.s.is_migrating(),
            "two transports without a migration"
        );
        assert_eq!(self.s.state(), self.state, "StateChanged events out of sync");
        let timer = self.s.poll_timeout();
        match self.s.state() {
            State::Idle | State::Closed => assert!(timer.is_none(), "timer armed while {:?}", self.s.state()),
            State::Connecting | State::Backoff | State::Closing => {
                assert!(timer.is_some(), "stuck in {:?} without a timer", self.s.state())
            }
            State::Open => {}
        }
        assert!(self.s.queued_messages() <= QUEUE.max_messages && self.s.queued_bytes() <= QUEUE.max_bytes);
    }

    /// A transport id: mostly a live one, sometimes a stale or unknown one.
    fn pick(&self, b: u8) -> Option<TransportId> {
        if self.seen.is_empty() {
            return None;
        }
        let live: Vec<u64> = self.links.keys().copied().collect();
        if b & 3 != 0 && !live.is_empty() {
            let raw = live[usize::from(b >> 2) % live.len()];
            return self.seen.iter().copied().find(|id| id.get() == raw);
        }
        Some(self.seen[usize::from(b >> 2) % self.seen.len()])
    }

    /// Delivers what the server side of byte transport `id` has to say.
    fn server_speaks(&mut self, id: TransportId, extra: Option<&str>) {
        let Some(Some(server)) = self.links.get_mut(&id.get()) else {
            return;
        };
        if let Some(text) = extra {
            let _ = server.send_text(text);
        }
        let mut wire = Vec::new();
        while let Some(b) = server.poll_transmit() {
            wire.extend_from_slice(&b);
        }
        if !wire.is_empty() {
            self.s.handle_transport_bytes(id, &wire, self.now);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, seed, ops @ ..] = data else { return };
    let bytes = flags & 1 != 0;
    let url = "ws://example.com/feed";
    let mut cfg = if bytes {
        SessionConfig::bytes(url)
    } else {
        SessionConfig::messages(url)
    };
    if flags & 2 != 0 {
        cfg.recovery = Some(RecoveryConfig::default());
    }
    if flags & 4 != 0 {
        cfg.retry.max_retries = Some(2);
    }
    if flags & 8 != 0 {
        cfg.request_source = RequestSource::Provided;
    }
    cfg.queue = QUEUE;
    let s = Session::new(cfg, Box::new(SeededRandom::new(u64::from(*seed))), 0);
    let state = s.state();
    let mut h = Harness {
        s,
        bytes,
        now: 0,
        state,
        links: BTreeMap::new(),
        seen: Vec::new(),
        needs: Vec::new(),
    };
    h.check();
    let mut it = ops.iter().copied();
    while let Some(op) = it.next() {
        let arg = it.next().unwrap_or(0);
        h.now += u64::from(op >> 4) * 37;
        let now = h.now;
        match op % 16 {
            0 => h.s.connect(now),
            1 => h.s.reconnect(now),
            2 => {
                h.s.close(if arg & 1 == 0 { 1000 } else { 4000 + u16::from(arg) }, "bye", now)
            }
            3 => {
                let _ = h.s.send(Message::text("x".repeat(usize::from(arg))), now);
            }
            4 => h.s.disconnect_warning(now),
            5 => {
                let t = h.s.poll_timeout().unwrap_or(now).max(now) + u64::from(arg);
                h.now = t;
                h.s.handle_timeout(t);
            }
            6 => {
                if let Some(id) = h.pick(arg) {
                    h.s.handle_transport_connected(id, now);
                }
            }
            7 => {
                if let Some(id) = h.pick(arg) {
                    if bytes {
                        h.server_speaks(id, None);
                    } else {
                        h.s.handle_transport_open(id, None, now);
                    }
                }
            }
            8 => {
                if let Some(id) = h.pick(arg) {
                    let big = usize::from(arg) << 12;
                    let text = match arg % 7 {
                        0 => format!("ss2 welcome s{} t{} {}\n", arg % 3, arg % 2, arg & 1),
                        1 => format!("ss2 msg {}\nhello", arg % 7),
                        2 => "ss2 drain\n".to_string(),
                        3 => "ss2 pong\n".to_string(),
                        4 => "\u{1}".repeat(big),
                        5 => format!("ss2 {}", "\u{1}".repeat(big)),
                        _ => "plain".to_string(),
                    };
                    if bytes {
                        h.server_speaks(id, Some(&text));
                    } else {
                        h.s.handle_transport_message(id, Message::text(text), now);
                    }
                }
            }
            9 => {
                if let Some(id) = h.pick(arg) {
                    let len = usize::from(arg % 16).min(it.len());
                    let junk: Vec<u8> = it.by_ref().take(len).collect();
                    if bytes {
                        h.s.handle_transport_bytes(id, &junk, now);
                    } else {
                        h.s.handle_transport_message(id, Message::binary(junk), now);
                    }
                }
            }
            10 => {
                if let Some(id) = h.pick(arg) {
                    let code = [None, Some(1000), Some(1001), Some(1006), Some(1008), Some(4001)][usize::from(arg) % 6];
                    h.links.remove(&id.get());
                    h.s.handle_transport_closed(id, code, "gone", now);
                }
            }
            11 => {
                if let Some(id) = h.pick(arg) {
                    let kind = [
                        TransportErrorKind::Refused,
                        TransportErrorKind::Reset,
                        TransportErrorKind::Timeout,
                    ][usize::from(arg) % 3];
                    h.links.remove(&id.get());
                    h.s.handle_transport_error(id, kind, "fault", now);
                }
            }
            12 => {
                // A server that closes properly.
                if let Some(id) = h.pick(arg) {
                    if let Some(Some(server)) = h.links.get_mut(&id.get()) {
                        let _ = server.close(1001, "restart", now);
                    }
                    if bytes {
                        h.server_speaks(id, None);
                    }
                }
            }
            13 | 14 if !h.needs.is_empty() => {
                let id = h.needs[usize::from(arg) % h.needs.len()];
                if op % 16 == 13 {
                    let request = TransportRequest {
                        url: format!("{url}?t={arg}"),
                        ..TransportRequest::default()
                    };
                    h.s.provide_request(id, request, now);
                } else {
                    h.s.provide_request_error(id, "provider failed", now);
                }
            }
            _ => h.s.handle_timeout(now),
        }
        h.drain();
    }
    // Whatever happened, close() ends everything.
    let now = h.now + 1;
    h.s.close(1000, "", now);
    h.drain();
    for _ in 0..8 {
        if let Some(t) = h.s.poll_timeout() {
            h.now = t.max(h.now);
            h.s.handle_timeout(h.now);
            h.drain();
        }
    }
    for id in h.s.transports() {
        h.s.handle_transport_closed(id, None, "", h.now);
        h.drain();
    }
    if let Some(t) = h.s.poll_timeout() {
        h.s.handle_timeout(t.max(h.now));
        h.drain();
    }
    assert_eq!(h.s.state(), State::Closed, "close() did not end in Closed");
    assert!(h.s.poll_timeout().is_none(), "a timer survived close()");
});
