//! The [`Session`] state machine: host inputs in, [`Output`]s out, time as an input.

use super::backoff::Backoff;
use super::config::{RequestSource, SessionConfig, TransportKind};
use super::envelope::{EnvelopeKind, Inbound};
use super::heartbeat::{Beat, Heartbeat, HeartbeatTimer};
use super::msg::Message;
use super::output::{Outbox, Output, SendError, SessionError, SessionEvent, State, TransportId, TransportRequest};
use super::pattern::MessagePattern;
use super::policy::{Cause, RetryPolicy, TransportErrorKind};
use super::queue::{OutboundQueue, QueueLimits};
use super::recovery::{Admit, ParamPlacement, RecoveryState};
use super::shared_rng::SharedRandom;
use super::transport::{Sent, Signal, Stage, Transport};
use super::ConnectionConfig;
use crate::rng::RandomSource;

/// Where the session stands, with the data that only exists in that state. Timers are
/// fields of the states they belong to, so leaving a state disarms them.
enum Phase {
    Idle,
    Connecting {
        t: Transport,
    },
    Open {
        t: Transport,
        since: u64,
        /// Make-before-break: the successor being connected while `t` carries traffic.
        /// Boxed: rarely there, and a `Transport` inline would double this state's size.
        next: Option<Box<Transport>>,
        /// A failed make-before-break is tried again at this time (the server may already
        /// have moved the session off `t`, so staying on it is not an option).
        retry_migration_at: Option<u64>,
    },
    Closing {
        t: Transport,
        deadline: u64,
        code: u16,
        reason: String,
    },
    Backoff {
        until: u64,
    },
    Closed,
}

impl Phase {
    fn state(&self) -> State {
        match self {
            Self::Idle => State::Idle,
            Self::Connecting { .. } => State::Connecting,
            Self::Open { .. } => State::Open,
            Self::Closing { .. } => State::Closing,
            Self::Backoff { .. } => State::Backoff,
            Self::Closed => State::Closed,
        }
    }

    fn slot(&self, id: TransportId) -> Option<Slot> {
        match self {
            Self::Connecting { t } | Self::Closing { t, .. } | Self::Open { t, .. } if t.id == id => {
                Some(Slot::Primary)
            }
            Self::Open { next: Some(n), .. } if n.id == id => Some(Slot::Next),
            _ => None,
        }
    }

    fn get_mut(&mut self, slot: Slot) -> Option<&mut Transport> {
        match (self, slot) {
            (Self::Connecting { t } | Self::Closing { t, .. } | Self::Open { t, .. }, Slot::Primary) => Some(t),
            (Self::Open { next, .. }, Slot::Next) => next.as_deref_mut(),
            _ => None,
        }
    }

    fn ids(&self) -> [Option<TransportId>; 2] {
        match self {
            Self::Connecting { t } | Self::Closing { t, .. } => [Some(t.id), None],
            Self::Open { t, next, .. } => [Some(t.id), next.as_ref().map(|n| n.id)],
            _ => [None, None],
        }
    }
}

/// Which of the (at most two) live transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Primary,
    Next,
}

/// How a failure ends.
enum Decision {
    Retry,
    Stop,
    GiveUp,
}

/// A logical WebSocket connection that outlives its transports. See the
/// [module docs](super) for the host loop and the guarantees.
pub struct Session {
    request: TransportRequest,
    request_source: RequestSource,
    bytes: Option<ConnectionConfig>,
    retry: RetryPolicy,
    queue_limits: QueueLimits,
    /// Boxed: most sessions have none.
    heartbeat: Option<Box<Heartbeat>>,
    envelope: EnvelopeKind,
    /// Boxed (80 bytes inline): only sessions with recovery have one.
    placement: Option<Box<ParamPlacement>>,
    /// Boxed: most sessions have none.
    disconnect_warning: Option<Box<MessagePattern>>,
    control_frames: bool,

    rng: SharedRandom,
    phase: Phase,
    next_id: u64,
    /// Attempts started in the current run.
    attempt: u32,
    backoff: Backoff,
    /// Growth of make-before-break retries, separate from the attempt backoff.
    migration_backoff: Backoff,
    queue: OutboundQueue,
    recovery: RecoveryState,
    out: Outbox,
}

