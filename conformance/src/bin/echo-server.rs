//! Echo server for the Autobahn fuzzing client (server role).
//!
//! `echo-server [--port 9002] [--lifetime SECS]`: one thread per connection.

use std::net::TcpListener;
use std::time::Duration;
use steadysock::Config;
use steadysock_conformance::driver::echo;

fn main() {
    let mut port = 9002u16;
    let mut lifetime: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).expect("--port N"),
            "--lifetime" => lifetime = args.next().and_then(|v| v.parse().ok()),
            other => panic!("unknown argument {other}"),
        }
    }
    if let Some(secs) = lifetime {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(secs));
            eprintln!("echo-server: lifetime of {secs} s reached");
            std::process::exit(0);
        });
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    eprintln!("echo-server: listening on 127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = echo(stream, Config::default());
        });
    }
}
