//! Whole-connection behaviour: a client and a server wired back to back in memory, and
//! hand-built byte streams for what a well-behaved peer would never send.

use super::*;
use crate::mask::apply_mask;
use crate::rng::SeededRandom;

fn rng(seed: u64) -> Box<dyn RandomSource> {
    Box::new(SeededRandom::new(seed))
}

fn client_with(config: Config) -> Connection {
    let req = ClientRequest {
        url: "ws://example.com:9000/chat?room=1".into(),
        ..Default::default()
    };
    Connection::client(&req, config, rng(1), 0).unwrap()
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn drain(c: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        out.extend_from_slice(&b);
    }
    out
}

/// Moves bytes both ways until neither side has anything to say. `chunk` splits every
/// delivery into reads of that size, to exercise every partial-input path.
fn pump(a: &mut Connection, b: &mut Connection, now: u64, chunk: usize) {
    loop {
        let ab = drain(a);
        let ba = drain(b);
        if ab.is_empty() && ba.is_empty() {
            return;
        }
        for c in ab.chunks(chunk.max(1)) {
            b.handle_input(c, now);
        }
        for c in ba.chunks(chunk.max(1)) {
            a.handle_input(c, now);
        }
    }
}

/// An open client/server pair; the server accepted with `chat`.
fn open_pair(config: Config, chunk: usize) -> (Connection, Connection) {
    let req = ClientRequest {
        url: "ws://example.com/chat".into(),
        subprotocols: vec!["chat".into(), "v2".into()],
        headers: vec![("Authorization".into(), "Bearer t".into())],
    };
    let mut c = Connection::client(&req, config.clone(), rng(1), 0).unwrap();
    let mut s = Connection::server(config, rng(2), 0);
    pump(&mut c, &mut s, 0, chunk);
    let evs = events(&mut s);
    let Some(Event::Request(r)) = evs.first() else {
        panic!("expected a request, got {evs:?}")
    };
    assert_eq!(r.path, "/chat");
    assert_eq!(r.header("authorization"), Some("Bearer t"));
    s.accept(
        Accept {
            subprotocol: Some("chat".into()),
            headers: vec![],
        },
        0,
    )
    .unwrap();
    pump(&mut c, &mut s, 0, chunk);
    assert!(matches!(events(&mut s).as_slice(), [Event::Open(_)]));
    let evs = events(&mut c);
    let [Event::Open(info)] = evs.as_slice() else {
        panic!("client should open, got {evs:?}")
    };
    assert_eq!(info.subprotocol.as_deref(), Some("chat"));
    assert_eq!((c.state(), s.state()), (State::Open, State::Open));
    (c, s)
}

fn messages(evs: &[Event]) -> Vec<Message> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn closed(evs: &[Event]) -> Option<CloseInfo> {
    evs.iter().find_map(|e| match e {
        Event::Closed(i) => Some(i.clone()),
        _ => None,
    })
}

#[test]
fn messages_flow_both_ways_whatever_the_read_size() {
    for chunk in [1, 2, 3, 7, 13, 1 << 20] {
        let (mut c, mut s) = open_pair(Config::default(), chunk);
        let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        c.send_text("héllo 𝄞").unwrap();
        c.send_binary(&big).unwrap();
        c.send_text("").unwrap();
        s.send_binary(&[1, 2, 3]).unwrap();
        pump(&mut c, &mut s, 0, chunk);
        let got = messages(&events(&mut s));
        assert_eq!(
            got,
            vec![
                Message::text("héllo 𝄞"),
                Message::binary(big.clone()),
                Message::text("")
            ],
            "chunk {chunk}"
        );
        assert_eq!(messages(&events(&mut c)), vec![Message::binary(vec![1u8, 2, 3])]);
    }
}

#[test]
fn has_pending_output_tells_without_handing_out() {
    let (mut c, mut s) = open_pair(Config::default(), 1 << 20);
    assert!(!c.has_pending_output());
    c.send_text("one").unwrap();
    assert!(c.has_pending_output(), "a frame to write");
    let _ = drain(&mut c);
    assert!(!c.has_pending_output());
    s.send_text("a").unwrap();
    s.send_text("b").unwrap();
    c.handle_input(&drain(&mut s), 0);
    // Two messages in: asking leaves both in place.
    assert!(c.has_pending_output());
    assert!(c.has_pending_output());
    assert!(matches!(c.poll_output(), Some(Output::Event(Event::Message(_)))));
    assert!(c.has_pending_output(), "the second message");
    assert!(matches!(c.poll_output(), Some(Output::Event(Event::Message(_)))));
    assert!(!c.has_pending_output());
    assert!(c.poll_output().is_none());
}

#[test]
fn fragmented_sends_reassemble_with_interleaved_pings() {
    let cfg = Config {
        fragment_size: Some(5),
        ..Config::default()
    };
    let (mut c, mut s) = open_pair(cfg, 4);
    c.send_text("abcdefghijklmnopqrstuvwxyzé").unwrap();
    pump(&mut c, &mut s, 0, 4);
    assert_eq!(
        messages(&events(&mut s)),
        vec![Message::text("abcdefghijklmnopqrstuvwxyzé")]
    );
    // A ping between two fragments is answered and does not disturb the message.
    let mut wire = Vec::new();
    wire.extend_from_slice(&masked(0x01, b"Hel"));
    wire.extend_from_slice(&masked(0x89, b"p"));
    wire.extend_from_slice(&masked(0x80, b"lo"));
    s.handle_input(&wire, 0);
    let evs = events(&mut s);
    assert_eq!(
        evs,
        vec![
            Event::Ping(Bytes::from_static(b"p")),
            Event::Message(Message::text("Hello"))
        ]
    );
    assert_eq!(drain(&mut s), vec![0x8a, 0x01, b'p'], "pong echoes the ping payload");
}

