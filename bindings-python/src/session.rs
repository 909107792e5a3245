//! `Session`: the core's reconnect/recovery/keepalive state machine (`session::Session`)
//! over a byte transport, for Python's `WebSocketApp`.
//!
//! Python opens and closes sockets and runs the timer; this object decides everything
//! else. Every call returns the session's outputs in order, as tuples whose first item
//! is the core's canonical name:
//! - host instructions: `("need_request", id, attempt, migration)`,
//!   `("open_transport", id, url, [(name, value)], [subprotocol])`,
//!   `("transmit", id, bytes)`, `("close_transport", id, code, reason)`
//! - events: `("state_changed", from, to)`, `("open", attempt, recovered, subprotocol)`,
//!   `("migrated", recovered)`, `("message", str | bytes)`, `("fragment", opcode, fin, bytes)`,
//!   `("closed", code, reason, cause, cause_text, will_reconnect, transport_kind)`,
//!   `("reconnecting", attempt, delay_ms, cause, cause_text, transport_kind)`,
//!   `("gave_up", attempts, cause, cause_text, transport_kind)`, `("error", kind, text)`,
//!   `("ping", bytes)`, `("pong", bytes)` (with the `control_frames` option);
//!   `transport_kind` is the transport error name when the cause is `transport`, else None
//!
//! Options are `SessionOptions` as JSON text (the same keys in every binding).

use crate::engine::{EngineError, DETACH_ABOVE};
use crate::random::{HostRandom, MaskHook};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use std::sync::{Arc, Mutex, TryLockError};
use steadysock::session::{
    Cause, Output, SendError, Session as CoreSession, SessionEvent, SessionOptions, TransportErrorKind, TransportId,
    TransportRequest,
};
use steadysock::Message;

/// The session, behind a mutex (see `engine` for the locking rule: never wait for the
/// mutex with the GIL held).
#[pyclass(module = "steadysock._core")]
pub struct Session {
    inner: Mutex<CoreSession>,
    /// The masking-key function (`set_mask_key`), consulted by the session's random source.
    hook: Arc<Mutex<MaskHook>>,
}

fn message_obj<'py>(py: Python<'py>, m: &Message) -> Bound<'py, PyAny> {
    match m {
        Message::Text(t) => PyString::new(py, t.as_str()).into_any(),
        Message::Binary(b) => PyBytes::new(py, b).into_any(),
    }
}

fn output_tuple<'py>(py: Python<'py>, o: Output) -> PyResult<Bound<'py, PyTuple>> {
    Ok(match o {
        Output::NeedRequest { id, attempt, migration } => {
            ("need_request", id.get(), attempt, migration).into_pyobject(py)?
        }
        Output::OpenTransport { id, request } => (
            "open_transport",
            id.get(),
            request.url,
            request.headers,
            request.subprotocols,
        )
            .into_pyobject(py)?,
        Output::Transmit { id, bytes } => ("transmit", id.get(), PyBytes::new(py, &bytes)).into_pyobject(py)?,
        Output::SendMessage { id, message } => {
            ("send_message", id.get(), message_obj(py, &message)).into_pyobject(py)?
        }
        Output::CloseTransport { id, code, reason } => ("close_transport", id.get(), code, reason).into_pyobject(py)?,
        Output::Event(e) => event_tuple(py, e)?,
        other => (other.as_str(),).into_pyobject(py)?,
    })
}

