//! A blocking `std::net` host for [`Session`]: the real-socket half of "tested by
//! simulation and by real faults".
//!
//! It follows the session's host contract and nothing more. One thread (the caller's)
//! owns the [`Session`]; everything that blocks runs elsewhere and reports into one
//! channel:
//!
//! * `OpenTransport` → a *connect thread* resolves the URL and connects with the connect
//!   timeout, then hands the stream back (or the error);
//! * per connected socket, a *reader thread* posts bytes, end of stream or the error,
//!   and ends with the socket;
//! * `Transmit` is written from the host thread (a clone of the stream, with a write
//!   timeout so a peer that stops reading cannot wedge the host);
//! * `CloseTransport` shuts the socket down, which ends its reader thread;
//! * between inputs the host sleeps in `recv_timeout` until the session's
//!   [`poll_timeout`](Session::poll_timeout).
//!
//! Transport ids are never reused, so news about an id the host no longer holds (a late
//! connect, the end of a stream the session already let go) is dropped, and a late
//! connected stream is closed at once. Byte transports only; no TLS (`wss://` fails the
//! attempt with [`TransportErrorKind::Tls`]).

use crate::driver::{os_random, Clock};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use steadysock::session::{
    Output, SendError, Session, SessionConfig, SessionEvent, TransportErrorKind, TransportId, TransportRequest,
};
use steadysock::{Message, RandomSource, WsUrl};

/// How long a write may block before the socket is reported as failed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP connect timeout when the retry policy sets none.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the helper threads report.
enum Report {
    Connected(TransportId, TcpStream),
    ConnectFailed(TransportId, TransportErrorKind, String),
    Bytes(TransportId, Vec<u8>),
    Eof(TransportId),
    ReadFailed(TransportId, TransportErrorKind, String),
    /// From a [`Waker`]: return from [`SessionHost::next_event_or_wake`].
    Wake,
}

/// Wakes a host blocked in [`SessionHost::next_event_or_wake`] from another thread
/// (for example one reading commands), so it never has to poll for them.
#[derive(Clone)]
pub struct Waker(Sender<Report>);

impl Waker {
    /// Makes the host's current (or next) `next_event_or_wake` return.
    pub fn wake(&self) {
        let _ = self.0.send(Report::Wake);
    }
}

/// One socket the session asked for.
enum Socket {
    /// The connect thread is still at work; setting the flag tells it the transport
    /// is no longer wanted (it then closes what it connects).
    Connecting(Arc<AtomicBool>),
    /// Connected: the host's writing half (the reader thread holds a clone).
    Connected(TcpStream),
}

/// A transport-level fact, for tests that check ordering (make-before-break).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportNote {
    /// The session asked for this transport.
    Requested(TransportId),
    /// Its TCP connection was established.
    Connected(TransportId),
    /// The host let it go (asked by the session, or the socket ended or failed).
    Closed(TransportId),
}

/// Counts live helper threads; each thread holds one of these until it ends.
struct ThreadGuard(Arc<AtomicUsize>);

impl ThreadGuard {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Builds the request of each attempt (attempt number, make-before-break?) for a session
/// with [`RequestSource::Provided`](steadysock::session::RequestSource::Provided).
pub type RequestProvider = Box<dyn FnMut(u32, bool) -> TransportRequest + Send>;

/// A [`Session`] over real TCP sockets, driven by the calling thread.
pub struct SessionHost {
    session: Session,
    provider: Option<RequestProvider>,
    clock: Clock,
    connect_timeout: Duration,
    tx: Sender<Report>,
    rx: Receiver<Report>,
    sockets: HashMap<TransportId, Socket>,
    events: VecDeque<SessionEvent>,
    threads: Arc<AtomicUsize>,
    notes: Vec<TransportNote>,
    /// A [`Waker`] woke the host since `next_event_or_wake` last returned.
    woken: bool,
}

impl SessionHost {
    /// A host for a new session over `config`, with the OS random source.
    pub fn new(config: SessionConfig) -> io::Result<Self> {
        Ok(Self::with_rng(config, os_random()?))
    }

