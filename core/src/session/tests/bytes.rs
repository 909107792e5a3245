//! Byte transports: the session runs a client `Connection` per attempt. The peer here is
//! a real server-role `Connection`, so these tests exercise the whole stack.

use super::super::*;
use super::harness::*;
use crate::connection::{Accept, Config as ConnectionConfig, Connection, Event, Keepalive};
use crate::message::Message;
use crate::rng::SeededRandom;

fn byte_config() -> SessionConfig {
    let mut c = SessionConfig::bytes("ws://example.test/chat?room=1");
    c.retry.backoff.jitter = Jitter::None;
    c
}

/// A server-side connection for one transport.
struct Peer {
    conn: Connection,
}

impl Peer {
    fn new() -> Self {
        Self {
            conn: Connection::server(ConnectionConfig::default(), Box::new(SeededRandom::new(7)), 0),
        }
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }
}

/// Moves bytes both ways until both sides are quiet; returns the session's outputs.
fn shuttle(h: &mut H, id: TransportId, peer: &mut Peer, mut outs: Vec<Output>) -> (Vec<Output>, Vec<Event>) {
    let mut all = vec![];
    let mut peer_events = vec![];
    loop {
        let mut moved = false;
        for o in std::mem::take(&mut outs) {
            if let Output::Transmit { id: i, bytes } = &o {
                if *i == id {
                    peer.conn.handle_input(bytes, h.now);
                    moved = true;
                }
            }
            all.push(o);
        }
        peer_events.extend(peer.events());
        while let Some(b) = peer.conn.poll_transmit() {
            h.s.handle_transport_bytes(id, &b, h.now);
            moved = true;
        }
        outs = h.drain();
        if !moved && outs.is_empty() {
            return (all, peer_events);
        }
    }
}

/// Connects, accepts, and returns the open transport and its peer.
fn open(h: &mut H) -> (TransportId, Peer, Vec<Output>) {
    h.s.connect(h.now);
    let (id, _) = single_open(&h.drain());
    let mut peer = Peer::new();
    h.s.handle_transport_connected(id, h.now);
    let outs = h.drain();
    let (mut outs2, evs) = shuttle(h, id, &mut peer, outs);
    assert!(matches!(&evs[..], [Event::Request(_)]), "{evs:?}");
    peer.conn.accept(Accept::default(), h.now).unwrap();
    let (more, _) = shuttle(h, id, &mut peer, vec![]);
    outs2.extend(more);
    (id, peer, outs2)
}

#[test]
fn handshake_messages_and_graceful_close() {
    let mut h = H::new(byte_config());
    h.s.connect(0);
    let (id, req) = single_open(&h.drain());
    assert_eq!(req.url, "ws://example.test/chat?room=1");
    h.s.send(text("queued"), 0).unwrap();
    h.s.handle_transport_connected(id, 0);
    let outs = h.drain();
    let Output::Transmit { bytes, .. } = &outs[0] else {
        panic!("{outs:?}")
    };
    assert!(bytes.starts_with(b"GET /chat?room=1 HTTP/1.1\r\n"));

    let mut peer = Peer::new();
    let (_, evs) = shuttle(&mut h, id, &mut peer, outs);
    let [Event::Request(r)] = &evs[..] else {
        panic!("{evs:?}")
    };
    assert_eq!(r.path, "/chat?room=1");
    peer.conn.accept(Accept::default(), 0).unwrap();
    let (outs, evs) = shuttle(&mut h, id, &mut peer, vec![]);
    let open = events(&outs)
        .into_iter()
        .find(|e| matches!(e, SessionEvent::Open { .. }))
        .expect("open");
    let SessionEvent::Open {
        attempt: 1,
        recovered: false,
        subprotocol: None,
        extensions,
    } = open
    else {
        panic!("{open:?}")
    };
    assert!(
        extensions.starts_with("permessage-deflate"),
        "the negotiated extensions reach the open event: {extensions:?}"
    );
    assert!(
        evs.contains(&Event::Message(text("queued"))),
        "queue flushed over the new connection: {evs:?}"
    );

    peer.conn.send(text("hello")).unwrap();
    let (outs, _) = shuttle(&mut h, id, &mut peer, vec![]);
    assert_eq!(delivered(&outs), ["hello"]);

    h.s.close(1000, "bye", 0);
    assert_eq!(h.s.state(), State::Closing);
    let outs = h.drain();
    let (outs, evs) = shuttle(&mut h, id, &mut peer, outs);
    assert!(
        evs.iter().any(|e| matches!(e, Event::Closed(c) if c.code == 1000)),
        "{evs:?}"
    );
    assert_eq!(closes(&outs), vec![id]);
    assert!(plain_events(&outs).contains(&SessionEvent::Closed {
        code: 1000,
        reason: "bye".into(),
        cause: Cause::UserClose,
        will_reconnect: false
    }));
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));
}

