//! `make demo`: a client and a server, both steadysock, talking over loopback.
//!
//! The demo starts an echo server on an ephemeral port, connects a client with a
//! subprotocol and keepalive, exchanges text, binary and fragmented messages, pings,
//! and closes cleanly, printing every event as it happens.

use std::net::TcpListener;
use std::time::Duration;
use steadysock::{ClientRequest, Config, Event, Keepalive, Message};
use steadysock_conformance::driver::{echo, Blocking};

fn main() -> std::io::Result<()> {
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
