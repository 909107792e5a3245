//! One test per behaviour, over a message transport (the host frames for us).

use super::super::*;
use super::harness::*;

fn open_session(c: SessionConfig) -> (H, TransportId) {
    let mut h = H::new(c);
    let (id, _) = h.connect();
    h.open(id);
    assert_eq!(h.s.state(), State::Open);
    (h, id)
}

#[test]
fn connect_open_send_receive() {
    let mut h = H::new(msg_config());
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Idle, None));
    h.s.connect(0);
    let outs = h.drain();
    let (id, req) = single_open(&outs);
    assert_eq!(req.url, "wss://example.test/ws");
    assert_eq!(
        events(&outs),
        vec![SessionEvent::StateChanged {
            from: State::Idle,
            to: State::Connecting
        }]
    );
    assert_eq!(h.s.poll_timeout(), Some(10_000), "connect timeout armed");

    h.s.handle_transport_open(id, Some("chat".into()), 5);
    assert_eq!(
        h.events(),
        vec![
            SessionEvent::StateChanged {
                from: State::Connecting,
                to: State::Open
            },
            SessionEvent::Open {
                attempt: 1,
                recovered: false,
                subprotocol: Some("chat".into()),
                extensions: String::new(),
            },
        ]
    );
    assert_eq!(
        h.s.poll_timeout(),
        None,
        "open without heartbeat: only the host can move us"
    );
    assert_eq!(delivered(&h.msg(id, text("hi"))), ["hi"]);
    h.s.send(text("yo"), 6).unwrap();
    assert_eq!(sent(&h.drain()), vec![(id, text("yo"))]);
}

#[test]
fn queue_overflow_is_an_error_and_flush_is_in_order() {
    let mut c = msg_config();
    c.queue = QueueLimits {
        max_messages: 3,
        max_bytes: 100,
    };
    let mut h = H::new(c);
    for m in ["a", "b"] {
        h.s.send(text(m), 0).unwrap(); // Idle: queued too
    }
    let (id, _) = h.connect();
    h.s.send(text("c"), 0).unwrap();
    assert_eq!(
        h.s.send(text("d"), 0),
        Err(SendError::QueueFull { messages: 3, bytes: 3 })
    );
    assert_eq!((h.s.queued_messages(), h.s.queued_bytes()), (3, 3));
    let outs = h.open(id);
    // Open is announced before the flush, and the flush keeps the order.
    let open_at = outs
        .iter()
        .position(|o| matches!(o, Output::Event(SessionEvent::Open { .. })))
        .unwrap();
    let first_send = outs
        .iter()
        .position(|o| matches!(o, Output::SendMessage { .. }))
        .unwrap();
    assert!(open_at < first_send);
    assert_eq!(sent(&outs), vec![(id, text("a")), (id, text("b")), (id, text("c"))]);
    assert_eq!(h.s.queued_messages(), 0);
}

#[test]
fn queue_survives_a_failed_attempt_and_take_unsent_empties_it() {
    let mut h = H::new(msg_config());
    let (id, _) = h.connect();
    h.s.send(text("x"), 0).unwrap();
    h.error(id);
    assert_eq!(h.s.state(), State::Backoff);
    h.s.close(1000, "", 0);
    assert_eq!(h.s.send(text("y"), 0), Err(SendError::Closed));
    assert_eq!(h.s.take_unsent(), vec![text("x")]);
}

#[test]
fn backoff_grows_then_resets_after_min_uptime() {
    let mut h = H::new(msg_config());
    let (mut id, _) = h.connect();
    let mut delays = vec![];
    for _ in 0..6 {
        let outs = h.error(id);
        assert!(closes(&outs).contains(&id), "a failed transport is released");
        let (attempt, delay, _) = reconnecting(&outs).unwrap();
        assert_eq!(attempt, h.s.attempt() + 1);
        delays.push(delay);
        h.fire();
        id = single_open(&h.drain()).0;
    }
    assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);

    // Open briefly (< min_uptime): still counts as a failure; backoff keeps growing.
    h.open(id);
    h.advance(1_000);
    let (attempt, delay, _) = reconnecting(&h.closed(id, Some(1011))).unwrap();
    assert_eq!((attempt, delay), (8, 30_000));
    h.fire();
    id = single_open(&h.drain()).0;
    let outs = h.open(id);
    assert!(events(&outs).contains(&SessionEvent::Open {
        attempt: 8,
        recovered: false,
        subprotocol: None,
        extensions: String::new(),
    }));

    // Open for min_uptime: the run starts over.
    h.advance(5_000);
    let (attempt, delay, _) = reconnecting(&h.closed(id, Some(1001))).unwrap();
    assert_eq!((attempt, delay), (1, 1_000));
}

