//! The opening handshake, from the connection's side: where it stands ([`Phase`]) and
//! each step from the first byte to `Open` or failure.
//!
//! A client has sent its request and reads the response head (and, when the server
//! refuses, the body, so the application gets the whole answer). A server reads the
//! request head and then holds input until the application calls
//! [`accept`](Connection::accept) or [`reject`](Connection::reject). Parsing and
//! validating the HTTP itself lives in [`crate::handshake`]; this file only drives it.
//! Once the handshake is done the phase is [`Phase::Frames`] and the
//! [frame decoder](super::decoder) takes over the input.

use super::{Accept, Connection, Error, Event, HandshakeInfo, KeepaliveTimers, State, MAX_REASON};
use crate::close;
use crate::deflate::{self, PerMessageDeflate};
use crate::handshake::{self, HandshakeError, Header, HttpResponse, Request, ResponseHead};

/// Where the handshake stands.
#[derive(Debug)]
pub(super) enum Phase {
    /// Client: request sent, reading the response head.
    ClientHandshake {
        key: String,
        offered: Vec<String>,
        resource: String,
    },
    /// Client: a non-101 response arrived; reading `needed` body bytes after `head_len`.
    RejectedBody {
        head: ResponseHead,
        head_len: usize,
        needed: usize,
    },
    /// Server: reading the request head.
    ServerHandshake,
    /// Server: a valid request awaits `accept` or `reject`; input is held.
    AwaitingAccept { request: Request },
    /// Frames flow.
    Frames,
}

impl Connection {
    /// Server role: accepts the pending request.
    pub fn accept(&mut self, accept: Accept, now: u64) -> Result<(), Error> {
        let Phase::AwaitingAccept { request } = &self.phase else {
            return Err(Error::InvalidState(self.state));
        };
        // The client may have gone (or the application closed) while it waited.
        if self.state != State::Connecting || self.transport_done {
            return Err(Error::InvalidState(self.state));
        }
        if let Some(p) = &accept.subprotocol {
            if !request.subprotocols.iter().any(|o| o == p) {
                return Err(Error::InvalidHeader(format!("subprotocol {p:?} was not offered")));
            }
        }
        for (n, v) in &accept.headers {
            handshake::check_header(n, v).map_err(Error::InvalidHeader)?;
        }
        let offers = handshake::header_tokens_raw(&request.headers, "sec-websocket-extensions");
        let negotiated = self
            .config
            .deflate
            .as_ref()
            .and_then(|cfg| deflate::server_accept(cfg, offers));
        let (ext_response, agreement) = negotiated.unzip();
        let response = handshake::accept_response(
            &request.key,
            accept.subprotocol.as_deref(),
            ext_response.as_deref(),
            &accept.headers,
        );
        if let (Some(cfg), Some(a)) = (&self.config.deflate, agreement) {
            self.deflate = PerMessageDeflate::new(cfg, a).map(Box::new);
        }
        let info = HandshakeInfo {
            path: request.path.clone(),
            subprotocol: accept.subprotocol.clone(),
            headers: request.headers.clone(),
        };
        self.tx.extend_from_slice(response.as_bytes());
        self.subprotocol = accept.subprotocol;
        self.open(info, now);
        let held = std::mem::take(&mut self.hs_buf);
        if !held.is_empty() {
            self.handle_input(&held, now);
        }
        Ok(())
    }

    /// Server role: refuses the pending request with an HTTP status.
    pub fn reject(&mut self, status: u16, headers: &[Header], body: &[u8]) -> Result<(), Error> {
        if !matches!(self.phase, Phase::AwaitingAccept { .. }) || self.state != State::Connecting || self.transport_done
        {
            return Err(Error::InvalidState(self.state));
        }
        for (n, v) in headers {
            handshake::check_header(n, v).map_err(Error::InvalidHeader)?;
        }
        let status = if (400..=599).contains(&status) { status } else { 403 };
        self.tx
            .extend_from_slice(&handshake::error_response(status, headers, body));
        self.abort(close::ABNORMAL, format!("request rejected with HTTP {status}"), false);
        Ok(())
    }

