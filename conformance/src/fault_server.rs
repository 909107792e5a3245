//! A fault-injecting WebSocket server for the Session scenarios.
//!
//! Built from the core's own server half: a [`Connection`](steadysock::Connection) in the
//! server role per client, one [`RecoveryLog`](steadysock::session::RecoveryLog), and the
//! `ss2` envelope. Every connection waits for the client's greeting (`ss2 resume <sid>
//! <token> <offset>` or `ss2 hello`; the opt-in query or header placement is read from
//! the upgrade request), answers `ss2 welcome <sid> <token> <0|1>` (resuming the session
//! when the credential is valid and the log can serve the offset) and replays what it
//! missed; numbered messages (`m1`, `m2`, …) go through the log, so those sent while the
//! client is away arrive on resume.
//!
//! Faults, all on command: refuse connections, accept and never answer the handshake,
//! drop everything without a close frame, close everything with a code, stop answering
//! pings, warn (`ss2 drain`) and close after a grace period, restart (refuse for a
//! while, keep or lose the log). The commands are text lines ([`Command`]); the same
//! lines work from [`FaultHandle::command`], from the scenario table, and over the
//! line-based TCP control port ([`FaultServer::control_addr`]), so runners in other
//! languages drive the very same server. Protocol: `conformance/scenarios/README.md`.
//!
//! Loopback only: both listeners bind `127.0.0.1` on ephemeral ports.

mod command;
mod engine;

pub use command::{Command, FaultConfig, Mode, Reply, Status};

use crate::driver::os_random;
use engine::{Engine, Input};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Sends commands to a running [`FaultServer`]. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub struct FaultHandle {
    tx: Sender<Input>,
}

impl FaultHandle {
    /// Runs one command and waits for its answer.
    pub fn execute(&self, command: Command) -> Reply {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Input::Command(command, tx)).is_err() {
            return Reply::Err("the server has stopped".into());
        }
        rx.recv()
            .unwrap_or_else(|_| Reply::Err("the server has stopped".into()))
    }

    /// Parses and runs one command line; answers as the control port does (`ok`, a
    /// JSON object, or `err <why>`).
    pub fn command(&self, line: &str) -> String {
        match Command::parse(line) {
            Ok(cmd) => self.execute(cmd).to_line(),
            Err(why) => Reply::Err(why).to_line(),
        }
    }

    /// Runs a command that answers `ok`, turning anything else into an error.
    fn ok(&self, command: Command) -> Result<(), String> {
        match self.execute(command) {
            Reply::Ok => Ok(()),
            other => Err(other.to_line()),
        }
    }

    /// How new connections are treated from now on.
    pub fn set_mode(&self, mode: Mode) -> Result<(), String> {
        self.ok(Command::Mode(mode))
    }

    /// Ends every connection without a close frame (the client sees 1006).
    pub fn drop_all(&self) -> Result<(), String> {
        self.ok(Command::Drop)
    }

    /// Closes every open connection with `code`.
    pub fn close_all(&self, code: u16, reason: &str) -> Result<(), String> {
        self.ok(Command::Close {
            code,
            reason: reason.into(),
        })
    }

    /// Answers pings (protocol and `ss2 ping`) or leaves them unanswered.
    pub fn answer_pings(&self, on: bool) -> Result<(), String> {
        self.ok(Command::Pings(on))
    }

    /// Sends `ss2 drain` on every open connection and closes it (1001) after `grace_ms`.
    pub fn drain(&self, grace_ms: u64) -> Result<(), String> {
        self.ok(Command::Drain { grace_ms })
    }

    /// Drops everything and refuses connections for `refuse_ms`, keeping or losing the
    /// recovery log.
    pub fn restart(&self, refuse_ms: u64, keep_log: bool) -> Result<(), String> {
        self.ok(Command::Restart { refuse_ms, keep_log })
    }

    /// Sends `n` numbered messages to the current session now.
    pub fn send(&self, n: u64) -> Result<(), String> {
        self.ok(Command::Send { n })
    }

    /// Sends `n` numbered messages, one every `every_ms`, starting now.
    pub fn tick(&self, n: u64, every_ms: u64) -> Result<(), String> {
        self.ok(Command::Tick { n, every_ms })
    }

    /// Forgets everything and starts over with `config`.
    pub fn reset(&self, config: FaultConfig) -> Result<(), String> {
        self.ok(Command::Reset(config))
    }

    /// The counters.
    pub fn status(&self) -> Status {
        match self.execute(Command::Status) {
            Reply::Status(s) => *s,
            _ => Status::default(),
        }
    }
}