    /// A host with the given random source (jitter, handshake nonces, masks).
    pub fn with_rng(config: SessionConfig, rng: Box<dyn RandomSource>) -> Self {
        let clock = Clock::new();
        let connect_timeout = config
            .retry
            .connect_timeout_ms
            .map_or(DEFAULT_CONNECT_TIMEOUT, |ms| Duration::from_millis(ms.max(1)));
        let (tx, rx) = mpsc::channel();
        Self {
            session: Session::new(config, rng, clock.now()),
            provider: None,
            clock,
            connect_timeout,
            tx,
            rx,
            sockets: HashMap::new(),
            events: VecDeque::new(),
            threads: Arc::new(AtomicUsize::new(0)),
            notes: Vec::new(),
            woken: false,
        }
    }

    /// Answers the session's `NeedRequest` with `provider` (called on the host thread, at
    /// once). Without one, a `NeedRequest` fails its attempt.
    pub fn with_request_provider(
        mut self,
        provider: impl FnMut(u32, bool) -> TransportRequest + Send + 'static,
    ) -> Self {
        self.provider = Some(Box::new(provider));
        self
    }

    // ------------------------------------------------------------------ queries

    /// The session (state, `poll_timeout`, queue, transports).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Milliseconds on the host's clock (the `now` it gives the session).
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Sockets the host holds (connecting or connected).
    pub fn live_sockets(&self) -> usize {
        self.sockets.len()
    }

    /// Connect and reader threads still running.
    pub fn live_threads(&self) -> usize {
        self.threads.load(Ordering::SeqCst)
    }

    /// Every transport request, connection and release so far, in order.
    pub fn transport_log(&self) -> &[TransportNote] {
        &self.notes
    }

    /// Whether nothing is left running: no socket, no helper thread, no session timer
    /// and no transport. (Handles reports already in the channel first, so a stream a
    /// connect thread handed over just before it ended is counted, and closed.)
    pub fn is_released(&mut self) -> bool {
        // Threads first: a thread sends its last report before it counts as ended.
        let no_threads = self.live_threads() == 0;
        while let Ok(report) = self.rx.try_recv() {
            self.handle(report);
        }
        self.pump();
        no_threads
            && self.sockets.is_empty()
            && self.session.poll_timeout().is_none()
            && self.session.transports().is_empty()
    }

    // ------------------------------------------------------------------ user operations

    /// [`Session::connect`].
    pub fn connect(&mut self) {
        let now = self.now();
        self.session.connect(now);
        self.pump();
    }

    /// [`Session::reconnect`].
    pub fn reconnect(&mut self) {
        let now = self.now();
        self.session.reconnect(now);
        self.pump();
    }

    /// [`Session::close`]. The closing handshake runs as the host is driven
    /// ([`next_event`](Self::next_event)); `Closed` ends it.
    pub fn close(&mut self, code: u16, reason: &str) {
        let now = self.now();
        self.session.close(code, reason, now);
        self.pump();
    }

    /// [`Session::disconnect_warning`].
    pub fn disconnect_warning(&mut self) {
        let now = self.now();
        self.session.disconnect_warning(now);
        self.pump();
    }

    /// [`Session::send`].
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        let now = self.now();
        let result = self.session.send(message, now);
        self.pump();
        result
    }

    // ------------------------------------------------------------------ driving

