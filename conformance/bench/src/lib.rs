//! Shared pieces of the steadysock benchmarks: the cases, the byte streams, in-memory
//! transports for the peers, one decode/encode driver per implementation, and the
//! JSON-lines records that the `report` binary renders.
//!
//! Every benchmark, whatever its language, writes one JSON object per measured value to
//! `target/bench/<suite>.jsonl` (see [`Record`]); `report` reads every `*.jsonl` there and
//! prints the summary tables. A Python, Node or browser benchmark joins by writing
//! records of the same shape.

use bytes::{Bytes, BytesMut};
use std::cell::{Cell, RefCell};
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use steadysock::frame::{write_header, OpCode};
use steadysock::mask::apply_mask;
use steadysock::{Accept, ClientRequest, Config, Connection, Event, Message, RandomSource, SeededRandom};

/// How many bytes one simulated `read(2)` returns at most: every implementation is fed
/// the same stream in reads of this size (a realistic socket read for a busy stream).
pub const READ_CHUNK: usize = 64 << 10;

/// Payload bytes per benchmark iteration: each case sends `TOTAL / size` messages (at
/// least one), so that every iteration moves about the same amount of data.
pub const TOTAL: usize = 1 << 20;

/// The message sizes of the issue: 16 B, 1 KiB, 64 KiB, 1 MiB.
pub const SIZES: [usize; 4] = [16, 1 << 10, 64 << 10, 1 << 20];

/// `16 B`, `1 KiB`, ...
pub fn size_label(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

/// Text or binary messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Opcode 0x1, valid UTF-8 (validated by every decoder).
    Text,
    /// Opcode 0x2.
    Binary,
}

impl Kind {
    /// `text` / `binary`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
        }
    }
}

/// Which way the bytes go, which decides masking (RFC 6455 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server: frames are masked; the server decodes, the client encodes.
    Masked,
    /// Server to client: frames are not masked; the client decodes, the server encodes.
    Unmasked,
}

impl Dir {
    /// `masked` / `unmasked`.
    pub fn name(self) -> &'static str {
        match self {
            Dir::Masked => "masked",
            Dir::Unmasked => "unmasked",
        }
    }

    /// The role that decodes frames going this way.
    pub fn decoder_is_server(self) -> bool {
        self == Dir::Masked
    }
}

/// One benchmark case: `count` messages of `size` bytes of `kind`, going `dir`.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Text or binary.
    pub kind: Kind,
    /// Masked (client→server) or not (server→client).
    pub dir: Dir,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages per iteration.
    pub count: usize,
}

impl Case {
    /// The case for `size`, with the message count that makes about [`TOTAL`] bytes.
    pub fn new(kind: Kind, dir: Dir, size: usize) -> Self {
        Self {
            kind,
            dir,
            size,
            count: (TOTAL / size).max(1),
        }
    }

    /// Every case of the issue: both kinds, both directions, every size.
    pub fn all() -> Vec<Case> {
        let mut v = Vec::new();
        for dir in [Dir::Masked, Dir::Unmasked] {
            for kind in [Kind::Binary, Kind::Text] {
                for size in SIZES {
                    v.push(Case::new(kind, dir, size));
                }
            }
        }
        v
    }

    /// Payload bytes per iteration.
    pub fn payload_bytes(&self) -> usize {
        self.size * self.count
    }

    /// `binary masked`, used as the criterion group suffix and the report's case name.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind.name(), self.dir.name())
    }

    /// The payload of every message.
    pub fn payload(&self) -> Bytes {
        match self.kind {
            Kind::Binary => binary_payload(self.size),
            Kind::Text => Bytes::from(text_payload(self.size)),
        }
    }

    /// The wire bytes: `count` single-frame messages, masked with varying keys when the
    /// direction is masked. Built with steadysock's own frame writer and masking.
    pub fn stream(&self) -> Vec<u8> {
        let payload = self.payload();
        let opcode = match self.kind {
            Kind::Text => OpCode::Text,
            Kind::Binary => OpCode::Binary,
        };
        let mut rng = SeededRandom::new(0x5eed);
        let mut out = BytesMut::with_capacity(self.count * (self.size + 14));
        for _ in 0..self.count {
            let mask = (self.dir == Dir::Masked).then(|| {
                let mut k = [0u8; 4];
                rng.fill(&mut k);
                k
            });
            write_header(&mut out, true, false, opcode, mask, payload.len());
            let start = out.len();
            out.extend_from_slice(&payload);
            if let Some(k) = mask {
                apply_mask(&mut out[start..], k, 0);
            }
        }
        out.to_vec()
    }
}

