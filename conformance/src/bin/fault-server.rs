//! The fault server as a process, for runners in other languages.
//!
//! `fault-server [--lifetime SECS]`: binds two ephemeral loopback ports and prints one
//! JSON line, `{"ws": "127.0.0.1:P", "control": "127.0.0.1:Q"}`; then serves until
//! standard input closes (or the lifetime ends). Drive it over the control port, one
//! command per line (see conformance/scenarios/README.md).

use std::io::Read;
use std::time::Duration;
use steadysock_conformance::fault_server::FaultServer;

fn main() -> std::io::Result<()> {
    let mut lifetime = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lifetime" => lifetime = args.next().and_then(|v| v.parse::<u64>().ok()),
            other => panic!("unknown argument {other}"),
        }
    }
    let server = FaultServer::start()?;
    println!(
        "{{\"ws\": \"{}\", \"control\": \"{}\"}}",
        server.addr(),
        server.control_addr()
    );
    if let Some(secs) = lifetime {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(secs));
            std::process::exit(0);
        });
    }
    // Serve until our parent closes our standard input.
    let mut sink = [0u8; 256];
    while std::io::stdin().read(&mut sink).map(|n| n > 0).unwrap_or(false) {}
    drop(server);
    Ok(())
}
