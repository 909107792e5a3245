//! Runs the Session scenario table against the fault server, with the Rust host.
//!
//! `scenarios [-v] [--table PATH] [ID ...]`: every scenario (or the ones named) against a
//! fresh in-process fault server; one line per scenario, then the totals. Exits non-zero
//! if any failed. `-v` prints every step and every non-message event, with timings.

use std::time::Instant;
use steadysock_conformance::scenario::Table;

fn main() {
    let mut verbose = false;
    let mut path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json").to_string();
    let mut only = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--table" => path = args.next().expect("--table PATH"),
            id => only.push(id.to_string()),
        }
    }
    let table = match Table::load(&path) {
        Ok(t) => t,
        Err(why) => {
            eprintln!("scenarios: {why}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let (mut passed, mut failed) = (0, 0);
    for scenario in &table.scenarios {
        let id = scenario["id"].as_str().unwrap_or("?");
        if !only.is_empty() && !only.iter().any(|o| o == id) {
            continue;
        }
        if verbose {
            println!("scenario {id}: {}", scenario["title"].as_str().unwrap_or(""));
        }
        let t = Instant::now();
        let result = table.run(scenario, verbose);
        if verbose {
            println!("scenario {id} took {:.2} s", t.elapsed().as_secs_f64());
        }
        match result {
            Ok(()) => {
                passed += 1;
                println!("scenario {id} rust: passed");
            }
            Err(why) => {
                failed += 1;
                println!("scenario {id} rust: failed: {why}");
            }
        }
    }
    if verbose {
        println!("total {:.2} s", started.elapsed().as_secs_f64());
    }
    println!("scenarios rust: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        std::process::exit(1);
    }
}