#[test]
fn max_retries_gives_up_then_reconnect_starts_a_fresh_run() {
    let mut c = msg_config();
    c.retry.max_retries = Some(2);
    let mut h = H::new(c);
    let (mut id, _) = h.connect();
    for _ in 0..2 {
        h.error(id);
        h.fire();
        id = single_open(&h.drain()).0;
    }
    let outs = h.error(id);
    let evs = plain_events(&outs);
    assert!(
        matches!(
            &evs[0],
            SessionEvent::GaveUp {
                attempts: 3,
                cause: Cause::Transport { .. }
            }
        ),
        "{evs:?}"
    );
    assert!(matches!(
        &evs[1],
        SessionEvent::Closed {
            will_reconnect: false,
            code: 1006,
            ..
        }
    ));
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));

    h.s.reconnect(h.now);
    let outs = h.drain();
    let (id, _) = single_open(&outs);
    assert_eq!(
        events(&outs),
        vec![SessionEvent::StateChanged {
            from: State::Closed,
            to: State::Connecting
        }]
    );
    assert!(events(&h.open(id)).contains(&SessionEvent::Open {
        attempt: 1,
        recovered: false,
        subprotocol: None,
        extensions: String::new(),
    }));
    // And it keeps working: the fresh run has its retries back.
    h.closed(id, None);
    assert_eq!(h.s.state(), State::Backoff);
}

#[test]
fn close_in_every_state_stops_everything() {
    // Idle.
    let mut h = H::new(msg_config());
    h.s.close(1000, "bye", 0);
    assert!(matches!(
        &plain_events(&h.drain())[..],
        [SessionEvent::Closed {
            cause: Cause::UserClose,
            ..
        }]
    ));
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));

    // Connecting: the pending transport is closed at once (no crash, no wait).
    let mut h = H::new(msg_config());
    let (id, _) = h.connect();
    h.s.close(1000, "bye", 0);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![id]);
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));
    // Late news about that transport changes nothing.
    assert!(h.open(id).is_empty());
    assert!(h.error(id).is_empty());
    assert!(h.closed(id, Some(1000)).is_empty());
    assert_eq!(h.s.state(), State::Closed);

    // Backoff.
    let mut h = H::new(msg_config());
    let (id, _) = h.connect();
    h.error(id);
    assert!(h.s.poll_timeout().is_some());
    h.s.close(4000, "bye", 0);
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));
    h.advance(100_000);
    assert!(opens(&h.drain()).is_empty(), "no reconnect after close");

    // Closing: a second close is a no-op.
    let (mut h, id) = open_session(msg_config());
    h.s.close(1000, "", 0);
    h.s.close(1000, "", 0);
    assert_eq!(closes(&h.drain()), vec![id]);
}

#[test]
fn close_while_open_waits_for_the_closing_handshake_or_its_timeout() {
    let mut c = msg_config();
    c.heartbeat = Some(Heartbeat::steady(1_000, 500));
    let (mut h, id) = open_session(c);
    h.s.close(3001, "done", 0);
    let outs = h.drain();
    assert_eq!(
        outs[0],
        Output::CloseTransport {
            id,
            code: 3001,
            reason: "done".into()
        }
    );
    assert_eq!(h.s.state(), State::Closing);
    assert_eq!(
        h.s.poll_timeout(),
        Some(5_000),
        "only the close timeout: the heartbeat is gone"
    );
    assert_eq!(h.s.send(text("late"), 0), Err(SendError::Closed));
    let outs = h.closed(id, Some(3001));
    assert!(closes(&outs).is_empty(), "already asked");
    assert_eq!(
        plain_events(&outs),
        vec![SessionEvent::Closed {
            code: 3001,
            reason: String::new(),
            cause: Cause::UserClose,
            will_reconnect: false
        }]
    );
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));

    // The host never reports the close: the session stops anyway.
    let (mut h, _) = open_session(msg_config());
    h.s.close(1000, "", 0);
    h.drain();
    h.advance(5_000);
    assert!(matches!(
        &plain_events(&h.drain())[..],
        [SessionEvent::Closed { code: 1006, .. }]
    ));
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));

    // Invalid close codes are replaced, long reasons cut.
    let (mut h, id) = open_session(msg_config());
    h.s.close(1006, &"é".repeat(100), 0);
    match &h.drain()[0] {
        Output::CloseTransport { id: i, code, reason } => {
            assert_eq!((*i, *code), (id, 1000));
            assert!(reason.len() <= 123);
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn stale_transport_ids_are_ignored() {
    let mut h = H::new(msg_config());
    let (t1, _) = h.connect();
    h.error(t1);
    h.fire();
    let (t2, _) = single_open(&h.drain());
    assert!(t2 > t1);
    h.open(t2);
    // Everything about t1 now is noise.
    assert!(h.open(t1).is_empty());
    assert!(h.msg(t1, text("ghost")).is_empty());
    assert!(h.closed(t1, Some(1006)).is_empty());
    assert!(h.error(t1).is_empty());
    h.s.handle_transport_connected(t1, h.now);
    assert!(h.drain().is_empty());
    assert_eq!(h.s.state(), State::Open);
    assert_eq!(h.s.transports(), vec![t2]);
    assert_eq!(delivered(&h.msg(t2, text("real"))), ["real"]);
}

#[test]
fn connect_and_handshake_timeouts() {
    let mut h = H::new(recovery_config());
    let (t1, _) = h.connect();
    assert_eq!(h.fire(), 10_000);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t1]);
    assert_eq!(reconnecting(&outs).unwrap().2, Cause::ConnectTimeout);
    h.fire();
    let (t2, _) = single_open(&h.drain());
    // Opens, but the welcome never comes.
    h.s.handle_transport_open(t2, None, h.now);
    let outs = h.drain();
    assert!(events(&outs).is_empty(), "not open before the welcome");
    assert_eq!(
        sent(&outs),
        vec![(t2, text("ss2 hello\n"))],
        "only the greeting goes out"
    );
    assert_eq!(h.s.state(), State::Connecting);
    assert_eq!(h.s.poll_timeout(), Some(h.now + 10_000));
    h.fire();
    assert_eq!(reconnecting(&h.drain()).unwrap().2, Cause::HandshakeTimeout);
}

