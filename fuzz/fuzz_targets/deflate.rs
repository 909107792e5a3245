//! The permessage-deflate path: negotiation, inflation of arbitrary data, round trips.
//!
//! Input: `[mode, a, b, c, rest...]`.
//! - mode 0: `rest` is untrusted compressed data, inflated in chunks under a limit: never
//!   a panic, and the output never exceeds the limit (zip-bomb safety).
//! - mode 1: `rest` split into messages, compressed with fuzzed level / window / context
//!   takeover and inflated again: the round trip is exact, message after message.
//! - mode 2: negotiation. Our client's offer, answered by our server, must be accepted by
//!   our client, whatever the two configurations; and arbitrary header text must never
//!   make either side panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use steadysock::deflate::{self, Compressor, Decompressor, DeflateConfig};

fn config(bits: u8) -> DeflateConfig {
    let window = |b: u8| match b & 7 {
        0..=1 => None,
        n => Some(8 + n),
    };
    DeflateConfig {
        level: u32::from(bits % 10),
        threshold: 0,
        client_no_context_takeover: bits & 0x10 != 0,
        server_no_context_takeover: bits & 0x20 != 0,
        client_max_window_bits: window(bits),
        server_max_window_bits: window(bits >> 3),
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, a, b, c, rest @ ..] = data else { return };
    match mode % 3 {
        0 => {
            let limit = usize::from(*a) * 64 + usize::from(*b);
            let mut d = Decompressor::new(c & 1 != 0);
            let mut out = Vec::new();
            let chunk = usize::from(*c).max(1);
            for part in rest.chunks(chunk) {
                match d.inflate(part, &mut out, limit) {
                    Ok(()) => assert!(out.len() <= limit, "inflated past the limit"),
                    // TooBig, Corrupt (or a kind added later): the stream ends.
                    Err(_) => return,
                }
            }
            if d.finish(&mut out, limit).is_ok() {
                assert!(out.len() <= limit, "inflated past the limit at the end");
            }
        }
        1 => {
            let level = u32::from(*a % 10);
            let bits = 9 + (*b % 7);
            let reset = c & 1 != 0;
            let Some(mut comp) = Compressor::new(level, bits, reset) else {
                panic!("window {bits} refused");
            };
            let mut decomp = Decompressor::new(reset);
            let cut = usize::from(*c >> 1).max(1);
            for msg in rest.chunks(cut * 8) {
                let mut z = Vec::new();
                comp.compress(msg, &mut z);
                let mut out = Vec::new();
                let limit = msg.len();
                decomp.inflate(&z, &mut out, limit).expect("our own output inflates");
                decomp.finish(&mut out, limit).expect("our own output ends");
                assert_eq!(out, msg, "round trip");
            }
        }
        _ => {
            let client = config(*a);
            let server = config(*b);
            let offer = deflate::client_offer(&client).expect("deflate feature is on");
            if let Some((response, agreement)) = deflate::server_accept(&server, [offer.as_str()].into_iter()) {
                let mine = deflate::client_accept(&client, &response)
                    .unwrap_or_else(|e| panic!("our client refused our server: {offer:?} -> {response:?}: {e}"));
                assert!((8..=15).contains(&agreement.send_window_bits));
                assert!((8..=15).contains(&mine.send_window_bits));
            }
            let text = String::from_utf8_lossy(rest);
            let _ = deflate::server_accept(&server, [text.as_ref()].into_iter());
            let _ = deflate::client_accept(&client, &text);
        }
    }
});