fn event_tuple<'py>(py: Python<'py>, e: SessionEvent) -> PyResult<Bound<'py, PyTuple>> {
    Ok(match e {
        SessionEvent::StateChanged { from, to } => ("state_changed", from.as_str(), to.as_str()).into_pyobject(py)?,
        SessionEvent::Open {
            attempt,
            recovered,
            subprotocol,
            ..
        } => ("open", attempt, recovered, subprotocol).into_pyobject(py)?,
        SessionEvent::Migrated { recovered } => ("migrated", recovered).into_pyobject(py)?,
        SessionEvent::Message(m) => ("message", message_obj(py, &m)).into_pyobject(py)?,
        SessionEvent::Closed {
            code,
            reason,
            cause,
            will_reconnect,
        } => (
            "closed",
            code,
            reason,
            cause.as_str(),
            cause.to_string(),
            will_reconnect,
            transport_kind(&cause),
        )
            .into_pyobject(py)?,
        SessionEvent::Reconnecting {
            attempt,
            delay_ms,
            cause,
        } => (
            "reconnecting",
            attempt,
            delay_ms,
            cause.as_str(),
            cause.to_string(),
            transport_kind(&cause),
        )
            .into_pyobject(py)?,
        SessionEvent::GaveUp { attempts, cause } => (
            "gave_up",
            attempts,
            cause.as_str(),
            cause.to_string(),
            transport_kind(&cause),
        )
            .into_pyobject(py)?,
        SessionEvent::Error(err) => ("error", err.as_str(), err.to_string()).into_pyobject(py)?,
        SessionEvent::Ping(p) => ("ping", PyBytes::new(py, &p)).into_pyobject(py)?,
        SessionEvent::Pong(p) => ("pong", PyBytes::new(py, &p)).into_pyobject(py)?,
        SessionEvent::Fragment { opcode, fin, data } => {
            ("fragment", opcode, fin, PyBytes::new(py, &data)).into_pyobject(py)?
        }
        other => (other.as_str(),).into_pyobject(py)?,
    })
}

/// The transport error name of a cause that is a transport failure (`refused`, `dns` …).
fn transport_kind(c: &Cause) -> Option<&'static str> {
    match c {
        Cause::Transport { kind, .. } => Some(kind.as_str()),
        _ => None,
    }
}

fn send_error(e: &SendError) -> PyErr {
    EngineError::new_err((e.as_str(), e.to_string()))
}

impl Session {
    fn run<'py, T, F>(&self, py: Python<'py>, payload_len: usize, op: F) -> PyResult<(T, Bound<'py, PyList>)>
    where
        T: Send,
        F: FnOnce(&mut CoreSession) -> T + Send,
    {
        let body = |s: &mut CoreSession| {
            let r = op(s);
            let mut out = Vec::new();
            s.poll_outputs(&mut out);
            (r, out)
        };
        let guard = if payload_len <= DETACH_ABOVE {
            match self.inner.try_lock() {
                Ok(g) => Some(g),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            None
        };
        let (r, out) = match guard {
            Some(mut g) => body(&mut g),
            None => py.detach(|| body(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))),
        };
        let list = PyList::empty(py);
        for o in out {
            list.append(output_tuple(py, o)?)?;
        }
        Ok((r, list))
    }

    fn outputs<'py, F>(&self, py: Python<'py>, op: F) -> PyResult<Bound<'py, PyList>>
    where
        F: FnOnce(&mut CoreSession) + Send,
    {
        Ok(self.run(py, 0, op)?.1)
    }
}

#[pymethods]
impl Session {
    /// A session for `url` with `options` (SessionOptions as JSON text), idle until
    /// `connect`.
    #[new]
    fn new(url: String, options: &str, now_ms: u64) -> PyResult<Self> {
        let opts = SessionOptions::from_json(options).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let config = opts
            .into_config(url)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let hook = Arc::new(Mutex::new(MaskHook::default()));
        let rng = HostRandom::new(hook.clone()).map_err(|e| EngineError::new_err(("random", e)))?;
        Ok(Self {
            inner: Mutex::new(CoreSession::new(config, Box::new(rng), now_ms)),
            hook,
        })
    }

    /// websocket-client's `get_mask_key` for every connection of this session:
    /// `func(4)` gives each frame's masking key (None: OS randomness again). Called by the
    /// session's random source (the binding's `HostRandom`) when the core asks it for a
    /// key, so the core itself calls no application code.
    fn set_mask_key(&self, py: Python<'_>, func: Option<Py<PyAny>>) {
        let func = func.map(Arc::new);
        py.detach(|| self.hook.lock().unwrap_or_else(|p| p.into_inner()).func = func);
    }

    /// The first error the masking-key function raised since the last call, if any (the
    /// frames it failed for went out with OS-random keys).
    fn take_mask_error(&self, py: Python<'_>) -> Option<PyErr> {
        py.detach(|| self.hook.lock().unwrap_or_else(|p| p.into_inner()).error.take())
    }

