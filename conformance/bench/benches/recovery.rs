//! Cost of `RecoveryLog::attach` as the number of sessions held grows.
//!
//! For each size N (1 000, 10 000, 100 000), a log limited to N sessions is filled with N
//! detached sessions (half of them holding a message), then connect-and-leave attaches
//! run at the limit, in two variants: each attach either expires the one session whose
//! time ran out, or (nothing expiring) evicts one to make room. The time per attach
//! (thread CPU time, so waiting for a shared core does not count; it includes the two
//! OS entropy reads for a new id and token) should be flat in N: expiry and eviction use
//! time-ordered queues, not a scan of all sessions (issue 12: 1.3 ms at 100k before).
//!
//! `BENCH_QUICK=1`: fewer rounds. Writes `target/bench/rust-recovery.jsonl`.

use steadysock::session::{RecoveryLog, RecoveryLogConfig};
use steadysock::Message;
use steadysock_bench::*;

fn per_attach_ns(n: u64, rounds: u64, expiring: bool) -> f64 {
    let mut log = RecoveryLog::new(RecoveryLogConfig {
        max_sessions: n as usize,
        max_disconnection_ms: if expiring { n } else { u64::MAX / 2 },
        ..RecoveryLogConfig::default()
    });
    for i in 0..n {
        let r = log.attach(None, None, i).expect("attach");
        if i % 2 == 0 {
            log.append(r.session_id(), Message::text("x"), i);
        }
        log.detach(&r.attachment, i);
    }
    let start = thread_cpu_ns();
    for i in 0..rounds {
        let now = n + 1 + i;
        let r = log.attach(None, None, now).expect("attach");
        log.detach(&r.attachment, now);
    }
    let ns = thread_cpu_ns().saturating_sub(start);
    assert_eq!(log.len() as u64, n, "the log stays at its limit");
    ns as f64 / rounds as f64
}

fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let rounds = if quick { 20_000 } else { 200_000 };
    let mut records = Vec::new();
    println!("{:<44} {:>12}", "case", "ns/attach");
    for (expiring, what) in [(true, "expiring one"), (false, "evicting one")] {
        for n in [1_000u64, 10_000, 100_000] {
            // Best of three: the machine is shared.
            let ns = (0..3)
                .map(|_| per_attach_ns(n, rounds, expiring))
                .fold(f64::INFINITY, f64::min);
            let case = format!("attach {what}, {n} sessions");
            println!("{case:<44} {ns:>12.0}");
            let mut extra = serde_json::Map::new();
            extra.insert("sessions".into(), n.into());
            extra.insert("rounds".into(), rounds.into());
            records.push(Record {
                suite: "rust".into(),
                group: "recovery".into(),
                case,
                size: 0,
                implementation: "steadysock".into(),
                value: ns,
                unit: "ns".into(),
                higher_is_better: false,
                extra,
            });
        }
    }
    match write_records("rust-recovery", &records) {
        Ok(p) => eprintln!("wrote {} records to {}", records.len(), p.display()),
        Err(e) => eprintln!("could not write records: {e}"),
    }
}