#[test]
fn http_401_stops_unless_removed_from_the_fatal_statuses() {
    for (status, retry_401, expect_retry) in [
        (401, false, false),
        (403, false, false),
        (503, false, true),
        (401, true, true),
    ] {
        let mut c = byte_config();
        if retry_401 {
            c.retry.fatal_http_statuses.retain(|&s| s != 401);
        }
        let mut h = H::new(c);
        h.s.connect(0);
        let (id, _) = single_open(&h.drain());
        h.s.handle_transport_connected(id, 0);
        let outs = h.drain();
        let mut peer = Peer::new();
        shuttle(&mut h, id, &mut peer, outs);
        peer.conn.reject(status, &[], b"no").unwrap();
        let (outs, _) = shuttle(&mut h, id, &mut peer, vec![]);
        let evs = plain_events(&outs);
        let cause = Cause::HandshakeRejected { status };
        if expect_retry {
            assert!(
                matches!(&evs[..], [SessionEvent::Reconnecting { cause: c, .. }] if *c == cause),
                "{status}: {evs:?}"
            );
        } else {
            assert!(
                matches!(&evs[..], [SessionEvent::Closed { cause: c, will_reconnect: false, .. }] if *c == cause),
                "{status}: {evs:?}"
            );
            assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));
        }
        assert_eq!(closes(&outs), vec![id]);
    }
}

#[test]
fn protocol_keepalive_timeout_reconnects_with_a_fresh_connection() {
    let mut c = byte_config();
    c.transport = TransportKind::Bytes(ConnectionConfig {
        keepalive: Some(Keepalive {
            interval_ms: 1_000,
            pong_timeout_ms: 500,
            any_data_counts: true,
            ping_payload: None,
        }),
        ..ConnectionConfig::default()
    });
    let mut h = H::new(c);
    let (id, _peer, _) = open(&mut h);
    assert_eq!(h.fire(), 1_000);
    let outs = h.drain();
    assert!(matches!(&outs[..], [Output::Transmit { .. }]), "a ping: {outs:?}");
    // The peer never answers.
    assert_eq!(h.fire(), 1_500);
    let outs = h.drain();
    assert_eq!(reconnecting(&outs).map(|r| r.2), Some(Cause::KeepaliveTimeout));
    assert_eq!(closes(&outs), vec![id]);
    let backoff_end = h.s.poll_timeout().unwrap();
    h.now = backoff_end + 2_345;
    let (id2, mut peer2, _) = {
        h.s.handle_timeout(h.now);
        let (id2, _) = single_open(&h.drain());
        let mut peer2 = Peer::new();
        h.s.handle_transport_connected(id2, h.now);
        let outs = h.drain();
        shuttle(&mut h, id2, &mut peer2, outs);
        peer2.conn.accept(Accept::default(), h.now).unwrap();
        let (outs, _) = shuttle(&mut h, id2, &mut peer2, vec![]);
        (id2, peer2, outs)
    };
    assert_eq!(h.s.state(), State::Open);
    assert_eq!(
        h.s.poll_timeout(),
        Some(h.now + 1_000),
        "keepalive re-armed from the new open"
    );
    h.fire();
    let outs = h.drain();
    shuttle(&mut h, id2, &mut peer2, outs); // the peer auto-pongs
    h.advance(600);
    assert_eq!(h.s.state(), State::Open);
}