/// Deterministic pseudo-random bytes.
pub fn binary_payload(size: usize) -> Bytes {
    let mut rng = SeededRandom::new(size as u64);
    let mut v = vec![0u8; size];
    rng.fill(&mut v);
    Bytes::from(v)
}

/// Valid UTF-8 of exactly `size` bytes: mostly ASCII (JSON-like) with some two- and
/// three-byte characters, so validators cannot stay on a pure-ASCII fast path.
pub fn text_payload(size: usize) -> String {
    const PIECE: &str = "{\"user\":\"zoë\",\"msg\":\"héllo wörld — steadysock\",\"n\":12345}, ";
    let mut s = String::with_capacity(size + PIECE.len());
    while s.len() < size {
        s.push_str(PIECE);
    }
    let mut end = size;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    while s.len() < size {
        s.push('.');
    }
    s
}

// ------------------------------------------------------------------ steadysock

/// The connection config of the throughput benchmarks: defaults, compression off.
pub fn plain_config() -> Config {
    Config {
        deflate: None,
        ..Default::default()
    }
}

/// A client and a server `Connection` that completed the opening handshake in memory,
/// with every handshake byte and event consumed.
pub fn open_pair(client_config: Config, server_config: Config) -> (Connection, Connection) {
    let req = ClientRequest {
        url: "ws://x/".into(),
        ..Default::default()
    };
    let mut client = Connection::client(&req, client_config, Box::new(SeededRandom::new(1)), 0).expect("client");
    let mut server = Connection::server(server_config, Box::new(SeededRandom::new(2)), 0);
    while let Some(b) = client.poll_transmit() {
        server.handle_input(&b, 0);
    }
    match server.poll_event() {
        Some(Event::Request(_)) => {}
        other => panic!("expected the upgrade request, got {other:?}"),
    }
    server.accept(Accept::default(), 0).expect("accept");
    while let Some(b) = server.poll_transmit() {
        client.handle_input(&b, 0);
    }
    assert!(matches!(server.poll_event(), Some(Event::Open(_))));
    assert!(matches!(client.poll_event(), Some(Event::Open(_))));
    assert!(server.poll_event().is_none() && client.poll_event().is_none());
    assert_eq!(client.state(), steadysock::State::Open);
    (client, server)
}

/// The open `Connection` that decodes (or, with `encoder`, encodes) the case's direction.
pub fn steadysock_conn(dir: Dir, encoder: bool) -> Connection {
    let (client, server) = open_pair(plain_config(), plain_config());
    // Masked frames are decoded by a server and encoded by a client.
    if dir.decoder_is_server() != encoder {
        server
    } else {
        client
    }
}

