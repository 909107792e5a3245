use super::*;

fn msg(i: u64) -> Message {
    Message::text(format!("m{i}"))
}

fn cfg() -> RecoveryLogConfig {
    RecoveryLogConfig {
        max_messages: 5,
        max_bytes: 1_000,
        max_total_bytes: 1 << 20,
        max_disconnection_ms: 1_000,
        max_sessions: 3,
        attach_burst: 100,
        attach_refill_ms: 0,
    }
}

fn new(log: &mut RecoveryLog, now: u64) -> Resume {
    log.attach(None, None, now).expect("attach")
}

fn req(r: &Resume, offset: u64) -> Option<ResumeRequest> {
    Some(ResumeRequest {
        session_id: r.session_id().to_string(),
        token: r.token.clone(),
        offset,
    })
}

fn resume(log: &mut RecoveryLog, r: &Resume, offset: u64, now: u64) -> Resume {
    log.attach(req(r, offset), None, now).expect("attach")
}

/// Everything due on `a`, in batches of at most `max` bytes.
fn drain(log: &mut RecoveryLog, a: &Attachment, max: usize) -> Vec<(u64, Message)> {
    let mut all = Vec::new();
    loop {
        let batch = log.next_batch(a, max);
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

fn offsets(v: &[(u64, Message)]) -> Vec<u64> {
    v.iter().map(|(o, _)| *o).collect()
}

#[test]
fn replays_after_offset_and_supersedes_attachments() {
    let mut log = RecoveryLog::new(cfg());
    let r = new(&mut log, 0);
    assert!(!r.recovered && drain(&mut log, &r.attachment, 100).is_empty());
    let sid = r.session_id().to_string();
    for i in 1..=4 {
        assert_eq!(log.append(&sid, msg(i), 0), Some(i));
    }
    assert_eq!(offsets(&drain(&mut log, &r.attachment, 100)), vec![1, 2, 3, 4]);
    // Make-before-break: a second attachment while the first is still attached.
    let r2 = resume(&mut log, &r, 2, 10);
    assert!(r2.recovered && r2.session_id() == sid);
    assert_eq!(drain(&mut log, &r2.attachment, 100), vec![(3, msg(3)), (4, msg(4))]);
    assert!(!log.is_current(&r.attachment) && log.is_current(&r2.attachment));
    assert!(
        log.next_batch(&r.attachment, 100).is_empty(),
        "only the current one is sent to"
    );
    assert_eq!(log.detach(&r.attachment, 20), None);
    assert!(
        log.is_current(&r2.attachment),
        "a superseded transport leaving must not detach the successor"
    );
    let r3 = resume(&mut log, &r2, 4, 30);
    assert!(r3.recovered && drain(&mut log, &r3.attachment, 100).is_empty());
}

#[test]
fn replay_comes_in_batches_and_live_messages_queue_behind_it() {
    let mut log = RecoveryLog::new(RecoveryLogConfig {
        max_messages: 100,
        ..cfg()
    });
    let r = new(&mut log, 0);
    let sid = r.session_id().to_string();
    for i in 1..=10 {
        log.append(&sid, Message::binary(vec![0u8; 100]), i);
    }
    let r2 = resume(&mut log, &r, 0, 20);
    assert!(log.has_pending(&r2.attachment));
    let first = log.next_batch(&r2.attachment, 250);
    assert_eq!(offsets(&first), vec![1, 2], "250 bytes: two messages of 100");
    // Appended while the replay is under way: it comes after the rest, in order.
    log.append(&sid, msg(11), 21);
    let rest = drain(&mut log, &r2.attachment, 250);
    assert_eq!(offsets(&rest), (3..=11).collect::<Vec<_>>());
    assert!(!log.has_pending(&r2.attachment));
    // A message bigger than the batch still goes, alone.
    log.append(&sid, Message::binary(vec![1u8; 1_000]), 22);
    assert_eq!(offsets(&log.next_batch(&r2.attachment, 10)), vec![12]);
}

#[test]
fn current_leaving_falls_back_to_the_newest_open_attachment() {
    let mut log = RecoveryLog::new(cfg());
    let a = new(&mut log, 0);
    let sid = a.session_id().to_string();
    log.append(&sid, msg(1), 0);
    assert_eq!(offsets(&drain(&mut log, &a.attachment, 100)), vec![1]);
    // A second transport attaches (e.g. one the client already abandoned) ...
    let b = resume(&mut log, &a, 1, 1);
    log.append(&sid, msg(2), 1);
    log.append(&sid, msg(3), 1);
    assert_eq!(offsets(&drain(&mut log, &b.attachment, 100)), vec![2, 3]);
    assert!(!log.is_current(&a.attachment));
    // ... and goes away: the first is current again, and gets what went to the second.
    let f = log.detach(&b.attachment, 2).expect("fall back");
    assert_eq!(f, a.attachment);
    assert_eq!(drain(&mut log, &f, 100), vec![(2, msg(2)), (3, msg(3))]);
    assert!(log.is_current(&a.attachment));
    assert_eq!(log.detach(&a.attachment, 3), None);
    assert!(!log.is_current(&a.attachment));
    // Detached now: the disconnection clock runs from 3.
    assert_eq!(log.expire(1_003), 0);
    assert_eq!(log.expire(1_004), 1);
}

#[test]
fn attachments_per_session_are_bounded() {
    let mut log = RecoveryLog::new(cfg());
    let first = new(&mut log, 0);
    let mut last = first.clone();
    let mut all = Vec::new();
    for _ in 0..20 {
        last = resume(&mut log, &last, 0, 0);
        all.push(last.clone());
    }
    for r in all.iter().rev() {
        log.detach(&r.attachment, 0);
    }
    assert!(
        !log.is_current(&first.attachment),
        "forgotten attachments never come back"
    );
}

#[test]
fn expiry_by_disconnection_time() {
    let mut log = RecoveryLog::new(cfg());
    let r = new(&mut log, 0);
    let sid = r.session_id().to_string();
    log.append(&sid, msg(1), 0);
    log.detach(&r.attachment, 100);
    assert_eq!(log.expire(1_100), 0, "exactly max_disconnection_ms is still fine");
    let again = resume(&mut log, &r, 0, 1_100);
    assert!(again.recovered);
    log.detach(&again.attachment, 1_200);
    assert_eq!(log.expire(2_201), 1);
    let late = resume(&mut log, &again, 1, 2_300);
    assert!(!late.recovered && late.session_id() != sid);
    assert_eq!(log.append(&sid, msg(2), 0), None);
}

#[test]
fn trimmed_log_or_bogus_offset_is_not_resumable() {
    let mut log = RecoveryLog::new(cfg());
    let r = new(&mut log, 0);
    let sid = r.session_id().to_string();
    for i in 1..=8 {
        log.append(&sid, msg(i), 0);
    }
    // Entries 4..=8 kept (max 5): offset 3 still resumable, offset 2 is not.
    let ok = resume(&mut log, &r, 3, 1);
    assert_eq!(offsets(&drain(&mut log, &ok.attachment, 1_000)), vec![4, 5, 6, 7, 8]);
    let ahead = resume(&mut log, &ok, 9, 1);
    assert!(!ahead.recovered, "an offset the server never sent cannot be resumed");
    let r = new(&mut log, 0);
    let sid = r.session_id().to_string();
    for i in 1..=8 {
        log.append(&sid, msg(i), 0);
    }
    let gone = resume(&mut log, &r, 2, 1);
    assert!(!gone.recovered);
}

#[test]
fn attached_session_survives_a_bad_offset() {
    let mut log = RecoveryLog::new(cfg());
    let owner = new(&mut log, 0);
    let sid = owner.session_id().to_string();
    for i in 1..=3 {
        log.append(&sid, msg(i), 0);
    }
    // The holder of the token asks for an offset the log never had: a new session for
    // that transport, but the attached one is untouched.
    let bad = resume(&mut log, &owner, 99, 1);
    assert!(!bad.recovered && bad.session_id() != sid);
    assert!(log.is_current(&owner.attachment));
    assert_eq!(log.append(&sid, msg(4), 2), Some(4));
    assert_eq!(offsets(&drain(&mut log, &owner.attachment, 1_000)), vec![1, 2, 3, 4]);
    // Detached, the same mistake does drop it (the client has moved on).
    log.detach(&owner.attachment, 3);
    let again = resume(&mut log, &owner, 99, 4);
    assert!(!again.recovered);
    assert_eq!(log.append(&sid, msg(5), 5), None);
}

/// Issue 12, sequence 1: the session id alone resumes nothing.
#[test]
fn hijack_with_the_id_alone_fails() {
    let mut log = RecoveryLog::new(cfg());
    let owner = new(&mut log, 0);
    let sid = owner.session_id().to_string();
    for i in 1..=3 {
        log.append(&sid, msg(i), 0);
    }
    assert_eq!(drain(&mut log, &owner.attachment, 1_000).len(), 3);
    // Someone who saw the id (a proxy log) guesses a token.
    let forged = Some(ResumeRequest {
        session_id: sid.clone(),
        token: ResumeToken::parse(&"0".repeat(32)).unwrap(),
        offset: 0,
    });
    let thief = log.attach(forged, None, 10).unwrap();
    assert!(!thief.recovered && thief.session_id() != sid);
    assert!(drain(&mut log, &thief.attachment, 1_000).is_empty(), "nothing replayed");
    assert!(log.is_current(&owner.attachment), "the owner stays current");
    // The next message goes to the owner, and only there.
    assert_eq!(log.append(&sid, msg(4), 11), Some(4));
    assert_eq!(offsets(&drain(&mut log, &owner.attachment, 1_000)), vec![4]);
    // Only the id as query parameters: not even a request.
    assert_eq!(
        ResumeRequest::from_query(&format!("/ws?ss_sid={sid}&ss_offset=0")),
        None
    );
}

#[test]
fn token_rotates_on_every_welcome_and_never_shows() {
    let mut log = RecoveryLog::new(cfg());
    let first = new(&mut log, 0);
    let second = resume(&mut log, &first, 0, 1);
    assert!(second.recovered);
    assert_ne!(first.token, second.token);
    // The welcome of `second` may have been lost with its transport: the token the
    // client presented stays valid ...
    let retry = resume(&mut log, &first, 0, 2);
    assert!(retry.recovered);
    // ... until the client shows it got a newer one: then the older ones are dead.
    let third = resume(&mut log, &retry, 0, 3);
    assert!(third.recovered);
    for stale in [&first, &second] {
        let r = resume(&mut log, stale, 0, 4);
        assert!(!r.recovered);
    }
    assert!(log.is_current(&third.attachment));
    let second = third;
    let hex = second.token.expose_hex();
    assert_eq!(hex.len(), 32);
    assert_eq!(ResumeToken::parse(&hex), Some(second.token.clone()));
    let shown = format!("{second:?} {:?} {log:?}", req(&second, 0));
    assert!(!shown.contains(&hex), "{shown}");
    assert!(shown.contains("redacted"));
    // Ids are 128-bit hex from the OS source, distinct.
    let ids: std::collections::HashSet<String> = (0..200)
        .map(|i| {
            let mut l = RecoveryLog::new(cfg());
            new(&mut l, i).session_id().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 200);
    assert!(ids.iter().all(|s| s.len() == 32 && valid_session_id(s)));
}

#[test]
fn a_token_from_another_owner_starts_fresh() {
    let mut log = RecoveryLog::new(cfg());
    let alice = log.attach(None, Some(b"alice"), 0).unwrap();
    let sid = alice.session_id().to_string();
    log.append(&sid, msg(1), 0);
    log.detach(&alice.attachment, 1);
    // Mallory replays Alice's id and token while logged in as herself.
    let mallory = log.attach(req(&alice, 0), Some(b"mallory"), 2).unwrap();
    assert!(!mallory.recovered && mallory.session_id() != sid);
    assert!(drain(&mut log, &mallory.attachment, 1_000).is_empty());
    // Anonymous is another owner too.
    assert!(!log.attach(req(&alice, 0), None, 3).unwrap().recovered);
    // Alice's session is intact and still hers.
    let back = log.attach(req(&alice, 0), Some(b"alice"), 4).unwrap();
    assert!(back.recovered);
    assert_eq!(offsets(&drain(&mut log, &back.attachment, 1_000)), vec![1]);
}

/// Issue 12, sequence 4: 500 attaches replaying the whole log.
#[test]
fn replay_amplification_is_bounded() {
    let mut log = RecoveryLog::new(RecoveryLogConfig {
        max_messages: 1_000,
        max_bytes: 1 << 20,
        max_sessions: 100,
        ..RecoveryLogConfig::default()
    });
    let mut r = new(&mut log, 0);
    let sid = r.session_id().to_string();
    for _ in 0..1_000 {
        log.append(&sid, Message::binary(vec![7u8; 1_000]), 0);
    }
    let (mut resumed, mut limited, mut sent) = (0, 0, 0usize);
    for i in 0..500 {
        match log.attach(req(&r, 0), None, 1 + i) {
            Ok(next) => {
                assert!(next.recovered);
                resumed += 1;
                // Each attach hands out one bounded batch; the rest waits for the client.
                let batch = log.next_batch(&next.attachment, 64 * 1024);
                let bytes: usize = batch.iter().map(|(_, m)| m.len()).sum();
                assert!(bytes <= 64 * 1024);
                sent += bytes;
                r = next;
            }
            Err(AttachError::RateLimited { retry_after_ms }) => {
                assert!((1..=1_000).contains(&retry_after_ms));
                limited += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // 500 attaches within 0.5 s: the burst of 10, nothing refilled yet.
    assert_eq!(resumed, 10);
    assert_eq!(limited, 490);
    assert!(sent <= 10 * 64 * 1024, "{sent}");
    assert_eq!(log.total_bytes(), 1_000_000, "the log itself never grows from attaches");
    // Later, the bucket has refilled by one per second.
    for _ in 0..2 {
        r = log.attach(req(&r, 0), None, 2_500).unwrap();
    }
    assert!(log.attach(req(&r, 0), None, 2_500).is_err());
}

/// Issue 12, sequence 5: small messages that are views into one big read buffer.
#[test]
fn stored_messages_hold_only_their_own_bytes() {
    let mut log = RecoveryLog::new(RecoveryLogConfig {
        max_messages: 10_000,
        max_bytes: 1 << 20,
        ..cfg()
    });
    let r = new(&mut log, 0);
    let sid = r.session_id().to_string();
    let buffer = Bytes::from(vec![b'x'; 64 * 1024]);
    let range = buffer.as_ptr() as usize..buffer.as_ptr() as usize + buffer.len();
    for i in 0..1_000 {
        let view = buffer.slice(i * 6..i * 6 + 6);
        log.append(&sid, Message::Binary(view), 0);
    }
    assert_eq!(log.total_bytes(), 6_000);
    let stored = drain(&mut log, &r.attachment, usize::MAX);
    assert_eq!(stored.len(), 1_000);
    for (_, m) in &stored {
        let p = m.as_bytes().as_ptr() as usize;
        assert!(!range.contains(&p), "a stored message points into the read buffer");
    }
    let text = Text::from_utf8(buffer.slice(0..6)).unwrap();
    log.append(&sid, Message::Text(text), 0);
    let (_, last) = log.next_batch(&r.attachment, 100).pop().unwrap();
    assert!(!range.contains(&(last.as_bytes().as_ptr() as usize)));
}

#[test]
fn global_budget_drops_detached_sessions_then_trims_the_appender() {
    let mut log = RecoveryLog::new(RecoveryLogConfig {
        max_messages: 1_000,
        max_bytes: 10_000,
        max_total_bytes: 25_000,
        max_sessions: 100,
        ..cfg()
    });
    let kb = || Message::binary(vec![1u8; 1_000]);
    let old = new(&mut log, 0);
    for _ in 0..10 {
        log.append(old.session_id(), kb(), 0);
    }
    log.detach(&old.attachment, 1);
    let a = new(&mut log, 2);
    let b = new(&mut log, 2);
    for _ in 0..10 {
        log.append(a.session_id(), kb(), 3);
    }
    assert_eq!(log.total_bytes(), 20_000);
    for _ in 0..6 {
        log.append(b.session_id(), kb(), 4);
    }
    // 26 000 > 25 000: the detached session went first.
    assert_eq!(log.append(old.session_id(), kb(), 5), None);
    assert_eq!(log.total_bytes(), 16_000);
    for _ in 0..20 {
        log.append(b.session_id(), kb(), 6);
    }
    // b is capped by max_bytes (10 000); a is untouched (attached, not appending).
    assert_eq!(log.total_bytes(), 20_000);
    let mut big = RecoveryLog::new(RecoveryLogConfig {
        max_messages: 1_000,
        max_bytes: 100_000,
        max_total_bytes: 5_000,
        max_sessions: 100,
        ..cfg()
    });
    let c = new(&mut big, 0);
    for _ in 0..20 {
        big.append(c.session_id(), kb(), 0);
    }
    assert_eq!(big.total_bytes(), 5_000, "the appender trims its own oldest");
    // 10 000 sessions × 1 MiB by default was the old bound; now the budget holds.
    assert!(RecoveryLogConfig::default().max_total_bytes < 10_000 << 20);
}

#[test]
fn bounded_sessions_evict_longest_detached() {
    let mut log = RecoveryLog::new(cfg());
    let a = new(&mut log, 0);
    let b = new(&mut log, 0);
    let _c = new(&mut log, 0);
    log.append(a.session_id(), msg(1), 0);
    log.append(b.session_id(), msg(1), 0);
    log.detach(&b.attachment, 5);
    log.detach(&a.attachment, 10);
    let _d = new(&mut log, 20);
    assert_eq!(log.len(), 3);
    assert!(
        log.append(b.session_id(), msg(2), 20).is_none(),
        "b was detached longest"
    );
    assert!(log.append(a.session_id(), msg(2), 20).is_some());
}

/// Issue 12, sequence 6: a flood of connect-and-leave sessions.
#[test]
fn anonymous_flood_leaves_real_sessions_resumable() {
    let mut log = RecoveryLog::new(RecoveryLogConfig {
        max_sessions: 100,
        max_disconnection_ms: 60_000,
        ..cfg()
    });
    let real: Vec<Resume> = (0..10)
        .map(|i| {
            let r = new(&mut log, i);
            log.append(r.session_id(), msg(1), i);
            log.detach(&r.attachment, i);
            r
        })
        .collect();
    for i in 0..1_000 {
        let r = new(&mut log, 100 + i);
        log.detach(&r.attachment, 100 + i);
    }
    assert_eq!(log.len(), 100);
    let back = real
        .iter()
        .filter(|r| log.attach(req(r, 0), None, 900).unwrap().recovered)
        .count();
    assert_eq!(back, 10);
}

/// Issue 12, sequence 6: the work per attach does not grow with the sessions held (the
/// time per attach is measured in conformance/bench, `recovery`).
#[test]
fn attach_examines_o1_sessions_amortised() {
    let per_attach = |n: u64| {
        let mut log = RecoveryLog::new(RecoveryLogConfig {
            max_sessions: n as usize,
            max_disconnection_ms: 1_000_000,
            ..cfg()
        });
        for i in 0..n {
            let r = new(&mut log, i);
            if i % 2 == 0 {
                log.append(r.session_id(), msg(1), i);
            }
            log.detach(&r.attachment, i);
        }
        let before = log.examined();
        let rounds = 1_000;
        for i in 0..rounds {
            // At the limit: every attach evicts, and one more session expires per round.
            let now = 1_000_000 + 1 + i;
            let r = new(&mut log, now);
            log.detach(&r.attachment, now);
        }
        (log.examined() - before) as f64 / rounds as f64
    };
    let small = per_attach(1_000);
    let large = per_attach(20_000);
    assert!(small <= 8.0 && large <= 8.0, "{small} {large}");
}

#[test]
fn resume_request_parsing_and_greetings() {
    let t = "00112233445566778899aabbccddeeff";
    let token = ResumeToken::parse(t).unwrap();
    let want = ResumeRequest {
        session_id: "abc".into(),
        token: token.clone(),
        offset: 12,
    };
    assert_eq!(
        ResumeRequest::from_query(&format!("/ws?x=1&ss_sid=abc&ss_token={t}&ss_offset=12")),
        Some(want.clone())
    );
    assert_eq!(ResumeRequest::from_query("/ws?ss_sid=abc"), None);
    assert_eq!(
        ResumeRequest::from_query(&format!("/ws?ss_sid=a%2Fb&ss_token={t}&ss_offset=1")),
        None
    );
    assert_eq!(
        ResumeRequest::from_query(&format!("/ws?ss_sid=abc&ss_token={t}&ss_offset=-1")),
        None
    );
    assert_eq!(
        ResumeRequest::from_query("/ws?ss_sid=abc&ss_token=short&ss_offset=1"),
        None
    );
    assert_eq!(ResumeRequest::from_query("/ws"), None);
    let h = vec![
        ("SS-SID".to_string(), "abc".to_string()),
        ("ss-token".to_string(), t.to_uppercase()),
        ("ss-offset".to_string(), " 12".to_string()),
    ];
    assert_eq!(
        ResumeRequest::from_headers(&h, "ss-sid", "ss-token", "ss-offset"),
        Some(want.clone())
    );
    let line = |s: &str| Message::text(s.to_string());
    assert_eq!(read_greeting(&line("ss2 hello\n")), Greeting::Fresh);
    assert_eq!(
        read_greeting(&line(&format!("ss2 resume abc {t} 12\n"))),
        Greeting::Resume(want)
    );
    assert_eq!(read_greeting(&line("ss2 resume abc nope 12\n")), Greeting::Fresh);
    assert_eq!(
        read_greeting(&line(&format!("ss2 resume abc {t} 12 x\n"))),
        Greeting::Fresh
    );
    assert_eq!(read_greeting(&line("hello")), Greeting::NotAGreeting);
    assert_eq!(
        read_greeting(&Message::binary(b"ss2 hello\n".to_vec())),
        Greeting::NotAGreeting
    );
    assert!(!format!("{:?}", read_greeting(&line(&format!("ss2 resume abc {t} 1")))).contains(t));
}
