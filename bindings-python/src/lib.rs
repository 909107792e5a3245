//! `steadysock._core`: the protocol engine behind the `steadysock` Python package.
//!
//! A thin pyo3 layer over the core crate: [`engine::ClientConnection`] wraps a client-role
//! `steadysock::Connection`, and a few functions give the pure-Python `ABNF` class the
//! core's frame encoding, masking and UTF-8 validation. Sockets, TLS, proxies and the
//! websocket-client-compatible API live in Python (`python/steadysock/`).

mod engine;
mod random;
mod session;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::PyBytes;
use steadysock::frame::{self, OpCode};

/// `data` masked (or unmasked) with `key` (RFC 6455 §5.3).
#[pyfunction]
fn mask<'py>(py: Python<'py>, key: [u8; 4], data: PyBackedBytes) -> PyResult<Bound<'py, PyBytes>> {
    let src: &[u8] = &data;
    PyBytes::new_with(py, src.len(), |dst| {
        dst.copy_from_slice(src);
        if dst.len() > engine::DETACH_ABOVE {
            py.detach(|| steadysock::mask::apply_mask(dst, key, 0));
        } else {
            steadysock::mask::apply_mask(dst, key, 0);
        }
        Ok(())
    })
}

/// One frame on the wire: header, then `payload` masked with `mask_key` when given.
/// Reserved bits are set as asked; the opcode must be one RFC 6455 defines.
#[pyfunction]
#[pyo3(signature = (fin, rsv1, rsv2, rsv3, opcode, mask_key, payload))]
#[allow(clippy::too_many_arguments)]
fn encode_frame<'py>(
    py: Python<'py>,
    fin: bool,
    rsv1: bool,
    rsv2: bool,
    rsv3: bool,
    opcode: u8,
    mask_key: Option<[u8; 4]>,
    payload: PyBackedBytes,
) -> PyResult<Bound<'py, PyBytes>> {
    let op = OpCode::from_u8(opcode).ok_or_else(|| PyValueError::new_err(format!("invalid opcode {opcode}")))?;
    let body: &[u8] = &payload;
    let mut head = bytes::BytesMut::with_capacity(frame::MAX_HEADER_LEN);
    frame::write_header(&mut head, fin, rsv1, op, mask_key, body.len());
    head[0] |= (u8::from(rsv2) << 5) | (u8::from(rsv3) << 4);
    PyBytes::new_with(py, head.len() + body.len(), |dst| {
        dst[..head.len()].copy_from_slice(&head);
        let rest = &mut dst[head.len()..];
        rest.copy_from_slice(body);
        if let Some(key) = mask_key {
            if rest.len() > engine::DETACH_ABOVE {
                py.detach(|| steadysock::mask::apply_mask(rest, key, 0));
            } else {
                steadysock::mask::apply_mask(rest, key, 0);
            }
        }
        Ok(())
    })
}

/// Whether `data` is complete, valid UTF-8.
#[pyfunction]
fn validate_utf8(py: Python<'_>, data: PyBackedBytes) -> bool {
    let b: &[u8] = &data;
    let check = || {
        let mut v = steadysock::utf8::Utf8Validator::default();
        v.feed(b).is_ok() && v.is_complete(b)
    };
    if b.len() > engine::DETACH_ABOVE {
        py.detach(check)
    } else {
        check()
    }
}

/// Whether a close frame may carry `code` (RFC 6455 §7.4).
#[pyfunction]
fn close_code_is_valid(code: u16) -> bool {
    steadysock::close::is_valid_on_wire(code)
}

/// `(secure, host, port, resource)` of a `ws://` or `wss://` URL, as the core reads it.
#[pyfunction]
fn parse_url(url: PyBackedStr) -> PyResult<(bool, String, u16, String)> {
    let u = steadysock::WsUrl::parse(&url).map_err(PyValueError::new_err)?;
    Ok((u.secure, u.host, u.port, u.resource))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::ClientConnection>()?;
    m.add_class::<session::Session>()?;
    m.add("EngineError", m.py().get_type::<engine::EngineError>())?;
    m.add_function(wrap_pyfunction!(mask, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(validate_utf8, m)?)?;
    m.add_function(wrap_pyfunction!(close_code_is_valid, m)?)?;
    m.add_function(wrap_pyfunction!(parse_url, m)?)?;
    Ok(())
}