/// Feeds `stream` as a host that owns its read buffer does: each read (at most
/// [`READ_CHUNK`], and no more than the buffer's spare room, as `read_buf` into a
/// `BytesMut` does) is copied into `rbuf` (what `read(2)` does), which is handed to
/// `handle_input_buf`; then the events are drained: (messages, payload bytes). Whole
/// frames are split out of `rbuf` without a copy; the start of a frame still arriving
/// stays in `rbuf`, with room reserved for the rest of it.
pub fn steadysock_decode(conn: &mut Connection, stream: &[u8], rbuf: &mut BytesMut) -> (usize, usize) {
    let (mut n, mut bytes) = (0, 0);
    let mut pos = 0;
    while pos < stream.len() {
        if rbuf.capacity() == rbuf.len() {
            rbuf.reserve(READ_CHUNK);
        }
        let len = (rbuf.capacity() - rbuf.len()).min(READ_CHUNK).min(stream.len() - pos);
        rbuf.extend_from_slice(&stream[pos..pos + len]);
        pos += len;
        conn.handle_input_buf(rbuf, 0);
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Message(m) => {
                    n += 1;
                    bytes += m.len();
                    std::hint::black_box(m);
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    assert!(rbuf.is_empty(), "the stream ends at a frame boundary");
    (n, bytes)
}

/// A case's payload, prepared once, in the form an application sends it:
/// - a large (16 KiB and up) message as a [`Message`] over the payload's [`Bytes`] (the
///   form tungstenite is given too; cloning it is free), which `send` does not copy into
///   the transmit buffer: unmasked, `poll_transmit` hands the payload out as its own
///   chunk; masked, it masks it 64 KiB at a time into one reused buffer as it hands it
///   out;
/// - anything smaller borrowed (`send_binary(&[u8])` / `send_text(&str)`, as an
///   application holding a buffer or a `String` would): it is copied (and, for a client,
///   masked in the same pass) into the transmit buffer either way, and a borrowed
///   payload saves the `Bytes` reference count.
#[derive(Debug, Clone)]
pub enum Outgoing<'a> {
    /// `send_binary`.
    Binary(&'a [u8]),
    /// `send_text`.
    Text(&'a str),
    /// `send` of a message whose `Bytes` the application holds.
    Owned(Message),
}

impl<'a> Outgoing<'a> {
    /// The outgoing form of `payload` for the case.
    pub fn new(case: &Case, payload: &'a Bytes) -> Self {
        if case.size >= 16 << 10 {
            return Outgoing::Owned(match case.kind {
                Kind::Binary => Message::Binary(payload.clone()),
                Kind::Text => {
                    Message::Text(steadysock::Text::from_utf8(payload.clone()).expect("text payload is UTF-8"))
                }
            });
        }
        match case.kind {
            Kind::Binary => Outgoing::Binary(payload),
            Kind::Text => Outgoing::Text(std::str::from_utf8(payload).expect("text payload is UTF-8")),
        }
    }
}

/// Sends `count` messages, writing each `poll_transmit` chunk to `sink` (the socket).
pub fn steadysock_encode(conn: &mut Connection, count: usize, out: &Outgoing<'_>, sink: &mut Vec<u8>) -> usize {
    sink.clear();
    for _ in 0..count {
        match out {
            Outgoing::Binary(b) => conn.send_binary(b),
            Outgoing::Text(t) => conn.send_text(t),
            Outgoing::Owned(m) => conn.send(m.clone()),
        }
        .expect("send");
        while let Some(b) = conn.poll_transmit() {
            sink.extend_from_slice(&b);
        }
    }
    sink.len()
}

/// Decodes `wire` (frames going `dir`) with a fresh steadysock connection and checks that
/// it holds `case.count` messages equal to `payload`. Used to validate every encoder.
pub fn check_encoded(case: &Case, payload: &Bytes, wire: &[u8]) {
    let mut conn = steadysock_conn(case.dir, false);
    let mut rbuf = vec![0u8; READ_CHUNK];
    let mut seen = 0;
    for chunk in wire.chunks(READ_CHUNK) {
        rbuf[..chunk.len()].copy_from_slice(chunk);
        conn.handle_input(&rbuf[..chunk.len()], 0);
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Message(m) => {
                    let kind_ok = matches!(
                        (&m, case.kind),
                        (Message::Text(_), Kind::Text) | (Message::Binary(_), Kind::Binary)
                    );
                    assert!(kind_ok, "wrong message kind");
                    assert_eq!(m.as_bytes(), &payload[..], "payload differs");
                    seen += 1;
                }
                other => panic!("encoded stream decodes to {other:?}"),
            }
        }
    }
    assert_eq!(seen, case.count, "encoded stream holds {seen} messages");
}

// ------------------------------------------------------------------ in-memory transport

/// An in-memory socket: reads come from `input` (at most [`READ_CHUNK`] per read),
/// writes are appended to `output`. Clones share the read position and the output, so
/// the benchmark keeps a handle to rewind and to empty a socket that a peer's
/// `WebSocket` owns (fastwebsockets gives no access to its stream).
#[derive(Debug, Clone, Default)]
pub struct MemStream {
    input: Rc<Vec<u8>>,
    pos: Rc<Cell<usize>>,
    output: Rc<RefCell<Vec<u8>>>,
}

impl MemStream {
    /// A stream that reads `input`.
    pub fn new(input: Vec<u8>) -> Self {
        Self {
            input: Rc::new(input),
            ..Default::default()
        }
    }

    /// Reads start from the beginning again.
    pub fn rewind(&self) {
        self.pos.set(0);
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos.get()
    }

    /// Bytes written so far.
    pub fn output_len(&self) -> usize {
        self.output.borrow().len()
    }

    /// Forgets what was written (keeps the capacity).
    pub fn clear_output(&self) {
        self.output.borrow_mut().clear();
    }

    /// A copy of what was written.
    pub fn output(&self) -> Vec<u8> {
        self.output.borrow().clone()
    }

    fn read_into(&self, dst: &mut [u8]) -> usize {
        let pos = self.pos.get();
        let n = dst.len().min(READ_CHUNK).min(self.input.len() - pos);
        dst[..n].copy_from_slice(&self.input[pos..pos + n]);
        self.pos.set(pos + n);
        n
    }
}

impl io::Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl io::Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut out = self.output.borrow_mut();
        let mut n = 0;
        for b in bufs {
            out.extend_from_slice(b);
            n += b.len();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let pos = self.pos.get();
        let n = buf.remaining().min(READ_CHUNK).min(self.input.len() - pos);
        buf.put_slice(&self.input[pos..pos + n]);
        self.pos.set(pos + n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.output.borrow_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Write::write_vectored(self.get_mut(), bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A socket that has nothing to read and discards writes, holding no heap memory: the
/// memory benchmark wraps it so that only the WebSocket's own state is counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullStream;

impl io::Read for NullStream {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl io::Write for NullStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for NullStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

impl tokio::io::AsyncWrite for NullStream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

// ------------------------------------------------------------------ tungstenite

/// tungstenite's `WebSocket` over a [`MemStream`].
pub type Tungstenite = tungstenite::protocol::WebSocket<MemStream>;

/// tungstenite's config for the benchmarks: its defaults, with the limits of steadysock's
/// defaults spelled out (64 MiB messages, 16 MiB frames), so 1 MiB messages pass.
pub fn tungstenite_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20))
}

/// A tungstenite socket in the role that decodes (or, with `encoder`, encodes) `dir`.
pub fn tungstenite_ws(dir: Dir, encoder: bool, input: MemStream) -> Tungstenite {
    use tungstenite::protocol::Role;
    let role = if dir.decoder_is_server() != encoder {
        Role::Server
    } else {
        Role::Client
    };
    tungstenite::protocol::WebSocket::from_raw_socket(input, role, Some(tungstenite_config()))
}

/// Reads `count` messages from the start of the socket's input.
pub fn tungstenite_decode(ws: &mut Tungstenite, count: usize) -> (usize, usize) {
    use tungstenite::Message as M;
    ws.get_mut().rewind();
    let (mut n, mut bytes) = (0, 0);
    for _ in 0..count {
        match ws.read().expect("tungstenite read") {
            M::Binary(b) => {
                bytes += b.len();
                std::hint::black_box(b);
            }
            M::Text(t) => {
                bytes += t.len();
                std::hint::black_box(t);
            }
            other => panic!("unexpected tungstenite message {other:?}"),
        }
        n += 1;
    }
    (n, bytes)
}

/// Sends `count` messages (`send` = write + flush, one message at a time).
pub fn tungstenite_encode(ws: &mut Tungstenite, case: &Case, msg: &tungstenite::Message) -> usize {
    ws.get_ref().clear_output();
    for _ in 0..case.count {
        ws.send(msg.clone()).expect("tungstenite send");
    }
    ws.get_ref().output_len()
}

/// The tungstenite message for a case's payload.
pub fn tungstenite_message(case: &Case, payload: &Bytes) -> tungstenite::Message {
    match case.kind {
        Kind::Binary => tungstenite::Message::Binary(payload.clone()),
        Kind::Text => tungstenite::Message::Text(
            tungstenite::Utf8Bytes::try_from(payload.clone()).expect("text payload is UTF-8"),
        ),
    }
}

// ------------------------------------------------------------------ fastwebsockets

/// fastwebsockets' `WebSocket` over a [`MemStream`].
pub type FastWs = fastwebsockets::WebSocket<MemStream>;

/// The single-threaded runtime that drives fastwebsockets.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

/// A fastwebsockets socket in the role that decodes (or, with `encoder`, encodes) `dir`.
pub fn fastwebsockets_ws(dir: Dir, encoder: bool, stream: MemStream) -> FastWs {
    use fastwebsockets::Role;
    let role = if dir.decoder_is_server() != encoder {
        Role::Server
    } else {
        Role::Client
    };
    let mut ws = fastwebsockets::WebSocket::after_handshake(stream, role);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    ws.set_max_message_size(64 << 20);
    ws
}

/// Reads `count` frames (single-frame messages, so frames are messages) with
/// `read_frame`, from the start of the input (`stream` is the socket's shared handle).
pub fn fastwebsockets_decode(
    rt: &tokio::runtime::Runtime,
    ws: &mut FastWs,
    stream: &MemStream,
    count: usize,
) -> (usize, usize) {
    use fastwebsockets::OpCode as Op;
    stream.rewind();
    rt.block_on(async {
        let (mut n, mut bytes) = (0, 0);
        for _ in 0..count {
            let frame = ws.read_frame().await.expect("fastwebsockets read_frame");
            match frame.opcode {
                Op::Binary | Op::Text if frame.fin => {
                    bytes += frame.payload.len();
                    std::hint::black_box(frame.payload);
                }
                other => panic!("unexpected fastwebsockets frame {other:?}"),
            }
            n += 1;
        }
        (n, bytes)
    })
}

/// Sends `count` messages with `write_frame` (payload borrowed, as steadysock's
/// `send_binary(&[u8])` takes it; a client copies it to mask it).
pub fn fastwebsockets_encode(
    rt: &tokio::runtime::Runtime,
    ws: &mut FastWs,
    stream: &MemStream,
    case: &Case,
    payload: &[u8],
) -> usize {
    use fastwebsockets::{Frame, OpCode as Op, Payload};
    let op = match case.kind {
        Kind::Binary => Op::Binary,
        Kind::Text => Op::Text,
    };
    stream.clear_output();
    rt.block_on(async {
        for _ in 0..case.count {
            let frame = Frame::new(true, op, None, Payload::Borrowed(payload));
            ws.write_frame(frame).await.expect("fastwebsockets write_frame");
        }
    });
    stream.output_len()
}

// ------------------------------------------------------------------ clock

/// Criterion measurement: CPU time of the benchmark thread (`CLOCK_THREAD_CPUTIME_ID`).
///
/// The benchmarks run on a small machine shared with other work; wall time would count
/// every moment the thread waits for a core. Thread CPU time does not (cache and
/// memory-bandwidth contention still show). Everything each implementation does runs on
/// the measuring thread (fastwebsockets on a current-thread runtime), so nothing escapes
/// the clock. `BENCH_CLOCK=wall` selects criterion's wall clock instead.
pub struct ThreadCpuTime {
    wall: criterion::measurement::WallTime,
}

impl Default for ThreadCpuTime {
    fn default() -> Self {
        Self {
            wall: criterion::measurement::WallTime,
        }
    }
}

/// Nanoseconds of CPU time used by the calling thread.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl criterion::measurement::Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = std::time::Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> std::time::Duration {
        std::time::Duration::from_nanos(thread_cpu_ns().saturating_sub(start))
    }

    fn add(&self, a: &std::time::Duration, b: &std::time::Duration) -> std::time::Duration {
        *a + *b
    }

    fn zero(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    fn to_f64(&self, v: &std::time::Duration) -> f64 {
        v.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        // Nanoseconds, like wall time: criterion's own formatting applies.
        criterion::measurement::Measurement::formatter(&self.wall)
    }
}

// ------------------------------------------------------------------ records

/// Where benchmark records go: `$CARGO_TARGET_DIR/bench` or `target/bench`.
pub fn records_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench")
}