#[test]
fn a_server_holds_at_most_the_handshake_limit_before_accept() {
    let config = Config {
        max_handshake_size: 4 << 10,
        ..Config::default()
    };
    for same_read in [true, false] {
        let mut c = client_with(Config::default());
        let req = drain(&mut c);
        let mut s = Connection::server(config.clone(), rng(3), 0);
        let early = masked(0x82, &[7u8; 5 << 10]);
        if same_read {
            let mut first = req.clone();
            first.extend_from_slice(&early);
            s.handle_input(&first, 0);
        } else {
            s.handle_input(&req, 0);
            s.handle_input(&early[..3 << 10], 0);
            assert_eq!(s.state(), State::Connecting, "under the limit: still waiting");
            s.handle_input(&early[3 << 10..], 0);
        }
        let evs = events(&mut s);
        assert!(matches!(evs.first(), Some(Event::Request(_))), "{evs:?}");
        assert!(
            matches!(evs.last(), Some(Event::Closed(info)) if !info.clean),
            "5 KiB of early frames against a 4 KiB limit: {evs:?}"
        );
        assert!(s.accept(Accept::default(), 0).is_err());
    }
}

#[test]
fn bytes_in_the_same_read_as_the_handshake_are_kept() {
    let mut c = client_with(Config::default());
    let req = drain(&mut c);
    let mut s = Connection::server(Config::default(), rng(3), 0);
    // The request and a first frame in one read.
    let mut first = req.clone();
    first.extend_from_slice(&masked(0x81, b"early"));
    s.handle_input(&first, 0);
    assert!(matches!(events(&mut s).as_slice(), [Event::Request(_)]));
    s.accept(Accept::default(), 0).unwrap();
    assert_eq!(messages(&events(&mut s)), vec![Message::text("early")]);
    // The response and a first server frame in one read.
    let mut resp = drain(&mut s);
    resp.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    c.handle_input(&resp, 0);
    let evs = events(&mut c);
    assert!(matches!(evs[0], Event::Open(_)));
    assert_eq!(messages(&evs), vec![Message::text("hi")]);
}

/// A client frame (masked with a fixed key) with the raw first byte `b0`.
fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut out = vec![b0];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
    out.extend_from_slice(&key);
    let mut p = payload.to_vec();
    apply_mask(&mut p, key, 0);
    out.extend_from_slice(&p);
    out
}

/// Feeds `wire` to an open server and returns the close code it sent and its events.
fn server_fails_with(wire: &[u8]) -> (Option<u16>, Vec<Event>) {
    server_fails_with_config(
        wire,
        Config {
            deflate: None,
            ..Config::default()
        },
    )
}

fn server_fails_with_config(wire: &[u8], config: Config) -> (Option<u16>, Vec<Event>) {
    let (_c, mut s) = open_pair(config, 1 << 20);
    drain(&mut s);
    s.handle_input(wire, 0);
    (sent_close_code(&drain(&mut s)), events(&mut s))
}

/// The code of the unmasked close frame a server wrote, if that is what `out` holds.
fn sent_close_code(out: &[u8]) -> Option<u16> {
    (out.len() >= 4 && out[0] == 0x88).then(|| u16::from_be_bytes([out[2], out[3]]))
}

#[test]
fn protocol_violations_close_with_the_rfc_code() {
    let mut unmasked = vec![0x81, 0x02];
    unmasked.extend_from_slice(b"hi");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked client frame", unmasked, 1002),
        ("reserved opcode 3", masked(0x83, b""), 1002),
        ("reserved opcode 0xB", masked(0x8b, b""), 1002),
        ("RSV1 without extension", masked(0xc1, b"x"), 1002),
        ("RSV3", masked(0x91, b"x"), 1002),
        ("fragmented ping", masked(0x09, b""), 1002),
        ("long ping", masked(0x89, &[0u8; 126]), 1002),
        ("continuation first", masked(0x80, b"x"), 1002),
        ("bad UTF-8", masked(0x81, &[0xce, 0xba, 0xed, 0xa0, 0x80]), 1007),
        ("UTF-8 cut at end", masked(0x81, &[0xce]), 1007),
        ("one-byte close", masked(0x88, &[0x03]), 1002),
        ("close code 1005", masked(0x88, &1005u16.to_be_bytes()), 1002),
        ("close code 999", masked(0x88, &999u16.to_be_bytes()), 1002),
        ("close code 5000", masked(0x88, &5000u16.to_be_bytes()), 1002),
        ("close reason not UTF-8", masked(0x88, &[0x03, 0xe8, 0xff]), 1007),
    ];
    for (name, wire, want) in cases {
        let (code, evs) = server_fails_with(&wire);
        assert_eq!(code, Some(want), "{name}");
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::Error(Error::Protocol { code, .. }) if *code == want)),
            "{name}: {evs:?}"
        );
        assert!(messages(&evs).is_empty(), "{name}: nothing delivered");
    }
    // Two text messages where the first is unfinished.
    let mut wire = masked(0x01, b"a");
    wire.extend_from_slice(&masked(0x81, b"b"));
    assert_eq!(server_fails_with(&wire).0, Some(1002));
}

#[test]
fn invalid_utf8_fails_before_the_frame_ends() {
    let (_c, mut s) = open_pair(Config::default(), 1 << 20);
    drain(&mut s);
    let wire = masked(0x81, &[b'a', 0xf4, 0x90, 0x80, 0x80, b'b', b'c', b'd']);
    // Header plus the first three payload bytes: 0xF4 0x90 can never be valid.
    s.handle_input(&wire[..6 + 3], 0);
    assert_eq!(sent_close_code(&drain(&mut s)), Some(1007));
}

