//! `make demo`: steadysock clients and servers talking over loopback.
//!
//! Part 1, one `Connection`: an echo server on an ephemeral port, a client with a
//! subprotocol and keepalive; text, binary and fragmented messages, a ping, a clean close.
//!
//! Part 2, a `Session` that stays connected: the fault server ticks numbered messages and
//! restarts twice (keeping its recovery log) while it ticks; the client reconnects on its
//! own, resumes its session each time (`recovered: true`) and gets every tick exactly
//! once, in order.

use std::net::TcpListener;
use std::time::{Duration, Instant};
use steadysock::session::{BackoffPolicy, Jitter, RecoveryConfig, SessionConfig, SessionEvent, TransportKind};
use steadysock::{ClientRequest, Config, Event, Keepalive, Message};
use steadysock_conformance::driver::{echo, Blocking};
use steadysock_conformance::fault_server::{FaultConfig, FaultServer};
use steadysock_conformance::session_host::SessionHost;

fn main() -> std::io::Result<()> {
    println!("== part 1: one Connection, echo over loopback ==");
    connection_demo()?;
    println!();
    println!("== part 2: a Session riding through two server restarts ==");
    if !session_demo()? {
        std::process::exit(1);
    }
    Ok(())
}

fn connection_demo() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("server: echo server listening on {addr}");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || echo(stream, Config::default()));
        }
    });

    let request = ClientRequest {
        url: format!("ws://{addr}/demo?user=ada"),
        headers: vec![("X-Demo".into(), "1".into())],
        subprotocols: vec!["demo.v1".into()],
    };
    let config = Config {
        fragment_size: Some(4096),
        keepalive: Some(Keepalive {
            interval_ms: 1_000,
            pong_timeout_ms: 2_000,
            any_data_counts: true,
        }),
        ..Config::default()
    };
    println!("client: connecting to {}", request.url);
    let mut ws = Blocking::connect(&request, config, Duration::from_secs(5))?;
    let mut to_send = vec![
        Message::text("hello from steadysock"),
        Message::binary(vec![0xde, 0xad, 0xbe, 0xef]),
        Message::text("κόσμε 𝄞 — UTF-8 checked as it arrives"),
        Message::binary(vec![7u8; 20_000]),
    ]
    .into_iter();
    let mut echoed = 0;
    while let Some(event) = ws.next_event()? {
        let now = ws.now();
        match event {
            Event::Open(info) => {
                println!("client: open (subprotocol {:?})", info.subprotocol);
                ws.conn().ping(b"are you there?").ok();
                if let Some(m) = to_send.next() {
                    ws.conn().send(m).ok();
                }
            }
            Event::Pong(p) => println!("client: pong {:?}", String::from_utf8_lossy(&p)),
            Event::Message(m) => {
                echoed += 1;
                match &m {
                    Message::Text(t) => println!("client: echo text   {:?}", t.as_str()),
                    Message::Binary(b) if b.len() > 16 => {
                        println!("client: echo binary {} bytes (sent in 4 KiB frames)", b.len())
                    }
                    Message::Binary(b) => println!("client: echo binary {:02x?}", &b[..]),
                }
                match to_send.next() {
                    Some(next) => ws.conn().send(next).map_err(std::io::Error::other)?,
                    None => {
                        println!("client: all {echoed} messages came back; closing with 1000");
                        ws.conn().close(1000, "demo done", now).ok();
                    }
                }
            }
            Event::Closed(info) => println!(
                "client: closed code={} reason={:?} clean={} (started by {})",
                info.code,
                info.reason,
                info.clean,
                if info.remote { "server" } else { "client" }
            ),
            other => println!("client: {other:?}"),
        }
    }
    println!("demo: transport closed, done");
    Ok(())
}

/// Numbered messages the server sends in part 2.
const TICKS: u64 = 100;
/// One every this many milliseconds.
const TICK_MS: u64 = 20;

