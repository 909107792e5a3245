//! Renders every benchmark record in `target/bench/*.jsonl` as Markdown tables (one per
//! group: decode, encode, unmask, memory, then any other group in the order met), with
//! steadysock's ratio against every other implementation and the project's goals
//! checked. Prints them and writes `target/bench/summary.md`.
//!
//! Records come from any suite (Rust today; Python, Node and browser benchmarks can add
//! their own `*.jsonl`): see `steadysock_bench::Record` for the shape.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use steadysock_bench::records_dir;

/// One parsed record.
#[derive(Debug, Clone)]
struct Rec {
    suite: String,
    group: String,
    case: String,
    size: u64,
    implementation: String,
    value: f64,
    unit: String,
    higher: bool,
}

/// A goal on steadysock's ratio against a peer ("at least `min` times as good").
struct RatioGoal {
    groups: &'static [&'static str],
    peer: &'static str,
    min: f64,
}

/// A goal on steadysock's own value.
struct AbsGoal {
    group: &'static str,
    /// Only rows whose case contains this.
    case_contains: &'static str,
    /// Only rows of this size (0: any).
    size: u64,
    limit: f64,
    /// `true`: value must be at least `limit`; `false`: at most.
    at_least: bool,
    text: &'static str,
}

const RATIO_GOALS: &[RatioGoal] = &[
    RatioGoal {
        groups: &["decode", "encode"],
        peer: "tungstenite",
        min: 1.5,
    },
    RatioGoal {
        groups: &["decode", "encode"],
        peer: "fastwebsockets",
        min: 1.0,
    },
];

const ABS_GOALS: &[AbsGoal] = &[
    AbsGoal {
        group: "unmask",
        case_contains: "",
        size: 0,
        limit: 8e9,
        at_least: true,
        text: "unmask >= 8 GB/s on one core",
    },
    AbsGoal {
        group: "memory",
        case_contains: "idle",
        size: 0,
        limit: 2048.0,
        at_least: false,
        text: "idle connection <= 2 KiB",
    },
];

fn parse(line: &str) -> Option<Rec> {
    let j: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(Rec {
        suite: j["suite"].as_str().unwrap_or("?").into(),
        group: j["group"].as_str()?.into(),
        case: j["case"].as_str().unwrap_or("").into(),
        size: j["size"].as_u64().unwrap_or(0),
        implementation: j["impl"].as_str()?.into(),
        value: j["value"].as_f64()?,
        unit: j["unit"].as_str().unwrap_or("").into(),
        higher: j["better"].as_str() != Some("lower"),
    })
}

