//! A server reading an arbitrary request head (and whatever follows it).
//!
//! Input: `[flags, seed_lo, seed_hi, bytes...]`.
//! - flags bits 0-1: max_handshake_size 128 / 512 / 4096 / 16384; bits 2-3: what the
//!   host does with an `Event::Request`: 0 accept at once, 1 accept a few reads later
//!   (possibly only after EOF), 2 reject, 3 close; bits 4-5: read size class;
//!   bit 6: large time steps (to reach the handshake timeout); bit 7: which
//!   subprotocol to accept (none / the first offered, or one never offered, which
//!   `accept` must refuse).
//! - seed: read sizes, time steps, the delay before a late accept.

#![no_main]

use libfuzzer_sys::fuzz_target;
use steadysock::handshake::accept_key;
use steadysock::{Accept, Connection, Event, Request, State};
use steadysock_fuzz::*;

struct Host {
    policy: u8,
    pick_sub: bool,
    pending: Option<Request>,
    delay: u64,
    decided: bool,
}

impl Host {
    /// Acts on a pending request when the policy says so.
    fn act(&mut self, c: &mut Connection, w: &mut Watch, now: u64, at_end: bool) {
        let Some(req) = self.pending.as_ref() else { return };
        if self.decided {
            return;
        }
        match self.policy {
            1 if self.delay > 0 && !at_end => {
                self.delay -= 1;
                return;
            }
            _ => {}
        }
        self.decided = true;
        let was = c.state();
        if was == State::Closed && self.policy != 3 && allow_known("accept-after-close") {
            // Known bug (fuzz/regressions/handshake_server/): accept/reject after the
            // connection closed reopen it / write a response. Stepped around on request.
            return;
        }
        match self.policy {
            0 | 1 => {
                if self.pick_sub && req.subprotocols.is_empty() {
                    // A subprotocol the client never offered must be refused.
                    let r = c.accept(
                        Accept {
                            subprotocol: Some("never-offered".into()),
                            headers: Vec::new(),
                        },
                        now,
                    );
                    assert!(r.is_err(), "accepted a subprotocol the client did not offer");
                }
                let sub = if self.pick_sub {
                    req.subprotocols.first().cloned()
                } else {
                    None
                };
                let key = req.key.clone();
                let r = c.accept(
                    Accept {
                        subprotocol: sub.clone(),
                        headers: vec![("X-Server".into(), "fuzz".into())],
                    },
                    now,
                );
                assert!(
                    was != State::Closed || r.is_err(),
                    "accept() after Event::Closed returned Ok; state is now {:?}",
                    c.state()
                );
                if was == State::Connecting {
                    assert!(r.is_ok(), "accept of a pending request failed: {r:?}");
                    let (tx, _) = w.drain(c);
                    check_head(&tx, "101 response");
                    let head = String::from_utf8_lossy(&tx);
                    assert!(head.starts_with("HTTP/1.1 101 "), "accept sent {head:?}");
                    assert!(
                        head.contains(&format!("Sec-WebSocket-Accept: {}\r\n", accept_key(&key))),
                        "wrong accept key in {head:?}"
                    );
                    if let Some(p) = sub {
                        assert!(head.contains(&format!("Sec-WebSocket-Protocol: {p}\r\n")));
                    }
                }
            }
            2 => {
                let r = c.reject(401, &[("WWW-Authenticate".into(), "Bearer".into())], b"no");
                assert!(
                    was != State::Closed || r.is_err(),
                    "reject() after Event::Closed returned Ok and queued {} bytes",
                    c.buffered_amount()
                );
                if was == State::Connecting {
                    assert!(r.is_ok(), "reject of a pending request failed: {r:?}");
                    let (tx, _) = w.drain(c);
                    check_head(&tx, "401 response");
                    assert!(tx.starts_with(b"HTTP/1.1 401 "));
                    assert!(c.should_close_transport());
                }
            }
            _ => {
                assert!(c.close(1000, "", now).is_ok());
                assert_eq!(c.state(), State::Closed, "close() while connecting");
            }
        }
    }
}

fn drain(c: &mut Connection, w: &mut Watch, host: &mut Host) {
    let (tx, events) = w.drain(c);
    if !tx.is_empty() && !w.opened {
        // Before Open the server only ever writes an HTTP error response.
        check_head(&tx, "error response");
    }
    for ev in events {
        if let Event::Request(r) = ev {
            assert!(r.key.len() == 24, "key {:?} is not 16 bytes of base64", r.key);
            host.pending = Some(r);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((flags, seed, mut rest)) = split_input(data) else {
        return;
    };
    let max_hs = [128, 512, 4096, 16 << 10][usize::from(flags & 3)];
    let mut split = Splitter::new(seed, (flags >> 4) & 3);
    let step_max: u64 = if flags & 0x40 != 0 { 4000 } else { 3 };
    let mut host = Host {
        policy: (flags >> 2) & 3,
        pick_sub: flags & 0x80 != 0,
        pending: None,
        delay: split.below(6),
        decided: false,
    };

    let cfg = config(false, true, max_hs);
    let mut c = Connection::server(cfg, rng(SERVER_SEED), 0);
    let mut w = Watch::new("server", true, MAX_MESSAGE);
    let mut now = 0u64;
    while !rest.is_empty() {
        let (chunk, r) = split.next_chunk(rest);
        rest = r;
        w.input(&mut c, chunk, now);
        drain(&mut c, &mut w, &mut host);
        host.act(&mut c, &mut w, now, false);
        drain(&mut c, &mut w, &mut host);
        now += split.below(step_max + 1);
        drive_timers(&mut c, now);
        drain(&mut c, &mut w, &mut host);
    }
    if host.policy == 1 && split.below(2) == 0 {
        // A host that decides only after the peer hung up.
        c.handle_eof(now);
        drain(&mut c, &mut w, &mut host);
    }
    host.act(&mut c, &mut w, now, true);
    drain(&mut c, &mut w, &mut host);
    w.finish(&mut c, now);
});
