//! Close status codes (RFC 6455 §7.4) and which of them may appear on the wire.
//!
//! 1005 (no status), 1006 (abnormal) and 1015 (TLS failure) are only ever *reported*
//! locally; a close frame carrying them is a protocol error. 1004 is reserved, 1016–2999
//! belong to future RFCs, 3000–3999 to registered libraries and 4000–4999 to
//! applications. Anything else is invalid.

/// 1000: the purpose of the connection was fulfilled.
pub const NORMAL: u16 = 1000;
/// 1001: an endpoint is going away (server shutdown, page navigation).
pub const GOING_AWAY: u16 = 1001;
/// 1002: protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1003: a data type the endpoint cannot accept.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// 1005: reported when a close frame carried no status code. Never sent.
pub const NO_STATUS: u16 = 1005;
/// 1006: reported when the connection ended without a close frame. Never sent.
pub const ABNORMAL: u16 = 1006;
/// 1007: message data inconsistent with its type (e.g. bad UTF-8 in text).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008: policy violation.
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009: message too big to process.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// 1010: the client expected an extension the server did not negotiate.
pub const MANDATORY_EXTENSION: u16 = 1010;
/// 1011: unexpected condition on the server.
pub const INTERNAL_ERROR: u16 = 1011;
/// 1012: service restart.
pub const SERVICE_RESTART: u16 = 1012;
/// 1013: try again later.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// 1014: bad gateway.
pub const BAD_GATEWAY: u16 = 1014;
/// 1015: TLS handshake failure. Never sent.
pub const TLS_FAILURE: u16 = 1015;

/// Whether `code` may be carried by a close frame, sent or received.
pub fn is_valid_on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_code_table() {
        for ok in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
        ] {
            assert!(is_valid_on_wire(ok), "{ok} should be valid");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert!(!is_valid_on_wire(bad), "{bad} should be invalid");
        }
    }
}