#[test]
fn heartbeat_timeout_reconnects_and_the_new_transport_starts_fresh() {
    let mut c = msg_config();
    c.heartbeat = Some(Heartbeat::steady(1_000, 500));
    let (mut h, t1) = open_session(c);
    assert_eq!(h.fire(), 1_000);
    assert_eq!(sent(&h.drain()), vec![(t1, encode::ping())]);
    assert_eq!(h.s.poll_timeout(), Some(1_500));
    // A pong is consumed, not delivered, and re-arms the timer.
    h.now = 1_200;
    assert!(delivered(&h.msg(t1, encode::pong())).is_empty());
    assert_eq!(h.s.poll_timeout(), Some(2_200));
    h.fire();
    h.drain();
    assert_eq!(h.fire(), 2_700);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t1]);
    let (_, delay, cause) = reconnecting(&outs).unwrap();
    assert_eq!(cause, Cause::KeepaliveTimeout);
    assert_eq!(
        h.s.poll_timeout(),
        Some(2_700 + delay),
        "only the backoff timer remains"
    );
    h.fire();
    let (t2, _) = single_open(&h.drain());
    h.now += 3_000; // a slow connect
    h.open(t2);
    let opened = h.now;
    assert_eq!(
        h.s.poll_timeout(),
        Some(opened + 1_000),
        "fresh heartbeat timer, no stale deadline"
    );
    h.fire();
    assert_eq!(sent(&h.drain()), vec![(t2, encode::ping())]);
    h.now += 100;
    h.msg(t2, encode::pong());
    h.advance(400);
    assert_eq!(h.s.state(), State::Open);
}

#[test]
fn any_message_counts_as_life() {
    let mut c = msg_config();
    c.heartbeat = Some(Heartbeat::steady(1_000, 500));
    let (mut h, t1) = open_session(c);
    for _ in 0..10 {
        h.now += 900;
        h.msg(t1, text("data"));
        h.s.handle_timeout(h.now);
    }
    assert!(sent(&h.drain()).is_empty(), "a chatty server needs no pings");
}

#[test]
fn server_close_codes_reconnect_by_default_even_1000() {
    for code in [1000, 1001, 1006, 1008, 1011, 1012, 1013, 4000] {
        let (mut h, id) = open_session(msg_config());
        let evs = plain_events(&h.closed(id, Some(code)));
        assert!(
            matches!(&evs[..], [SessionEvent::Closed { code: c, will_reconnect: true, .. }, SessionEvent::Reconnecting { .. }] if *c == code),
            "{code}: {evs:?}"
        );
    }
}

#[test]
fn fatal_close_codes_stop_the_session() {
    let mut c = msg_config();
    c.retry.fatal_close_codes.push(4001);
    let (mut h, id) = open_session(c);
    let evs = plain_events(&h.closed(id, Some(4001)));
    assert!(
        matches!(
            &evs[..],
            [SessionEvent::Closed {
                code: 4001,
                will_reconnect: false,
                ..
            }]
        ),
        "{evs:?}"
    );
    assert_eq!((h.s.state(), h.s.poll_timeout()), (State::Closed, None));
    h.s.reconnect(h.now);
    assert_eq!(
        h.s.state(),
        State::Connecting,
        "stopped by policy, restarted by the user"
    );
}

