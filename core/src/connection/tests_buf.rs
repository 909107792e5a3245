//! The host-buffer input (`handle_input_buf`) against the slice input (`handle_input`),
//! and the uncopied send path.

use super::*;
use crate::mask::apply_mask;
use crate::rng::SeededRandom;

fn rng(seed: u64) -> Box<dyn RandomSource> {
    Box::new(SeededRandom::new(seed))
}

fn plain() -> Config {
    Config {
        deflate: None,
        ..Config::default()
    }
}

/// An open client/server pair over `config`, with every handshake byte and event taken.
fn open_pair(config: Config) -> (Connection, Connection) {
    let req = ClientRequest {
        url: "ws://example.com/".into(),
        ..Default::default()
    };
    let mut c = Connection::client(&req, config.clone(), rng(1), 0).unwrap();
    let mut s = Connection::server(config, rng(2), 0);
    while let Some(b) = c.poll_transmit() {
        s.handle_input(&b, 0);
    }
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept(Accept::default(), 0).unwrap();
    while let Some(b) = s.poll_transmit() {
        c.handle_input(&b, 0);
    }
    assert!(matches!(s.poll_event(), Some(Event::Open(_))));
    assert!(matches!(c.poll_event(), Some(Event::Open(_))));
    assert_eq!((c.state(), s.state()), (State::Open, State::Open));
    (c, s)
}