    /// Drives sockets and timers until the session has an event for the application,
    /// or `deadline` passes (`None`).
    pub fn next_event(&mut self, deadline: Instant) -> Option<SessionEvent> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Some(e);
            }
            if Instant::now() >= deadline {
                return None;
            }
            self.step(deadline);
        }
    }

    /// Like [`next_event`](Self::next_event), but also returns (`None`) as soon as a
    /// [`Waker`] of this host wakes it.
    pub fn next_event_or_wake(&mut self, deadline: Instant) -> Option<SessionEvent> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Some(e);
            }
            if std::mem::take(&mut self.woken) || Instant::now() >= deadline {
                return None;
            }
            self.step(deadline);
        }
    }

    /// A handle that wakes this host from another thread (see
    /// [`next_event_or_wake`](Self::next_event_or_wake)).
    pub fn waker(&self) -> Waker {
        Waker(self.tx.clone())
    }

    /// Hands every event to `f` until it returns `true` (then `true`) or `deadline`
    /// passes (then `false`).
    pub fn run_until(&mut self, deadline: Instant, mut f: impl FnMut(&SessionEvent) -> bool) -> bool {
        while let Some(e) = self.next_event(deadline) {
            if f(&e) {
                return true;
            }
        }
        false
    }

    /// Drives the host for `duration` and returns the events of that time.
    pub fn run_for(&mut self, duration: Duration) -> Vec<SessionEvent> {
        let deadline = Instant::now() + duration;
        std::iter::from_fn(|| self.next_event(deadline)).collect()
    }

    /// Closes every socket at once, without a closing handshake (the session is told
    /// nothing). Reader threads end with their sockets; a connect thread ends within
    /// the connect timeout and closes what it connected. Also done on drop.
    pub fn shutdown(&mut self) {
        let ids: Vec<TransportId> = self.sockets.keys().copied().collect();
        for id in ids {
            self.forget(id);
        }
        // Streams connect threads already handed over.
        while let Ok(report) = self.rx.try_recv() {
            if let Report::Connected(_, s) = report {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    /// Waits for one report (or the session's timer, or `deadline`) and handles it.
    fn step(&mut self, deadline: Instant) {
        let now = self.now();
        let timer = self.session.poll_timeout();
        if timer.is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
            self.pump();
            return;
        }
        let mut wait = deadline.saturating_duration_since(Instant::now());
        if let Some(t) = timer {
            wait = wait.min(Duration::from_millis(t - now));
        }
        match self.rx.recv_timeout(wait) {
            Ok(report) => {
                self.handle(report);
                // Take whatever else already arrived before looking at timers again.
                while let Ok(report) = self.rx.try_recv() {
                    self.handle(report);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // Unreachable: the host holds a sender itself.
            Err(RecvTimeoutError::Disconnected) => {}
        }
        let now = self.now();
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
        self.pump();
    }

    fn handle(&mut self, report: Report) {
        let now = self.now();
        match report {
            Report::Connected(id, stream) => {
                if !matches!(self.sockets.get(&id), Some(Socket::Connecting(_))) {
                    // The session gave up on this transport while it was connecting.
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                match self.start_reader(id, &stream) {
                    Ok(()) => {
                        let _ = stream.set_nodelay(true);
                        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                        self.sockets.insert(id, Socket::Connected(stream));
                        self.notes.push(TransportNote::Connected(id));
                        self.session.handle_transport_connected(id, now);
                    }
                    Err(e) => {
                        let _ = stream.shutdown(Shutdown::Both);
                        self.forget(id);
                        self.session
                            .handle_transport_error(id, TransportErrorKind::Other, &e.to_string(), now);
                    }
                }
            }
            Report::ConnectFailed(id, kind, detail) => {
                if self.forget(id) {
                    self.session.handle_transport_error(id, kind, &detail, now);
                }
            }
            Report::Bytes(id, data) => {
                if matches!(self.sockets.get(&id), Some(Socket::Connected(_))) {
                    self.session.handle_transport_bytes(id, &data, now);
                }
            }
            Report::Eof(id) => {
                if self.forget(id) {
                    self.session.handle_transport_closed(id, None, "", now);
                }
            }
            Report::ReadFailed(id, kind, detail) => {
                if self.forget(id) {
                    self.session.handle_transport_error(id, kind, &detail, now);
                }
            }
            Report::Wake => self.woken = true,
        }
    }

    /// Carries out everything the session asked for.
    fn pump(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::NeedRequest { id, attempt, migration } => {
                    let now = self.now();
                    match self.provider.as_mut() {
                        Some(provide) => {
                            let request = provide(attempt, migration);
                            self.session.provide_request(id, request, now);
                        }
                        None => self
                            .session
                            .provide_request_error(id, "this host has no request provider", now),
                    }
                }
                Output::OpenTransport { id, request } => self.open(id, request),
                Output::Transmit { id, bytes } => {
                    let failed = match self.sockets.get_mut(&id) {
                        Some(Socket::Connected(s)) => s.write_all(&bytes).err(),
                        _ => None,
                    };
                    if let Some(e) = failed {
                        self.forget(id);
                        let now = self.now();
                        self.session
                            .handle_transport_error(id, error_kind(&e), &e.to_string(), now);
                    }
                }
                // A byte transport never asks for messages; nothing to do otherwise.
                Output::SendMessage { .. } => {}
                Output::CloseTransport { id, .. } => {
                    self.forget(id);
                }
                Output::Event(e) => self.events.push_back(e),
                // Outputs a newer core may add: nothing this host knows to do.
                _ => {}
            }
        }
    }

    /// Releases the socket of `id`; `false` if the host no longer held it.
    fn forget(&mut self, id: TransportId) -> bool {
        match self.sockets.remove(&id) {
            Some(socket) => {
                match socket {
                    // Bytes already written still go out before the FIN; the reader
                    // thread sees the end of the stream and ends.
                    Socket::Connected(s) => {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    Socket::Connecting(cancelled) => cancelled.store(true, Ordering::SeqCst),
                }
                self.notes.push(TransportNote::Closed(id));
                true
            }
            None => false,
        }
    }

    fn open(&mut self, id: TransportId, request: TransportRequest) {
        self.notes.push(TransportNote::Requested(id));
        let url = match WsUrl::parse(&request.url) {
            Ok(url) if url.secure => Err((TransportErrorKind::Tls, "this host has no TLS".to_string())),
            Ok(url) => Ok(url),
            Err(e) => Err((TransportErrorKind::Other, e)),
        };
        let url = match url {
            Ok(url) => url,
            Err((kind, detail)) => {
                // Reported through the channel like any other failure, so the session
                // never hears about a transport inside the output loop that created it.
                self.sockets.insert(id, Socket::Connecting(Arc::default()));
                let _ = self.tx.send(Report::ConnectFailed(id, kind, detail));
                return;
            }
        };
        let cancelled = Arc::new(AtomicBool::new(false));
        self.sockets.insert(id, Socket::Connecting(cancelled.clone()));
        let tx = self.tx.clone();
        let timeout = self.connect_timeout;
        let guard = ThreadGuard::new(&self.threads);
        let spawned = std::thread::Builder::new()
            .name(format!("connect-{id}"))
            .spawn(move || {
                let _guard = guard;
                let report = match crate::driver::connect_tcp(&url.host, url.port, timeout) {
                    Ok(stream) if cancelled.load(Ordering::SeqCst) => {
                        let _ = stream.shutdown(Shutdown::Both);
                        return;
                    }
                    Ok(stream) => Report::Connected(id, stream),
                    Err(e) => Report::ConnectFailed(id, error_kind(&e), e.to_string()),
                };
                // If the host is gone, the stream is dropped (closed) here; if the
                // transport was cancelled meanwhile, the host closes it on arrival.
                let _ = tx.send(report);
            });
        if let Err(e) = spawned {
            let _ = self
                .tx
                .send(Report::ConnectFailed(id, TransportErrorKind::Other, e.to_string()));
        }
    }

    fn start_reader(&self, id: TransportId, stream: &TcpStream) -> io::Result<()> {
        let mut reader = stream.try_clone()?;
        let tx = self.tx.clone();
        let guard = ThreadGuard::new(&self.threads);
        std::thread::Builder::new()
            .name(format!("reader-{id}"))
            .spawn(move || {
                let _guard = guard;
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => {
                            let _ = tx.send(Report::Eof(id));
                            return;
                        }
                        Ok(n) => {
                            if tx.send(Report::Bytes(id, buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Report::ReadFailed(id, error_kind(&e), e.to_string()));
                            return;
                        }
                    }
                }
            })?;
        Ok(())
    }
}

impl Drop for SessionHost {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The session's category for an I/O error.
pub fn error_kind(e: &io::Error) -> TransportErrorKind {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => TransportErrorKind::Refused,
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout,
        K::NotFound => TransportErrorKind::Dns,
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => TransportErrorKind::Unreachable,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => TransportErrorKind::Reset,
        _ => TransportErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault_server::FaultServer;
    use std::net::TcpListener;
    use steadysock::session::{BackoffPolicy, Cause, RecoveryConfig, State};

    fn config(url: &str) -> SessionConfig {
        let mut c = SessionConfig::bytes(url);
        c.recovery = Some(RecoveryConfig::default());
        c.retry.backoff = BackoffPolicy {
            min_delay_ms: 10,
            max_delay_ms: 50,
            ..BackoffPolicy::default()
        };
        c.retry.connect_timeout_ms = Some(500);
        c
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    fn wait_released(host: &mut SessionHost) -> bool {
        let until = soon();
        while !host.is_released() && Instant::now() < until {
            host.next_event(Instant::now() + Duration::from_millis(10));
        }
        host.is_released()
    }

    #[test]
    fn opens_sends_reconnects_and_closes_leaving_nothing() {
        let server = FaultServer::start().unwrap();
        let faults = server.handle();
        let mut host = SessionHost::new(config(&server.url("/ws"))).unwrap();
        assert!(host.session().poll_timeout().is_none());
        host.connect();
        assert!(host.run_until(soon(), |e| matches!(e, SessionEvent::Open { .. })));
        assert_eq!(host.live_sockets(), 1);
        assert!(host.live_threads() >= 1, "a reader thread per socket");
        host.send(Message::text("hi")).unwrap();
        faults.send(1).unwrap();
        assert!(host.run_until(soon(), |e| *e == SessionEvent::Message(Message::text("m1"))));
        assert_eq!(faults.status().received, vec!["hi".to_string()]);

        faults.drop_all().unwrap();
        assert!(host.run_until(soon(), |e| matches!(e, SessionEvent::Closed { code: 1006, .. })));
        assert!(host.run_until(soon(), |e| matches!(e, SessionEvent::Open { recovered: true, .. })));

        host.close(1000, "done");
        assert!(host.run_until(soon(), |e| matches!(
            e,
            SessionEvent::Closed {
                will_reconnect: false,
                ..
            }
        )));
        assert_eq!(host.session().state(), State::Closed);
        assert!(wait_released(&mut host), "{} threads left", host.live_threads());
        let notes = host.transport_log();
        assert!(matches!(notes.first(), Some(TransportNote::Requested(_))));
        assert!(matches!(notes.last(), Some(TransportNote::Closed(_))));
    }

    #[test]
    fn refused_attempts_end_in_gave_up() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut c = config(&format!("ws://127.0.0.1:{port}/"));
        c.retry.max_retries = Some(1);
        let mut host = SessionHost::new(c).unwrap();
        host.connect();
        let mut gave_up = None;
        host.run_until(soon(), |e| match e {
            SessionEvent::GaveUp { attempts, cause } => {
                gave_up = Some((*attempts, cause.clone()));
                true
            }
            _ => false,
        });
        let (attempts, cause) = gave_up.expect("GaveUp");
        assert_eq!(attempts, 2);
        assert!(matches!(
            cause,
            Cause::Transport {
                kind: TransportErrorKind::Refused,
                ..
            }
        ));
        assert!(wait_released(&mut host));
    }

    #[test]
    fn close_while_connecting_releases_the_late_socket() {
        let server = FaultServer::start().unwrap();
        let mut host = SessionHost::new(config(&server.url("/ws"))).unwrap();
        host.connect();
        host.close(1000, "never mind");
        assert_eq!(host.session().state(), State::Closed);
        assert!(wait_released(&mut host));
        // The connect thread's socket was closed at once: the server saw it come and go.
        let until = soon();
        let gone = |s: &crate::fault_server::Status| s.accepted == 1 && s.connections == 0;
        while !gone(&server.handle().status()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(gone(&server.handle().status()), "{:?}", server.handle().status());
    }

    #[test]
    fn wss_is_refused_without_a_crash() {
        let mut c = config("wss://127.0.0.1:1/");
        c.retry.max_retries = Some(0);
        let mut host = SessionHost::new(c).unwrap();
        host.connect();
        assert!(host.run_until(soon(), |e| matches!(
            e,
            SessionEvent::GaveUp {
                cause: Cause::Transport {
                    kind: TransportErrorKind::Tls,
                    ..
                },
                ..
            }
        )));
    }
}