/// The request for the single `NeedRequest` in `outs`.
fn single_need(outs: &[Output]) -> (TransportId, u32, bool) {
    let v: Vec<_> = outs
        .iter()
        .filter_map(|o| match o {
            Output::NeedRequest { id, attempt, migration } => Some((*id, *attempt, *migration)),
            _ => None,
        })
        .collect();
    assert_eq!(v.len(), 1, "expected one NeedRequest in {outs:#?}");
    v[0]
}

fn url(u: &str) -> TransportRequest {
    TransportRequest {
        url: u.into(),
        ..Default::default()
    }
}

fn provided_config() -> SessionConfig {
    let mut c = recovery_config();
    c.request_source = RequestSource::Provided;
    c.retry.connect_timeout_ms = Some(3_000);
    c
}

#[test]
fn provided_request_answered_at_once_and_later() {
    let mut h = H::new(provided_config());
    h.s.connect(h.now);
    let outs = h.drain();
    assert!(opens(&outs).is_empty(), "no transport before its request");
    let (t1, attempt, migration) = single_need(&outs);
    assert_eq!((attempt, migration), (1, false));
    assert_eq!(h.s.state(), State::Connecting);
    assert_eq!(h.s.poll_timeout(), Some(3_000), "the provider has the connect timeout");
    // A synchronous provider answers at once.
    h.s.provide_request(t1, url("wss://h/?token=a"), h.now);
    assert_eq!(single_open(&h.drain()), (t1, url("wss://h/?token=a")));
    h.open_welcome(t1, "s1", false);
    h.msg(t1, encode::data(1, &text("x")));
    h.error(t1);
    h.fire();
    // An asynchronous one answers after 2.5 s of simulated time: still in time, and the
    // connect timeout starts again from the answer.
    let (t2, attempt, _) = single_need(&h.drain());
    assert_eq!(attempt, 2);
    h.advance(2_500);
    assert!(h.drain().is_empty());
    h.s.provide_request(t2, url("wss://h/?token=b"), h.now);
    let (id, req) = single_open(&h.drain());
    assert_eq!(id, t2);
    assert_eq!(req.url, "wss://h/?token=b", "the credential stays out of the URL");
    assert_eq!(h.s.poll_timeout(), Some(h.now + 3_000));
    let outs = h.open_welcome(t2, "s1", true);
    assert_eq!(sent(&outs)[0], (t2, resume_line("s1", 1)), "it is the first message");
    assert!(plain_events(&outs).contains(&SessionEvent::Open {
        attempt: 2,
        recovered: true,
        subprotocol: None,
        extensions: String::new(),
    }));
}

#[test]
fn provided_request_too_late_fails_the_attempt_and_is_ignored() {
    let mut h = H::new(provided_config());
    h.s.connect(h.now);
    let (t1, ..) = single_need(&h.drain());
    assert_eq!(h.fire(), 3_000);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t1], "the host may cancel its provider");
    assert!(matches!(reconnecting(&outs), Some((2, 1_000, Cause::RequestTimeout))));
    assert_eq!(h.s.state(), State::Backoff);
    // The answer for the timed-out attempt arrives: stale, ignored.
    h.s.provide_request(t1, url("wss://h/late"), h.now);
    h.s.provide_request_error(t1, "late failure", h.now);
    assert!(h.drain().is_empty());
    assert_eq!(h.s.state(), State::Backoff);
    // The retry asks again, and this time the answer comes in time.
    h.fire();
    let (t2, attempt, _) = single_need(&h.drain());
    assert_eq!(attempt, 2);
    assert_ne!(t1, t2);
    h.s.provide_request(t1, url("wss://h/stale"), h.now);
    assert!(h.drain().is_empty(), "an answer for an old id does not open anything");
    h.advance(2_999);
    h.s.provide_request(t2, url("wss://h/ok"), h.now);
    assert_eq!(single_open(&h.drain()), (t2, url("wss://h/ok")));
    // A second answer for the same id changes nothing.
    h.s.provide_request(t2, url("wss://h/again"), h.now);
    assert!(h.drain().is_empty());
}