/// One frame as a peer would send it: masked with a fixed key when `masked`.
fn frame(b0: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let key = [0x9c, 0x01, 0x7e, 0x42];
    let mut out = vec![b0];
    let mask_bit = if masked { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mut p = payload.to_vec();
    if masked {
        out.extend_from_slice(&key);
        apply_mask(&mut p, key, 0);
    }
    out.extend_from_slice(&p);
    out
}

/// Everything a connection hands out, bytes and events, in order.
fn outputs(c: &mut Connection) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

/// The events, in order, and all bytes written, joined (how writes are grouped depends on
/// when the host drains, not on the input path).
fn normalise(out: Vec<Output>) -> (Vec<Event>, Vec<u8>) {
    let (mut evs, mut bytes) = (Vec::new(), Vec::new());
    for o in out {
        match o {
            Output::Transmit(b) => bytes.extend_from_slice(&b),
            Output::Event(e) => evs.push(e),
        }
    }
    (evs, bytes)
}

/// A stream of well-formed traffic: single-frame and fragmented messages, text with
/// multi-byte characters, control frames in between, an empty message, a message over
/// 125 bytes (16-bit length), and a close frame.
fn good_stream(masked: bool) -> Vec<u8> {
    let text_200: String = "zoë—ok ".repeat(30).chars().take(120).collect();
    let bin_300: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let parts: Vec<Vec<u8>> = vec![
        frame(0x82, b"hello", masked),
        frame(0x81, "héllo wörld".as_bytes(), masked),
        frame(0x01, "h\u{e9}".as_bytes(), masked),
        frame(0x89, b"ping!", masked),
        frame(0x80, b"llo", masked),
        frame(0x82, &bin_300, masked),
        frame(0x82, b"", masked),
        frame(0x81, text_200.as_bytes(), masked),
        frame(0x8a, b"pong", masked),
        frame(0x02, &bin_300[..100], masked),
        frame(0x00, &bin_300[100..], masked),
        frame(0x80, b"", masked),
        frame(0x88, &[0x03, 0xe8, b'b', b'y', b'e'], masked),
    ];
    parts.concat()
}

/// Streams with something wrong in them (for a server: masked frames).
fn bad_streams() -> Vec<(&'static str, Vec<u8>)> {
    let big = vec![7u8; 300];
    vec![
        (
            "invalid UTF-8 in a whole text frame",
            [
                frame(0x82, b"ok", true),
                frame(0x81, b"ab\xffcd", true),
                frame(0x82, b"after", true),
            ]
            .concat(),
        ),
        (
            "text ending inside a UTF-8 sequence",
            [frame(0x82, b"ok", true), frame(0x81, b"ab\xc3", true)].concat(),
        ),
        (
            "invalid UTF-8 early in a long text frame",
            [
                frame(0x82, b"ok", true),
                frame(0x81, &[b"\xff".as_slice(), &[b'a'; 200]].concat(), true),
            ]
            .concat(),
        ),
        (
            "invalid UTF-8 late in a long text frame",
            [
                frame(0x82, b"ok", true),
                frame(
                    0x81,
                    &[&[b'a'; 150][..], b"\xe2\x82", b"\xff", &[b'b'; 40]].concat(),
                    true,
                ),
            ]
            .concat(),
        ),
        (
            "a long text frame cut inside a character at its end",
            [
                frame(0x81, &[&[b'a'; 190][..], "\u{20ac}".as_bytes()].concat(), true),
                frame(0x81, &[&[b'a'; 190][..], b"\xe2\x82"].concat(), true),
            ]
            .concat(),
        ),
        (
            "a frame over max_frame_size (256)",
            [
                frame(0x82, b"ok", true),
                frame(0x82, &big, true),
                frame(0x82, b"after", true),
            ]
            .concat(),
        ),
        (
            "an unmasked frame from a client",
            [frame(0x82, b"ok", true), frame(0x82, b"bare", false)].concat(),
        ),
        (
            "a reserved opcode",
            [frame(0x82, b"ok", true), frame(0x83, b"x", true)].concat(),
        ),
        (
            "RSV1 without compression",
            [frame(0x82, b"ok", true), frame(0xc2, b"x", true)].concat(),
        ),
        (
            "a new message inside a fragmented one",
            [frame(0x02, b"ok", true), frame(0x82, b"x", true)].concat(),
        ),
        (
            "data after the close frame",
            [frame(0x88, &[0x03, 0xe8], true), frame(0x82, b"ignored", true)].concat(),
        ),
    ]
}

/// Feeds `stream` split at `cut` to `conn`: the slice input (`buf == false`) or the
/// host-buffer input, and returns what each of the two inputs produced (so that an error
/// must be reported by the same input, not later).
fn feed_split(mut conn: Connection, stream: &[u8], cut: usize, use_buf: bool) -> [(Vec<Event>, Vec<u8>); 2] {
    let mut buf = BytesMut::new();
    let mut step = |part: &[u8]| {
        if use_buf {
            buf.extend_from_slice(part);
            conn.handle_input_buf(&mut buf, 0);
            assert!(buf.len() < stream.len().max(1), "never more than a frame left waiting");
        } else {
            conn.handle_input(part, 0);
        }
        normalise(outputs(&mut conn))
    };
    let out = [step(&stream[..cut]), step(&stream[cut..])];
    if use_buf {
        assert!(
            buf.is_empty(),
            "a stream that ends at a frame boundary is consumed whole"
        );
    }
    out
}

/// Both inputs' outputs as one.
fn joined(parts: [(Vec<Event>, Vec<u8>); 2]) -> (Vec<Event>, Vec<u8>) {
    let [(mut e, mut b), (e2, b2)] = parts;
    e.extend(e2);
    b.extend(b2);
    (e, b)
}

fn server(config: Config) -> Connection {
    let (_c, s) = open_pair(config);
    s
}

fn client(config: Config) -> Connection {
    let (c, _s) = open_pair(config);
    c
}

#[test]
fn the_host_buffer_input_matches_the_slice_input_at_every_split_point() {
    let small = Config {
        max_frame_size: 256,
        ..plain()
    };
    let mut cases: Vec<(&str, Vec<u8>, bool, Config, bool)> = vec![
        ("good traffic to a server", good_stream(true), true, plain(), false),
        ("good traffic to a client", good_stream(false), false, plain(), false),
    ];
    for (name, s) in bad_streams() {
        let bad = name != "data after the close frame";
        cases.push((name, s, true, small.clone(), bad));
    }
    for (name, stream, is_server, config, bad) in cases {
        let make = || {
            if is_server {
                server(config.clone())
            } else {
                client(config.clone())
            }
        };
        let whole = joined(feed_split(make(), &stream, stream.len(), false));
        assert!(!whole.0.is_empty(), "{name}: the stream produces events");
        let errs = whole.0.iter().filter(|e| matches!(e, Event::Error(_))).count();
        assert_eq!(errs, usize::from(bad), "{name}: {:?}", whole.0);
        for cut in 0..=stream.len() {
            let by_slice = feed_split(make(), &stream, cut, false);
            assert_eq!(
                joined(by_slice.clone()),
                whole,
                "{name}: the slice input itself, cut at {cut}"
            );
            let by_buf = feed_split(make(), &stream, cut, true);
            assert_eq!(by_buf, by_slice, "{name}: cut at {cut}");
        }
    }
}

#[test]
fn the_host_buffer_input_matches_a_byte_at_a_time() {
    let stream = good_stream(true);
    let want = joined(feed_split(server(plain()), &stream, 0, false));
    let mut conn = server(plain());
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in &stream {
        buf.extend_from_slice(&[*b]);
        conn.handle_input_buf(&mut buf, 0);
        got.extend(outputs(&mut conn));
    }
    assert_eq!(normalise(got), want);
    assert!(buf.is_empty());
}

#[test]
fn a_whole_frame_in_the_host_buffer_becomes_the_message_without_a_copy() {
    for (masked, mut conn) in [(true, server(plain())), (false, client(plain()))] {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let stream = [frame(0x82, b"first", masked), frame(0x82, &payload, masked)].concat();
        let mut buf = BytesMut::from(&stream[..]);
        let (base, cap) = (buf.as_ptr() as usize, buf.capacity());
        conn.handle_input_buf(&mut buf, 0);
        assert!(buf.is_empty());
        let got: Vec<Message> = std::iter::from_fn(|| conn.poll_event())
            .map(|e| match e {
                Event::Message(m) => m,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].as_bytes(), &payload[..], "masked: {masked}");
        for m in &got {
            let p = m.as_bytes().as_ptr() as usize;
            assert!(
                p >= base && p < base + cap,
                "the message is a view of the host's buffer"
            );
        }
    }
}

#[test]
fn a_frame_still_arriving_stays_in_the_host_buffer_with_room_reserved_for_the_rest() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let stream = frame(0x82, &payload, true);
    let mut conn = server(plain());
    let mut buf = BytesMut::from(&stream[..1000]);
    conn.handle_input_buf(&mut buf, 0);
    assert!(conn.poll_event().is_none());
    assert_eq!(&buf[..], &stream[..1000], "kept, unchanged, for the next read");
    assert!(buf.capacity() >= stream.len(), "room for the whole frame");
    let base = buf.as_ptr() as usize;
    buf.extend_from_slice(&stream[1000..]);
    assert_eq!(buf.as_ptr() as usize, base, "the rest fits without moving the buffer");
    conn.handle_input_buf(&mut buf, 0);
    match conn.poll_event() {
        Some(Event::Message(Message::Binary(b))) => {
            assert_eq!(&b[..], &payload[..]);
            let p = b.as_ptr() as usize;
            assert!(p >= base && p < base + buf.capacity() + stream.len());
        }
        other => panic!("expected the message, got {other:?}"),
    }
}

