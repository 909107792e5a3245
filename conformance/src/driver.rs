//! A blocking `std::net` host for [`Connection`]: the smallest complete driver, used by
//! the demo, the tests and the Autobahn runners.
//!
//! It follows the host contract of the core to the letter: feed what arrived, write
//! what is pending, hand out events, and sleep in `read` no longer than the core's next
//! timer. One thread per connection; no TLS (a `wss://` URL is refused).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use steadysock::connection::Output;
use steadysock::{Accept, ClientRequest, Config, Connection, Event, RandomSource, Request, WsUrl};

/// Milliseconds since this driver's origin: the core's notion of time.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self(Instant::now())
    }

    /// Milliseconds since the origin.
    pub fn now(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// The OS random source ([`steadysock::rng::OsRandom`]), boxed for the core.
pub fn os_random() -> io::Result<Box<dyn RandomSource>> {
    let rng = steadysock::rng::OsRandom::new().map_err(|e| io::Error::other(e.to_string()))?;
    Ok(Box::new(rng))
}

/// Resolves `host` and connects to the first of its addresses that answers, each
/// attempt bounded by `timeout`.
pub fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} did not resolve"));
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A connection and the TCP stream it runs over.
pub struct Blocking {
    conn: Connection,
    stream: TcpStream,
    clock: Clock,
    buf: Vec<u8>,
    eof: bool,
    finished: bool,
    deadline: Option<Instant>,
}

impl Blocking {
    /// Connects to a `ws://` URL and starts the handshake (finished by `next_event`).
    pub fn connect(request: &ClientRequest, config: Config, connect_timeout: Duration) -> io::Result<Self> {
        let url = WsUrl::parse(&request.url).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        if url.secure {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the blocking driver has no TLS",
            ));
        }
        let stream = connect_tcp(&url.host, url.port, connect_timeout)?;
        let clock = Clock::new();
        let conn = Connection::client(request, config, os_random()?, clock.now())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(Self::over(conn, stream, clock))
    }

    /// Serves one accepted TCP stream; the first event is `Event::Request`.
    pub fn server(stream: TcpStream, config: Config) -> io::Result<Self> {
        let clock = Clock::new();
        let conn = Connection::server(config, os_random()?, clock.now());
        Ok(Self::over(conn, stream, clock))
    }

    fn over(conn: Connection, stream: TcpStream, clock: Clock) -> Self {
        let _ = stream.set_nodelay(true);
        Self {
            conn,
            stream,
            clock,
            buf: vec![0; 64 << 10],
            eof: false,
            finished: false,
            deadline: None,
        }
    }

    /// The connection, for `send`, `close`, `accept` and friends.
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The driver's clock (what to pass as `now` to the connection).
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// After this instant `next_event` fails with `TimedOut` (a whole-exchange limit).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Writes everything the connection has queued (bytes only: events stay queued for
    /// [`next_event`](Self::next_event)).
    pub fn flush(&mut self) -> io::Result<()> {
        while let Some(bytes) = self.conn.poll_transmit() {
            self.write(&bytes)?;
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Err(e) = self.stream.write_all(bytes) {
            let now = self.clock.now();
            self.conn.handle_eof(now);
            self.eof = true;
            return Err(e);
        }
        Ok(())
    }

    /// Runs I/O and timers until the next event; `None` once the transport is closed
    /// and every event has been handed out.
    ///
    /// Outputs come from [`Connection::poll_output`], so bytes queued while an event is
    /// handed out (the close frame after an error, answers the caller sent meanwhile) are
    /// written before the driver ever waits for input.
    pub fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            match self.conn.poll_output() {
                // A peer that went away mid-write is reported through the events.
                Some(Output::Transmit(bytes)) => {
                    let _ = self.write(&bytes);
                    continue;
                }
                Some(Output::Event(e)) => return Ok(Some(e)),
                Some(_) => continue,
                None => {}
            }
            if self.conn.should_close_transport() || self.eof {
                if !self.finished {
                    self.finished = true;
                    let _ = self.stream.shutdown(Shutdown::Both);
                }
                return Ok(None);
            }
            let now = self.clock.now();
            let mut wait = self.conn.poll_timeout().map(|t| t.saturating_sub(now));
            if let Some(d) = self.deadline {
                let left = d.saturating_duration_since(Instant::now()).as_millis() as u64;
                if left == 0 {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
                }
                wait = Some(wait.map_or(left, |w| w.min(left)));
            }
            if wait == Some(0) {
                self.conn.handle_timeout(now);
                continue;
            }
            self.stream.set_read_timeout(wait.map(Duration::from_millis))?;
            match self.stream.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    self.conn.handle_eof(self.clock.now());
                }
                Ok(n) => self.conn.handle_input(&self.buf[..n], self.clock.now()),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    self.conn.handle_timeout(self.clock.now());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.eof = true;
                    self.conn.handle_eof(self.clock.now());
                }
            }
        }
    }
}

/// Serves one stream as an echo server: accepts any request (with the client's first
/// subprotocol) and sends every message back. Returns when the connection is over.
pub fn echo(stream: TcpStream, config: Config) -> io::Result<()> {
    let mut ws = Blocking::server(stream, config)?;
    while let Some(event) = ws.next_event()? {
        match event {
            Event::Request(Request { subprotocols, .. }) => {
                let now = ws.now();
                let subprotocol = subprotocols.into_iter().next();
                let _ = ws.conn().accept(
                    Accept {
                        subprotocol,
                        headers: vec![],
                    },
                    now,
                );
            }
            Event::Message(m) => {
                let _ = ws.conn().send(m);
            }
            _ => {}
        }
    }
    Ok(())
}