/// Part 2. Returns whether every tick arrived once, in order.
fn session_demo() -> std::io::Result<bool> {
    let server = FaultServer::start_with(FaultConfig {
        max_disconnection_ms: 5_000,
        ..FaultConfig::default()
    })?;
    let faults = server.handle();
    println!(
        "server: fault server on {} (control port {})",
        server.addr(),
        server.control_addr()
    );

    let mut config = SessionConfig::bytes(server.url("/ticks"));
    config.recovery = Some(RecoveryConfig::default());
    config.retry.backoff = BackoffPolicy {
        min_delay_ms: 50,
        max_delay_ms: 400,
        factor: 2.0,
        jitter: Jitter::Full,
    };
    config.retry.connect_timeout_ms = Some(1_000);
    if let TransportKind::Bytes(conn) = &mut config.transport {
        conn.keepalive = Some(Keepalive {
            interval_ms: 1_000,
            pong_timeout_ms: 1_000,
            any_data_counts: true,
        });
    }
    let mut client = SessionHost::new(config)?;
    println!("client: connecting to {}", server.url("/ticks"));
    client.connect();

    let started = Instant::now();
    let deadline = started + Duration::from_secs(20);
    let mut received: Vec<u64> = Vec::new();
    let mut opens: u32 = 0;
    let mut director = None;
    while let Some(event) = client.next_event(deadline) {
        let t = started.elapsed().as_millis();
        match event {
            SessionEvent::Open { recovered, attempt, .. } => {
                opens += 1;
                let sid = client.session().session_id().unwrap_or("?").to_string();
                let after = match received.last() {
                    Some(n) => format!(", picking up after m{n}"),
                    None => String::new(),
                };
                println!("client: [{t:>5} ms] open (attempt {attempt}, recovered: {recovered}, session {sid}{after})");
                if director.is_none() {
                    // The server side of the story runs on its own thread.
                    let faults = faults.clone();
                    director = Some(std::thread::spawn(move || {
                        println!("server: ticking m1..m{TICKS}, one every {TICK_MS} ms");
                        let _ = faults.tick(TICKS, TICK_MS);
                        for _ in 0..2 {
                            std::thread::sleep(Duration::from_millis(650));
                            println!("server: restart! dropping every connection, refusing for 300 ms, keeping the recovery log");
                            let _ = faults.restart(300, true);
                        }
                    }));
                }
            }
            SessionEvent::Closed {
                code,
                cause,
                will_reconnect,
                ..
            } => println!(
                "client: [{t:>5} ms] closed (code {code}, cause {}, will reconnect: {will_reconnect}) after m{}",
                cause.as_str(),
                received.last().copied().unwrap_or(0)
            ),
            SessionEvent::Reconnecting {
                attempt,
                delay_ms,
                cause,
            } => println!(
                "client: [{t:>5} ms] reconnecting: attempt {attempt} in {delay_ms} ms ({})",
                cause.as_str()
            ),
            SessionEvent::Message(Message::Text(text)) => {
                if let Some(n) = text.strip_prefix('m').and_then(|n| n.parse().ok()) {
                    received.push(n);
                    if n % 25 == 0 {
                        println!("client: [{t:>5} ms] got {}", text.as_str());
                    }
                    if n == TICKS {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(d) = director {
        let _ = d.join();
    }
    client.close(1000, "demo done");
    let closed = client.run_until(Instant::now() + Duration::from_secs(2), |e| {
        matches!(e, SessionEvent::Closed { .. })
    });

    let in_order = received.iter().copied().eq(1..=received.len() as u64);
    let mut unique = received.clone();
    unique.sort_unstable();
    unique.dedup();
    let no_duplicates = unique.len() == received.len();
    let reconnects = opens.saturating_sub(1);
    println!(
        "demo: received {} of {TICKS} ticks, {}, {}, across {reconnects} reconnects; closed cleanly: {closed}",
        unique.len(),
        if in_order { "in order" } else { "OUT OF ORDER" },
        if no_duplicates {
            "no duplicates"
        } else {
            "WITH DUPLICATES"
        },
    );
    Ok(in_order && no_duplicates && unique.len() as u64 == TICKS && closed)
}
