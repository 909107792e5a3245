//! `ClientConnection`: the core's client-role [`Connection`] for Python.
//!
//! Python owns the socket; this object owns the protocol. Every operation returns what
//! the connection then has to say, drained in one place ([`drain`]): a list whose items
//! are `bytes` (to write, consecutive writes joined into one) and event tuples, in the
//! order the core decided them. The caller writes each `bytes` item before handling the
//! events that follow it.
//!
//! Event tuples (first item is the core's canonical event name, `Event::as_str`; kinds of
//! errors are `Error::as_str` / `HandshakeError::as_str`):
//! - `("open", subprotocol | None, [(name, value), ...])`
//! - `("message", str | bytes)` (text or binary), `("ping", bytes)`, `("pong", bytes)`
//! - `("fragment", opcode, fin, bytes)`: one frame of a fragmented message, with
//!   `deliver_fragments` (the whole message follows the last one)
//! - `("handshake_failed", kind, message, status | None, headers | None, body | None)`,
//! - `("error", kind, message, close_code | None)`
//! - `("closed", code, reason, clean, remote)`: always the last event
//!
//! Operation errors raise `EngineError(kind, message)`.
//!
//! Threads: the connection sits behind a mutex. Payload work above [`DETACH_ABOVE`]
//! bytes runs with the GIL released, and so does any wait for the mutex: a thread never
//! blocks on the mutex while holding the GIL, so a thread that holds the mutex and needs
//! the GIL back (a masking-key function) cannot deadlock against it.

use crate::random::{HostRandom, MaskHook};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use std::sync::{Arc, Mutex, TryLockError};
use steadysock::connection::Output;
use steadysock::{ClientRequest, Config, Connection, Error, Event, HandshakeError, Keepalive, Message};

pyo3::create_exception!(
    _core,
    EngineError,
    PyException,
    "An operation the connection refused: args are (kind, message)."
);

/// Payloads larger than this are framed, masked and validated with the GIL released.
pub const DETACH_ABOVE: usize = 4 << 10;

/// Takes everything the connection has to say, in the order it decided it
/// (`Connection::poll_output`). Consecutive transmits are joined into one write.
fn drain(conn: &mut Connection, out: &mut Vec<Output>) {
    while let Some(o) = conn.poll_output() {
        match (o, out.last_mut()) {
            (Output::Transmit(bytes), Some(Output::Transmit(buf))) => {
                // A `Bytes` is immutable: join into a fresh one (rare: one op, one frame).
                let mut joined = bytes::BytesMut::with_capacity(buf.len() + bytes.len());
                joined.extend_from_slice(buf);
                joined.extend_from_slice(&bytes);
                *buf = joined.freeze();
            }
            (o, _) => out.push(o),
        }
    }
}

fn engine_error(e: &Error) -> PyErr {
    EngineError::new_err((e.as_str(), e.to_string()))
}

fn headers_list<'py>(py: Python<'py>, headers: &[(String, String)]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

fn event_tuple<'py>(py: Python<'py>, event: Event) -> PyResult<Bound<'py, PyTuple>> {
    let none = py.None();
    Ok(match event {
        Event::Open(info) => {
            ("open", info.subprotocol.as_deref(), headers_list(py, &info.headers)?).into_pyobject(py)?
        }
        Event::Message(Message::Text(t)) => ("message", PyString::new(py, t.as_str())).into_pyobject(py)?,
        Event::Message(Message::Binary(b)) => ("message", PyBytes::new(py, &b)).into_pyobject(py)?,
        Event::Fragment { opcode, fin, data } => {
            ("fragment", opcode, fin, PyBytes::new(py, &data)).into_pyobject(py)?
        }
        Event::Ping(b) => ("ping", PyBytes::new(py, &b)).into_pyobject(py)?,
        Event::Pong(b) => ("pong", PyBytes::new(py, &b)).into_pyobject(py)?,
        Event::HandshakeFailed(e) => {
            let message = e.to_string();
            let kind = e.as_str();
            match e {
                HandshakeError::Rejected(r) => (
                    "handshake_failed",
                    kind,
                    message,
                    r.status,
                    headers_list(py, &r.headers)?,
                    PyBytes::new(py, &r.body),
                )
                    .into_pyobject(py)?,
                _ => (
                    "handshake_failed",
                    kind,
                    message,
                    none.clone_ref(py),
                    none.clone_ref(py),
                    none,
                )
                    .into_pyobject(py)?,
            }
        }
        Event::Error(e) => {
            let code = match &e {
                Error::Protocol { code, .. } => Some(*code),
                _ => None,
            };
            ("error", e.as_str(), e.to_string(), code).into_pyobject(py)?
        }
        Event::Closed(c) => ("closed", c.code, c.reason, c.clean, c.remote).into_pyobject(py)?,
        // Server role only: a client never emits it.
        other => (other.as_str(),).into_pyobject(py)?,
    })
}

fn outputs_list(py: Python<'_>, outputs: Vec<Output>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for o in outputs {
        match o {
            Output::Transmit(b) => list.append(PyBytes::new(py, &b))?,
            Output::Event(e) => list.append(event_tuple(py, e)?)?,
            other => list.append((other.as_str(),).into_pyobject(py)?)?,
        }
    }
    Ok(list)
}