#[test]
fn a_frame_over_the_limits_is_refused_before_anything_is_reserved_for_it() {
    let config = Config {
        max_frame_size: 1 << 10,
        ..plain()
    };
    let mut conn = server(config);
    // A header claiming 1 MiB: refused with 1009 at once, not waited for.
    let header = &frame(0x82, &vec![0u8; 1 << 20], true)[..14];
    let mut buf = BytesMut::from(header);
    conn.handle_input_buf(&mut buf, 0);
    assert!(buf.capacity() < 1 << 16, "nothing reserved for the refused frame");
    let out = outputs(&mut conn);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Event(Event::Error(Error::Protocol { code: 1009, .. })))),
        "{out:?}"
    );
}

#[test]
fn input_after_the_end_is_dropped_and_the_buffer_emptied() {
    let mut conn = server(plain());
    let stream = [frame(0x88, &[0x03, 0xe8], true), frame(0x82, b"late", true)].concat();
    let mut buf = BytesMut::from(&stream[..]);
    conn.handle_input_buf(&mut buf, 0);
    assert!(buf.is_empty());
    buf.extend_from_slice(&frame(0x82, b"later", true));
    conn.handle_input_buf(&mut buf, 0);
    assert!(buf.is_empty());
    let evs: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
    assert!(
        matches!(evs.as_slice(), [Event::Closed(CloseInfo { code: 1000, .. })]),
        "{evs:?}"
    );
}

