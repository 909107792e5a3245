//! Drives the Autobahn fuzzing server (client role): every case, echoing every message.
//!
//! `autobahn-client [--server ws://127.0.0.1:9001] [--agent NAME] [--case-timeout SECS]`

use std::time::{Duration, Instant};
use steadysock::{ClientRequest, Config, Event, Message};
use steadysock_conformance::driver::Blocking;

fn connect(url: String) -> std::io::Result<Blocking> {
    let req = ClientRequest {
        url,
        ..Default::default()
    };
    Blocking::connect(&req, Config::default(), Duration::from_secs(10))
}

/// Runs one exchange, echoing messages, until the connection ends or `limit` passes;
/// returns the first text message seen.
fn run(url: String, echo: bool, limit: Duration) -> std::io::Result<Option<String>> {
    let mut ws = connect(url)?;
    ws.set_deadline(Some(Instant::now() + limit));
    let mut first_text = None;
    while let Some(event) = ws.next_event()? {
        if let Event::Message(m) = event {
            if let (None, Message::Text(t)) = (&first_text, &m) {
                first_text = Some(t.to_string());
            }
            if echo {
                let _ = ws.conn().send(m);
            }
        }
    }
    Ok(first_text)
}

fn main() {
    let mut server = "ws://127.0.0.1:9001".to_string();
    let mut agent = "steadysock-rust".to_string();
    let mut case_timeout = 60u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--server" => server = args.next().expect("--server URL"),
            "--agent" => agent = args.next().expect("--agent NAME"),
            "--case-timeout" => case_timeout = args.next().and_then(|v| v.parse().ok()).expect("--case-timeout SECS"),
            other => panic!("unknown argument {other}"),
        }
    }
    let count: u32 = run(format!("{server}/getCaseCount"), false, Duration::from_secs(30))
        .ok()
        .flatten()
        .and_then(|t| t.trim().parse().ok())
        .expect("case count from the fuzzing server");
    eprintln!("autobahn-client: {count} cases");
    for case in 1..=count {
        let url = format!("{server}/runCase?case={case}&agent={agent}");
        if let Err(e) = run(url, true, Duration::from_secs(case_timeout)) {
            eprintln!("autobahn-client: case {case}: {e}");
        }
    }
    let url = format!("{server}/updateReports?agent={agent}");
    if let Err(e) = run(url, false, Duration::from_secs(300)) {
        eprintln!("autobahn-client: updateReports: {e}");
    }
}