/// A running fault server: a WebSocket listener, a control listener, and the engine.
/// Stopped on drop.
pub struct FaultServer {
    addr: SocketAddr,
    control_addr: SocketAddr,
    handle: FaultHandle,
    stop: Arc<AtomicBool>,
    control_streams: Arc<Mutex<Vec<TcpStream>>>,
    threads: Vec<JoinHandle<()>>,
}

impl FaultServer {
    /// Starts a server with the default settings.
    pub fn start() -> io::Result<Self> {
        Self::start_with(FaultConfig::default())
    }

    /// Starts a server with `config`.
    pub fn start_with(config: FaultConfig) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let control = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let control_addr = control.local_addr()?;
        let (tx, rx) = mpsc::channel();
        let handle = FaultHandle { tx: tx.clone() };
        let stop = Arc::new(AtomicBool::new(false));
        let control_streams = Arc::new(Mutex::new(Vec::new()));
        let engine = Engine::new(config, os_random()?, tx.clone());

        let mut threads = Vec::new();
        threads.push(spawn("fault-engine", move || engine.run(rx))?);
        let accept_stop = stop.clone();
        threads.push(spawn("fault-accept", move || {
            for stream in listener.incoming() {
                if accept_stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    if tx.send(Input::Accepted(stream)).is_err() {
                        break;
                    }
                }
            }
        })?);
        let control_stop = stop.clone();
        let control_handle = handle.clone();
        let streams = control_streams.clone();
        threads.push(spawn("fault-control", move || {
            for stream in control.incoming() {
                if control_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(clone) = stream.try_clone() {
                    streams.lock().unwrap_or_else(|e| e.into_inner()).push(clone);
                }
                let handle = control_handle.clone();
                let _ = spawn("fault-control-conn", move || serve_control(stream, handle));
            }
        })?);
        Ok(Self {
            addr,
            control_addr,
            handle,
            stop,
            control_streams,
            threads,
        })
    }

    /// Where WebSocket clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://<addr>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The line-based control port.
    pub fn control_addr(&self) -> SocketAddr {
        self.control_addr
    }

    /// A handle for commands.
    pub fn handle(&self) -> FaultHandle {
        self.handle.clone()
    }

    /// Stops every thread and closes every socket.
    pub fn stop(&mut self) {
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = self.handle.tx.send(Input::Stop);
        // Wake both accept loops so they see the flag.
        let _ = TcpStream::connect(self.addr);
        let _ = TcpStream::connect(self.control_addr);
        for s in self.control_streams.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(name.into()).spawn(f)
}