#[test]
fn the_handshake_can_come_through_the_host_buffer_too() {
    let req = ClientRequest {
        url: "ws://example.com/".into(),
        ..Default::default()
    };
    let mut c = Connection::client(&req, plain(), rng(1), 0).unwrap();
    let mut s = Connection::server(plain(), rng(2), 0);
    let mut buf = BytesMut::new();
    while let Some(b) = c.poll_transmit() {
        buf.extend_from_slice(&b);
    }
    s.handle_input_buf(&mut buf, 0);
    assert!(buf.is_empty());
    assert!(matches!(s.poll_event(), Some(Event::Request(_))));
    s.accept(Accept::default(), 0).unwrap();
    // The server's answer and a first message in one read of the client's.
    while let Some(b) = s.poll_transmit() {
        buf.extend_from_slice(&b);
    }
    s.send_binary(b"welcome").unwrap();
    while let Some(b) = s.poll_transmit() {
        buf.extend_from_slice(&b);
    }
    c.handle_input_buf(&mut buf, 0);
    assert!(matches!(c.poll_event(), Some(Event::Open(_))));
    assert_eq!(c.poll_event(), Some(Event::Message(Message::binary(&b"welcome"[..]))));
}

// ------------------------------------------------------------------ uncopied sends

/// Drains `conn`'s transmit chunks.
fn chunks(conn: &mut Connection) -> Vec<Bytes> {
    std::iter::from_fn(|| conn.poll_transmit()).collect()
}

#[test]
fn a_large_unmasked_message_goes_out_as_header_then_its_own_bytes() {
    let (mut c, mut s) = open_pair(plain());
    let big = Bytes::from((0..70_000u32).map(|i| (i % 249) as u8).collect::<Vec<u8>>());
    s.send_text("before").unwrap();
    s.send(Message::Binary(big.clone())).unwrap();
    s.send_text("after").unwrap();
    let header_len = 10;
    assert_eq!(
        s.buffered_amount(),
        (2 + 6) + (header_len + big.len()) + (2 + 5),
        "every byte is counted"
    );
    let out = chunks(&mut s);
    assert_eq!(s.buffered_amount(), 0);
    let uncopied = out
        .iter()
        .find(|b| b.len() == big.len())
        .expect("the payload is a chunk of its own");
    assert_eq!(uncopied.as_ptr(), big.as_ptr(), "not copied");
    for b in &out {
        c.handle_input(b, 0);
    }
    let got: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(
        got,
        vec![
            Event::Message(Message::text("before")),
            Event::Message(Message::Binary(big.clone())),
            Event::Message(Message::text("after")),
        ]
    );
}