#[test]
fn provider_failure_is_retried_like_a_network_error() {
    let mut c = provided_config();
    c.retry.max_retries = Some(1);
    let mut h = H::new(c);
    h.s.connect(h.now);
    let (t1, ..) = single_need(&h.drain());
    h.s.provide_request_error(t1, "token endpoint returned 502", h.now);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t1]);
    let Some((2, 1_000, Cause::RequestFailed(why))) = reconnecting(&outs) else {
        panic!("{outs:?}")
    };
    assert_eq!(why, "token endpoint returned 502");
    h.fire();
    let (t2, ..) = single_need(&h.drain());
    h.s.provide_request_error(t2, "still down", h.now);
    let evs = plain_events(&h.drain());
    assert!(
        matches!(
            &evs[..],
            [
                SessionEvent::GaveUp {
                    attempts: 2,
                    cause: Cause::RequestFailed(_)
                },
                SessionEvent::Closed {
                    will_reconnect: false,
                    ..
                }
            ]
        ),
        "{evs:?}"
    );
}

#[test]
fn provided_request_for_make_before_break_and_close_while_waiting() {
    let mut h = H::new(provided_config());
    h.s.connect(h.now);
    let (t1, ..) = single_need(&h.drain());
    h.s.provide_request(t1, url("wss://h/"), h.now);
    h.drain();
    h.open_welcome(t1, "s", false);
    let outs = h.msg(t1, encode::drain());
    let (t2, attempt, migration) = single_need(&outs);
    assert!(migration);
    assert_eq!(attempt, 1);
    // The provider never answers: the migration fails and is retried; t1 carries on.
    h.advance(3_000);
    let outs = h.drain();
    assert!(matches!(
        &plain_events(&outs)[..],
        [SessionEvent::Error(SessionError::MigrationFailed {
            cause: Cause::RequestTimeout,
            ..
        })]
    ));
    assert_eq!((h.s.state(), h.s.transports()), (State::Open, vec![t1]));
    h.fire();
    let (t3, _, migration) = single_need(&h.drain());
    assert!(migration);
    // close() while the request is outstanding: nothing is left waiting.
    h.s.close(1000, "bye", h.now);
    let outs = h.drain();
    assert!(closes(&outs).contains(&t3));
    h.s.provide_request(t3, url("wss://h/"), h.now);
    h.s.provide_request(t2, url("wss://h/"), h.now);
    assert!(opens(&h.drain()).is_empty());
}

#[test]
fn reconnect_works_in_every_state() {
    // Idle, Connecting, Open, Backoff, Closing, Closed.
    let mut h = H::new(msg_config());
    h.s.reconnect(0);
    let (t1, _) = single_open(&h.drain());
    h.s.reconnect(0);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t1]);
    let (t2, _) = single_open(&outs);
    h.open(t2);
    h.s.reconnect(0);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t2]);
    assert!(matches!(
        &plain_events(&outs)[..],
        [SessionEvent::Closed {
            cause: Cause::UserReconnect,
            will_reconnect: true,
            ..
        }]
    ));
    let (t3, _) = single_open(&outs);
    h.error(t3);
    assert_eq!(h.s.state(), State::Backoff);
    h.s.reconnect(0);
    let (t4, _) = single_open(&h.drain());
    h.open(t4);
    h.s.close(1000, "", 0);
    h.s.reconnect(0);
    let (t5, _) = single_open(&h.drain());
    assert_eq!(h.s.transports(), vec![t5]);
    h.s.close(1000, "", 0);
    h.s.reconnect(0);
    assert_eq!(h.s.state(), State::Connecting);
    assert_eq!(h.s.attempt(), 1);
}

#[test]
fn recovery_params_go_on_the_next_attempt() {
    let mut h = H::new(recovery_config());
    let (t1, r1) = h.connect();
    assert_eq!(
        r1.url, "wss://example.test/ws",
        "nothing to resume on the first attempt"
    );
    let outs = h.open_welcome(t1, "sess-1", false);
    assert_eq!(sent(&outs), vec![(t1, text("ss2 hello\n"))]);
    assert!(events(&outs).contains(&SessionEvent::Open {
        attempt: 1,
        recovered: false,
        subprotocol: None,
        extensions: String::new(),
    }));
    assert_eq!(delivered(&h.msg(t1, encode::data(1, &text("one")))), ["one"]);
    assert_eq!(delivered(&h.msg(t1, encode::data(2, &text("two")))), ["two"]);
    h.closed(t1, None);
    h.fire();
    let (t2, r2) = single_open(&h.drain());
    assert_eq!(r2.url, "wss://example.test/ws", "the credential stays out of the URL");
    let outs = h.open_welcome(t2, "sess-1", true);
    assert_eq!(
        sent(&outs)[0],
        (t2, resume_line("sess-1", 2)),
        "the greeting is the first message"
    );
    assert!(events(&outs).contains(&SessionEvent::Open {
        attempt: 2,
        recovered: true,
        subprotocol: None,
        extensions: String::new(),
    }));
    // The replay overlaps what we have: duplicates are dropped.
    let mut got = vec![];
    for (o, m) in [(2, "two"), (3, "three")] {
        got.extend(delivered(&h.msg(t2, encode::data(o, &text(m)))));
    }
    assert_eq!(got, ["three"]);
    assert_eq!((h.s.session_id(), h.s.last_offset()), (Some("sess-1"), 3));

    // The server lost the session: new id, offsets restart, recovered: false.
    h.closed(t2, None);
    h.fire();
    let (t3, _) = single_open(&h.drain());
    let outs = h.open_welcome(t3, "sess-2", false);
    assert!(events(&outs).contains(&SessionEvent::Open {
        attempt: 3,
        recovered: false,
        subprotocol: None,
        extensions: String::new(),
    }));
    assert_eq!(delivered(&h.msg(t3, encode::data(1, &text("fresh")))), ["fresh"]);
}