    pub(super) fn progress_handshake(&mut self, scan_from: usize, now: u64) {
        if let Phase::RejectedBody { head_len, needed, .. } = self.phase {
            if self.hs_buf.len() >= head_len + needed {
                self.finish_rejection();
            }
            return;
        }
        let Some(len) = handshake::head_len(&self.hs_buf[scan_from..]).map(|l| scan_from + l) else {
            if self.hs_buf.len() > self.config.max_handshake_size {
                self.handshake_failed(HandshakeError::TooLarge);
            }
            return;
        };
        if len > self.config.max_handshake_size {
            self.handshake_failed(HandshakeError::TooLarge);
            return;
        }
        match std::mem::replace(&mut self.phase, Phase::Frames) {
            Phase::ClientHandshake { key, offered, resource } => {
                self.client_response(len, &key, &offered, resource, now)
            }
            Phase::ServerHandshake => self.server_request(len),
            other => self.phase = other,
        }
    }

    fn client_response(&mut self, len: usize, key: &str, offered: &[String], resource: String, now: u64) {
        let head = match handshake::parse_response(&self.hs_buf[..len]) {
            Ok(h) => h,
            Err(e) => return self.handshake_failed(e),
        };
        if head.status != 101 {
            let declared =
                handshake::header_value(&head.headers, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
            let limit = self.config.max_handshake_size;
            let available = self.hs_buf.len() - len;
            let needed = declared.map_or(available, |d| d.min(limit));
            self.phase = Phase::RejectedBody {
                head,
                head_len: len,
                needed,
            };
            if available >= needed {
                self.finish_rejection();
            }
            return;
        }
        let agreed = match handshake::validate_response(&head, key, offered) {
            Ok(a) => a,
            Err(e) => return self.handshake_failed(e),
        };
        if let Some(ext) = &agreed.extensions {
            let Some(cfg) = self.config.deflate.as_ref().filter(|_| cfg!(feature = "deflate")) else {
                return self.handshake_failed(HandshakeError::InvalidResponse(
                    "the server negotiated an extension that was not offered".into(),
                ));
            };
            match deflate::client_accept(cfg, ext) {
                Ok(a) => self.deflate = PerMessageDeflate::new(cfg, a).map(Box::new),
                Err(why) => return self.handshake_failed(HandshakeError::InvalidResponse(why)),
            }
        }
        self.subprotocol = agreed.subprotocol.clone();
        let rest = self.hs_buf.split_off(len);
        self.hs_buf = Vec::new();
        self.open(
            HandshakeInfo {
                path: resource,
                subprotocol: agreed.subprotocol,
                headers: head.headers,
            },
            now,
        );
        if !rest.is_empty() {
            self.handle_input(&rest, now);
        }
    }

    fn server_request(&mut self, len: usize) {
        match handshake::parse_request(&self.hs_buf[..len]) {
            Ok(request) => {
                // Bytes after the head (frames sent eagerly) are held until accept.
                self.hs_buf.drain(..len);
                self.events.push_back(Event::Request(request.clone()));
                self.phase = Phase::AwaitingAccept { request };
                if self.hs_buf.len() > self.config.max_handshake_size {
                    self.abort(
                        close::ABNORMAL,
                        "too much input while the request awaited acceptance",
                        true,
                    );
                }
            }
            Err(e) => {
                if let HandshakeError::InvalidRequest { status, reason } = &e {
                    self.tx
                        .extend_from_slice(&handshake::error_response(*status, &[], reason.as_bytes()));
                }
                self.handshake_failed(e);
            }
        }
    }

    pub(super) fn finish_rejection(&mut self) {
        let phase = std::mem::replace(&mut self.phase, Phase::Frames);
        let Phase::RejectedBody { head, head_len, needed } = phase else {
            self.phase = phase;
            return;
        };
        let end = (head_len + needed).min(self.hs_buf.len());
        let body = self.hs_buf[head_len..end].to_vec();
        self.handshake_failed(HandshakeError::Rejected(HttpResponse {
            status: head.status,
            headers: head.headers,
            body,
        }));
    }

    pub(super) fn handshake_failed(&mut self, error: HandshakeError) {
        // The full error (which may quote the peer at length) is in HandshakeFailed; the
        // close reason is held to what a close frame could carry.
        let reason = crate::utf8::truncate(&error.to_string(), MAX_REASON).to_string();
        self.events.push_back(Event::HandshakeFailed(error));
        self.hs_buf = Vec::new();
        self.abort(close::ABNORMAL, reason, true);
    }

    fn open(&mut self, info: HandshakeInfo, now: u64) {
        self.state = State::Open;
        self.phase = Phase::Frames;
        self.handshake_deadline = None;
        self.keepalive = self.config.keepalive.map(|ka| KeepaliveTimers {
            next_ping_at: now.saturating_add(ka.interval_ms.max(1)),
            pong_deadline: None,
        });
        self.events.push_back(Event::Open(info));
    }
}