#[test]
fn uncopied_sends_respect_the_fragment_size_and_text_is_uncopied_too() {
    let config = Config {
        fragment_size: Some(20_000),
        ..plain()
    };
    let (mut c, mut s) = open_pair(config);
    let text: String = "ab€".repeat(10_000);
    s.send(Message::text(text.as_str())).unwrap();
    let out = chunks(&mut s);
    // Two fragments of 20 000 bytes and one of 10 000, each after its header.
    let sizes: Vec<usize> = out.iter().map(Bytes::len).collect();
    assert_eq!(sizes, vec![4, 20_000, 4, 20_000, 4, 10_000]);
    for b in &out {
        c.handle_input(b, 0);
    }
    assert_eq!(c.poll_event(), Some(Event::Message(Message::text(text.as_str()))));
    // The same from the client: each fragment masked with its own key.
    c.send(Message::text(text.as_str())).unwrap();
    let out = chunks(&mut c);
    let sizes: Vec<usize> = out.iter().map(Bytes::len).collect();
    assert_eq!(sizes, vec![8, 20_000, 8, 20_000, 8, 10_000]);
    let keys: Vec<&[u8]> = [0, 2, 4].iter().map(|&i| &out[i][4..8]).collect();
    assert!(keys[0] != keys[1] && keys[1] != keys[2], "a fresh key per frame");
    for b in &out {
        s.handle_input(b, 0);
    }
    assert_eq!(s.poll_event(), Some(Event::Message(Message::text(text.as_str()))));
}

#[test]
fn small_messages_and_borrowed_payloads_are_copied_with_their_header() {
    let (mut c, mut s) = open_pair(plain());
    // Below the threshold: one chunk, header and payload together.
    s.send(Message::Binary(Bytes::from(vec![1u8; 1000]))).unwrap();
    assert_eq!(chunks(&mut s).iter().map(Bytes::len).collect::<Vec<_>>(), vec![1004]);
    // A borrowed payload is copied (and masked, for a client, in the same pass).
    let big = vec![5u8; 50_000];
    c.send_binary(&big).unwrap();
    let out = chunks(&mut c);
    assert_eq!(out.iter().map(Bytes::len).collect::<Vec<_>>(), vec![4 + 4 + big.len()]);
    s.handle_input(&out[0], 0);
    assert_eq!(s.poll_event(), Some(Event::Message(Message::binary(big))));
}

#[test]
fn a_client_masks_a_large_message_a_piece_at_a_time_as_it_goes_out() {
    let (mut c, mut s) = open_pair(plain());
    let big = Bytes::from((0..150_000u32).map(|i| (i % 241) as u8).collect::<Vec<u8>>());
    c.send_text("a").unwrap();
    c.send(Message::Binary(big.clone())).unwrap();
    c.send_text("b").unwrap();
    let header = 2 + 8 + 4;
    assert_eq!(c.buffered_amount(), (2 + 4 + 1) + header + big.len() + (2 + 4 + 1));
    let mut wire = Vec::new();
    let mut sizes = Vec::new();
    let mut piece_at = Vec::new();
    while let Some(b) = c.poll_transmit() {
        sizes.push(b.len());
        piece_at.push(b.as_ptr() as usize);
        wire.extend_from_slice(&b);
        // `b` is dropped here, as a host drops a chunk once written.
    }
    assert_eq!(c.buffered_amount(), 0);
    // "a" with the big message's header, three masked pieces, then "b".
    assert_eq!(sizes, vec![7 + header, 65_536, 65_536, 150_000 - 131_072, 7]);
    assert_eq!(piece_at[1], piece_at[2], "the piece buffer is reused once dropped");
    assert_eq!(piece_at[2], piece_at[3]);
    assert!(
        !wire.windows(64).any(|w| w == &big[..64]),
        "the payload went out masked"
    );
    s.handle_input(&wire, 0);
    let got: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert_eq!(
        got,
        vec![
            Event::Message(Message::text("a")),
            Event::Message(Message::Binary(big)),
            Event::Message(Message::text("b")),
        ]
    );
}