#[test]
fn end_of_stream_and_server_close_reconnect() {
    let mut h = H::new(byte_config());
    let (id, _peer, _) = open(&mut h);
    h.s.handle_transport_closed(id, None, "", 0);
    let outs = h.drain();
    assert!(closes(&outs).is_empty(), "the host already released the socket");
    let evs = plain_events(&outs);
    assert!(
        matches!(
            &evs[0],
            SessionEvent::Closed {
                code: 1006,
                will_reconnect: true,
                ..
            }
        ),
        "{evs:?}"
    );

    let mut h = H::new(byte_config());
    let (id, mut peer, _) = open(&mut h);
    peer.conn.close(1012, "restart", 0).unwrap();
    let (outs, _) = shuttle(&mut h, id, &mut peer, vec![]);
    let evs = plain_events(&outs);
    assert!(
        matches!(&evs[0], SessionEvent::Closed { code: 1012, will_reconnect: true, reason, .. } if reason == "restart"),
        "{evs:?}"
    );
    assert_eq!(closes(&outs), vec![id]);
}

#[test]
fn transport_error_and_bad_url() {
    let mut h = H::new(byte_config());
    let (id, _peer, _) = open(&mut h);
    h.s.handle_transport_error(id, TransportErrorKind::Reset, "ECONNRESET", 0);
    let outs = h.drain();
    assert!(
        !outs.iter().any(|o| matches!(o, Output::Transmit { .. })),
        "no close frame onto a broken socket"
    );
    assert_eq!(closes(&outs), vec![id]);

    let mut h = H::new(SessionConfig::bytes("http://not-websocket/"));
    h.s.connect(0);
    let (id, _) = single_open(&h.drain());
    h.s.handle_transport_connected(id, 0);
    let evs = plain_events(&h.drain());
    assert!(matches!(
        &evs[..],
        [SessionEvent::Closed {
            cause: Cause::InvalidRequest(_),
            will_reconnect: false,
            ..
        }]
    ));
}

#[test]
fn close_while_the_handshake_is_in_flight() {
    let mut h = H::new(byte_config());
    h.s.connect(0);
    let (id, _) = single_open(&h.drain());
    h.s.handle_transport_connected(id, 0);
    h.drain();
    h.s.close(1000, "", 0);
    assert_eq!(closes(&h.drain()), vec![id]);
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));
    // The server's late answer is ignored.
    h.s.handle_transport_bytes(id, b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 0);
    assert!(h.drain().is_empty());
}

#[test]
fn recovery_over_bytes_greets_first_or_uses_the_url_when_asked() {
    for placement in [ParamPlacement::default(), ParamPlacement::query()] {
        let mut c = byte_config();
        c.recovery = Some(RecoveryConfig {
            placement: placement.clone(),
        });
        let mut h = H::new(c);
        let (id, mut peer, _) = open(&mut h);
        peer.conn.send(encode::welcome("sid9", "tok9", false)).unwrap();
        peer.conn.send(encode::data(1, &Message::text("a"))).unwrap();
        let (outs, _) = shuttle(&mut h, id, &mut peer, vec![]);
        assert_eq!(delivered(&outs), ["a"]);
        h.s.handle_transport_closed(id, None, "", 0);
        h.fire();
        let (id2, req) = single_open(&h.drain());
        h.s.handle_transport_connected(id2, h.now);
        let outs = h.drain();
        let mut peer2 = Peer::new();
        let (_, evs) = shuttle(&mut h, id2, &mut peer2, outs);
        let [Event::Request(r)] = &evs[..] else {
            panic!("{evs:?}")
        };
        peer2.conn.accept(Accept::default(), h.now).unwrap();
        let r = r.clone();
        let (_, mut evs) = shuttle(&mut h, id2, &mut peer2, vec![]);
        evs.retain(|e| matches!(e, Event::Message(_)));
        let want = ResumeRequest {
            session_id: "sid9".into(),
            token: ResumeToken::parse(&"0".repeat(32)).unwrap(),
            offset: 1,
        };
        if placement == ParamPlacement::default() {
            assert_eq!(req.url, "ws://example.test/chat?room=1");
            assert_eq!(evs, [Event::Message(Message::text("ss2 resume sid9 tok9 1\n"))]);
            assert_eq!(ResumeRequest::from_query(&r.path), None);
        } else {
            assert_eq!(
                req.url,
                "ws://example.test/chat?room=1&ss_sid=sid9&ss_token=tok9&ss_offset=1"
            );
            assert_eq!(evs, [Event::Message(Message::text("ss2 hello\n"))]);
            // "tok9" is not a token this crate's server issues (32 hex digits).
            assert_eq!(ResumeRequest::from_query(&r.path), None);
            let path = r.path.replace("tok9", &"0".repeat(32));
            assert_eq!(ResumeRequest::from_query(&path), Some(want));
        }
    }
}

