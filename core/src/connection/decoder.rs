//! The frame decoder: bytes from the peer in, whole messages and control frames out.
//!
//! It owns everything that only reading needs: where it stands in the stream (a header
//! being buffered across reads, or the payload of one frame), unmasking, reassembly of
//! fragmented messages (inflating them when permessage-deflate is on), incremental UTF-8
//! checking of text, and the size limits. It knows nothing of states, events, timers or
//! what to send: it reports what it read as [`Decoded`] items, one at a time, and the
//! [`Connection`](super::Connection) decides what they mean (answer a ping, fail with a
//! close code, end the closing handshake). Kept apart from the connection as tungstenite
//! keeps its `FrameCodec` apart from its `WebSocket`, so each can be read on its own.
//!
//! Payload bytes go from the input straight into the message buffer and are unmasked
//! there: a frame costs no allocation of its own, and a message one (its own buffer).

use super::Role;
use crate::close;
use crate::deflate::{InflateError, PerMessageDeflate};
use crate::frame::{self, FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::mask::apply_mask;
use crate::message::{Message, Text};
use crate::utf8::Utf8Validator;
use bytes::{Bytes, BytesMut};
use std::borrow::Cow;

/// Up to this much of a declared frame length is reserved ahead of its arrival; beyond
/// it the buffer grows as bytes come, so a lying header cannot make us allocate.
const MAX_EAGER_RESERVE: usize = 64 << 10;

/// What the decoder read.
#[derive(Debug)]
pub(super) enum Decoded {
    /// A complete data message (text already checked for UTF-8).
    Message(Message),
    /// A complete ping, pong or close frame and its unmasked payload.
    Control(OpCode, Bytes),
    /// A close frame too malformed to read (fragmented, or over 125 bytes): it still
    /// ends the closing handshake. Reported after the [`Decoded::Violation`] it caused.
    BrokenClose,
    /// The peer broke the protocol: the connection fails with `code`. The decoder skips
    /// the rest of the offending frame; the connection calls
    /// [`abandon_message`](FrameDecoder::abandon_message).
    Violation { code: u16, reason: Cow<'static, str> },
    /// A header whose length cannot be followed: the stream is lost past this point.
    Unfollowable { code: u16, reason: &'static str },
}

/// Where the payload of the current frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Message,
    Control(OpCode),
    Discard,
    /// A malformed close frame: skipped, but it still ends the closing handshake.
    BrokenClose,
}

/// The decoder's position.
#[derive(Debug, Clone, Copy)]
enum Decode {
    Header,
    Payload {
        remaining: u64,
        mask: Option<[u8; 4]>,
        mask_offset: usize,
        fin: bool,
        dest: Dest,
    },
}

/// Reads frames from one peer. See the module docs.
pub(super) struct FrameDecoder {
    role: Role,
    max_frame_size: usize,
    max_message_size: usize,
    decode: Decode,
    hdr_buf: [u8; MAX_HEADER_LEN],
    hdr_len: usize,
    msg: BytesMut,
    msg_kind: Option<OpCode>,
    /// The current message is compressed (RSV1 on its first frame).
    msg_compressed: bool,
    /// Inflated bytes of the current compressed message.
    inflated: Vec<u8>,
    /// Unmasked compressed bytes of the current chunk, on their way to the inflater.
    deflated: Vec<u8>,
    utf8: Utf8Validator,
    ctrl: BytesMut,
    /// Client role: masked frames from the server are accepted (compatibility opt-in).
    accept_masked: bool,
}

impl FrameDecoder {
    /// A decoder for the frames the peer of `role` sends (a server expects masked
    /// frames, a client unmasked ones), with the connection's size limits.
    pub(super) fn new(role: Role, max_frame_size: usize, max_message_size: usize) -> Self {
        Self {
            role,
            max_frame_size,
            max_message_size,
            decode: Decode::Header,
            hdr_buf: [0; MAX_HEADER_LEN],
            hdr_len: 0,
            msg: BytesMut::new(),
            msg_kind: None,
            msg_compressed: false,
            inflated: Vec::new(),
            deflated: Vec::new(),
            utf8: Utf8Validator::default(),
            ctrl: BytesMut::new(),
            accept_masked: false,
        }
    }

    /// As a client, accept masked frames from the server ([`Config::accept_masked_frames`](super::Config::accept_masked_frames)).
    pub(super) fn set_accept_masked(&mut self, on: bool) {
        self.accept_masked = on;
    }

    /// Reads from `input` (advancing it) until one item is complete; `None` once
    /// `input` is used up with nothing to report. `failed`: the connection has failed,
    /// so new data frames are skipped. `deflate`: the negotiated permessage-deflate.
    pub(super) fn next(
        &mut self,
        input: &mut &[u8],
        failed: bool,
        mut deflate: Option<&mut PerMessageDeflate>,
    ) -> Option<Decoded> {
        loop {
            match self.decode {
                Decode::Payload { remaining: 0, .. } => {
                    if let Some(item) = self.finish_frame(deflate.as_deref_mut()) {
                        return Some(item);
                    }
                }
                Decode::Header => {
                    if input.is_empty() {
                        return None;
                    }
                    let (header, consumed) = match self.parse_header(input) {
                        Err(item) => return Some(item),
                        Ok(None) => {
                            *input = &[];
                            return None;
                        }
                        Ok(Some(parsed)) => parsed,
                    };
                    *input = &input[consumed..];
                    if let Some(item) = self.begin_frame(header, input.len(), failed, deflate.is_some()) {
                        return Some(item);
                    }
                }
                Decode::Payload { remaining, .. } => {
                    if input.is_empty() {
                        return None;
                    }
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                    let (chunk, rest) = input.split_at(n);
                    *input = rest;
                    if let Some(item) = self.payload_chunk(chunk, deflate.as_deref_mut()) {
                        return Some(item);
                    }
                }
            }
        }
    }

    /// Drops the message being assembled (the connection failed).
    pub(super) fn abandon_message(&mut self) {
        self.msg.clear();
        self.inflated = Vec::new();
        self.msg_kind = None;
        self.msg_compressed = false;
        self.utf8.reset();
    }

    /// A header from `input`, completing one buffered from earlier reads. `Ok(None)`:
    /// the header is incomplete and all of `input` is held for the next read.
    fn parse_header(&mut self, input: &[u8]) -> Result<Option<(FrameHeader, usize)>, Decoded> {
        let parsed = if self.hdr_len == 0 {
            frame::parse_header(input)
        } else {
            let take = (MAX_HEADER_LEN - self.hdr_len).min(input.len());
            self.hdr_buf[self.hdr_len..self.hdr_len + take].copy_from_slice(&input[..take]);
            let held = self.hdr_len;
            match frame::parse_header(&self.hdr_buf[..held + take]) {
                Ok(None) => {
                    self.hdr_len += take;
                    return Ok(None);
                }
                other => other.map(|r| r.map(|(h, n)| (h, n - held))),
            }
        };
        match parsed {
            Ok(Some(parsed)) => {
                self.hdr_len = 0;
                Ok(Some(parsed))
            }
            Ok(None) => {
                // Fewer than MAX_HEADER_LEN bytes: keep them for the next read.
                self.hdr_buf[..input.len()].copy_from_slice(input);
                self.hdr_len = input.len();
                Ok(None)
            }
            Err(frame::LengthOverflow) => Err(Decoded::Unfollowable {
                code: close::PROTOCOL_ERROR,
                reason: "frame length with the most significant bit set",
            }),
        }
    }

    /// `in_hand`: input bytes already received after this header (this frame's payload
    /// and whatever follows it in the same read).
    fn begin_frame(&mut self, h: FrameHeader, in_hand: usize, failed: bool, deflate_on: bool) -> Option<Decoded> {
        let Some(opcode) = OpCode::from_u8(h.opcode) else {
            return self.fail_frame(
                h,
                close::PROTOCOL_ERROR,
                format!("reserved opcode {:#x}", h.opcode).into(),
            );
        };
        let rsv1 = h.rsv & 0b100 != 0;
        let rsv1_allowed = deflate_on && matches!(opcode, OpCode::Text | OpCode::Binary);
        if h.rsv & 0b011 != 0 || (rsv1 && !rsv1_allowed) {
            return self.fail_frame(
                h,
                close::PROTOCOL_ERROR,
                "reserved bits set without a negotiated extension".into(),
            );
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => {
                return self.fail_frame(h, close::PROTOCOL_ERROR, "unmasked frame from a client".into())
            }
            (Role::Client, true) if !self.accept_masked => {
                return self.fail_frame(h, close::PROTOCOL_ERROR, "masked frame from a server".into())
            }
            _ => {}
        }
        let dest = if opcode.is_control() {
            if !h.fin || h.len > 125 {
                let why = if h.fin {
                    "control frame payload over 125 bytes"
                } else {
                    "fragmented control frame"
                };
                let violation = self.fail_frame(h, close::PROTOCOL_ERROR, why.into());
                if opcode == OpCode::Close {
                    // Skipped, then reported as BrokenClose (at once when empty).
                    self.decode = Decode::Payload {
                        remaining: h.len,
                        mask: None,
                        mask_offset: 0,
                        fin: true,
                        dest: Dest::BrokenClose,
                    };
                }
                return violation;
            }
            self.ctrl.clear();
            Dest::Control(opcode)
        } else {
            match (opcode, self.msg_kind) {
                (OpCode::Continuation, None) => {
                    return self.fail_frame(
                        h,
                        close::PROTOCOL_ERROR,
                        "continuation frame without a message to continue".into(),
                    )
                }
                (OpCode::Text | OpCode::Binary, Some(_)) => {
                    return self.fail_frame(
                        h,
                        close::PROTOCOL_ERROR,
                        "new message before the previous one ended".into(),
                    )
                }
                _ => {}
            }
            if h.len > self.max_frame_size as u64 {
                return self.fail_frame(h, close::MESSAGE_TOO_BIG, "frame exceeds the size limit".into());
            }
            let compressed = self.msg_compressed || rsv1;
            if !compressed && (self.msg.len() as u64).saturating_add(h.len) > self.max_message_size as u64 {
                return self.fail_frame(h, close::MESSAGE_TOO_BIG, "message exceeds the size limit".into());
            }
            if failed {
                Dest::Discard
            } else {
                if opcode != OpCode::Continuation {
                    self.msg_kind = Some(opcode);
                    self.msg_compressed = rsv1;
                }
                if !self.msg_compressed {
                    let want = (h.len as usize).min(MAX_EAGER_RESERVE);
                    if self.msg.capacity() - self.msg.len() < want {
                        // Room for this frame and for the bytes already in hand (up to
                        // MAX_EAGER_RESERVE): the messages of one read are carved out of
                        // one allocation (`split` hands each a view of it) instead of
                        // costing two allocations each (buffer + shared header). Bounded
                        // by bytes received, so a lying header cannot make us allocate.
                        self.msg.reserve(want.max(in_hand.min(MAX_EAGER_RESERVE)));
                    }
                }
                Dest::Message
            }
        };
        self.decode = Decode::Payload {
            remaining: h.len,
            mask: h.mask,
            mask_offset: 0,
            fin: h.fin,
            dest,
        };
        None
    }

    /// A bad header: skip that frame's payload, and report the violation.
    fn fail_frame(&mut self, h: FrameHeader, code: u16, reason: Cow<'static, str>) -> Option<Decoded> {
        self.decode = if h.len == 0 {
            Decode::Header
        } else {
            Decode::Payload {
                remaining: h.len,
                mask: None,
                mask_offset: 0,
                fin: true,
                dest: Dest::Discard,
            }
        };
        Some(Decoded::Violation { code, reason })
    }

    fn payload_chunk(&mut self, chunk: &[u8], deflate: Option<&mut PerMessageDeflate>) -> Option<Decoded> {
        let Decode::Payload {
            remaining,
            mask,
            mask_offset,
            fin,
            dest,
        } = self.decode
        else {
            return None;
        };
        let mut violation = None;
        let next_offset = match dest {
            Dest::Message if self.msg_compressed => {
                self.deflated.clear();
                self.deflated.extend_from_slice(chunk);
                let off = mask.map_or(0, |k| apply_mask(&mut self.deflated, k, mask_offset));
                let result = match deflate {
                    Some(d) => d.inflate(&self.deflated, &mut self.inflated, self.max_message_size),
                    None => Err(InflateError::Corrupt),
                };
                violation = self.after_inflate(result);
                off
            }
            Dest::Message => {
                let start = self.msg.len();
                self.msg.extend_from_slice(chunk);
                let off = mask.map_or(0, |k| apply_mask(&mut self.msg[start..], k, mask_offset));
                if self.msg_kind == Some(OpCode::Text) && self.utf8.feed(&self.msg).is_err() {
                    violation = Some(invalid_payload("invalid UTF-8 in a text message"));
                }
                off
            }
            Dest::Control(_) => {
                let start = self.ctrl.len();
                self.ctrl.extend_from_slice(chunk);
                mask.map_or(0, |k| apply_mask(&mut self.ctrl[start..], k, mask_offset))
            }
            Dest::Discard | Dest::BrokenClose => 0,
        };
        // A violation skips the rest of the frame.
        let dest = if violation.is_some() { Dest::Discard } else { dest };
        self.decode = Decode::Payload {
            remaining: remaining - chunk.len() as u64,
            mask,
            mask_offset: next_offset,
            fin,
            dest,
        };
        violation
    }

    fn finish_frame(&mut self, deflate: Option<&mut PerMessageDeflate>) -> Option<Decoded> {
        let Decode::Payload { fin, dest, .. } = self.decode else {
            return None;
        };
        self.decode = Decode::Header;
        match dest {
            Dest::Discard => None,
            Dest::BrokenClose => Some(Decoded::BrokenClose),
            Dest::Message if fin => Some(self.finish_message(deflate)),
            Dest::Message => None,
            Dest::Control(op) => Some(Decoded::Control(op, self.ctrl.split().freeze())),
        }
    }

    /// Checks the outcome of inflating: size, corruption, and UTF-8 of text so far.
    fn after_inflate(&mut self, result: Result<(), InflateError>) -> Option<Decoded> {
        match result {
            Err(InflateError::TooBig) => Some(Decoded::Violation {
                code: close::MESSAGE_TOO_BIG,
                reason: "message exceeds the size limit".into(),
            }),
            Err(InflateError::Corrupt) => Some(invalid_payload("corrupt compressed data")),
            Ok(()) if self.msg_kind == Some(OpCode::Text) && self.utf8.feed(&self.inflated).is_err() => {
                Some(invalid_payload("invalid UTF-8 in a text message"))
            }
            Ok(()) => None,
        }
    }

    fn finish_message(&mut self, deflate: Option<&mut PerMessageDeflate>) -> Decoded {
        if self.msg_compressed {
            let result = match deflate {
                Some(d) => d.finish(&mut self.inflated, self.max_message_size),
                None => Err(InflateError::Corrupt),
            };
            if let Some(violation) = self.after_inflate(result) {
                return violation;
            }
        }
        let kind = self.msg_kind.take();
        let data = if std::mem::take(&mut self.msg_compressed) {
            Bytes::from(std::mem::take(&mut self.inflated))
        } else {
            self.msg.split().freeze()
        };
        let complete_text = self.utf8.is_complete(&data);
        self.utf8.reset();
        match kind {
            Some(OpCode::Text) if complete_text => Decoded::Message(Message::Text(Text::from_validated(data))),
            Some(OpCode::Text) => invalid_payload("text message ends inside a UTF-8 sequence"),
            _ => Decoded::Message(Message::Binary(data)),
        }
    }
}

/// A 1007 violation (invalid payload data: bad UTF-8 or corrupt compressed data).
fn invalid_payload(reason: &'static str) -> Decoded {
    Decoded::Violation {
        code: close::INVALID_PAYLOAD,
        reason: reason.into(),
    }
}