/// `deliver_fragments`: every frame of a fragmented message is reported as it completes,
/// then the whole message; at every read split, by both inputs, for either role.
#[test]
fn fragments_are_reported_frame_by_frame_at_every_split_point() {
    let frag = |opcode: u8, fin: bool, data: &[u8]| Event::Fragment {
        opcode,
        fin,
        data: Bytes::copy_from_slice(data),
    };
    for is_server in [false, true] {
        let masked = is_server;
        // "é" is cut across the first two frames; a ping comes between fragments.
        let stream = [
            frame(0x01, b"H\xc3", masked),
            frame(0x89, b"p", masked),
            frame(0x00, b"\xa9llo", masked),
            frame(0x80, b"!", masked),
            frame(0x82, b"bin", masked),
            frame(0x02, b"ab", masked),
            frame(0x80, b"", masked),
        ]
        .concat();
        let config = Config {
            deliver_fragments: true,
            ..plain()
        };
        let make = || {
            if is_server {
                server(config.clone())
            } else {
                client(config.clone())
            }
        };
        let want = vec![
            frag(0x1, false, b"H\xc3"),
            Event::Ping(Bytes::from_static(b"p")),
            frag(0x0, false, b"\xa9llo"),
            frag(0x0, true, b"!"),
            Event::Message(Message::text("Héllo!")),
            Event::Message(Message::binary(&b"bin"[..])),
            frag(0x2, false, b"ab"),
            frag(0x0, true, b""),
            Event::Message(Message::binary(&b"ab"[..])),
        ];
        for cut in 0..=stream.len() {
            for use_buf in [false, true] {
                let (evs, _) = joined(feed_split(make(), &stream, cut, use_buf));
                assert_eq!(evs, want, "server {is_server}, cut {cut}, buf {use_buf}");
            }
        }
        // Off (the default): the same stream gives the messages only.
        let (evs, _) = joined(feed_split(
            if is_server { server(plain()) } else { client(plain()) },
            &stream,
            stream.len(),
            true,
        ));
        assert!(!evs.iter().any(|e| matches!(e, Event::Fragment { .. })), "{evs:?}");
        assert_eq!(evs.iter().filter(|e| matches!(e, Event::Message(_))).count(), 3);
    }
}

/// With fragments delivered, UTF-8 is still checked as bytes arrive (a bad byte in a
/// later fragment fails before that fragment is reported) and the message size limit
/// still applies to the whole message.
#[test]
fn delivered_fragments_keep_the_utf8_check_and_the_limits() {
    let config = Config {
        deliver_fragments: true,
        max_message_size: 8,
        ..plain()
    };
    let cases: [(&str, Vec<u8>, u16); 3] = [
        (
            "invalid UTF-8 in a continuation",
            [
                frame(0x01, b"ok", true),
                frame(0x00, b"a\xffb", true),
                frame(0x80, b"c", true),
            ]
            .concat(),
            1007,
        ),
        (
            "ends inside a UTF-8 sequence",
            [frame(0x01, b"ok", true), frame(0x80, b"\xc3", true)].concat(),
            1007,
        ),
        (
            "over max_message_size",
            [frame(0x02, b"12345", true), frame(0x80, b"6789", true)].concat(),
            1009,
        ),
    ];
    for (name, stream, code) in cases {
        for cut in 0..=stream.len() {
            for use_buf in [false, true] {
                let (evs, _) = joined(feed_split(server(config.clone()), &stream, cut, use_buf));
                let frags: Vec<_> = evs.iter().filter(|e| matches!(e, Event::Fragment { .. })).collect();
                assert_eq!(frags.len(), 1, "{name}, cut {cut}: only the first fragment: {evs:?}");
                assert!(!evs.iter().any(|e| matches!(e, Event::Message(_))), "{name}: {evs:?}");
                assert!(
                    evs.iter()
                        .any(|e| matches!(e, Event::Error(Error::Protocol { code: c, .. }) if *c == code)),
                    "{name}, cut {cut}: {evs:?}"
                );
            }
        }
    }
}
