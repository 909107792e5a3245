//! Runs the Session scenario table against the fault server, through the scenario host
//! protocol, against a host agent (default: the Rust agent, `scenario-agent`, built next
//! to this binary).
//!
//! `scenarios [-v] [--table PATH] [--host CMD] [--host-name NAME] [ID ...]`: every
//! scenario (or the ones named) against a fresh in-process fault server and a fresh agent
//! process; one line per scenario, then `scenarios NAME: N passed, M failed`. Exits
//! non-zero if any failed. `--host CMD` is a shell command line (run as `sh -c "exec
//! CMD"`) that starts another agent, e.g. `--host "python3 bindings-python/agent.py"
//! --host-name python`; NAME defaults to `rust` for the Rust agent and to the command's
//! first word otherwise. `-v` prints every step and every non-message event, with
//! timings.

use std::time::Instant;
use steadysock_conformance::scenario::Table;

fn usage(why: &str) -> ! {
    eprintln!("scenarios: {why}");
    eprintln!("usage: scenarios [-v] [--table PATH] [--host CMD] [--host-name NAME] [ID ...]");
    std::process::exit(2);
}

fn main() {
    let mut verbose = false;
    let mut path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/scenarios.json").to_string();
    let mut host: Option<String> = None;
    let mut host_name: Option<String> = None;
    let mut only = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--table" => path = args.next().unwrap_or_else(|| usage("--table PATH")),
            "--host" | "--agent" => host = Some(args.next().unwrap_or_else(|| usage("--host CMD"))),
            "--host-name" => host_name = Some(args.next().unwrap_or_else(|| usage("--host-name NAME"))),
            "-h" | "--help" => usage("help"),
            id if id.starts_with('-') => usage(&format!("unknown option {id}")),
            id => only.push(id.to_string()),
        }
    }
    let (agent, name) = match &host {
        Some(cmd) => {
            let first = cmd.split_whitespace().next().unwrap_or("host");
            let stem = std::path::Path::new(first)
                .file_stem()
                .map_or("host".to_string(), |s| s.to_string_lossy().into_owned());
            let argv = vec!["/bin/sh".to_string(), "-c".to_string(), format!("exec {cmd}")];
            (argv, host_name.unwrap_or(stem))
        }
        None => {
            let exe = std::env::current_exe()
                .ok()
                .and_then(|p| {
                    p.parent()
                        .map(|d| d.join(format!("scenario-agent{}", std::env::consts::EXE_SUFFIX)))
                })
                .unwrap_or_else(|| usage("cannot find the scenario-agent binary; pass --host"));
            if !exe.exists() {
                usage(&format!(
                    "{} not built (cargo build --release -p steadysock-conformance --bin scenario-agent)",
                    exe.display()
                ));
            }
            (
                vec![exe.to_string_lossy().into_owned()],
                host_name.unwrap_or("rust".into()),
            )
        }
    };
    let table = match Table::load(&path) {
        Ok(t) => t.for_host(&name),
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
        let result = table.run(scenario, &agent, verbose);
        if verbose {
            println!("scenario {id} took {:.2} s", t.elapsed().as_secs_f64());
        }
        match result {
            Ok(()) => {
                passed += 1;
                println!("scenario {id} {name}: passed");
            }
            Err(why) => {
                failed += 1;
                println!("scenario {id} {name}: failed: {why}");
            }
        }
    }
    if verbose {
        println!("total {:.2} s", started.elapsed().as_secs_f64());
    }
    println!("scenarios {name}: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        std::process::exit(1);
    }
}