#[test]
fn a_server_requires_masks_and_a_client_refuses_them() {
    let (mut c, _s) = open_pair(Config::default(), 1 << 20);
    drain(&mut c);
    c.handle_input(&masked(0x81, b"x"), 0);
    let out = drain(&mut c);
    // The client's close frame is masked: unmask the code.
    let (hdr, n) = frame::parse_header(&out).unwrap().unwrap();
    let mut payload = out[n..].to_vec();
    apply_mask(&mut payload, hdr.mask.unwrap(), 0);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1002);
}

#[test]
fn size_limits_close_with_1009() {
    let cfg = Config {
        max_frame_size: 100,
        max_message_size: 150,
        ..Config::default()
    };
    let (mut c, mut s) = open_pair(cfg, 1 << 20);
    drain(&mut s);
    s.handle_input(&masked(0x82, &[0u8; 101]), 0);
    assert_eq!(sent_close_code(&drain(&mut s)), Some(1009));
    // A message of two 80-byte frames exceeds 150.
    let (_, mut s2) = open_pair(
        Config {
            max_frame_size: 100,
            max_message_size: 150,
            ..Config::default()
        },
        1 << 20,
    );
    drain(&mut s2);
    let mut wire = masked(0x02, &[0u8; 80]);
    wire.extend_from_slice(&masked(0x80, &[0u8; 80]));
    s2.handle_input(&wire, 0);
    assert_eq!(sent_close_code(&drain(&mut s2)), Some(1009));
    drop(c.send_text("x"));
}