    fn connect<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| s.connect(now_ms))
    }

    fn reconnect<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| s.reconnect(now_ms))
    }

    fn close<'py>(&self, py: Python<'py>, code: u16, reason: PyBackedStr, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| s.close(code, &reason, now_ms))
    }

    fn disconnect_warning<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| s.disconnect_warning(now_ms))
    }

    fn send_text<'py>(&self, py: Python<'py>, text: PyBackedStr, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        let t: &str = &text;
        let (r, list) = self.run(py, t.len(), |s| s.send(Message::text(t), now_ms))?;
        r.map_err(|e| send_error(&e))?;
        Ok(list)
    }

    fn send_binary<'py>(&self, py: Python<'py>, data: PyBackedBytes, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &data;
        let (r, list) = self.run(py, b.len(), |s| s.send(Message::binary(b.to_vec()), now_ms))?;
        r.map_err(|e| send_error(&e))?;
        Ok(list)
    }

    fn handle_timeout<'py>(&self, py: Python<'py>, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| s.handle_timeout(now_ms))
    }

    /// A protocol ping on the open transport (not queued: `EngineError` while not open).
    fn ping<'py>(&self, py: Python<'py>, payload: PyBackedBytes, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &payload;
        let (r, list) = self.run(py, b.len(), |s| s.ping(b, now_ms))?;
        r.map_err(|e| send_error(&e))?;
        Ok(list)
    }

    fn poll_timeout(&self, py: Python<'_>) -> Option<u64> {
        py.detach(|| self.inner.lock().unwrap_or_else(|p| p.into_inner()).poll_timeout())
    }

    fn transport_connected<'py>(&self, py: Python<'py>, id: u64, now_ms: u64) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| s.handle_transport_connected(TransportId::from_raw(id), now_ms))
    }

    fn transport_bytes<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        data: PyBackedBytes,
        now_ms: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        let b: &[u8] = &data;
        Ok(self
            .run(py, b.len(), |s| {
                s.handle_transport_bytes(TransportId::from_raw(id), b, now_ms)
            })?
            .1)
    }

    /// The socket ended (`code` None: without a close frame, e.g. EOF).
    #[pyo3(signature = (id, code, reason, now_ms))]
    fn transport_closed<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        code: Option<u16>,
        reason: PyBackedStr,
        now_ms: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| {
            s.handle_transport_closed(TransportId::from_raw(id), code, &reason, now_ms)
        })
    }

    /// The socket failed; `kind` is a canonical transport error name (`refused`,
    /// `unreachable`, `dns`, `tls`, `reset`, `timeout`, `other`).
    fn transport_error<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        kind: &str,
        detail: PyBackedStr,
        now_ms: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        let kind = TransportErrorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| PyValueError::new_err(format!("unknown transport error kind {kind:?}")))?;
        self.outputs(py, |s| {
            s.handle_transport_error(TransportId::from_raw(id), kind, &detail, now_ms)
        })
    }

    /// Answers `need_request`.
    fn provide_request<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        url: String,
        headers: Vec<(String, String)>,
        subprotocols: Vec<String>,
        now_ms: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        let request = TransportRequest {
            url,
            headers,
            subprotocols,
        };
        self.outputs(py, |s| s.provide_request(TransportId::from_raw(id), request, now_ms))
    }

    fn provide_request_error<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        reason: PyBackedStr,
        now_ms: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        self.outputs(py, |s| {
            s.provide_request_error(TransportId::from_raw(id), &reason, now_ms)
        })
    }

    /// Transports the session tracks now.
    #[getter]
    fn transport_count(&self, py: Python<'_>) -> usize {
        py.detach(|| self.inner.lock().unwrap_or_else(|p| p.into_inner()).transports().len())
    }

    /// Messages waiting in the outbound queue.
    #[getter]
    fn queued_messages(&self, py: Python<'_>) -> usize {
        py.detach(|| self.inner.lock().unwrap_or_else(|p| p.into_inner()).queued_messages())
    }

    /// The canonical state name (`idle`, `connecting`, `open`, `closing`, `backoff`, `closed`).
    #[getter]
    fn state(&self, py: Python<'_>) -> &'static str {
        py.detach(|| self.inner.lock().unwrap_or_else(|p| p.into_inner()).state())
            .as_str()
    }
}