impl Session {
    /// A session in [`State::Idle`]; call [`connect`](Self::connect) to start.
    pub fn new(config: SessionConfig, rng: Box<dyn RandomSource>, _now: u64) -> Self {
        let envelope = config.effective_envelope();
        Self {
            placement: config.recovery.map(|r| Box::new(r.placement)),
            request: config.request,
            request_source: config.request_source,
            bytes: match config.transport {
                #[cfg(feature = "bytes-transport")]
                TransportKind::Bytes(c) => Some(c),
                TransportKind::Messages => None,
            },
            retry: config.retry,
            queue_limits: config.queue,
            heartbeat: config.heartbeat.map(Box::new),
            envelope,
            disconnect_warning: config.disconnect_warning.map(Box::new),
            control_frames: config.control_frames,
            rng: SharedRandom::new(rng),
            phase: Phase::Idle,
            next_id: 0,
            attempt: 0,
            backoff: Backoff::default(),
            migration_backoff: Backoff::default(),
            queue: OutboundQueue::default(),
            recovery: RecoveryState::default(),
            out: Outbox::default(),
        }
    }

    // ------------------------------------------------------------------ queries

    /// The current state.
    pub fn state(&self) -> State {
        self.phase.state()
    }

    /// Attempts started in the current run.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The session id the server assigned (recovery only).
    pub fn session_id(&self) -> Option<&str> {
        self.recovery.session_id.as_deref()
    }

    /// Offset of the last message delivered (recovery only).
    pub fn last_offset(&self) -> u64 {
        self.recovery.last_offset
    }

    /// Messages waiting for a transport.
    pub fn queued_messages(&self) -> usize {
        self.queue.len()
    }

    /// Payload bytes waiting for a transport.
    pub fn queued_bytes(&self) -> usize {
        self.queue.bytes()
    }

    /// Empties the outbound queue, handing its messages back.
    pub fn take_unsent(&mut self) -> Vec<Message> {
        self.queue.take_all()
    }

    /// Transports the session currently tracks (at most two, and two only during
    /// make-before-break).
    pub fn transports(&self) -> Vec<TransportId> {
        self.phase.ids().into_iter().flatten().collect()
    }

    /// Whether a make-before-break transport is being connected.
    pub fn is_migrating(&self) -> bool {
        matches!(self.phase, Phase::Open { next: Some(_), .. })
    }

    // ------------------------------------------------------------------ host loop

    /// The next instruction or event for the host.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Appends every pending output to `into`, in order: the same as calling
    /// [`poll_output`](Self::poll_output) until `None`, in one call (one crossing for a
    /// binding).
    pub fn poll_outputs(&mut self, into: &mut Vec<Output>) {
        while let Some(output) = self.out.pop_front() {
            into.push(output);
        }
    }

    /// The earliest time [`handle_timeout`](Self::handle_timeout) has work to do; `None`
    /// when only the host (or the user) can move the session on.
    pub fn poll_timeout(&self) -> Option<u64> {
        match &self.phase {
            Phase::Idle | Phase::Closed => None,
            Phase::Backoff { until } => Some(*until),
            Phase::Connecting { t } => t.next_deadline(),
            Phase::Open {
                t,
                next,
                retry_migration_at,
                ..
            } => [
                t.next_deadline(),
                next.as_deref().and_then(Transport::next_deadline),
                *retry_migration_at,
            ]
            .into_iter()
            .flatten()
            .min(),
            Phase::Closing { t, deadline, .. } => Some(t.next_deadline().map_or(*deadline, |d| d.min(*deadline))),
        }
    }

    /// Runs every timer due at `now`. Early, late and repeated calls are harmless.
    pub fn handle_timeout(&mut self, now: u64) {
        if let Phase::Backoff { until } = self.phase {
            if now >= until {
                self.begin_attempt(State::Backoff, now);
            }
            return;
        }
        for id in self.phase.ids().into_iter().flatten() {
            self.transport_timeout(id, now);
        }
        if let Phase::Open {
            retry_migration_at: Some(at),
            ..
        } = self.phase
        {
            if now >= at {
                self.disconnect_warning(now);
            }
        }
        if let Phase::Closing { deadline, .. } = self.phase {
            if now >= deadline {
                self.finish_close(1006, "close timeout".into(), false, now);
            }
        }
    }

    // ------------------------------------------------------------------ transport notifications

    /// The socket connected (byte transport: TCP/TLS is up). Optional for message
    /// transports, whose `open` implies it.
    pub fn handle_transport_connected(&mut self, id: TransportId, now: u64) {
        self.signal(id, Signal::Connected, now);
    }