#[test]
fn closing_handshake_initiated_by_the_client() {
    let (mut c, mut s) = open_pair(Config::default(), 1 << 20);
    c.close(1000, "bye", 10).unwrap();
    assert_eq!(c.state(), State::Closing);
    assert_eq!(c.send_text("late"), Err(Error::InvalidState(State::Closing)));
    pump(&mut c, &mut s, 10, 1 << 20);
    let s_closed = closed(&events(&mut s)).unwrap();
    assert_eq!(
        s_closed,
        CloseInfo {
            code: 1000,
            reason: "bye".into(),
            clean: true,
            remote: true
        }
    );
    assert!(s.should_close_transport(), "the server drops the TCP connection first");
    let c_closed = closed(&events(&mut c)).unwrap();
    assert_eq!((c_closed.code, c_closed.clean, c_closed.remote), (1000, true, false));
    assert!(
        !c.should_close_transport(),
        "the client waits for the server to end the stream"
    );
    assert_eq!(c.poll_timeout(), Some(10 + 5_000));
    c.handle_eof(20);
    assert!(c.should_close_transport());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn client_stops_waiting_for_eof_after_the_close_timeout() {
    let (mut c, mut s) = open_pair(Config::default(), 1 << 20);
    s.close(1001, "", 0).unwrap();
    pump(&mut c, &mut s, 0, 1 << 20);
    assert_eq!(closed(&events(&mut c)).map(|i| (i.code, i.remote)), Some((1001, true)));
    c.handle_timeout(4_999);
    assert!(!c.should_close_transport());
    c.handle_timeout(5_000);
    assert!(c.should_close_transport());
}

#[test]
fn an_unanswered_close_times_out_as_1006() {
    let (mut c, _s) = open_pair(Config::default(), 1 << 20);
    c.close(1000, "", 100).unwrap();
    c.handle_timeout(5_099);
    assert!(events(&mut c).is_empty());
    c.handle_timeout(5_100);
    let info = closed(&events(&mut c)).unwrap();
    assert_eq!((info.code, info.clean), (1006, false));
    assert!(c.should_close_transport());
}

#[test]
fn close_frames_without_code_and_with_bad_arguments() {
    let (mut c, mut s) = open_pair(Config::default(), 1 << 20);
    assert_eq!(c.close(1006, "", 0), Err(Error::InvalidCloseCode(1006)));
    assert_eq!(c.close(1000, &"x".repeat(124), 0), Err(Error::ReasonTooLong(124)));
    assert_eq!(c.ping(&[0; 126]), Err(Error::ControlPayloadTooLong(126)));
    c.close(1005, "", 0).unwrap();
    pump(&mut c, &mut s, 0, 1 << 20);
    assert_eq!(closed(&events(&mut s)).map(|i| i.code), Some(1005));
    assert_eq!(closed(&events(&mut c)).map(|i| i.code), Some(1005));
}

#[test]
fn eof_without_close_frame_is_1006() {
    let (mut c, _s) = open_pair(Config::default(), 1 << 20);
    c.handle_eof(0);
    let info = closed(&events(&mut c)).unwrap();
    assert_eq!((info.code, info.clean, info.remote), (1006, false, true));
    assert!(c.should_close_transport());
    // Everything afterwards is harmless.
    c.handle_input(b"junk", 1);
    c.handle_timeout(1_000_000);
    assert!(c.close(1000, "", 2).is_ok());
    assert!(events(&mut c).is_empty());
}

#[test]
fn close_while_connecting_never_fails() {
    let mut c = client_with(Config::default());
    assert_eq!(c.state(), State::Connecting);
    c.close(1000, "", 0).unwrap();
    assert_eq!(c.state(), State::Closed);
    assert!(c.should_close_transport());
    assert_eq!(events(&mut c).len(), 1);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn rejected_handshake_reports_status_headers_and_body() {
    let mut c = client_with(Config::default());
    drain(&mut c);
    c.handle_input(
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 9\r\n\r\nno ",
        0,
    );
    assert!(events(&mut c).is_empty(), "waits for the whole body");
    c.handle_input(b"token", 0);
    c.handle_eof(0);
    let evs = events(&mut c);
    let Some(Event::HandshakeFailed(HandshakeError::Rejected(r))) = evs.first() else {
        panic!("{evs:?}")
    };
    assert_eq!(r.status, 401);
    assert_eq!(handshake::header_value(&r.headers, "www-authenticate"), Some("Bearer"));
    assert_eq!(r.body, b"no token");
    assert!(matches!(evs.last(), Some(Event::Closed(_))));
}

#[test]
fn bad_accept_key_and_timeouts_fail_the_handshake() {
    let mut c = client_with(Config::default());
    drain(&mut c);
    c.handle_input(
        b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n",
        0,
    );
    assert!(matches!(
        events(&mut c).first(),
        Some(Event::HandshakeFailed(HandshakeError::InvalidResponse(_)))
    ));
    let mut c = client_with(Config::default());
    assert_eq!(c.poll_timeout(), Some(10_000));
    c.handle_timeout(10_000);
    assert!(matches!(
        events(&mut c).first(),
        Some(Event::HandshakeFailed(HandshakeError::Timeout))
    ));
    assert!(c.should_close_transport());
    let mut c = client_with(Config {
        max_handshake_size: 64,
        ..Config::default()
    });
    c.handle_input(&[b'a'; 65], 0);
    assert!(matches!(
        events(&mut c).first(),
        Some(Event::HandshakeFailed(HandshakeError::TooLarge))
    ));
}

#[test]
fn server_rejects_invalid_requests_with_http_errors() {
    let mut s = Connection::server(Config::default(), rng(1), 0);
    s.handle_input(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n",
        0,
    );
    let out = String::from_utf8(drain(&mut s)).unwrap();
    assert!(out.starts_with("HTTP/1.1 426 "), "{out}");
    assert!(out.contains("Sec-WebSocket-Version: 13"));
    assert!(s.should_close_transport());
    // And an explicit application rejection.
    let mut c = client_with(Config::default());
    let mut s = Connection::server(Config::default(), rng(1), 0);
    pump(&mut c, &mut s, 0, 1 << 20);
    s.reject(403, &[], b"go away").unwrap();
    pump(&mut c, &mut s, 0, 1 << 20);
    c.handle_eof(0);
    let evs = events(&mut c);
    assert!(
        matches!(evs.first(), Some(Event::HandshakeFailed(HandshakeError::Rejected(r))) if r.status == 403 && r.body == b"go away")
    );
}

#[test]
fn keepalive_pings_then_declares_the_peer_dead() {
    let ka = Keepalive {
        interval_ms: 1_000,
        pong_timeout_ms: 500,
        any_data_counts: false,
        ping_payload: None,
    };
    let (mut c, mut s) = open_pair(
        Config {
            keepalive: Some(ka),
            ..Config::default()
        },
        1 << 20,
    );
    assert_eq!(c.poll_timeout(), Some(1_000));
    c.handle_timeout(1_000);
    let ping = drain(&mut c);
    assert_eq!(ping[0], 0x89);
    assert_eq!(c.poll_timeout(), Some(1_500));
    // The server answers: the deadline goes away and the next ping is due at 2000.
    s.handle_input(&ping, 1_100);
    c.handle_input(&drain(&mut s), 1_100);
    assert!(matches!(events(&mut c).as_slice(), [Event::Pong(_)]));
    assert_eq!(c.poll_timeout(), Some(2_000));
    // Now the server goes silent.
    c.handle_timeout(2_000);
    drain(&mut c);
    c.handle_timeout(2_499);
    assert_eq!(c.state(), State::Open);
    c.handle_timeout(2_500);
    let evs = events(&mut c);
    assert_eq!(evs.first(), Some(&Event::Error(Error::KeepaliveTimeout)));
    assert_eq!(closed(&evs).map(|i| i.code), Some(1006));
    assert!(c.should_close_transport());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn keepalive_counts_any_data_when_configured() {
    let ka = Keepalive {
        interval_ms: 1_000,
        pong_timeout_ms: 500,
        any_data_counts: true,
        ping_payload: None,
    };
    let (mut c, mut s) = open_pair(
        Config {
            keepalive: Some(ka),
            ..Config::default()
        },
        1 << 20,
    );
    s.send_text("tick").unwrap();
    c.handle_input(&drain(&mut s), 900);
    assert_eq!(c.poll_timeout(), Some(1_900), "received data postpones the ping");
    c.handle_timeout(1_900);
    assert_eq!(drain(&mut c)[0], 0x89);
    s.send_text("tock").unwrap();
    c.handle_input(&drain(&mut s), 2_000);
    c.handle_timeout(2_400);
    assert_eq!(c.state(), State::Open, "data satisfied the ping");
}

/// The pings the server saw, in order.
fn pings(evs: &[Event]) -> Vec<Bytes> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Ping(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn keepalive_ping_payload_is_configurable_and_any_pong_answers() {
    assert_eq!(PingPayload::new(vec![7u8; 126]), Err(Error::ControlPayloadTooLong(126)));
    assert_eq!(PingPayload::new(vec![7u8; 125]).unwrap().as_bytes().len(), 125);
    for (payload, expected) in [
        (None, [1u64.to_be_bytes().to_vec(), 2u64.to_be_bytes().to_vec()]),
        (Some(PingPayload::new("hb").unwrap()), [b"hb".to_vec(), b"hb".to_vec()]),
        (Some(PingPayload::default()), [Vec::new(), Vec::new()]),
    ] {
        let ka = Keepalive {
            interval_ms: 1_000,
            pong_timeout_ms: 500,
            any_data_counts: false,
            ping_payload: payload,
        };
        let config = Config {
            keepalive: Some(ka),
            auto_pong: false,
            ..Config::default()
        };
        let (mut c, mut s) = open_pair(config, 1 << 20);
        c.handle_timeout(1_000);
        s.handle_input(&drain(&mut c), 1_000);
        assert_eq!(c.poll_timeout(), Some(1_500));
        // A pong whose payload matches no ping still answers it.
        s.pong(b"not yours").unwrap();
        c.handle_input(&drain(&mut s), 1_100);
        assert_eq!(c.poll_timeout(), Some(2_000), "any pong answers the ping");
        c.handle_timeout(2_000);
        s.handle_input(&drain(&mut c), 2_000);
        let seen: Vec<Vec<u8>> = pings(&events(&mut s)).iter().map(|p| p.to_vec()).collect();
        assert_eq!(seen, expected);
    }
}

#[test]
fn data_sent_before_the_peer_answers_our_close_is_still_delivered() {
    let (mut c, mut s) = open_pair(Config::default(), 1 << 20);
    c.close(1000, "", 0).unwrap();
    s.send_text("in flight").unwrap();
    pump(&mut c, &mut s, 0, 1 << 20);
    assert_eq!(messages(&events(&mut c)), vec![Message::text("in flight")]);
}

#[test]
fn a_huge_declared_length_does_not_allocate_or_panic() {
    let (_c, mut s) = open_pair(
        Config {
            max_frame_size: usize::MAX,
            max_message_size: usize::MAX,
            ..Config::default()
        },
        1 << 20,
    );
    drain(&mut s);
    s.handle_input(
        &[
            0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 9, 9,
        ],
        0,
    );
    assert_eq!(s.state(), State::Open);
    s.handle_input(&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0], 0);
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use crate::deflate::DeflateConfig;

    #[test]
    fn compressed_messages_roundtrip_and_shrink_on_the_wire() {
        for chunk in [1, 5, 1 << 20] {
            let cfg = Config {
                fragment_size: Some(7),
                ..Config::default()
            };
            let (mut c, mut s) = open_pair(cfg, chunk);
            let json = "{\"event\":\"trade\",\"price\":\"101.25\",\"qty\":\"3\"}".repeat(20);
            let mut wire_sizes = Vec::new();
            for _ in 0..3 {
                c.send_text(&json).unwrap();
                let wire = drain(&mut c);
                assert_eq!(wire[0] & 0x40, 0x40, "RSV1 marks the first frame");
                wire_sizes.push(wire.len());
                for part in wire.chunks(chunk) {
                    s.handle_input(part, 0);
                }
            }
            assert!(wire_sizes[0] < json.len() / 4, "{wire_sizes:?}");
            assert!(wire_sizes[1] < wire_sizes[0], "context takeover: {wire_sizes:?}");
            let got = messages(&events(&mut s));
            assert_eq!(got, vec![Message::text(json.as_str()); 3]);
            s.send_binary(&[5u8; 1000]).unwrap();
            pump(&mut c, &mut s, 0, chunk);
            assert_eq!(messages(&events(&mut c)), vec![Message::binary(vec![5u8; 1000])]);
        }
    }

    #[test]
    fn negotiation_follows_both_configs() {
        let off = Config {
            deflate: None,
            ..Config::default()
        };
        for (client, server) in [(off.clone(), Config::default()), (Config::default(), off)] {
            let req = ClientRequest {
                url: "ws://h/".into(),
                ..Default::default()
            };
            let mut c = Connection::client(&req, client, rng(1), 0).unwrap();
            let mut s = Connection::server(server, rng(2), 0);
            pump(&mut c, &mut s, 0, 1 << 20);
            events(&mut s);
            s.accept(Accept::default(), 0).unwrap();
            pump(&mut c, &mut s, 0, 1 << 20);
            events(&mut c);
            c.send_text(&"a".repeat(500)).unwrap();
            let wire = drain(&mut c);
            assert_eq!(wire[0] & 0x40, 0, "not negotiated: never compressed");
        }
        // Server-imposed limits reach the client.
        let strict = Config {
            deflate: Some(DeflateConfig {
                client_no_context_takeover: true,
                client_max_window_bits: Some(9),
                ..DeflateConfig::default()
            }),
            ..Config::default()
        };
        let req = ClientRequest {
            url: "ws://h/".into(),
            ..Default::default()
        };
        let mut c = Connection::client(&req, Config::default(), rng(1), 0).unwrap();
        let mut s = Connection::server(strict, rng(2), 0);
        pump(&mut c, &mut s, 0, 1 << 20);
        events(&mut s);
        s.accept(Accept::default(), 0).unwrap();
        let response = String::from_utf8(drain(&mut s)).unwrap();
        assert!(response.contains("permessage-deflate; client_no_context_takeover; client_max_window_bits=9"));
        c.handle_input(response.as_bytes(), 0);
        assert!(matches!(events(&mut c).as_slice(), [Event::Open(_)]));
        let msg = "xyz".repeat(100);
        c.send_text(&msg).unwrap();
        let first = drain(&mut c).len();
        c.send_text(&msg).unwrap();
        assert_eq!(drain(&mut c).len(), first, "no context takeover: the same bytes again");
    }

    #[test]
    fn rsv1_is_only_for_the_first_frame_of_a_data_message() {
        let mut wire = masked(0x01, b"a");
        wire.extend_from_slice(&masked(0xc0, b"b"));
        assert_eq!(server_fails_with_config(&wire, Config::default()).0, Some(1002));
        assert_eq!(
            server_fails_with_config(&masked(0xc9, b""), Config::default()).0,
            Some(1002)
        );
        assert_eq!(
            server_fails_with_config(&masked(0xa1, b"x"), Config::default()).0,
            Some(1002),
            "RSV2"
        );
    }

    #[test]
    fn compressed_bombs_corruption_and_bad_utf8_fail_the_connection() {
        use crate::deflate::Compressor;
        let deflated = |data: &[u8]| {
            let mut z = Vec::new();
            Compressor::new(9, 15, false).unwrap().compress(data, &mut z);
            z
        };
        let small = Config {
            max_message_size: 1 << 20,
            ..Config::default()
        };
        let bomb = deflated(&vec![0u8; 8 << 20]);
        assert!(bomb.len() < 16 << 10);
        assert_eq!(server_fails_with_config(&masked(0xc2, &bomb), small).0, Some(1009));
        assert_eq!(
            server_fails_with_config(&masked(0xc2, &[0xff, 0xff, 0xff]), Config::default()).0,
            Some(1007)
        );
        let bad_text = deflated(&[b'o', b'k', 0xc0, 0xaf]);
        assert_eq!(
            server_fails_with_config(&masked(0xc1, &bad_text), Config::default()).0,
            Some(1007)
        );
    }
}

#[test]
fn an_invalid_close_frame_still_ends_the_closing_handshake() {
    for payload in [vec![0x03], 1005u16.to_be_bytes().to_vec(), vec![0x03, 0xe8, 0xff]] {
        let (_c, mut s) = open_pair(Config::default(), 1 << 20);
        drain(&mut s);
        s.handle_input(&masked(0x88, &payload), 0);
        assert!(sent_close_code(&drain(&mut s)).is_some());
        assert!(s.should_close_transport(), "no second close frame is coming: drop now");
        let info = closed(&events(&mut s)).unwrap();
        assert!(info.code == 1002 || info.code == 1007);
    }
}

#[test]
fn messages_before_an_error_can_still_be_answered() {
    let (_c, mut s) = open_pair(
        Config {
            deflate: None,
            ..Config::default()
        },
        1 << 20,
    );
    drain(&mut s);
    let mut wire = masked(0x81, b"first");
    wire.extend_from_slice(&masked(0xa1, b"bad rsv"));
    wire.extend_from_slice(&masked(0x89, b"no pong for me"));
    s.handle_input(&wire, 0);
    assert!(drain(&mut s).is_empty(), "the close frame waits for the application");
    assert_eq!(s.poll_event(), Some(Event::Message(Message::text("first"))));
    s.send_text("first").unwrap();
    assert!(matches!(
        s.poll_event(),
        Some(Event::Error(Error::Protocol { code: 1002, .. }))
    ));
    assert_eq!(s.poll_event(), None, "no ping is delivered after the error");
    let out = drain(&mut s);
    assert_eq!(
        &out[..7],
        &[0x81, 0x05, b'f', b'i', b'r', b's', b't'],
        "the echo goes first"
    );
    assert_eq!(sent_close_code(&out[7..]), Some(1002));
    assert_eq!(s.state(), State::Closing);
}

#[test]
fn an_oversized_or_fragmented_close_frame_still_ends_the_closing_handshake() {
    let mut long = 1000u16.to_be_bytes().to_vec();
    long.extend_from_slice(&[b'a'; 124]);
    for wire in [masked(0x88, &long), masked(0x08, &1000u16.to_be_bytes())] {
        let (_c, mut s) = open_pair(Config::default(), 1 << 20);
        drain(&mut s);
        s.handle_input(&wire, 0);
        assert_eq!(sent_close_code(&drain(&mut s)), Some(1002));
        assert!(s.should_close_transport());
        assert_eq!(closed(&events(&mut s)).map(|i| i.code), Some(1002));
    }
}

#[test]
fn accept_and_reject_after_the_client_left_are_refused() {
    for end in ["eof", "close"] {
        let mut c = client_with(Config::default());
        let mut s = Connection::server(Config::default(), rng(1), 0);
        pump(&mut c, &mut s, 0, 1 << 20);
        assert!(matches!(events(&mut s).as_slice(), [Event::Request(_)]));
        match end {
            "eof" => s.handle_eof(1),
            _ => s.close(1000, "", 1).unwrap(),
        }
        assert_eq!(s.state(), State::Closed);
        assert_eq!(s.accept(Accept::default(), 2), Err(Error::InvalidState(State::Closed)));
        assert_eq!(s.reject(403, &[], b""), Err(Error::InvalidState(State::Closed)));
        assert_eq!(s.state(), State::Closed, "{end}: never reopened");
        assert!(drain(&mut s).is_empty(), "{end}: no response written");
    }
}

#[test]
fn a_head_sent_byte_by_byte_still_completes_and_reasons_stay_short() {
    let mut c = client_with(Config::default());
    let mut s = Connection::server(Config::default(), rng(1), 0);
    for b in drain(&mut c) {
        s.handle_input(&[b], 0);
    }
    assert!(matches!(events(&mut s).as_slice(), [Event::Request(_)]));
    // A response that quotes a long extension name: the close reason stays short.
    let mut c = client_with(Config::default());
    let req = String::from_utf8(drain(&mut c)).unwrap();
    let key = req.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap();
    let ext = "x".repeat(2000);
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {ext}\r\n\r\n",
        handshake::accept_key(key)
    );
    c.handle_input(resp.as_bytes(), 0);
    let info = closed(&events(&mut c)).unwrap();
    assert!(info.reason.len() <= 123, "{}", info.reason.len());
    assert!(info.reason.contains("accepted extension"), "{}", info.reason);
}

/// Outputs queued while the host polls (a deferred close frame, an answer, a pong) leave
/// through `poll_output` in the same drain, whatever the read boundaries.
mod queued_while_polling {
    use super::*;

    /// Opcode and payload of each frame.
    type Frames = Vec<(u8, Vec<u8>)>;

    /// The frames a server wrote (unmasked).
    fn frames(mut out: &[u8]) -> Frames {
        let mut v = vec![];
        while let Ok(Some((h, n))) = frame::parse_header(out) {
            assert!(h.mask.is_none(), "a server does not mask");
            let end = n + h.len as usize;
            v.push((h.opcode, out[n..end].to_vec()));
            out = &out[end..];
        }
        assert!(out.is_empty(), "trailing bytes: {out:?}");
        v
    }

    /// A host in the style of the Autobahn echo driver: drains `poll_output` to `None`
    /// and answers each message at once. Returns what it wrote and the events it saw.
    fn drain_echoing(s: &mut Connection, wrote: &mut Vec<u8>, seen: &mut Vec<Event>) {
        while let Some(o) = s.poll_output() {
            match o {
                Output::Transmit(b) => wrote.extend_from_slice(&b),
                Output::Event(e) => {
                    if let Event::Message(m) = &e {
                        // Refused (InvalidState) once our close frame went out: fine.
                        let _ = s.send(m.clone());
                    }
                    seen.push(e);
                }
            }
        }
        assert_eq!(s.buffered_amount(), 0, "nothing left behind after the drain");
    }

    /// Every way to cut `wire` into reads: one cut at each position, and byte by byte.
    fn splits(wire: &[u8]) -> Vec<Vec<&[u8]>> {
        let mut v: Vec<Vec<&[u8]>> = (0..=wire.len()).map(|i| vec![&wire[..i], &wire[i..]]).collect();
        v.push(wire.chunks(1).collect());
        v
    }

    /// Feeds `wire` to an open server in the reads `parts`, draining after each read.
    fn run(wire_parts: &[&[u8]]) -> (Connection, Frames, Vec<Event>) {
        let config = Config {
            deflate: None,
            ..Config::default()
        };
        let (_c, mut s) = open_pair(config, 1 << 20);
        drain(&mut s);
        let (mut wrote, mut seen) = (vec![], vec![]);
        for part in wire_parts {
            s.handle_input(part, 0);
            drain_echoing(&mut s, &mut wrote, &mut seen);
        }
        (s, frames(&wrote), seen)
    }

    fn first_then(second: Vec<u8>) -> Vec<u8> {
        let mut wire = masked(0x81, b"first");
        wire.extend_from_slice(&second);
        wire
    }

    #[test]
    fn an_error_after_a_message_closes_after_the_answer_in_the_same_drain() {
        for (bad, code) in [
            (masked(0xa1, b"rsv2"), 1002),
            (masked(0x83, b""), 1002),
            (masked(0x81, &[b'o', b'k', 0xff]), 1007),
            (masked(0x80, b"nothing to continue"), 1002),
        ] {
            let wire = first_then(bad);
            for parts in splits(&wire) {
                let (s, frames, seen) = run(&parts);
                let cut: Vec<usize> = parts.iter().map(|p| p.len()).collect();
                assert!(
                    matches!(&seen[..], [Event::Message(m), Event::Error(Error::Protocol { code: c, .. })]
                        if *m == Message::text("first") && *c == code),
                    "{cut:?}: {seen:?}"
                );
                assert_eq!(frames.len(), 2, "{cut:?}: the answer, then the close frame: {frames:?}");
                assert_eq!(frames[0], (0x1, b"first".to_vec()), "{cut:?}: the answer goes first");
                assert_eq!(
                    (frames[1].0, &frames[1].1[..2]),
                    (0x8, &code.to_be_bytes()[..]),
                    "{cut:?}"
                );
                assert_eq!(s.state(), State::Closing, "{cut:?}");
            }
        }
    }

    #[test]
    fn a_ping_after_a_message_is_answered_in_the_same_drain() {
        let wire = first_then(masked(0x89, b"p"));
        for parts in splits(&wire) {
            let (s, mut frames, seen) = run(&parts);
            let cut: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            assert_eq!(
                seen,
                vec![
                    Event::Message(Message::text("first")),
                    Event::Ping(Bytes::from_static(b"p"))
                ],
                "{cut:?}"
            );
            frames.sort();
            assert_eq!(frames, vec![(0x1, b"first".to_vec()), (0xa, b"p".to_vec())], "{cut:?}");
            assert_eq!(s.state(), State::Open, "{cut:?}");
        }
    }

    #[test]
    fn a_close_after_a_message_is_answered_in_the_same_drain() {
        let wire = first_then(masked(0x88, &1001u16.to_be_bytes()));
        for parts in splits(&wire) {
            let (s, frames, seen) = run(&parts);
            let cut: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            assert!(
                matches!(
                    &seen[..],
                    [
                        Event::Message(_),
                        Event::Closed(CloseInfo {
                            code: 1001,
                            clean: true,
                            remote: true,
                            ..
                        })
                    ]
                ),
                "{cut:?}: {seen:?}"
            );
            let (last, rest) = frames.split_last().expect("a close frame");
            assert_eq!(last, &(0x8, 1001u16.to_be_bytes().to_vec()), "{cut:?}");
            // The echo goes out only if the message was handed out before the close
            // frame arrived; after our close frame nothing more may be sent.
            assert!(
                rest.iter().all(|f| f == &(0x1, b"first".to_vec())) && rest.len() <= 1,
                "{cut:?}"
            );
            assert!(s.should_close_transport(), "{cut:?}");
        }
    }

    #[test]
    fn a_keepalive_ping_leaves_through_poll_output() {
        let config = Config {
            keepalive: Some(Keepalive {
                interval_ms: 100,
                pong_timeout_ms: 50,
                any_data_counts: false,
                ping_payload: None,
            }),
            ..Config::default()
        };
        let (_c, mut s) = open_pair(config, 1 << 20);
        drain(&mut s);
        s.handle_timeout(100);
        let outs: Vec<Output> = std::iter::from_fn(|| s.poll_output()).collect();
        let [Output::Transmit(ping)] = &outs[..] else {
            panic!("{outs:?}")
        };
        assert_eq!(frames(ping)[0].0, 0x9);
        s.handle_timeout(150);
        let outs: Vec<Output> = std::iter::from_fn(|| s.poll_output()).collect();
        assert!(
            matches!(
                &outs[..],
                [
                    Output::Event(Event::Error(Error::KeepaliveTimeout)),
                    Output::Event(Event::Closed(_))
                ]
            ),
            "{outs:?}"
        );
    }
}

#[test]
fn a_client_rejects_masked_server_frames_unless_compatibility_allows_them() {
    // Masked, fragmented text ("Hel" + "lo") with a ping between, then a masked ping.
    let mut wire = masked(0x01, b"Hel");
    wire.extend_from_slice(&masked(0x89, b"p"));
    wire.extend_from_slice(&masked(0x80, b"lo"));
    let plain = Config {
        deflate: None,
        ..Config::default()
    };
    let (mut c, _s) = open_pair(plain.clone(), 1 << 20);
    drain(&mut c);
    c.handle_input(&wire, 0);
    let evs = events(&mut c);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::Error(Error::Protocol { code: 1002, .. }))),
        "{evs:?}"
    );
    assert!(messages(&evs).is_empty());

    let compat = Config {
        accept_masked_frames: true,
        ..plain
    };
    let (mut c, _s) = open_pair(compat, 1 << 20);
    drain(&mut c);
    for chunk in wire.chunks(3) {
        c.handle_input(chunk, 0);
    }
    let evs = events(&mut c);
    assert_eq!(messages(&evs), vec![Message::text("Hello")]);
    assert!(evs.iter().any(|e| matches!(e, Event::Ping(p) if &p[..] == b"p")));
    assert_eq!(c.state(), State::Open);
}

