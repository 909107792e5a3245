//! Frame decoding on an open connection.
//!
//! Input: `[flags, seed_lo, seed_hi, stream...]`.
//! - flags bit 0: the stream goes to the client (as if from the server) instead of the
//!   server; bit 1: keepalive on; bit 2: auto_pong off; bit 3: the application also
//!   sends, pings and closes between reads; bits 4-5: read size class; bits 6-7: how
//!   far time moves between reads.
//! - seed: drives the read sizes, the time steps and the application's actions.
//!
//! The fuzzed side's output is fed to its (well-behaved) peer, which must never see a
//! protocol violation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use steadysock::{Connection, State};
use steadysock_fuzz::*;

const TEXT: &str = "h\u{e9}llo w\u{f6}rld \u{1f600} ";

fn app_action(c: &mut Connection, w: &mut Watch, split: &mut Splitter, now: u64) {
    let open = c.state() == State::Open;
    match split.below(16) {
        0 => {
            assert_eq!(c.send_text(TEXT).is_ok(), open, "send_text vs state");
            w.app_bytes += TEXT.len() + 64;
        }
        1 => {
            // Over fragment_size (100): fragmented, and text cut inside a code point.
            let s = TEXT.repeat(1 + split.below(12) as usize);
            assert_eq!(c.send_text(&s).is_ok(), open, "send_text (fragmented) vs state");
            w.app_bytes += s.len() + 64 * (1 + s.len() / 100);
        }
        2 => {
            let b = vec![0xa5u8; split.below(300) as usize];
            assert_eq!(c.send_binary(&b).is_ok(), open, "send_binary vs state");
            w.app_bytes += b.len() + 64 * (1 + b.len() / 100);
        }
        3 => {
            assert_eq!(c.ping(b"app-ping").is_ok(), open, "ping vs state");
            w.app_bytes += 64;
        }
        4 => {
            assert_eq!(c.pong(b"hb").is_ok(), open, "pong vs state");
            w.app_bytes += 64;
        }
        5 => {
            assert!(c.ping(&[0u8; 126]).is_err(), "126-byte ping accepted");
            assert!(c.close(1005 + 1, "", now).is_err() || !open, "close code 1006 accepted");
        }
        6 => {
            let before = c.state();
            assert!(c.close(1000, "bye", now).is_ok(), "close(1000) refused");
            w.app_bytes += 64;
            if before == State::Open {
                assert_eq!(c.state(), State::Closing, "close() from Open");
            } else {
                assert_eq!(c.state(), before, "close() outside Open changed the state");
            }
        }
        7 => {
            // A 1005 close sends no code at all.
            let _ = c.close(1005, "", now);
            w.app_bytes += 64;
        }
        _ => {}
    }
}

/// Moves the fuzzed side's output to the peer and checks what the peer makes of it.
fn pump(target: &mut Connection, w: &mut Watch, peer: &mut Connection, pw: &mut Watch, now: u64) {
    let (tx, _events) = w.drain(target);
    if !tx.is_empty() {
        pw.input(peer, &tx, now);
    }
    let (_, pev) = pw.drain(peer);
    check_peer_events(&pev, pw.name);
}

fuzz_target!(|data: &[u8]| {
    let Some((flags, seed, mut rest)) = split_input(data) else {
        return;
    };
    let to_client = flags & 1 != 0;
    let keepalive = flags & 2 != 0;
    let auto_pong = flags & 4 == 0;
    let app = flags & 8 != 0;
    let mut split = Splitter::new(seed, (flags >> 4) & 3);
    let step_max: u64 = match flags >> 6 {
        0 => 0,
        1 => 10,
        2 => 700,
        _ => 6000,
    };

    let cfg = config(keepalive, auto_pong, 16 << 10);
    let (client, server) = open_pair(&cfg);
    let (mut target, mut peer, mut w, mut pw) = if to_client {
        (
            client,
            server,
            Watch::new("client", false, MAX_MESSAGE),
            Watch::new("peer server", true, MAX_MESSAGE),
        )
    } else {
        (
            server,
            client,
            Watch::new("server", true, MAX_MESSAGE),
            Watch::new("peer client", false, MAX_MESSAGE),
        )
    };
    for x in [&mut w, &mut pw] {
        x.opened = true;
        x.requests = usize::from(x.server);
        // The pair's handshake output is not counted.
    }

    let mut now = 0u64;
    while !rest.is_empty() {
        let (chunk, r) = split.next_chunk(rest);
        rest = r;
        w.input(&mut target, chunk, now);
        pump(&mut target, &mut w, &mut peer, &mut pw, now);
        if app {
            app_action(&mut target, &mut w, &mut split, now);
            pump(&mut target, &mut w, &mut peer, &mut pw, now);
        }
        now += split.below(step_max + 1);
        drive_timers(&mut target, now);
        pump(&mut target, &mut w, &mut peer, &mut pw, now);
    }

    let tail = w.finish(&mut target, now);
    if !tail.is_empty() {
        pw.input(&mut peer, &tail, now);
    }
    let (_, pev) = pw.drain(&mut peer);
    check_peer_events(&pev, pw.name);
    pw.finish(&mut peer, now);
});