    /// Bytes arrived on a byte transport.
    pub fn handle_transport_bytes(&mut self, id: TransportId, data: &[u8], now: u64) {
        let Some(slot) = self.phase.slot(id) else { return };
        if self.bytes.is_none() {
            return;
        }
        if self.phase.get_mut(slot).is_some_and(|t| t.stage == Stage::Requested) {
            // Bytes before "connected": the host skipped the notification.
            self.signal(id, Signal::Connected, now);
        }
        if let Some(t) = self.phase.slot(id).and_then(|s| self.phase.get_mut(s)) {
            t.feed(data, now);
        }
        self.pump(id, now);
    }

    /// A message transport opened (the browser's `open` event). The `open` event's
    /// `extensions` is `""`; a host that knows them (the WebSocket's `extensions`) uses
    /// [`handle_transport_open_with_extensions`](Self::handle_transport_open_with_extensions).
    pub fn handle_transport_open(&mut self, id: TransportId, subprotocol: Option<String>, now: u64) {
        self.handle_transport_open_with_extensions(id, subprotocol, String::new(), now);
    }

    /// A message transport opened, with the extensions its host negotiated (the
    /// WebSocket's `extensions`, `""` for none); they reach [`SessionEvent::Open`].
    pub fn handle_transport_open_with_extensions(
        &mut self,
        id: TransportId,
        subprotocol: Option<String>,
        extensions: String,
        now: u64,
    ) {
        if self.bytes.is_none() {
            self.signal(
                id,
                Signal::WsOpen {
                    subprotocol,
                    extensions,
                },
                now,
            );
        }
    }

    /// A message arrived on a message transport.
    pub fn handle_transport_message(&mut self, id: TransportId, message: Message, now: u64) {
        if self.bytes.is_none() {
            self.signal(id, Signal::Message(message), now);
        }
    }

    /// The socket closed (message transport: the `close` event's code, `None` if there
    /// was none; byte transport: end of stream). The host has released it.
    pub fn handle_transport_closed(&mut self, id: TransportId, code: Option<u16>, reason: &str, now: u64) {
        let Some(slot) = self.phase.slot(id) else { return };
        if let Some(t) = self.phase.get_mut(slot).filter(|t| t.is_bytes_connected()) {
            // Let the connection see the end of stream first: it knows whether this was
            // the end of a clean close (and reports the peer's close code).
            t.close_requested = true;
            t.socket_ok = false;
            t.eof(now);
            self.pump(id, now);
        }
        let cause = Cause::Closed {
            code: code.unwrap_or(1006),
            // A close reason is at most 123 bytes on the wire; hosts may pass anything.
            reason: crate::utf8::truncate(reason, 123).to_string(),
        };
        self.signal(
            id,
            Signal::Gone {
                cause,
                host_closed: true,
            },
            now,
        );
    }

    /// The socket failed. The session answers with `CloseTransport` so the host can
    /// release it.
    pub fn handle_transport_error(&mut self, id: TransportId, kind: TransportErrorKind, detail: &str, now: u64) {
        if let Some(t) = self.phase.slot(id).and_then(|s| self.phase.get_mut(s)) {
            t.socket_ok = false;
        }
        let cause = Cause::Transport {
            kind,
            detail: detail.to_string(),
        };
        self.signal(
            id,
            Signal::Gone {
                cause,
                host_closed: false,
            },
            now,
        );
    }

    // ------------------------------------------------------------------ user operations

    /// Starts connecting from `Idle` or `Closed`. While `Closing` it abandons the close
    /// and connects (like [`reconnect`](Self::reconnect)); otherwise it is a no-op (the
    /// session is already connecting or connected).
    pub fn connect(&mut self, now: u64) {
        if matches!(self.phase, Phase::Closing { .. }) {
            self.reconnect(now);
        } else if matches!(self.phase, Phase::Idle | Phase::Closed) {
            let from = self.phase.state();
            self.new_run();
            self.begin_attempt(from, now);
        }
    }