/// The client role of one WebSocket connection.
#[pyclass(module = "steadysock._core")]
pub struct ClientConnection {
    conn: Mutex<Connection>,
    hook: Arc<Mutex<MaskHook>>,
}

impl ClientConnection {
    /// Runs `op` on the connection, then drains it. With the GIL held when the payload is
    /// small and the mutex free; otherwise with the GIL released.
    fn run<'py, F>(&self, py: Python<'py>, payload_len: usize, op: F) -> PyResult<Bound<'py, PyList>>
    where
        F: FnOnce(&mut Connection) -> Result<(), Error> + Send,
    {
        let body = |conn: &mut Connection| {
            let mut out = Vec::new();
            // A refused operation changed nothing; whatever is pending stays for the next
            // drain rather than being dropped with the error.
            let result = op(conn);
            if result.is_ok() {
                drain(conn, &mut out);
            }
            (result, out)
        };
        let guard = if payload_len <= DETACH_ABOVE {
            match self.conn.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            None
        };
        let (result, out) = match guard {
            Some(mut guard) => body(&mut guard),
            None => py.detach(|| body(&mut self.conn.lock().unwrap_or_else(|p| p.into_inner()))),
        };
        result.map_err(|e| engine_error(&e))?;
        outputs_list(py, out)
    }

    fn build(req: &ClientRequest, config: Config, now_ms: u64) -> PyResult<(Connection, Arc<Mutex<MaskHook>>)> {
        let hook = Arc::new(Mutex::new(MaskHook::default()));
        let rng = Box::new(HostRandom::new(hook.clone()).map_err(|e| EngineError::new_err(("random", e)))?);
        let conn = Connection::client(req, config, rng, now_ms).map_err(|e| engine_error(&e))?;
        Ok((conn, hook))
    }
}

#[allow(clippy::too_many_arguments)]
fn config(
    max_frame_size: Option<usize>,
    max_message_size: Option<usize>,
    handshake_timeout_ms: Option<u64>,
    close_timeout_ms: Option<u64>,
    deflate: bool,
    keepalive: Option<(u64, u64)>,
) -> Config {
    let mut c = Config {
        keepalive: keepalive.map(|(interval_ms, pong_timeout_ms)| Keepalive {
            interval_ms,
            pong_timeout_ms,
            any_data_counts: true,
            ..Keepalive::default()
        }),
        ..Config::default()
    };
    if let Some(v) = max_frame_size {
        c.max_frame_size = v;
    }
    if let Some(v) = max_message_size {
        c.max_message_size = v;
    }
    c.handshake_timeout_ms = handshake_timeout_ms;
    if let Some(v) = close_timeout_ms {
        c.close_timeout_ms = v;
    }
    if !deflate {
        c.deflate = None;
    }
    c
}