#[test]
fn a_server_ignores_the_masked_frames_compatibility_flag() {
    let mut unmasked = vec![0x81, 0x02];
    unmasked.extend_from_slice(b"hi");
    let config = Config {
        deflate: None,
        accept_masked_frames: true,
        ..Config::default()
    };
    let (code, _) = server_fails_with_config(&unmasked, config);
    assert_eq!(code, Some(1002));
}

#[test]
fn a_client_already_open_exchanges_frames_without_a_handshake() {
    let config = Config {
        keepalive: Some(Keepalive {
            interval_ms: 1_000,
            pong_timeout_ms: 500,
            any_data_counts: false,
            ping_payload: None,
        }),
        ..Config::default()
    };
    let mut c = Connection::client_already_open(config, rng(3), Some("chat".into()), 100);
    assert_eq!(c.state(), State::Open);
    assert_eq!(c.subprotocol(), Some("chat"));
    assert!(drain(&mut c).is_empty(), "no upgrade request");
    assert!(events(&mut c).is_empty(), "no Open event");
    assert_eq!(c.poll_timeout(), Some(1_100), "keepalive armed from creation");
    // An unmasked server frame is a message; what the client sends is masked.
    c.handle_input(&[0x81, 0x02, b'h', b'i'], 200);
    assert_eq!(messages(&events(&mut c)), vec![Message::text("hi")]);
    c.send_text("yo").unwrap();
    let out = drain(&mut c);
    assert_eq!((out[0], out[1] & 0x80, out.len()), (0x81, 0x80, 2 + 4 + 2));
    // No compression was negotiated: RSV1 is a protocol error.
    c.handle_input(&[0xc1, 0x01, b'x'], 300);
    assert!(events(&mut c)
        .iter()
        .any(|e| matches!(e, Event::Error(Error::Protocol { code: 1002, .. }))));
}