/// Issue 12, sequence 2 over a byte transport: the cause stays bounded.
#[test]
fn hostile_first_message_over_bytes_yields_a_bounded_cause() {
    let mut c = byte_config();
    c.recovery = Some(RecoveryConfig::default());
    let mut h = H::new(c);
    let (id, mut peer, _) = open(&mut h);
    peer.conn.send(Message::text("\u{1}".repeat(8 << 20))).unwrap();
    let (outs, _) = shuttle(&mut h, id, &mut peer, vec![]);
    let (_, _, cause) = reconnecting(&outs).expect("retried");
    let text = format!("{cause:?} {cause}");
    assert!(text.len() <= 600, "{} bytes", text.len());
    for o in &outs {
        match o {
            Output::CloseTransport { reason, .. } => assert!(reason.len() <= 123),
            Output::Event(SessionEvent::Message(_)) | Output::Transmit { .. } => {}
            other => assert!(format!("{other:?}").len() <= 1_000),
        }
    }
}

/// What a connection queues while the session polls it (the close frame deferred behind
/// the messages before an error, a pong, the answer to a close) leaves in the same drain:
/// nothing waits for a timer. Checked at every read split, and byte by byte.
mod queued_while_polling {
    use super::*;

    /// Server frames (unmasked), as a peer would write them.
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut v = vec![b0, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    fn first_then(second: Vec<u8>) -> Vec<u8> {
        let mut wire = frame(0x81, b"first");
        wire.extend_from_slice(&second);
        wire
    }

    fn splits(wire: &[u8]) -> Vec<Vec<&[u8]>> {
        let mut v: Vec<Vec<&[u8]>> = (0..=wire.len()).map(|i| vec![&wire[..i], &wire[i..]]).collect();
        v.push(wire.chunks(1).collect());
        v
    }

    /// Opens a session over bytes, feeds `parts` as separate reads (draining after each;
    /// never a timer), and hands the session's transmits to the peer. Returns the
    /// session's outputs and the peer's events.
    fn run(parts: &[&[u8]]) -> (H, TransportId, Vec<Output>, Vec<Event>) {
        let mut h = H::new(byte_config());
        let (id, mut peer, _) = open(&mut h);
        let mut outs = vec![];
        for part in parts {
            h.s.handle_transport_bytes(id, part, h.now);
            outs.extend(h.drain());
        }
        for o in &outs {
            if let Output::Transmit { id: i, bytes } = o {
                assert_eq!(*i, id);
                peer.conn.handle_input(bytes, h.now);
            }
        }
        let evs = peer.events();
        (h, id, outs, evs)
    }

    fn peer_closed_with(evs: &[Event]) -> Option<u16> {
        evs.iter().find_map(|e| match e {
            Event::Closed(info) => Some(info.code),
            _ => None,
        })
    }

    #[test]
    fn an_error_after_a_message_closes_and_reconnects_at_once() {
        for (bad, code) in [
            (frame(0xa1, b"rsv2"), 1002),
            (frame(0x81, &[b'o', b'k', 0xff]), 1007),
            (frame(0x8b, b""), 1002),
        ] {
            let wire = first_then(bad);
            for parts in splits(&wire) {
                let cut: Vec<usize> = parts.iter().map(|p| p.len()).collect();
                let (h, id, outs, peer_evs) = run(&parts);
                assert_eq!(delivered(&outs), ["first"], "{cut:?}");
                assert_eq!(
                    peer_closed_with(&peer_evs),
                    Some(code),
                    "{cut:?}: the close frame went out"
                );
                assert_eq!(closes(&outs), vec![id], "{cut:?}");
                let Some((_, _, Cause::Protocol(why))) = reconnecting(&outs) else {
                    panic!("{cut:?}: {outs:#?}")
                };
                assert!(why.contains(&format!("({code})")), "{cut:?}: {why}");
                assert_eq!(h.s.state(), State::Backoff, "{cut:?}");
                // The close frame leaves before the transport is released.
                let close_at = outs.iter().position(|o| matches!(o, Output::CloseTransport { .. }));
                let last_tx = outs.iter().rposition(|o| matches!(o, Output::Transmit { .. }));
                assert!(last_tx < close_at, "{cut:?}: {outs:#?}");
            }
        }
    }

    #[test]
    fn an_error_alone_closes_and_reconnects_at_once() {
        for parts in splits(&frame(0xa1, b"rsv2")) {
            let (h, id, outs, peer_evs) = run(&parts);
            assert_eq!(peer_closed_with(&peer_evs), Some(1002));
            assert_eq!(closes(&outs), vec![id]);
            assert!(matches!(reconnecting(&outs), Some((_, _, Cause::Protocol(_)))));
            assert_eq!(h.s.state(), State::Backoff);
        }
    }

    #[test]
    fn a_ping_after_a_message_is_answered_at_once() {
        let wire = first_then(frame(0x89, b"p"));
        for parts in splits(&wire) {
            let cut: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            let (h, _, outs, peer_evs) = run(&parts);
            assert_eq!(delivered(&outs), ["first"], "{cut:?}");
            assert_eq!(peer_evs, vec![Event::Pong(bytes::Bytes::from_static(b"p"))], "{cut:?}");
            assert!(closes(&outs).is_empty(), "{cut:?}");
            assert_eq!(h.s.state(), State::Open, "{cut:?}");
        }
    }

    #[test]
    fn a_close_after_a_message_is_answered_and_reconnects_at_once() {
        let mut payload = 1012u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"restart");
        let wire = first_then(frame(0x88, &payload));
        for parts in splits(&wire) {
            let cut: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            let (h, id, outs, peer_evs) = run(&parts);
            assert_eq!(delivered(&outs), ["first"], "{cut:?}");
            assert_eq!(peer_closed_with(&peer_evs), Some(1012), "{cut:?}: the answer went out");
            assert_eq!(closes(&outs), vec![id], "{cut:?}");
            assert!(
                plain_events(&outs).iter().any(|e| matches!(
                    e,
                    SessionEvent::Closed {
                        code: 1012,
                        will_reconnect: true,
                        ..
                    }
                )),
                "{cut:?}: {outs:#?}"
            );
            assert_eq!(h.s.state(), State::Backoff, "{cut:?}");
        }
    }
}