#[test]
fn recovery_params_as_headers() {
    let mut c = recovery_config();
    c.recovery = Some(RecoveryConfig {
        placement: ParamPlacement::Headers {
            session: "x-sid".into(),
            token: "x-token".into(),
            offset: "x-offset".into(),
        },
    });
    let mut h = H::new(c);
    let (t1, _) = h.connect();
    h.open_welcome(t1, "abc", false);
    h.msg(t1, encode::data(1, &text("x")));
    h.error(t1);
    h.fire();
    let (_, r) = single_open(&h.drain());
    assert_eq!(r.url, "wss://example.test/ws");
    assert_eq!(
        r.headers,
        vec![
            ("x-sid".into(), "abc".into()),
            ("x-token".into(), "tok-abc".into()),
            ("x-offset".into(), "1".into())
        ]
    );
}

#[test]
fn gaps_are_reported_and_non_welcome_first_message_fails_the_attempt() {
    let mut h = H::new(recovery_config());
    let (t1, _) = h.connect();
    let outs = h.msg(t1, text("early"));
    assert!(outs.is_empty(), "a message before open is ignored");
    h.s.handle_transport_open(t1, None, 0);
    let outs = h.msg(t1, encode::data(1, &text("no welcome")));
    assert!(matches!(reconnecting(&outs), Some((_, _, Cause::Protocol(_)))));
    h.fire();
    let (t2, _) = single_open(&h.drain());
    h.open_welcome(t2, "s", false);
    let evs = plain_events(&h.msg(t2, encode::data(3, &text("c"))));
    assert_eq!(
        evs,
        vec![
            SessionEvent::Error(SessionError::RecoveryGap { expected: 1, got: 3 }),
            SessionEvent::Message(text("c"))
        ]
    );
    let evs = plain_events(&h.msg(t2, text("ss2 msg x\n")));
    assert!(matches!(&evs[..], [SessionEvent::Error(SessionError::Envelope(_))]));
}

/// Make-before-break: the server warns, a new transport connects while the old one
/// still delivers, traffic switches when the new one is open, the old one is closed,
/// and the app sees every message exactly once, in order.
#[test]
fn make_before_break_switches_without_loss_or_duplicates() {
    let mut h = H::new(recovery_config());
    let (t1, _) = h.connect();
    h.open_welcome(t1, "s", false);
    let mut got = vec![];
    got.extend(delivered(&h.msg(t1, encode::data(1, &text("1")))));
    got.extend(delivered(&h.msg(t1, encode::data(2, &text("2")))));
    let outs = h.msg(t1, encode::drain());
    let (t2, r2) = single_open(&outs);
    assert!(closes(&outs).is_empty(), "the old transport stays up");
    assert_eq!(r2.url, "wss://example.test/ws");
    assert_eq!(h.s.transports(), vec![t1, t2]);
    assert!(h.s.is_migrating());
    // A second warning does not start a third transport.
    assert!(opens(&h.msg(t1, encode::drain())).is_empty());
    // The old one keeps delivering, and carries our sends, until the switch.
    got.extend(delivered(&h.msg(t1, encode::data(3, &text("3")))));
    h.s.send(text("up-1"), h.now).unwrap();
    assert_eq!(sent(&h.drain()), vec![(t1, text("up-1"))]);

    let outs = h.open_welcome(t2, "s", true);
    assert_eq!(plain_events(&outs), vec![SessionEvent::Migrated { recovered: true }]);
    assert_eq!(closes(&outs), vec![t1]);
    assert!(events(&outs)
        .iter()
        .all(|e| !matches!(e, SessionEvent::StateChanged { .. })));
    assert_eq!(h.s.transports(), vec![t2]);
    // Late data on the old transport is ignored; the new one replays from offset 3.
    assert!(h.msg(t1, encode::data(4, &text("4"))).is_empty());
    for (o, m) in [(3, "3"), (4, "4"), (5, "5")] {
        got.extend(delivered(&h.msg(t2, encode::data(o, &text(m)))));
    }
    assert_eq!(got, ["1", "2", "3", "4", "5"]);
    h.s.send(text("up-2"), h.now).unwrap();
    assert_eq!(sent(&h.drain()), vec![(t2, text("up-2"))]);
    assert_eq!(h.s.state(), State::Open);
}