#[test]
fn host_and_connection_headers_override_the_requests_own() {
    let request_for = |headers: Vec<(String, String)>| {
        let req = ClientRequest {
            url: "ws://example.com:9000/chat".into(),
            headers,
            ..Default::default()
        };
        let mut c = Connection::client(&req, Config::default(), rng(1), 0).unwrap();
        String::from_utf8(drain(&mut c)).unwrap()
    };
    let plain = request_for(vec![]);
    assert!(plain.contains("\r\nHost: example.com:9000\r\n") && plain.contains("\r\nConnection: Upgrade\r\n"));

    let custom = request_for(vec![
        ("X-A".into(), "1".into()),
        ("host".into(), "other.example".into()),
        ("Connection".into(), "keep-alive, Upgrade".into()),
    ]);
    assert_eq!(
        custom.matches("Host:").count() + custom.matches("host:").count(),
        1,
        "{custom}"
    );
    assert!(custom.contains("\r\nHost: other.example\r\n"), "{custom}");
    assert!(custom.contains("\r\nConnection: keep-alive, Upgrade\r\n"), "{custom}");
    assert_eq!(custom.matches("onnection:").count(), 1, "{custom}");
    assert!(custom.contains("\r\nX-A: 1\r\n"));

    let suppressed = request_for(vec![("Host".into(), String::new())]);
    assert!(!suppressed.to_ascii_lowercase().contains("\r\nhost:"), "{suppressed}");

    let req = ClientRequest {
        url: "ws://example.com/".into(),
        headers: vec![("Connection".into(), "keep-alive".into())],
        ..Default::default()
    };
    assert!(matches!(
        Connection::client(&req, Config::default(), rng(1), 0),
        Err(Error::InvalidHeader(_))
    ));
}

#[test]
fn fragments_of_a_compressed_message_carry_what_inflating_them_produced() {
    // Little repetition, so the compressed message spans many 64-byte frames.
    let text: String = (0..3000u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    for chunk in [1, 7, 4096] {
        let config = Config {
            deliver_fragments: true,
            fragment_size: Some(64),
            ..Config::default()
        };
        let (mut c, mut s) = open_pair(config, chunk);
        s.send_text(text.as_str()).unwrap();
        pump(&mut c, &mut s, 0, chunk);
        let evs = events(&mut c);
        let mut joined = Vec::new();
        let mut fins = Vec::new();
        for e in &evs {
            if let Event::Fragment { data, fin, .. } = e {
                joined.extend_from_slice(data);
                fins.push(*fin);
            }
        }
        assert!(fins.len() > 1, "chunk {chunk}: fragmented: {evs:?}");
        assert_eq!(fins.iter().filter(|f| **f).count(), 1);
        assert_eq!(fins.last(), Some(&true));
        assert_eq!(joined, text.as_bytes(), "chunk {chunk}");
        assert_eq!(messages(&evs), vec![Message::text(text.as_str())]);
        assert!(matches!(evs.last(), Some(Event::Message(_))));
    }
}
