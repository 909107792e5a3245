//! The Rust scenario agent: a [`SessionHost`](steadysock_conformance::session_host::SessionHost)
//! driven through the scenario host protocol (JSON lines: commands on standard input,
//! replies and events on standard output; see `conformance/scenarios/README.md`).
//!
//! `scenario-agent` takes no arguments. It exits when its input ends or after `quit`.
//! One thread reads commands and wakes the host; this thread drives the session and
//! writes every line, so replies and events leave in the order they happened.

use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use steadysock_conformance::agent::Agent;
use steadysock_conformance::session_host::Waker;

fn main() {
    let (tx, commands) = mpsc::channel::<Option<Value>>();
    // The host's waker, once the first `connect` made the host.
    let waker: Arc<Mutex<Option<Waker>>> = Arc::default();
    let reader_waker = waker.clone();
    std::thread::spawn(move || {
        let wake = || {
            if let Some(w) = reader_waker.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                w.wake();
            }
        };
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let command = serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|e| json!({"cmd": "", "error": format!("not JSON: {e}: {line}")}));
            if tx.send(Some(command)).is_err() {
                return;
            }
            wake();
        }
        let _ = tx.send(None);
        wake();
    });

    let mut agent = Agent::new();
    let mut out = std::io::stdout().lock();
    let mut emit = |v: &Value| {
        // A closed stdout means the runner is gone: stop.
        if writeln!(out, "{v}").and_then(|()| out.flush()).is_err() {
            std::process::exit(1);
        }
    };
    loop {
        // Every command that has arrived, in order.
        loop {
            let command = match commands.try_recv() {
                Ok(c) => c,
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => None,
            };
            let Some(command) = command else {
                return; // input ended: the host's drop closes every socket
            };
            let reply = agent.command(&command);
            emit(&reply);
            if command["cmd"] == "quit" {
                return;
            }
            let mut w = waker.lock().unwrap_or_else(|e| e.into_inner());
            if w.is_none() {
                *w = agent.waker();
            }
        }
        if agent.waker().is_none() {
            // No session yet: nothing to drive, wait for a command.
            match commands.recv() {
                Ok(Some(command)) => {
                    let reply = agent.command(&command);
                    emit(&reply);
                    if command["cmd"] == "quit" {
                        return;
                    }
                    *waker.lock().unwrap_or_else(|e| e.into_inner()) = agent.waker();
                }
                _ => return,
            }
            continue;
        }
        // Drive the session until it has an event or a command wakes it.
        if let Some(event) = agent.next_event(Instant::now() + Duration::from_secs(1)) {
            emit(&event);
        }
    }
}
