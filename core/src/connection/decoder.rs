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
//! Two ways in:
//! - [`next`](FrameDecoder::next) reads a borrowed slice: payload bytes are copied from
//!   the input into the message buffer, unmasked on the way (one pass), and the message
//!   buffer is reserved from the frame header's length once it is known (within the size
//!   limits and `MAX_UPFRONT_RESERVE`), so a large frame costs no regrowth copies;
//! - [`next_buf`](FrameDecoder::next_buf) reads the host's own buffer: an unfragmented,
//!   uncompressed data frame is left in that buffer until it is whole (room for the rest
//!   of it is reserved there, likewise; text is unmasked and checked in place as it
//!   arrives, so a bad byte still fails the connection at once), then split out of it:
//!   the message *is* the host's bytes, with no copy. Everything else (control frames,
//!   fragmented or compressed messages, anything after a failure) goes the copying way,
//!   which keeps every other check and limit in one place.

use super::Role;
use crate::close;
use crate::deflate::{InflateError, PerMessageDeflate};
use crate::frame::{self, FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::mask::{apply_mask, extend_masked, extend_masked_vec};
use crate::message::{Message, Text};
use crate::utf8::Utf8Validator;
use bytes::{Buf, Bytes, BytesMut};
use std::borrow::Cow;

/// The messages of one read are carved out of one allocation of at most this much (see
/// `begin_frame`).
const MAX_CARVE: usize = 64 << 10;

/// A frame's declared length is reserved as soon as its header is read, up to this much
/// (and within the size limits); a longer frame grows its buffer as its bytes come. The
/// cost of a header that lies about its length is bounded by this: reserved address
/// space, which the system backs with memory only as bytes are written.
const MAX_UPFRONT_RESERVE: usize = 16 << 20;

/// The buffers of a compressed message.
#[derive(Debug, Default)]
struct Inflating {
    /// Inflated bytes of the current message.
    inflated: Vec<u8>,
    /// Unmasked compressed bytes of the current chunk, on their way to the inflater.
    deflated: Vec<u8>,
}

/// What the decoder read.
#[derive(Debug)]
pub(super) enum Decoded {
    /// A complete data message (text already checked for UTF-8).
    Message(Message),
    /// One frame of a fragmented data message, when fragments are delivered
    /// ([`Config::deliver_fragments`](super::Config::deliver_fragments)): its opcode as
    /// sent (text or binary for the first, continuation after), `fin`, and its payload
    /// (unmasked; for a compressed message, what inflating it produced). The last one is
    /// followed by the whole message.
    Fragment { opcode: u8, fin: bool, data: Bytes },
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
        /// Where in the key's 4-byte cycle the next payload byte is.
        mask_offset: u8,
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
    hdr_len: u8,
    msg: BytesMut,
    msg_kind: Option<OpCode>,
    /// The current message is compressed (RSV1 on its first frame).
    msg_compressed: bool,
    /// Buffers of compressed messages. Boxed, and only made once a compressed message
    /// arrives: 48 bytes inline in every decoder otherwise.
    z: Option<Box<Inflating>>,
    utf8: Utf8Validator,
    ctrl: BytesMut,
    /// Payload bytes of a text frame waiting in the host's buffer that are already
    /// unmasked (in place) and checked (see `check_partial_text`).
    in_place: usize,
    /// Client role: masked frames from the server are accepted (compatibility opt-in).
    accept_masked: bool,
    /// Report each frame of a fragmented message as well (compatibility opt-in).
    deliver_fragments: bool,
    /// Where the current frame's bytes start in the message buffer (`msg`, or the
    /// inflated bytes of a compressed message).
    frag_start: usize,
    /// A fragment of the current message has been reported.
    frag_seen: bool,
    /// The whole message, reported right after its last fragment.
    pending: Option<Decoded>,
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
            z: None,
            utf8: Utf8Validator::default(),
            ctrl: BytesMut::new(),
            in_place: 0,
            accept_masked: false,
            deliver_fragments: false,
            frag_start: 0,
            frag_seen: false,
            pending: None,
        }
    }

    /// As a client, accept masked frames from the server ([`Config::accept_masked_frames`](super::Config::accept_masked_frames)).
    pub(super) fn set_accept_masked(&mut self, on: bool) {
        self.accept_masked = on;
    }

    /// Report the frames of fragmented messages ([`Config::deliver_fragments`](super::Config::deliver_fragments)).
    pub(super) fn set_deliver_fragments(&mut self, on: bool) {
        self.deliver_fragments = on;
    }

    /// Reads from `input` (advancing it) until one item is complete; `None` once
    /// `input` is used up with nothing to report. `failed`: the connection has failed,
    /// so new data frames are skipped. `deflate`: the negotiated permessage-deflate.
    pub(super) fn next(
        &mut self,
        input: &mut &[u8],
        failed: bool,
        deflate: Option<&mut PerMessageDeflate>,
    ) -> Option<Decoded> {
        self.next_inner(input, failed, deflate, false)
    }

    /// Reads from the front of the host's buffer `buf` until one item is complete;
    /// `None` once nothing more can be done with what `buf` holds. Consumed bytes are
    /// split off the front of `buf`; what is left there (at most the start of one frame)
    /// is part of the stream, and the host appends its next read after it. Room for the
    /// rest of a frame left waiting is reserved in `buf` (within the size limits and
    /// MAX_UPFRONT_RESERVE).
    pub(super) fn next_buf(
        &mut self,
        buf: &mut BytesMut,
        failed: bool,
        mut deflate: Option<&mut PerMessageDeflate>,
    ) -> Option<Decoded> {
        if let Some(item) = self.pending.take() {
            return Some(item);
        }
        loop {
            if buf.is_empty() {
                return None;
            }
            if matches!(self.decode, Decode::Header) && self.hdr_len == 0 {
                match frame::parse_header(buf) {
                    // Eligible frames have a length within the size limits (so it fits
                    // a usize).
                    Ok(Some((h, n))) if self.whole_frame_eligible(&h, failed) => {
                        let len = h.len as usize;
                        let total = n + len;
                        let text = h.opcode == OpCode::Text.as_u8();
                        if buf.len() < total {
                            if text {
                                // Text is checked as it arrives (a bad byte fails the
                                // connection at once, not when the frame ends): what is
                                // here is unmasked in place and checked.
                                if let Some(item) = self.check_partial_text(buf, n, len, h.mask) {
                                    return Some(item);
                                }
                            }
                            // Wait for the rest, with room for it and the next header.
                            buf.reserve((total - buf.len()).min(MAX_UPFRONT_RESERVE) + MAX_HEADER_LEN);
                            return None;
                        }
                        buf.advance(n);
                        let mut payload = buf.split_to(len);
                        let done = std::mem::take(&mut self.in_place);
                        if let Some(key) = h.mask {
                            apply_mask(&mut payload[done..], key, done);
                        }
                        return Some(self.whole_message(text, payload.freeze(), done > 0));
                    }
                    Ok(None) => {
                        // An incomplete header stays where it is.
                        return None;
                    }
                    _ => {}
                }
            }
            if let Some(item) = self.stream_one(buf, failed, deflate.as_deref_mut()) {
                return Some(item);
            }
        }
    }

    /// The part of a text frame (header `n` bytes, payload `len`) in `buf` so far:
    /// unmasks what is new in place and checks its UTF-8. A violation consumes what is
    /// here and skips the rest of the frame, as the copying way does.
    fn check_partial_text(
        &mut self,
        buf: &mut BytesMut,
        n: usize,
        len: usize,
        mask: Option<[u8; 4]>,
    ) -> Option<Decoded> {
        let have = buf.len() - n;
        let payload = &mut buf[n..];
        if let Some(key) = mask {
            apply_mask(&mut payload[self.in_place..], key, self.in_place);
        }
        self.in_place = have;
        if self.utf8.feed(payload).is_ok() {
            return None;
        }
        buf.clear();
        self.in_place = 0;
        self.utf8.reset();
        self.decode = Decode::Payload {
            remaining: (len - have) as u64,
            mask: None,
            mask_offset: 0,
            fin: true,
            dest: Dest::Discard,
        };
        Some(invalid_payload("invalid UTF-8 in a text message"))
    }

    /// A whole single-frame message split out of the host's buffer (already unmasked).
    /// `checked_before`: part of its text was checked while it arrived.
    fn whole_message(&mut self, text: bool, data: Bytes, checked_before: bool) -> Decoded {
        if !text {
            return Decoded::Message(Message::Binary(data));
        }
        let ok = if checked_before {
            self.utf8.feed(&data).is_ok() && self.utf8.is_complete(&data)
        } else {
            simdutf8::basic::from_utf8(&data).is_ok()
        };
        self.utf8.reset();
        if ok {
            return Decoded::Message(Message::Text(Text::from_validated(data)));
        }
        // The same reasons as the copying way gives.
        match simdutf8::compat::from_utf8(&data) {
            Err(e) if e.error_len().is_none() => invalid_payload("text message ends inside a UTF-8 sequence"),
            _ => invalid_payload("invalid UTF-8 in a text message"),
        }
    }

    /// The copying way over the front of `buf`, up to the end of the current frame (so
    /// that [`next_buf`](Self::next_buf) can look at the next header itself).
    fn stream_one(
        &mut self,
        buf: &mut BytesMut,
        failed: bool,
        deflate: Option<&mut PerMessageDeflate>,
    ) -> Option<Decoded> {
        if self.in_place > 0 {
            // A text frame was being checked in place, and is no longer eligible (the
            // connection failed meanwhile): it is skipped whole, so forget that check.
            self.in_place = 0;
            self.utf8.reset();
        }
        let mut input: &[u8] = buf;
        let before = input.len();
        let item = self.next_inner(&mut input, failed, deflate, true);
        let used = before - input.len();
        buf.advance(used);
        item
    }

    /// Whether a frame can be split whole out of the host's buffer: the first and only
    /// frame of an uncompressed data message, with nothing wrong in its header (anything
    /// else takes the copying way, which reports what is wrong).
    fn whole_frame_eligible(&self, h: &FrameHeader, failed: bool) -> bool {
        let data = h.opcode == OpCode::Binary.as_u8() || h.opcode == OpCode::Text.as_u8();
        let mask_ok = match self.role {
            Role::Server => h.mask.is_some(),
            Role::Client => h.mask.is_none(),
        };
        data && h.fin
            && h.rsv == 0
            && mask_ok
            && !failed
            && self.msg_kind.is_none()
            && h.len <= self.max_frame_size as u64
            && h.len <= self.max_message_size as u64
    }

    fn next_inner(
        &mut self,
        input: &mut &[u8],
        failed: bool,
        mut deflate: Option<&mut PerMessageDeflate>,
        stop_at_frame_end: bool,
    ) -> Option<Decoded> {
        if let Some(item) = self.pending.take() {
            return Some(item);
        }
        loop {
            match self.decode {
                Decode::Payload { remaining: 0, .. } => {
                    if let Some(item) = self.finish_frame(deflate.as_deref_mut()) {
                        return Some(item);
                    }
                    if stop_at_frame_end {
                        return None;
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
        self.z = None;
        self.msg_kind = None;
        self.msg_compressed = false;
        self.utf8.reset();
        self.in_place = 0;
        self.frag_seen = false;
        self.frag_start = 0;
    }

    /// A header from `input`, completing one buffered from earlier reads. `Ok(None)`:
    /// the header is incomplete and all of `input` is held for the next read.
    fn parse_header(&mut self, input: &[u8]) -> Result<Option<(FrameHeader, usize)>, Decoded> {
        let parsed = if self.hdr_len == 0 {
            frame::parse_header(input)
        } else {
            let held = usize::from(self.hdr_len);
            let take = (MAX_HEADER_LEN - held).min(input.len());
            self.hdr_buf[held..held + take].copy_from_slice(&input[..take]);
            match frame::parse_header(&self.hdr_buf[..held + take]) {
                Ok(None) => {
                    // Fewer than MAX_HEADER_LEN (14) bytes in all: fits a u8.
                    self.hdr_len = (held + take) as u8;
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
                self.hdr_len = input.len() as u8;
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
                self.frag_start = if self.msg_compressed {
                    self.z.as_ref().map_or(0, |z| z.inflated.len())
                } else {
                    self.msg.len()
                };
                if !self.msg_compressed {
                    // Within both size limits (checked above) and the up-front cap.
                    let want = usize::try_from(h.len).unwrap_or(usize::MAX).min(MAX_UPFRONT_RESERVE);
                    if self.msg.capacity() - self.msg.len() < want {
                        // Room for the whole frame at once (no regrowth copies as its
                        // bytes come, up to MAX_UPFRONT_RESERVE), and for the bytes
                        // already in hand (up to MAX_CARVE): the messages of one read are
                        // carved out of one allocation (`split` hands each a view of it)
                        // instead of costing two allocations each (buffer + header).
                        self.msg.reserve(want.max(in_hand.min(MAX_CARVE)));
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
        let mask_offset = usize::from(mask_offset);
        let mut violation = None;
        let next_offset = match dest {
            Dest::Message if self.msg_compressed => {
                let z = self.z.get_or_insert_with(Box::default);
                z.deflated.clear();
                let off = match mask {
                    Some(k) => extend_masked_vec(&mut z.deflated, chunk, k, mask_offset),
                    None => {
                        z.deflated.extend_from_slice(chunk);
                        0
                    }
                };
                let result = match deflate {
                    Some(d) => d.inflate(&z.deflated, &mut z.inflated, self.max_message_size),
                    None => Err(InflateError::Corrupt),
                };
                violation = self.after_inflate(result);
                off
            }
            Dest::Message => {
                let off = match mask {
                    Some(k) => extend_masked(&mut self.msg, chunk, k, mask_offset),
                    None => {
                        self.msg.extend_from_slice(chunk);
                        0
                    }
                };
                if self.msg_kind == Some(OpCode::Text) && self.utf8.feed(&self.msg).is_err() {
                    violation = Some(invalid_payload("invalid UTF-8 in a text message"));
                }
                off
            }
            Dest::Control(_) => match mask {
                Some(k) => extend_masked(&mut self.ctrl, chunk, k, mask_offset),
                None => {
                    self.ctrl.extend_from_slice(chunk);
                    0
                }
            },
            Dest::Discard | Dest::BrokenClose => 0,
        };
        // A violation skips the rest of the frame.
        let dest = if violation.is_some() { Dest::Discard } else { dest };
        self.decode = Decode::Payload {
            remaining: remaining - chunk.len() as u64,
            mask,
            // Masking returns an offset below 4.
            mask_offset: (next_offset & 3) as u8,
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
            Dest::Message if fin => {
                let item = self.finish_message(deflate);
                if !std::mem::take(&mut self.frag_seen) {
                    return Some(item);
                }
                let Decoded::Message(m) = &item else {
                    return Some(item);
                };
                let whole = match m {
                    Message::Text(t) => t.as_bytes(),
                    Message::Binary(b) => b,
                };
                let data = whole.slice(self.frag_start.min(whole.len())..);
                self.pending = Some(item);
                Some(Decoded::Fragment {
                    opcode: OpCode::Continuation.as_u8(),
                    fin: true,
                    data,
                })
            }
            Dest::Message if self.deliver_fragments => {
                let opcode = if self.frag_seen {
                    OpCode::Continuation
                } else {
                    self.msg_kind.unwrap_or(OpCode::Binary)
                };
                self.frag_seen = true;
                let buf: &[u8] = if self.msg_compressed {
                    self.z.as_ref().map_or(&[][..], |z| &z.inflated)
                } else {
                    &self.msg
                };
                let data = Bytes::copy_from_slice(&buf[self.frag_start.min(buf.len())..]);
                Some(Decoded::Fragment {
                    opcode: opcode.as_u8(),
                    fin: false,
                    data,
                })
            }
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
            Ok(())
                if self.msg_kind == Some(OpCode::Text)
                    && self
                        .utf8
                        .feed(self.z.as_ref().map_or(&[][..], |z| &z.inflated))
                        .is_err() =>
            {
                Some(invalid_payload("invalid UTF-8 in a text message"))
            }
            Ok(()) => None,
        }
    }

    fn finish_message(&mut self, deflate: Option<&mut PerMessageDeflate>) -> Decoded {
        if self.msg_compressed {
            let result = match deflate {
                Some(d) => d.finish(
                    &mut self.z.get_or_insert_with(Box::default).inflated,
                    self.max_message_size,
                ),
                None => Err(InflateError::Corrupt),
            };
            if let Some(violation) = self.after_inflate(result) {
                return violation;
            }
        }
        let kind = self.msg_kind.take();
        let data = if std::mem::take(&mut self.msg_compressed) {
            Bytes::from(
                self.z
                    .as_mut()
                    .map(|z| std::mem::take(&mut z.inflated))
                    .unwrap_or_default(),
            )
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