/// One measured value. Serialised as one JSON line:
///
/// ```json
/// {"suite":"rust","group":"decode","case":"binary masked","size":1024,
///  "impl":"steadysock","value":1.2e9,"unit":"B/s","better":"higher"}
/// ```
///
/// `group` + `case` + `size` name a row, `impl` a column; rows compare every `impl`
/// against the one named `steadysock` (or starting with `steadysock`). `unit` is `B/s`
/// (throughput) or `B` (memory); `better` is `higher` or `lower`.
#[derive(Debug, Clone)]
pub struct Record {
    /// Which benchmark program produced it (`rust`, `python`, `node`, `browser` ...).
    pub suite: String,
    /// `decode`, `encode`, `unmask`, `memory` ...
    pub group: String,
    /// The row within the group.
    pub case: String,
    /// Message or buffer size in bytes (0 when not applicable).
    pub size: usize,
    /// The implementation measured.
    pub implementation: String,
    /// The measurement.
    pub value: f64,
    /// `B/s` or `B`.
    pub unit: String,
    /// Whether more is better.
    pub higher_is_better: bool,
    /// Extra fields, written as they are.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Record {
    /// The JSON line (without the newline).
    pub fn to_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("suite".into(), self.suite.clone().into());
        m.insert("group".into(), self.group.clone().into());
        m.insert("case".into(), self.case.clone().into());
        m.insert("size".into(), self.size.into());
        m.insert("impl".into(), self.implementation.clone().into());
        m.insert("value".into(), self.value.into());
        m.insert("unit".into(), self.unit.clone().into());
        m.insert(
            "better".into(),
            if self.higher_is_better { "higher" } else { "lower" }.into(),
        );
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        serde_json::Value::Object(m).to_string()
    }
}

/// Writes `records` to `target/bench/<file>.jsonl`, replacing that file.
pub fn write_records(file: &str, records: &[Record]) -> io::Result<PathBuf> {
    let dir = records_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{file}.jsonl"));
    let mut text = String::new();
    for r in records {
        text.push_str(&r.to_json());
        text.push('\n');
    }
    std::fs::write(&path, text)?;
    Ok(path)
}