#[test]
fn disconnect_warning_pattern_triggers_make_before_break() {
    let mut c = msg_config();
    c.disconnect_warning = Some(MessagePattern::json_field("type", "disconnect"));
    let (mut h, t1) = open_session(c);
    assert_eq!(
        delivered(&h.msg(t1, text(r#"{"type":"hello"}"#))),
        [r#"{"type":"hello"}"#]
    );
    let outs = h.msg(t1, text(r#"{"type": "disconnect", "reason": "warning"}"#));
    assert!(delivered(&outs).is_empty(), "the warning is not delivered");
    let (t2, _) = single_open(&outs);
    let outs = h.open(t2);
    assert_eq!(plain_events(&outs), vec![SessionEvent::Migrated { recovered: false }]);
    assert_eq!(closes(&outs), vec![t1]);
}

#[test]
fn failed_migration_keeps_the_old_transport() {
    let mut h = H::new(recovery_config());
    let (t1, _) = h.connect();
    h.open_welcome(t1, "s", false);
    h.s.disconnect_warning(h.now);
    let (t2, _) = single_open(&h.drain());
    let outs = h.error(t2);
    assert!(matches!(
        &plain_events(&outs)[..],
        [SessionEvent::Error(SessionError::MigrationFailed {
            retry_in_ms: 1_000,
            ..
        })]
    ));
    assert_eq!(closes(&outs), vec![t2]);
    assert_eq!((h.s.state(), h.s.transports()), (State::Open, vec![t1]));
    // The migration is retried with backoff (the server may already have moved the
    // session to t2, so t1 cannot be trusted to carry everything any more).
    assert_eq!(h.fire(), 1_000);
    let (t3, _) = single_open(&h.drain());
    // A migration that times out fails the same way, and backs off further.
    h.advance(10_000);
    let outs = h.drain();
    assert_eq!(closes(&outs), vec![t3]);
    assert!(matches!(
        &plain_events(&outs)[..],
        [SessionEvent::Error(SessionError::MigrationFailed {
            retry_in_ms: 2_000,
            cause: Cause::ConnectTimeout
        })]
    ));
    assert_eq!(h.s.transports(), vec![t1]);
    // A success resets it.
    h.advance(2_000);
    let (t4, _) = single_open(&h.drain());
    h.open_welcome(t4, "s", true);
    assert_eq!(h.s.transports(), vec![t4]);
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn old_transport_dying_mid_migration_promotes_the_new_one() {
    let mut h = H::new(recovery_config());
    let (t1, _) = h.connect();
    h.open_welcome(t1, "s", false);
    h.msg(t1, encode::data(1, &text("1")));
    h.s.disconnect_warning(h.now);
    let (t2, _) = single_open(&h.drain());
    let outs = h.closed(t1, Some(1012));
    let evs = events(&outs);
    assert!(matches!(
        &evs[0],
        SessionEvent::Closed {
            code: 1012,
            will_reconnect: true,
            ..
        }
    ));
    assert_eq!(
        evs[1],
        SessionEvent::StateChanged {
            from: State::Open,
            to: State::Connecting
        }
    );
    assert!(matches!(&evs[2], SessionEvent::Reconnecting { delay_ms: 0, .. }));
    assert!(opens(&outs).is_empty(), "the migration transport is the new attempt");
    let outs = h.open_welcome(t2, "s", true);
    assert!(events(&outs)
        .iter()
        .any(|e| matches!(e, SessionEvent::Open { recovered: true, .. })));
}

#[test]
fn fuzzed_inputs_never_panic_and_keep_invariants() {
    use crate::rng::{RandomSource, SeededRandom};
    for seed in 0..300 {
        let mut r = SeededRandom::new(seed);
        let mut c = recovery_config();
        c.heartbeat = Some(Heartbeat::steady(700, 300));
        c.retry.max_retries = (seed % 3 == 0).then_some(2);
        c.queue = QueueLimits {
            max_messages: 5,
            max_bytes: 64,
        };
        let mut h = H::new(c);
        let mut ids: Vec<TransportId> = vec![];
        for _ in 0..300 {
            h.now += r.next_u64() % 3_000;
            let pick = |r: &mut SeededRandom, ids: &[TransportId]| {
                if ids.is_empty() || r.next_u32() % 8 == 0 {
                    TransportId(r.next_u64() % 50)
                } else {
                    ids[(r.next_u32() as usize) % ids.len()]
                }
            };
            let id = pick(&mut r, &ids);
            let now = h.now;
            match r.next_u32() % 16 {
                0 => h.s.connect(now),
                1 => h.s.reconnect(now),
                2 => h.s.close((r.next_u32() % 5_000) as u16, "x", now),
                3 => h.s.disconnect_warning(now),
                4 => drop(h.s.send(text("m"), now)),
                5 => h.s.handle_transport_open(id, None, now),
                6 => h.s.handle_transport_connected(id, now),
                7 => {
                    h.s.handle_transport_closed(id, Some((r.next_u32() % 5_000) as u16), "", now)
                }
                8 => h.s.handle_transport_closed(id, None, "", now),
                9 => h.s.handle_transport_error(id, TransportErrorKind::Reset, "", now),
                10 => {
                    h.s.handle_transport_message(id, encode::welcome("s", "t", r.next_u32() % 2 == 0), now)
                }
                11 => {
                    h.s.handle_transport_message(id, encode::data(r.next_u64() % 10, &text("d")), now)
                }
                12 => h.s.handle_transport_message(id, encode::pong(), now),
                13 => h.s.handle_transport_message(id, encode::drain(), now),
                14 => h.s.handle_transport_bytes(id, b"garbage", now),
                _ => h.s.handle_timeout(now),
            }
            for o in h.drain() {
                if let Output::OpenTransport { id, .. } = o {
                    ids.push(id);
                }
            }
            let tracked = h.s.transports();
            assert!(
                tracked.len() <= 1 || (tracked.len() == 2 && h.s.is_migrating()),
                "seed {seed}"
            );
            assert!(h.s.queued_messages() <= 5 && h.s.queued_bytes() <= 64);
            match h.s.state() {
                State::Idle | State::Closed => assert_eq!(h.s.poll_timeout(), None, "seed {seed}"),
                State::Open | State::Connecting | State::Backoff | State::Closing => {
                    assert!(h.s.poll_timeout().is_some(), "seed {seed}: stuck in {:?}", h.s.state())
                }
            }
        }
    }
}

#[test]
fn connect_while_closing_abandons_the_close() {
    let (mut h, t1) = open_session(msg_config());
    h.s.close(1000, "", 0);
    h.drain();
    h.s.connect(0);
    let outs = h.drain();
    let (t2, _) = single_open(&outs);
    assert!(t2 > t1);
    assert_eq!(h.s.state(), State::Connecting);
    assert!(closes(&outs).is_empty(), "t1 was already asked to close");
    // Connecting already: a second connect changes nothing.
    h.s.connect(0);
    assert!(h.drain().is_empty());
}

#[test]
fn session_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
    assert_send::<RecoveryLog>();
}

/// Every output but the data itself, as text: what must stay small whatever the peer sends.
fn non_data_text(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SendMessage { .. } | Output::Transmit { .. } => None,
            Output::Event(SessionEvent::Message(_)) => None,
            other => Some(format!("{other:?}")),
        })
        .collect()
}

/// Issue 12, sequence 2: a hostile server's first message (8 MiB of U+0001, not a
/// welcome) becomes a bounded cause and close reason, not a 48 MiB `Debug` string.
#[test]
fn hostile_first_message_yields_a_bounded_cause() {
    let mut h = H::new(recovery_config());
    let (t1, _) = h.connect();
    h.s.handle_transport_open(t1, None, h.now);
    h.drain();
    let hostile = "\u{1}".repeat(8 << 20);
    let outs = h.msg(t1, text(&hostile));
    assert_eq!(closes(&outs), vec![t1], "the attempt fails");
    let (_, _, cause) = reconnecting(&outs).expect("retried");
    let Cause::Protocol(why) = &cause else {
        panic!("{cause:?}")
    };
    assert!(why.len() <= 300, "{} bytes", why.len());
    assert!(
        why.contains("text message") && why.contains(&format!("({} bytes)", 8 << 20)),
        "{why}"
    );
    for o in &outs {
        if let Output::CloseTransport { reason, .. } = o {
            assert!(reason.len() <= 123);
        }
    }
    for line in non_data_text(&outs) {
        assert!(line.len() <= 1_000, "{} bytes: {}", line.len(), &line[..200]);
    }
}

#[test]
fn open_carries_the_extensions_the_host_reports() {
    let mut h = H::new(msg_config());
    h.s.connect(0);
    let (id, _) = single_open(&h.drain());
    h.s.handle_transport_open_with_extensions(id, None, "permessage-deflate".into(), 5);
    assert!(h.events().contains(&SessionEvent::Open {
        attempt: 1,
        recovered: false,
        subprotocol: None,
        extensions: "permessage-deflate".into(),
    }));
}