/// One control connection: a command per line, an answer per line.
fn serve_control(stream: TcpStream, handle: FaultHandle) {
    // One write per answer, sent at once: a runner that waits for each answer before its
    // next command would otherwise wait out the peer's delayed ACK (~40 ms) every time.
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else { return };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let answer = handle.command(line) + "\n";
        if out.write_all(answer.as_bytes()).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Blocking;
    use std::io::Read;
    use std::time::{Duration, Instant};
    use steadysock::{ClientRequest, Config, Event, Message};

    fn client(url: &str) -> Blocking {
        let request = ClientRequest {
            url: url.into(),
            ..ClientRequest::default()
        };
        let mut ws = Blocking::connect(&request, Config::default(), Duration::from_secs(2)).unwrap();
        ws.set_deadline(Some(Instant::now() + Duration::from_secs(5)));
        ws
    }

    /// The next message, skipping other events.
    fn message(ws: &mut Blocking) -> String {
        loop {
            match ws.next_event().unwrap().expect("connection ended") {
                Event::Message(Message::Text(t)) => return t.as_str().to_string(),
                Event::Message(other) => panic!("binary {other:?}"),
                _ => {}
            }
        }
    }

    fn wait_for(server: &FaultServer, what: impl Fn(&Status) -> bool) -> Status {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let s = server.handle().status();
            if what(&s) || Instant::now() > until {
                return s;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A raw client's greeting (what a `Session` with recovery sends first).
    fn greet(ws: &mut Blocking, line: &str) {
        while ws.conn().state() == steadysock::State::Connecting {
            ws.next_event().unwrap().expect("handshake");
        }
        ws.conn().send_text(line).unwrap();
        ws.flush().unwrap();
    }

    /// `(sid, token)` from a welcome, checking the recovered flag.
    fn welcome(ws: &mut Blocking, recovered: bool) -> (String, String) {
        let line = message(ws);
        let flag = if recovered { " 1\n" } else { " 0\n" };
        let rest = line
            .strip_prefix("ss2 welcome ")
            .and_then(|r| r.strip_suffix(flag))
            .unwrap_or_else(|| panic!("{line:?}"));
        let (sid, token) = rest.split_once(' ').expect("sid and token");
        (sid.to_string(), token.to_string())
    }

    #[test]
    fn welcomes_numbers_records_and_replays() {
        let server = FaultServer::start().unwrap();
        let faults = server.handle();
        let mut ws = client(&server.url("/ws"));
        greet(&mut ws, "ss2 hello\n");
        let (sid, token) = welcome(&mut ws, false);
        faults.send(2).unwrap();
        assert_eq!(message(&mut ws), "ss2 msg 1\nm1");
        assert_eq!(message(&mut ws), "ss2 msg 2\nm2");
        ws.conn().send_text("hi").unwrap();
        ws.flush().unwrap();
        let s = wait_for(&server, |s| !s.received.is_empty());
        assert_eq!(
            (s.handshakes, s.new_sessions, s.received.clone()),
            (1, 1, vec!["hi".into()])
        );

        // Away: the next messages wait in the log and are replayed on resume.
        faults.drop_all().unwrap();
        wait_for(&server, |s| s.connections == 0);
        faults.send(2).unwrap();
        // The id alone (the old `ss2` URL form) resumes nothing.
        let mut ws = client(&server.url(&format!("/ws?ss_sid={sid}&ss_offset=1")));
        greet(&mut ws, "ss2 hello\n");
        let (other, _) = welcome(&mut ws, false);
        assert_ne!(other, sid);
        drop(ws);
        let mut ws = client(&server.url("/ws"));
        greet(&mut ws, &format!("ss2 resume {sid} {token} 1\n"));
        let (same, token2) = welcome(&mut ws, true);
        assert_eq!(same, sid);
        assert_ne!(token2, token, "a new token with every welcome");
        assert_eq!(message(&mut ws), "ss2 msg 2\nm2");
        assert_eq!(message(&mut ws), "ss2 msg 3\nm3");
        assert_eq!(message(&mut ws), "ss2 msg 4\nm4");
        assert_eq!(faults.status().resumed, 1);

        // A lost log cannot resume (here with the opt-in URL placement).
        faults.restart(0, false).unwrap();
        let mut ws = client(&server.url(&format!("/ws?ss_sid={sid}&ss_token={token2}&ss_offset=4")));
        greet(&mut ws, "ss2 hello\n");
        let (fresh, _) = welcome(&mut ws, false);
        assert_ne!(fresh, sid);
    }

    #[test]
    fn control_port_answers_one_line_per_command() {
        let server = FaultServer::start().unwrap();
        let mut control = TcpStream::connect(server.control_addr()).unwrap();
        control.write_all(b"status\nfly away\n\nmode hang\nstatus\n").unwrap();
        let mut lines = BufReader::new(control.try_clone().unwrap()).lines();
        let status: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(status["mode"], "normal");
        assert!(lines.next().unwrap().unwrap().starts_with("err unknown command"));
        assert_eq!(lines.next().unwrap().unwrap(), "ok");
        let status: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(status["mode"], "hang");
    }

    #[test]
    fn refuses_and_hangs_on_command() {
        let server = FaultServer::start().unwrap();
        let faults = server.handle();
        faults.set_mode(Mode::Refuse).unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)), "closed at once");

        faults.set_mode(Mode::Hang).unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        // A signal may interrupt the wait (EINTR): that says nothing about the server.
        let e = loop {
            match s.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.unwrap_err(),
            }
        };
        assert!(
            matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
            "a hung connection ended the read: {e:?}"
        );
        let st = wait_for(&server, |s| s.hung == 1);
        assert_eq!((st.accepted, st.refused, st.hung, st.connections), (2, 1, 1, 1));
        drop(s);
        wait_for(&server, |s| s.connections == 0);
    }
}