    /// Drops whatever transport there is and connects again at once, with a fresh run
    /// (attempt counter and backoff reset). Works in every state, including after
    /// `GaveUp` and after `close`.
    pub fn reconnect(&mut self, now: u64) {
        let reason = "reconnecting";
        let from = self.phase.state();
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Connecting { t } => t.release(1000, reason, false, now, &mut self.out),
            Phase::Open { t, next, .. } => {
                if let Some(n) = next {
                    n.release(1000, reason, false, now, &mut self.out);
                }
                t.release(1000, reason, false, now, &mut self.out);
                self.emit_reconnect_close(reason);
            }
            Phase::Closing { t, .. } => {
                t.release(1000, reason, false, now, &mut self.out);
                self.emit_reconnect_close(reason);
            }
            Phase::Idle | Phase::Backoff { .. } | Phase::Closed => {}
        }
        self.new_run();
        self.begin_attempt(from, now);
    }

    fn emit_reconnect_close(&mut self, reason: &str) {
        self.emit(SessionEvent::Closed {
            code: 1000,
            reason: reason.into(),
            cause: Cause::UserReconnect,
            will_reconnect: true,
        });
    }

    /// Closes the session: stops reconnecting and every timer, and closes any transport
    /// (gracefully if open). Safe in every state; `code` must be 1000 or 3000–4999 (others
    /// become 1000) and `reason` is cut to 123 bytes. A later `connect`/`reconnect` starts
    /// again; queued messages are kept for it (see [`take_unsent`](Self::take_unsent)).
    pub fn close(&mut self, code: u16, reason: &str, now: u64) {
        let code = if code == 1000 || (3000..=4999).contains(&code) {
            code
        } else {
            1000
        };
        let reason = crate::utf8::truncate(reason, 123).to_string();
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Closed => {}
            Phase::Closing {
                t,
                deadline,
                code,
                reason,
            } => {
                self.phase = Phase::Closing {
                    t,
                    deadline,
                    code,
                    reason,
                }
            }
            Phase::Idle => self.enter_closed(State::Idle, code, reason, Cause::UserClose),
            Phase::Backoff { .. } => self.enter_closed(State::Backoff, code, reason, Cause::UserClose),
            Phase::Connecting { t } => {
                t.release(code, &reason, false, now, &mut self.out);
                self.enter_closed(State::Connecting, code, reason, Cause::UserClose);
            }
            Phase::Open { mut t, next, .. } => {
                if let Some(n) = next {
                    n.release(code, &reason, false, now, &mut self.out);
                }
                t.begin_close(code, &reason, now, &mut self.out);
                let id = t.id;
                let deadline = now.saturating_add(self.retry.close_timeout_ms);
                self.phase = Phase::Closing {
                    t,
                    deadline,
                    code,
                    reason,
                };
                self.emit_state(State::Open, State::Closing);
                self.pump(id, now);
            }
        }
    }

    /// Sends a message now if open, or queues it. See [`SendError`].
    pub fn send(&mut self, message: Message, _now: u64) -> Result<(), SendError> {
        match &mut self.phase {
            Phase::Closing { .. } | Phase::Closed => Err(SendError::Closed),
            Phase::Open { t, .. } if self.queue.is_empty() => match t.send(message, &mut self.out) {
                Sent::Yes => Ok(()),
                Sent::NotNow(m) => self.queue.push(m, &self.queue_limits),
                Sent::Refused(why) => Err(SendError::Rejected(why)),
            },
            _ => self.queue.push(message, &self.queue_limits),
        }
    }

    /// Sends a protocol ping with `payload` (at most 125 bytes) on the open byte
    /// transport, e.g. for an application's own liveness check; its pong is reported as
    /// [`SessionEvent::Pong`] with [`SessionConfig::control_frames`]. Pings are not
    /// queued: [`SendError::Rejected`] while not open (or on a message transport),
    /// [`SendError::Closed`] once closing.
    pub fn ping(&mut self, payload: &[u8], _now: u64) -> Result<(), SendError> {
        match &mut self.phase {
            Phase::Closing { .. } | Phase::Closed => Err(SendError::Closed),
            Phase::Open { t, .. } => t.ping(payload, &mut self.out).map_err(SendError::Rejected),
            _ => Err(SendError::Rejected("not open: pings are not queued".into())),
        }
    }

    /// The host's answer to [`Output::NeedRequest`] for `id`: the session adds the recovery
    /// parameters and emits `OpenTransport`. The connect timeout starts again from here.
    /// Ignored unless the session is still waiting for this id's request (a late answer
    /// for an attempt that already timed out, failed or was abandoned changes nothing).
    pub fn provide_request(&mut self, id: TransportId, request: TransportRequest, now: u64) {
        let deadline = self.retry.connect_timeout_ms.map(|d| now.saturating_add(d));
        let Some(slot) = self.phase.slot(id) else { return };
        let mut phase = std::mem::replace(&mut self.phase, Phase::Idle);
        if let Some(t) = phase.get_mut(slot).filter(|t| t.stage == Stage::AwaitingRequest) {
            t.stage = Stage::Requested;
            t.deadline = deadline;
            self.open_with(t, request);
        }
        self.phase = phase;
    }

    /// The host could not build the request for `id` (its provider failed): the attempt
    /// fails with [`Cause::RequestFailed`] and is retried like a network error. Ignored
    /// unless the session is still waiting for this id's request.
    pub fn provide_request_error(&mut self, id: TransportId, reason: &str, now: u64) {
        let Some(slot) = self.phase.slot(id) else { return };
        if self
            .phase
            .get_mut(slot)
            .is_some_and(|t| t.stage == Stage::AwaitingRequest)
        {
            self.on_gone(slot, Cause::RequestFailed(reason.to_string()), false, now);
        }
    }

    /// The server announced it will close this transport soon: connect a successor now
    /// and switch to it once it is open (make-before-break). A no-op unless `Open` and
    /// not already migrating. If the successor fails, the session stays on the current
    /// transport and tries again after a backoff delay until one succeeds or the current
    /// transport ends (the server may already have moved the session to the failed
    /// successor, after which it sends nothing more on the current one).
    pub fn disconnect_warning(&mut self, now: u64) {
        if !matches!(self.phase, Phase::Open { next: None, .. }) {
            return;
        }
        let n = self.new_transport(now, true);
        if let Phase::Open {
            next,
            retry_migration_at,
            ..
        } = &mut self.phase
        {
            *next = Some(Box::new(n));
            *retry_migration_at = None;
        }
    }

    // ------------------------------------------------------------------ signals

    /// A host notification about `id` (ignored unless `id` is tracked).
    fn signal(&mut self, id: TransportId, signal: Signal, now: u64) {
        let Some(slot) = self.phase.slot(id) else { return };
        self.dispatch(slot, signal, now);
        self.pump(id, now);
    }

    fn dispatch(&mut self, slot: Slot, signal: Signal, now: u64) {
        match signal {
            Signal::Connected => self.on_connected(slot, now),
            Signal::WsOpen {
                subprotocol,
                extensions,
            } => self.on_ws_open(slot, subprotocol, extensions, now),
            Signal::Message(m) => self.on_message(slot, m, now),
            Signal::Control { pong, payload } => {
                let open = self.phase.get_mut(slot).is_some_and(|t| t.stage == Stage::Open);
                if self.control_frames && open {
                    self.emit(if pong {
                        SessionEvent::Pong(payload)
                    } else {
                        SessionEvent::Ping(payload)
                    });
                }
            }
            Signal::Fragment { opcode, fin, data } => {
                if self.phase.get_mut(slot).is_some_and(|t| t.stage == Stage::Open) {
                    self.emit(SessionEvent::Fragment { opcode, fin, data });
                }
            }
            Signal::Gone { cause, host_closed } => self.on_gone(slot, cause, host_closed, now),
        }
    }

    /// Processes a byte transport's pending connection events until there are none (or
    /// the transport is gone).
    fn pump(&mut self, id: TransportId, now: u64) {
        loop {
            let Some(slot) = self.phase.slot(id) else { return };
            let Some(t) = self.phase.get_mut(slot) else { return };
            let Some(signal) = t.next_signal(&mut self.out) else {
                return;
            };
            self.dispatch(slot, signal, now);
        }
    }

    fn on_connected(&mut self, slot: Slot, now: u64) {
        let handshake_deadline = self.retry.handshake_timeout_ms.map(|d| now.saturating_add(d));
        let Some(t) = self.phase.get_mut(slot) else { return };
        if t.stage != Stage::Requested {
            return;
        }
        t.stage = Stage::Handshaking { ws_open: false };
        t.deadline = handshake_deadline;
        if let Err(cause) = t.start_connection(&self.rng, now, &mut self.out) {
            self.on_gone(slot, cause, false, now);
        }
    }

    fn on_ws_open(&mut self, slot: Slot, subprotocol: Option<String>, extensions: String, now: u64) {
        let handshake_deadline = self.retry.handshake_timeout_ms.map(|d| now.saturating_add(d));
        let expects_welcome = self.envelope.expects_welcome();
        let Some(t) = self.phase.get_mut(slot) else { return };
        match t.stage {
            Stage::Requested => t.deadline = handshake_deadline,
            Stage::Handshaking { ws_open: false } => {}
            _ => return,
        }
        t.subprotocol = subprotocol;
        t.extensions = extensions;
        if expects_welcome {
            t.stage = Stage::Handshaking { ws_open: true };
            // The greeting goes first: the resume credential, or `ss2 hello`.
            let greeting = match &self.placement {
                Some(p) if self.envelope.greets() => Some(self.recovery.greeting(p)),
                _ => None,
            };
            if let Some(g) = greeting {
                if !matches!(t.send(g, &mut self.out), Sent::Yes) {
                    self.on_gone(
                        slot,
                        Cause::Protocol("the greeting could not be sent".into()),
                        false,
                        now,
                    );
                }
            }
        } else {
            self.on_ready(slot, false, now);
        }
    }

    fn on_message(&mut self, slot: Slot, message: Message, now: u64) {
        let Some(stage) = self.phase.get_mut(slot).map(|t| t.stage) else {
            return;
        };
        match stage {
            Stage::Open => self.inbound(message, now),
            Stage::Handshaking { ws_open: true } => match self.envelope.decode(message) {
                Ok(Inbound::Welcome {
                    session_id,
                    token,
                    recovered,
                }) => {
                    let resumed = recovered && self.recovery.session_id.as_deref() == Some(session_id.as_str());
                    self.recovery.welcome(session_id, token, recovered);
                    self.on_ready(slot, resumed, now);
                }
                Ok(other) => {
                    // Peer data: kind, length and a short prefix only (never `{other:?}`).
                    let got = match &other {
                        Inbound::Data { message, .. } => crate::excerpt::message(message),
                        Inbound::DisconnectWarning => "a drain warning".to_string(),
                        Inbound::Welcome { .. } | Inbound::Ignore => "a reserved control message".to_string(),
                    };
                    let why = format!("expected a welcome, got {got}");
                    self.on_gone(slot, Cause::Protocol(why), false, now);
                }
                Err(why) => self.on_gone(slot, Cause::Protocol(why), false, now),
            },
            // A message before the WebSocket opened: the host broke the contract; ignore.
            Stage::AwaitingRequest | Stage::Requested | Stage::Handshaking { ws_open: false } => {}
        }
    }

    /// An application-level message on the open primary transport.
    fn inbound(&mut self, message: Message, now: u64) {
        if let (Some(cfg), Some(t)) = (&self.heartbeat, self.phase.get_mut(Slot::Primary)) {
            let is_pong = cfg.pong.matches(&message);
            if let Some(timer) = t.heartbeat.as_mut().filter(|_| is_pong || cfg.any_message_counts) {
                timer.alive(now, cfg);
            }
            if is_pong {
                return;
            }
        }
        match self.envelope.decode(message) {
            Err(why) => self.emit(SessionEvent::Error(SessionError::Envelope(why))),
            Ok(Inbound::Welcome { .. } | Inbound::Ignore) => {}
            Ok(Inbound::DisconnectWarning) => self.disconnect_warning(now),
            Ok(Inbound::Data { offset, message }) => {
                if let Some(offset) = offset {
                    match self.recovery.admit(offset) {
                        Admit::Duplicate => return,
                        Admit::DeliverAfterGap { expected } => {
                            self.emit(SessionEvent::Error(SessionError::RecoveryGap { expected, got: offset }))
                        }
                        Admit::Deliver => {}
                    }
                }
                if self.disconnect_warning.as_ref().is_some_and(|p| p.matches(&message)) {
                    self.disconnect_warning(now);
                } else {
                    self.emit(SessionEvent::Message(message));
                }
            }
        }
    }

    /// A transport finished its handshake (and welcome): it carries traffic from now on.
    fn on_ready(&mut self, slot: Slot, recovered: bool, now: u64) {
        let timer = self.heartbeat.as_ref().map(|cfg| HeartbeatTimer::start(now, cfg));
        let Some(t) = self.phase.get_mut(slot) else { return };
        t.stage = Stage::Open;
        t.deadline = None;
        t.heartbeat = timer;
        match (std::mem::replace(&mut self.phase, Phase::Idle), slot) {
            (Phase::Connecting { t }, Slot::Primary) => {
                let subprotocol = t.subprotocol.clone();
                let extensions = t.extensions.clone();
                self.phase = Phase::Open {
                    t,
                    since: now,
                    next: None,
                    retry_migration_at: None,
                };
                self.migration_backoff.reset();
                self.emit_state(State::Connecting, State::Open);
                self.emit(SessionEvent::Open {
                    attempt: self.attempt,
                    recovered,
                    subprotocol,
                    extensions,
                });
                self.flush(now);
            }
            (
                Phase::Open {
                    t: old,
                    since,
                    next: Some(new),
                    ..
                },
                Slot::Next,
            ) => {
                old.release(1000, "migrated", false, now, &mut self.out);
                self.phase = Phase::Open {
                    t: *new,
                    since,
                    next: None,
                    retry_migration_at: None,
                };
                self.migration_backoff.reset();
                self.emit(SessionEvent::Migrated { recovered });
                self.flush(now);
            }
            (other, _) => self.phase = other,
        }
    }

    fn on_gone(&mut self, slot: Slot, cause: Cause, host_closed: bool, now: u64) {
        let code = cause.close_code();
        let reason = match &cause {
            Cause::Closed { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        match (std::mem::replace(&mut self.phase, Phase::Idle), slot) {
            (Phase::Connecting { t }, Slot::Primary) => {
                t.release(
                    1000,
                    crate::utf8::truncate(&reason, 123),
                    host_closed,
                    now,
                    &mut self.out,
                );
                self.attempt_failed(State::Connecting, cause, now);
            }
            (Phase::Open { t, since, next, .. }, Slot::Primary) => {
                t.release(1000, "connection lost", host_closed, now, &mut self.out);
                self.connection_lost(since, next, code, reason, cause, now);
            }
            (
                Phase::Open {
                    t,
                    since,
                    next: Some(n),
                    ..
                },
                Slot::Next,
            ) => {
                n.release(1000, "migration failed", host_closed, now, &mut self.out);
                let delay = self.migration_backoff.next_delay(&self.retry.backoff, &mut self.rng);
                self.phase = Phase::Open {
                    t,
                    since,
                    next: None,
                    retry_migration_at: Some(now.saturating_add(delay)),
                };
                self.emit(SessionEvent::Error(SessionError::MigrationFailed {
                    cause,
                    retry_in_ms: delay,
                }));
            }
            (closing @ Phase::Closing { .. }, Slot::Primary) => {
                self.phase = closing;
                self.finish_close(code, reason, host_closed, now);
            }
            (other, _) => self.phase = other,
        }
    }

    // ------------------------------------------------------------------ timers

    fn transport_timeout(&mut self, id: TransportId, now: u64) {
        if let Some(t) = self.phase.slot(id).and_then(|s| self.phase.get_mut(s)) {
            t.connection_timeout(now);
        }
        self.pump(id, now);
        let Some(slot) = self.phase.slot(id) else { return };
        let Some(t) = self.phase.get_mut(slot) else { return };
        if t.deadline.is_some_and(|d| now >= d) {
            let cause = match t.stage {
                Stage::AwaitingRequest => Cause::RequestTimeout,
                Stage::Requested => Cause::ConnectTimeout,
                Stage::Handshaking { .. } | Stage::Open => Cause::HandshakeTimeout,
            };
            self.on_gone(slot, cause, false, now);
            return;
        }
        let (Some(cfg), Some(timer)) = (&self.heartbeat, t.heartbeat.as_mut()) else {
            return;
        };
        match timer.poll(now, cfg) {
            Beat::Wait => {}
            Beat::Dead => self.on_gone(slot, Cause::KeepaliveTimeout, false, now),
            Beat::SendPing => {
                if let Sent::Refused(why) = t.send(cfg.ping.clone(), &mut self.out) {
                    self.on_gone(
                        slot,
                        Cause::Protocol(format!("heartbeat ping refused: {why}")),
                        false,
                        now,
                    );
                }
            }
        }
    }

    // ------------------------------------------------------------------ transitions

    fn new_run(&mut self) {
        self.attempt = 0;
        self.backoff.reset();
    }

    /// Asks the host for a transport (or, with a provided request, for its request).
    fn new_transport(&mut self, now: u64, migration: bool) -> Transport {
        self.next_id = self.next_id.saturating_add(1);
        let id = TransportId(self.next_id);
        let deadline = self.retry.connect_timeout_ms.map(|d| now.saturating_add(d));
        let mut t = Transport::new(id, self.bytes.as_ref(), deadline);
        match self.request_source {
            RequestSource::Fixed => {
                let request = self.request.clone();
                self.open_with(&mut t, request);
            }
            RequestSource::Provided => self.out.push_back(Output::NeedRequest {
                id,
                attempt: self.attempt,
                migration,
            }),
        }
        t
    }

    /// Adds the recovery parameters to `request` and asks the host to open `t` with it.
    fn open_with(&mut self, t: &mut Transport, mut request: TransportRequest) {
        if let Some(placement) = &self.placement {
            self.recovery.apply(&mut request, placement);
        }
        t.set_request(&request);
        self.out.push_back(Output::OpenTransport { id: t.id, request });
    }

    /// Starts the next attempt of the run (from any state whose transports are gone).
    fn begin_attempt(&mut self, from: State, now: u64) {
        self.attempt = self.attempt.saturating_add(1);
        let t = self.new_transport(now, false);
        self.phase = Phase::Connecting { t };
        self.emit_state(from, State::Connecting);
    }

    fn decide(&mut self, cause: &Cause) -> Decision {
        if !self.retry.should_retry(cause) {
            Decision::Stop
        } else if self.retry.max_retries.is_some_and(|max| self.attempt > max) {
            Decision::GiveUp
        } else {
            Decision::Retry
        }
    }

    /// An attempt ended before the session opened. The transport is already released.
    fn attempt_failed(&mut self, from: State, cause: Cause, now: u64) {
        match self.decide(&cause) {
            Decision::Retry => self.enter_backoff(from, cause, now),
            Decision::Stop => {
                let code = cause.close_code();
                self.enter_closed(from, code, cause.to_string(), cause);
            }
            Decision::GiveUp => {
                self.emit(SessionEvent::GaveUp {
                    attempts: self.attempt,
                    cause: cause.clone(),
                });
                self.enter_closed(from, cause.close_code(), cause.to_string(), cause);
            }
        }
    }

    /// The open transport ended. It is already released; `next` may be connecting.
    fn connection_lost(
        &mut self,
        since: u64,
        next: Option<Box<Transport>>,
        code: u16,
        reason: String,
        cause: Cause,
        now: u64,
    ) {
        if now.saturating_sub(since) >= self.retry.min_uptime_ms {
            self.new_run();
        }
        let decision = self.decide(&cause);
        if let Some(n) = next {
            if let Decision::Retry = decision {
                // Make-before-break was under way: its transport is the next attempt.
                self.emit(SessionEvent::Closed {
                    code,
                    reason,
                    cause: cause.clone(),
                    will_reconnect: true,
                });
                self.attempt = self.attempt.saturating_add(1);
                self.phase = Phase::Connecting { t: *n };
                self.emit_state(State::Open, State::Connecting);
                self.emit(SessionEvent::Reconnecting {
                    attempt: self.attempt,
                    delay_ms: 0,
                    cause,
                });
                return;
            }
            n.release(1000, "stopping", false, now, &mut self.out);
        }
        match decision {
            Decision::Retry => {
                self.emit(SessionEvent::Closed {
                    code,
                    reason,
                    cause: cause.clone(),
                    will_reconnect: true,
                });
                self.enter_backoff(State::Open, cause, now);
            }
            Decision::Stop => self.enter_closed(State::Open, code, reason, cause),
            Decision::GiveUp => {
                self.emit(SessionEvent::GaveUp {
                    attempts: self.attempt,
                    cause: cause.clone(),
                });
                self.enter_closed(State::Open, code, reason, cause);
            }
        }
    }

    fn enter_backoff(&mut self, from: State, cause: Cause, now: u64) {
        let delay = self.backoff.next_delay(&self.retry.backoff, &mut self.rng);
        self.phase = Phase::Backoff {
            until: now.saturating_add(delay),
        };
        self.emit_state(from, State::Backoff);
        self.emit(SessionEvent::Reconnecting {
            attempt: self.attempt.saturating_add(1),
            delay_ms: delay,
            cause,
        });
    }

    fn enter_closed(&mut self, from: State, code: u16, reason: String, cause: Cause) {
        self.phase = Phase::Closed;
        self.emit_state(from, State::Closed);
        self.emit(SessionEvent::Closed {
            code,
            reason,
            cause,
            will_reconnect: false,
        });
    }

    /// Ends a user close: releases the transport and enters `Closed`.
    fn finish_close(&mut self, code: u16, reason: String, host_closed: bool, now: u64) {
        if let Phase::Closing {
            t,
            code: own_code,
            reason: own_reason,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Closed)
        {
            t.release(own_code, &own_reason, host_closed, now, &mut self.out);
            self.enter_closed(State::Closing, code, reason, Cause::UserClose);
        }
    }

    /// Sends queued messages, in order, while the transport takes them.
    fn flush(&mut self, _now: u64) {
        if self.queue.is_empty() {
            return;
        }
        let mut pending = self.queue.take_all().into_iter();
        while let Some(m) = pending.next() {
            let Some(t) = self.phase.get_mut(Slot::Primary) else {
                self.queue.requeue(m, pending);
                return;
            };
            match t.send(m, &mut self.out) {
                Sent::Yes => {}
                Sent::NotNow(m) => {
                    self.queue.requeue(m, pending);
                    return;
                }
                Sent::Refused(why) => self.emit(SessionEvent::Error(SessionError::Unsendable(why))),
            }
        }
    }

    fn emit_state(&mut self, from: State, to: State) {
        if from != to {
            self.emit(SessionEvent::StateChanged { from, to });
        }
    }

    fn emit(&mut self, event: SessionEvent) {
        self.out.push_back(Output::Event(event));
    }
}
