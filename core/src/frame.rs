//! Frame headers (RFC 6455 §5.2): parsing and writing.
//!
//! Only the header is parsed here. Payloads never pass through a frame-sized buffer of
//! their own: the connection either copies payload bytes straight from the input into
//! the message (or control) buffer, unmasking them on the way, or splits a whole frame
//! out of the host's read buffer and unmasks it in place.

use bytes::{BufMut, BytesMut};

/// Frame opcodes that RFC 6455 defines. Others are reserved and rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: first frame of a text message.
    Text,
    /// 0x2: first frame of a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` if it is reserved.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A parsed frame header. `opcode` is raw, so that a reserved opcode can be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit: last frame of a message.
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits (RSV1 = 0b100).
    pub rsv: u8,
    /// The raw 4-bit opcode.
    pub opcode: u8,
    /// The masking key, if the MASK bit was set.
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub len: u64,
}

/// The header cannot be valid: its 64-bit length has the most significant bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthOverflow;

/// The longest possible header: 2 + 8 (length) + 4 (mask).
pub const MAX_HEADER_LEN: usize = 14;

/// Parses a header from the start of `buf`: `Ok(None)` if more bytes are needed,
/// otherwise the header and its length in bytes.
pub fn parse_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, LengthOverflow> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    let masked = b1 & 0x80 != 0;
    let (len, mut pos) = match b1 & 0x7f {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(b);
            if len >> 63 != 0 {
                return Err(LengthOverflow);
            }
            (len, 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        let key = [buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]];
        pos += 4;
        Some(key)
    } else {
        None
    };
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x07,
        opcode: b0 & 0x0f,
        mask,
        len,
    };
    Ok(Some((header, pos)))
}

/// Appends a header to `dst`, reserving room for the payload too. `rsv1` marks a
/// compressed message (RFC 7692).
pub fn write_header(dst: &mut BytesMut, fin: bool, rsv1: bool, opcode: OpCode, mask: Option<[u8; 4]>, len: usize) {
    let (hdr, n) = header_bytes(fin, rsv1, opcode, mask, len);
    dst.reserve(n + len);
    dst.put_slice(&hdr[..n]);
}

/// A header as bytes: the first `n` of the array.
pub fn header_bytes(
    fin: bool,
    rsv1: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    len: usize,
) -> ([u8; MAX_HEADER_LEN], usize) {
    let mut h = [0u8; MAX_HEADER_LEN];
    h[0] = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode.as_u8();
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut n = 2;
    if len < 126 {
        h[1] = mask_bit | len as u8;
    } else if len <= usize::from(u16::MAX) {
        h[1] = mask_bit | 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        n = 4;
    } else {
        h[1] = mask_bit | 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        n = 10;
    }
    if let Some(key) = mask {
        h[n..n + 4].copy_from_slice(&key);
        n += 4;
    }
    (h, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_vectors() {
        // RFC 6455 §5.7: single-frame unmasked "Hello".
        let (h, n) = parse_header(&[0x81, 0x05, 0x48]).unwrap().unwrap();
        assert_eq!((h.fin, h.opcode, h.len, h.mask, n), (true, 1, 5, None, 2));
        // Masked "Hello" from a client.
        let (h, n) = parse_header(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]).unwrap().unwrap();
        assert_eq!((h.mask, n), (Some([0x37, 0xfa, 0x21, 0x3d]), 6));
        // First fragment of an unmasked text message "Hel".
        let (h, _) = parse_header(&[0x01, 0x03]).unwrap().unwrap();
        assert!(!h.fin && h.opcode == 1);
        // 256 bytes binary, 16-bit length.
        let (h, n) = parse_header(&[0x82, 0x7e, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!((h.len, n), (256, 4));
        // 64 KiB binary, 64-bit length.
        let (h, n) = parse_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap().unwrap();
        assert_eq!((h.len, n), (65536, 10));
    }

    #[test]
    fn incomplete_headers_ask_for_more() {
        let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert_eq!(parse_header(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse_header(&full).unwrap().is_some());
    }

    #[test]
    fn rsv_bits_and_reserved_opcodes_are_reported_raw() {
        let (h, _) = parse_header(&[0xf3, 0x00]).unwrap().unwrap();
        assert_eq!((h.rsv, h.opcode), (0b111, 3));
        assert_eq!(OpCode::from_u8(3), None);
        assert_eq!(OpCode::from_u8(0xB), None);
    }

    #[test]
    fn length_with_top_bit_is_rejected() {
        assert_eq!(
            parse_header(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(LengthOverflow)
        );
    }

    #[test]
    fn write_then_parse_roundtrips_every_length_class() {
        for len in [0usize, 1, 125, 126, 65535, 65536, 1 << 20] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let mut b = BytesMut::new();
                write_header(&mut b, true, false, OpCode::Binary, mask, len);
                let (h, n) = parse_header(&b).unwrap().unwrap();
                assert_eq!(n, b.len());
                assert_eq!((h.fin, h.rsv, h.opcode, h.mask, h.len), (true, 0, 2, mask, len as u64));
            }
        }
    }
}
