//! A client reading an arbitrary response (and whatever follows it), and `WsUrl::parse`
//! on strings made from the same bytes.
//!
//! Input: `[flags, seed_lo, seed_hi, bytes...]`.
//! - flags bits 0-1: max_handshake_size 64 / 256 / 1024 / 16384; bit 2: offer the
//!   subprotocols `chat, v2`; bits 4-5: read size class; bit 6: large time steps;
//!   bit 7: the application closes after the first reads.
//! - seed: read sizes and time steps.
//!
//! The client key comes from `SeededRandom::new(CLIENT_SEED)`, so a seed file can carry
//! the matching `Sec-WebSocket-Accept` (see fuzz/gen_seeds.py).

#![no_main]

use libfuzzer_sys::fuzz_target;
use steadysock::{ClientRequest, Connection, State, WsUrl};
use steadysock_fuzz::*;

/// `WsUrl::parse` must not panic; what it accepts must make a well-formed request whose
/// `Host` and target parse back to the same URL.
fn check_url(s: &str) {
    let Ok(u) = WsUrl::parse(s) else { return };
    assert!(!u.host.is_empty(), "empty host from {s:?}");
    assert!(u.resource.starts_with('/'), "resource {:?} from {s:?}", u.resource);
    if u.host.contains([':', '[', ']']) && allow_known("url-host-brackets") {
        // Known bug (fuzz/regressions/handshake_client/): an unbracketed host with ':'
        // or a host with brackets in it is accepted, and its Host header is garbage.
        return;
    }
    let scheme = if u.secure { "wss" } else { "ws" };
    let again = format!("{scheme}://{}{}", u.host_header(), u.resource);
    match WsUrl::parse(&again) {
        Ok(v) => assert_eq!(u, v, "{s:?} -> {again:?} does not round-trip"),
        Err(e) => panic!("{s:?} parsed, but its own Host + target {again:?} does not: {e}"),
    }
    let req = ClientRequest {
        url: s.to_string(),
        ..Default::default()
    };
    let mut c = Connection::client(&req, config(false, true, 1024), rng(CLIENT_SEED), 0)
        .unwrap_or_else(|e| panic!("WsUrl accepted {s:?} but Connection::client refused: {e}"));
    let head = drain_tx(&mut c);
    check_head(&head, "client request");
    assert_eq!(
        head.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4),
        Some(head.len())
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_url(&text);
    check_url(&format!("ws://{text}"));
    let Some((flags, seed, mut rest)) = split_input(data) else {
        return;
    };
    let max_hs = [64, 256, 1024, 16 << 10][usize::from(flags & 3)];
    let mut split = Splitter::new(seed, (flags >> 4) & 3);
    let step_max: u64 = if flags & 0x40 != 0 { 4000 } else { 3 };
    let app_close = flags & 0x80 != 0;

    let cfg = config(false, true, max_hs);
    let mut c = Connection::client(&client_request(flags & 4 != 0), cfg, rng(CLIENT_SEED), 0).expect("client");
    let mut w = Watch::new("client", false, MAX_MESSAGE);
    let (req, _) = w.drain(&mut c);
    check_head(&req, "client request");
    w.bytes_out = 0; // the request is not driven by input

    let mut now = 0u64;
    let mut reads = 0;
    while !rest.is_empty() {
        let (chunk, r) = split.next_chunk(rest);
        rest = r;
        w.input(&mut c, chunk, now);
        w.drain(&mut c);
        reads += 1;
        if app_close && reads == 2 {
            let was = c.state();
            assert!(c.close(1000, "bye", now).is_ok());
            let expect = match was {
                State::Open => State::Closing,
                State::Connecting => State::Closed,
                s => s,
            };
            assert_eq!(c.state(), expect, "close() from {was:?}");
            w.app_bytes += 64;
            w.drain(&mut c);
        }
        now += split.below(step_max + 1);
        drive_timers(&mut c, now);
        w.drain(&mut c);
    }
    w.finish(&mut c, now);
});