#[test]
fn the_queue_flushed_on_open_is_one_transmit() {
    let mut h = H::new(byte_config());
    for i in 0..100 {
        h.s.send(text(&format!("m{i}")), 0).unwrap();
    }
    h.s.connect(0);
    let (id, _) = single_open(&h.drain());
    h.s.handle_transport_connected(id, 0);
    let mut peer = Peer::new();
    for o in h.drain() {
        if let Output::Transmit { bytes, .. } = o {
            peer.conn.handle_input(&bytes, 0);
        }
    }
    assert!(matches!(&peer.events()[..], [Event::Request(_)]));
    peer.conn.accept(Accept::default(), 0).unwrap();
    assert!(matches!(&peer.events()[..], [Event::Open(_)]));
    let response = peer.conn.poll_transmit().unwrap();
    h.s.handle_transport_bytes(id, &response, 0);
    let outs = h.drain();
    let transmits: Vec<&bytes::Bytes> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Transmit { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect();
    assert_eq!(transmits.len(), 1, "one write for the whole queue: {outs:#?}");
    assert!(
        matches!(outs.last(), Some(Output::Transmit { .. })),
        "after the open event: {outs:#?}"
    );
    peer.conn.handle_input(transmits[0], 0);
    let got: Vec<Event> = peer.events();
    let want: Vec<Event> = (0..100).map(|i| Event::Message(text(&format!("m{i}")))).collect();
    assert_eq!(got, want);
}

#[test]
fn control_frames_are_reported_only_when_asked_and_user_pings_reach_the_server() {
    for report in [false, true] {
        let mut c = byte_config();
        c.control_frames = report;
        let mut h = H::new(c);
        assert_eq!(
            h.s.ping(b"early", 0),
            Err(SendError::Rejected("not open: pings are not queued".into()))
        );
        let (id, mut peer, _) = open(&mut h);
        // The server pings (the connection answers) and the app pings (the server answers).
        peer.conn.ping(b"srv").unwrap();
        h.s.ping(b"app", h.now).unwrap();
        let outs = h.drain();
        let (outs, evs) = shuttle(&mut h, id, &mut peer, outs);
        assert!(evs.contains(&Event::Ping(bytes::Bytes::from_static(b"app"))), "{evs:?}");
        assert!(evs.contains(&Event::Pong(bytes::Bytes::from_static(b"srv"))), "{evs:?}");
        let controls: Vec<_> = plain_events(&outs)
            .into_iter()
            .filter(|e| matches!(e, SessionEvent::Ping(_) | SessionEvent::Pong(_)))
            .collect();
        let want = if report {
            vec![
                SessionEvent::Ping(bytes::Bytes::from_static(b"srv")),
                SessionEvent::Pong(bytes::Bytes::from_static(b"app")),
            ]
        } else {
            vec![]
        };
        assert_eq!(controls, want, "control_frames = {report}");
        h.s.close(1000, "", h.now);
        assert_eq!(h.s.ping(b"late", h.now), Err(SendError::Closed));
    }
}

#[test]
fn fragments_are_reported_before_the_message_only_when_asked() {
    // Server frames (unmasked): "ab" + "c" as two frames, a ping between them.
    let wire = [
        &[0x01, 0x02, b'a', b'b'][..],
        &[0x89, 0x01, b'p'][..],
        &[0x80, 0x01, b'c'][..],
    ]
    .concat();
    for report in [false, true] {
        let mut c = byte_config();
        if let TransportKind::Bytes(conn) = &mut c.transport {
            conn.deliver_fragments = report;
        }
        let mut h = H::new(c);
        let (id, _peer, _) = open(&mut h);
        for cut in 0..=wire.len() {
            h.s.handle_transport_bytes(id, &wire[..cut], h.now);
            h.s.handle_transport_bytes(id, &wire[cut..], h.now);
            let evs: Vec<_> = plain_events(&h.drain())
                .into_iter()
                .filter(|e| matches!(e, SessionEvent::Fragment { .. } | SessionEvent::Message(_)))
                .collect();
            let mut want = vec![];
            if report {
                want.push(SessionEvent::Fragment {
                    opcode: 1,
                    fin: false,
                    data: bytes::Bytes::from_static(b"ab"),
                });
                want.push(SessionEvent::Fragment {
                    opcode: 0,
                    fin: true,
                    data: bytes::Bytes::from_static(b"c"),
                });
            }
            want.push(SessionEvent::Message(Message::text("abc")));
            assert_eq!(evs, want, "fragments = {report}, cut {cut}");
        }
    }
}
