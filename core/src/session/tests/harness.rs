//! Small helpers to drive a [`Session`] by hand.

use super::super::*;
use crate::message::Message;
use crate::rng::SeededRandom;

/// A session plus everything it has emitted so far.
pub struct H {
    pub s: Session,
    pub now: u64,
}

impl H {
    pub fn new(config: SessionConfig) -> Self {
        Self {
            s: Session::new(config, Box::new(SeededRandom::new(42)), 0),
            now: 0,
        }
    }

    /// All pending outputs (in one call; the simulation polls them one at a time).
    pub fn drain(&mut self) -> Vec<Output> {
        let mut outs = vec![];
        self.s.poll_outputs(&mut outs);
        outs
    }

    /// All pending events (other outputs discarded).
    pub fn events(&mut self) -> Vec<SessionEvent> {
        events(&self.drain())
    }

    /// Advances the clock to the next deadline and fires it.
    pub fn fire(&mut self) -> u64 {
        let t = self.s.poll_timeout().expect("a timer should be armed");
        self.now = self.now.max(t);
        self.s.handle_timeout(self.now);
        self.now
    }

    /// Advances the clock by `ms`, firing every deadline on the way.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now.saturating_add(ms);
        while let Some(t) = self.s.poll_timeout().filter(|&t| t <= end) {
            self.now = self.now.max(t);
            self.s.handle_timeout(self.now);
        }
        self.now = end;
    }

    /// `connect` and return the requested transport.
    pub fn connect(&mut self) -> (TransportId, TransportRequest) {
        self.s.connect(self.now);
        single_open(&self.drain())
    }

    /// Message transport: open `id` (no recovery envelope).
    pub fn open(&mut self, id: TransportId) -> Vec<Output> {
        self.s.handle_transport_open(id, None, self.now);
        self.drain()
    }

    /// Message transport: open `id` and greet it with a welcome.
    pub fn open_welcome(&mut self, id: TransportId, sid: &str, recovered: bool) -> Vec<Output> {
        self.s.handle_transport_open(id, None, self.now);
        self.s
            .handle_transport_message(id, encode::welcome(sid, &token_of(sid), recovered), self.now);
        self.drain()
    }

    pub fn msg(&mut self, id: TransportId, m: Message) -> Vec<Output> {
        self.s.handle_transport_message(id, m, self.now);
        self.drain()
    }

    pub fn closed(&mut self, id: TransportId, code: Option<u16>) -> Vec<Output> {
        self.s.handle_transport_closed(id, code, "", self.now);
        self.drain()
    }

    pub fn error(&mut self, id: TransportId) -> Vec<Output> {
        self.s
            .handle_transport_error(id, TransportErrorKind::Refused, "refused", self.now);
        self.drain()
    }
}

pub fn events(outs: &[Output]) -> Vec<SessionEvent> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Events other than state changes.
pub fn plain_events(outs: &[Output]) -> Vec<SessionEvent> {
    events(outs)
        .into_iter()
        .filter(|e| !matches!(e, SessionEvent::StateChanged { .. }))
        .collect()
}

pub fn opens(outs: &[Output]) -> Vec<(TransportId, TransportRequest)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::OpenTransport { id, request } => Some((*id, request.clone())),
            _ => None,
        })
        .collect()
}

pub fn single_open(outs: &[Output]) -> (TransportId, TransportRequest) {
    let v = opens(outs);
    assert_eq!(v.len(), 1, "expected one OpenTransport in {outs:#?}");
    v.into_iter().next().unwrap()
}

pub fn closes(outs: &[Output]) -> Vec<TransportId> {
    outs.iter()
        .filter_map(|o| match o {
            Output::CloseTransport { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

pub fn sent(outs: &[Output]) -> Vec<(TransportId, Message)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SendMessage { id, message } => Some((*id, message.clone())),
            _ => None,
        })
        .collect()
}

pub fn delivered(outs: &[Output]) -> Vec<String> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::Message(Message::Text(t)) => Some(t.as_str().to_string()),
            _ => None,
        })
        .collect()
}

pub fn reconnecting(outs: &[Output]) -> Option<(u32, u64, Cause)> {
    events(outs).into_iter().find_map(|e| match e {
        SessionEvent::Reconnecting {
            attempt,
            delay_ms,
            cause,
        } => Some((attempt, delay_ms, cause)),
        _ => None,
    })
}

/// The token the test servers hand out with a welcome for `sid`.
pub fn token_of(sid: &str) -> String {
    format!("tok-{sid}")
}

/// The `ss2 resume` greeting a client presents for `sid` at `offset`.
pub fn resume_line(sid: &str, offset: u64) -> Message {
    Message::text(format!("ss2 resume {sid} {} {offset}\n", token_of(sid)))
}

pub fn text(s: &str) -> Message {
    Message::text(s)
}

/// Message-transport config with deterministic backoff (no jitter).
pub fn msg_config() -> SessionConfig {
    let mut c = SessionConfig::messages("wss://example.test/ws");
    c.retry.backoff.jitter = Jitter::None;
    c
}

/// Same, with the `ss2` recovery envelope.
pub fn recovery_config() -> SessionConfig {
    let mut c = msg_config();
    c.recovery = Some(RecoveryConfig::default());
    c
}