#[pymethods]
impl ClientConnection {
    /// A client connection to `url`; the upgrade request is the first output of the
    /// first drain (`take_output()`). `accept_masked_frames`: websocket-client
    /// compatibility (masked server frames are unmasked, not a 1002). `keepalive_interval_ms`: the core's keepalive ping
    /// after that long without traffic (`keepalive_timeout_ms` for its pong; None: off).
    #[new]
    #[pyo3(signature = (url, headers, subprotocols, now_ms, *, max_frame_size=None,
        max_message_size=None, handshake_timeout_ms=Some(10_000), close_timeout_ms=None, deflate=true,
        keepalive_interval_ms=None, keepalive_timeout_ms=None, accept_masked_frames=false,
        deliver_fragments=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        url: String,
        headers: Vec<(String, String)>,
        subprotocols: Vec<String>,
        now_ms: u64,
        max_frame_size: Option<usize>,
        max_message_size: Option<usize>,
        handshake_timeout_ms: Option<u64>,
        close_timeout_ms: Option<u64>,
        deflate: bool,
        keepalive_interval_ms: Option<u64>,
        keepalive_timeout_ms: Option<u64>,
        accept_masked_frames: bool,
        deliver_fragments: bool,
    ) -> PyResult<Self> {
        let req = ClientRequest {
            url,
            headers,
            subprotocols,
        };
        let mut cfg = config(
            max_frame_size,
            max_message_size,
            handshake_timeout_ms,
            close_timeout_ms,
            deflate,
            // Keepalive pings after `interval` without traffic; no timeout: wait forever.
            keepalive_interval_ms.map(|i| (i, keepalive_timeout_ms.unwrap_or(u64::MAX / 2))),
        );
        cfg.accept_masked_frames = accept_masked_frames;
        cfg.deliver_fragments = deliver_fragments;
        let (conn, hook) = Self::build(&req, cfg, now_ms)?;
        Ok(Self {
            conn: Mutex::new(conn),
            hook,
        })
    }

    /// A connection that is open from the start, for a socket whose handshake happened
    /// elsewhere (websocket-client lets programs and tests assign `ws.sock` by hand):
    /// the core's `Connection::client_already_open`. No compression, no `open` event.
    #[staticmethod]
    #[pyo3(signature = (now_ms, *, max_frame_size=None, max_message_size=None, close_timeout_ms=None,
        subprotocol=None, accept_masked_frames=false, deliver_fragments=false))]
    #[allow(clippy::too_many_arguments)]
    fn already_open(
        now_ms: u64,
        max_frame_size: Option<usize>,
        max_message_size: Option<usize>,
        close_timeout_ms: Option<u64>,
        subprotocol: Option<String>,
        accept_masked_frames: bool,
        deliver_fragments: bool,
    ) -> PyResult<Self> {
        let mut cfg = config(max_frame_size, max_message_size, None, close_timeout_ms, false, None);
        cfg.accept_masked_frames = accept_masked_frames;
        cfg.deliver_fragments = deliver_fragments;
        let hook = Arc::new(Mutex::new(MaskHook::default()));
        let rng = Box::new(HostRandom::new(hook.clone()).map_err(|e| EngineError::new_err(("random", e)))?);
        Ok(Self {
            conn: Mutex::new(Connection::client_already_open(cfg, rng, subprotocol, now_ms)),
            hook,
        })
    }

    /// Everything pending (the upgrade request after creation, for one).
    fn take_output<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.run(py, 0, |_| Ok(()))
    }

    /// Feeds bytes read from the socket.
    fn receive<'py>(&self, py: Python<'py>, data: PyBackedBytes, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        let bytes: &[u8] = &data;
        self.run(py, bytes.len(), |c| {
            c.handle_input(bytes, now_ms);
            Ok(())
        })
    }

    /// The socket reached its end (or failed).
    fn receive_eof<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.run(py, 0, |c| {
            c.handle_eof(now_ms);
            Ok(())
        })
    }

    /// Runs the timers due at `now_ms`.
    fn handle_timeout<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.run(py, 0, |c| {
            c.handle_timeout(now_ms);
            Ok(())
        })
    }

    /// When `handle_timeout` next has work, in the caller's milliseconds; None: never.
    fn poll_timeout(&self, py: Python<'_>) -> Option<u64> {
        py.detach(|| self.conn.lock().unwrap_or_else(|p| p.into_inner()).poll_timeout())
    }

    fn send_text<'py>(&self, py: Python<'py>, text: PyBackedStr) -> PyResult<Bound<'py, PyList>> {
        let s: &str = &text;
        self.run(py, s.len(), |c| c.send_text(s))
    }

    /// A text message given as UTF-8 bytes (checked here, not trusted).
    fn send_text_bytes<'py>(&self, py: Python<'py>, data: PyBackedBytes) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &data;
        let text = simdutf8::basic::from_utf8(b)
            .map_err(|_| EngineError::new_err(("invalid_utf8", "a text message must be valid UTF-8")))?;
        self.run(py, b.len(), |c| c.send_text(text))
    }

    fn send_binary<'py>(&self, py: Python<'py>, data: PyBackedBytes) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &data;
        self.run(py, b.len(), |c| c.send_binary(b))
    }

    fn ping<'py>(&self, py: Python<'py>, payload: PyBackedBytes) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &payload;
        self.run(py, b.len(), |c| c.ping(b))
    }

    fn pong<'py>(&self, py: Python<'py>, payload: PyBackedBytes) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &payload;
        self.run(py, b.len(), |c| c.pong(b))
    }

    /// Starts the closing handshake (1005: a close frame without a code). Safe in every
    /// state.
    fn close<'py>(&self, py: Python<'py>, code: u16, reason: PyBackedStr, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        let r: &str = &reason;
        self.run(py, 0, |c| c.close(code, r, now_ms))
    }

    /// Uses `func(4)` for masking keys from now on (None: the OS source again).
    fn set_mask_key(&self, py: Python<'_>, func: Option<Py<PyAny>>) {
        let func = func.map(Arc::new);
        py.detach(|| self.hook.lock().unwrap_or_else(|p| p.into_inner()).func = func);
    }

    /// The first error the masking-key function raised since the last call, if any. The
    /// frames it failed for went out with OS-random keys (valid on the wire), so the
    /// caller writes them first and raises this afterwards.
    fn take_mask_error(&self, py: Python<'_>) -> Option<PyErr> {
        py.detach(|| self.hook.lock().unwrap_or_else(|p| p.into_inner()).error.take())
    }

    /// `connecting`, `open`, `closing` or `closed`.
    #[getter]
    fn state(&self, py: Python<'_>) -> &'static str {
        py.detach(|| self.conn.lock().unwrap_or_else(|p| p.into_inner()).state())
            .as_str()
    }

    #[getter]
    fn subprotocol(&self, py: Python<'_>) -> Option<String> {
        py.detach(|| {
            self.conn
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .subprotocol()
                .map(str::to_owned)
        })
    }

    /// True once the socket should be closed (after writing what was drained).
    #[getter]
    fn should_close_transport(&self, py: Python<'_>) -> bool {
        py.detach(|| {
            self.conn
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .should_close_transport()
        })
    }
}