fn size_label(n: u64) -> String {
    match n {
        0 => String::new(),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

fn fmt_value(v: f64, unit: &str) -> String {
    match unit {
        "B/s" if v >= 1e9 => format!("{:.2} GB/s", v / 1e9),
        "B/s" => format!("{:.0} MB/s", v / 1e6),
        "B" if v >= 10240.0 => format!("{:.0} KiB", v / 1024.0),
        "B" if v >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
        "B" => format!("{v:.0} B"),
        u => format!("{v:.3} {u}"),
    }
}

fn mark(ok: bool) -> &'static str {
    if ok {
        " ✓"
    } else {
        " ✗"
    }
}

fn main() {
    let dir = records_dir();
    let mut recs = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        recs.extend(text.lines().filter_map(parse));
    }
    if recs.is_empty() {
        eprintln!("no records in {}/*.jsonl: run the benchmarks first", dir.display());
        std::process::exit(1);
    }

    // Groups in a fixed order first, then as met.
    let mut groups: Vec<String> = ["decode", "encode", "unmask", "memory"]
        .iter()
        .map(|s| s.to_string())
        .filter(|g| recs.iter().any(|r| &r.group == g))
        .collect();
    for r in &recs {
        if !groups.contains(&r.group) {
            groups.push(r.group.clone());
        }
    }

    let mut out = String::new();
    if let Ok(m) = std::fs::read_to_string(dir.join("machine.txt")) {
        let _ = writeln!(out, "{}\n", m.trim());
    }
    let mut tallies: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for g in &groups {
        let rows_of: Vec<&Rec> = recs.iter().filter(|r| &r.group == g).collect();
        let mut impls: Vec<String> = Vec::new();
        let mut rows: Vec<(String, String, u64)> = Vec::new();
        for r in &rows_of {
            if !impls.contains(&r.implementation) {
                impls.push(r.implementation.clone());
            }
            let key = (r.suite.clone(), r.case.clone(), r.size);
            if !rows.contains(&key) {
                rows.push(key);
            }
        }
        // steadysock first.
        impls.sort_by_key(|i| !i.starts_with("steadysock"));
        let reference = impls.first().filter(|i| i.starts_with("steadysock")).cloned();
        let others: Vec<String> = impls
            .iter()
            .filter(|i| Some(*i) != reference.as_ref())
            .cloned()
            .collect();
        let suites: Vec<&String> = rows.iter().map(|r| &r.0).collect();
        let many_suites = suites.iter().any(|s| *s != suites[0]);

        let _ = writeln!(out, "### {g}\n");
        let mut header = String::from("| case |");
        let mut rule = String::from("|---|");
        for i in &impls {
            let _ = write!(header, " {i} |");
            rule.push_str("---:|");
        }
        if let Some(rf) = &reference {
            for o in &others {
                let _ = write!(header, " {rf} vs {o} |");
                rule.push_str("---:|");
            }
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for (suite, case, size) in &rows {
            let cell = |imp: &str| {
                rows_of
                    .iter()
                    .find(|r| &r.suite == suite && &r.case == case && r.size == *size && r.implementation == imp)
            };
            let mut label = if size_label(*size).is_empty() {
                case.clone()
            } else if case.is_empty() {
                size_label(*size)
            } else {
                format!("{case}, {}", size_label(*size))
            };
            if many_suites {
                label = format!("{suite}: {label}");
            }
            let mut line = format!("| {label} |");
            for i in &impls {
                match cell(i) {
                    Some(r) => {
                        let mut s = fmt_value(r.value, &r.unit);
                        if Some(i) == reference.as_ref() {
                            for goal in ABS_GOALS.iter().filter(|a| {
                                a.group == g.as_str()
                                    && case.contains(a.case_contains)
                                    && (a.size == 0 || a.size == *size)
                            }) {
                                let ok = if goal.at_least {
                                    r.value >= goal.limit
                                } else {
                                    r.value <= goal.limit
                                };
                                s.push_str(mark(ok));
                                let t = tallies.entry(goal.text.to_string()).or_default();
                                t.0 += usize::from(ok);
                                t.1 += 1;
                            }
                        }
                        let _ = write!(line, " {s} |");
                    }
                    None => line.push_str(" — |"),
                }
            }
            if let Some(rf) = &reference {
                for o in &others {
                    match (cell(rf), cell(o)) {
                        (Some(a), Some(b)) if a.value > 0.0 && b.value > 0.0 => {
                            let ratio = if a.higher { a.value / b.value } else { b.value / a.value };
                            let mut s = format!("{ratio:.2}×");
                            if let Some(goal) = RATIO_GOALS
                                .iter()
                                .find(|goal| goal.peer == o.as_str() && goal.groups.contains(&g.as_str()))
                            {
                                let ok = ratio >= goal.min;
                                s.push_str(mark(ok));
                                let key = format!("{g}: steadysock >= {}× {}", goal.min, goal.peer);
                                let t = tallies.entry(key).or_default();
                                t.0 += usize::from(ok);
                                t.1 += 1;
                            }
                            let _ = write!(line, " {s} |");
                        }
                        _ => line.push_str(" — |"),
                    }
                }
            }
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
    }
    out.push_str(
        "Throughput is payload bytes per second (median time per iteration); memory is bytes \
         per idle connection (heap + struct). Ratios are steadysock's advantage: above 1× \
         steadysock is faster (throughput) or smaller (memory). ✓/✗: goal met/missed.\n\n",
    );
    if !tallies.is_empty() {
        out.push_str("### goals\n\n| goal | met |\n|---|---:|\n");
        for (goal, (ok, n)) in &tallies {
            let _ = writeln!(out, "| {goal} | {ok}/{n} |");
        }
    }
    print!("{out}");
    let path = dir.join("summary.md");
    if let Err(e) = std::fs::write(&path, &out) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
