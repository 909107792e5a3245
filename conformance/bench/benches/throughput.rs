//! Throughput of steadysock, tungstenite and fastwebsockets on the same byte streams:
//! decode and encode of 16 B … 1 MiB text and binary messages, masked (client→server)
//! and unmasked (server→client), plus unmasking alone against memcpy.
//!
//! Criterion measures; at the end every result of this run is written as JSON lines to
//! `target/bench/rust-throughput.jsonl` (payload bytes per second, from the median time
//! per iteration), which the `report` binary renders. Each implementation is checked
//! once before it is measured (message count, payload bytes, and for encoders a full
//! decode of their output), so no benchmark can silently time an error path.

use criterion::measurement::{Measurement, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use steadysock_bench::*;

/// A benchmark of this run, to be looked up in criterion's output at the end.
struct Registered {
    group: String,
    function: String,
    value: String,
    record: Record,
    bytes_per_iter: usize,
}

#[derive(Default)]
struct Registry(Vec<Registered>);

impl Registry {
    #[allow(clippy::too_many_arguments)]
    fn add(&mut self, group: &str, function: &str, value: &str, rgroup: &str, case: String, size: usize, bytes: usize) {
        let mut extra = serde_json::Map::new();
        extra.insert("criterion_id".into(), format!("{group}/{function}/{value}").into());
        extra.insert("clock".into(), clock_name().into());
        self.0.push(Registered {
            group: group.into(),
            function: function.into(),
            value: value.into(),
            record: Record {
                suite: "rust".into(),
                group: rgroup.into(),
                case,
                size,
                implementation: function.into(),
                value: 0.0,
                unit: "B/s".into(),
                higher_is_better: true,
                extra,
            },
            bytes_per_iter: bytes,
        });
    }

    /// Registers a throughput case: its label, message size and bytes per iteration.
    fn add_case(&mut self, group: &str, function: &str, value: &str, rgroup: &str, case: &Case) {
        self.add(
            group,
            function,
            value,
            rgroup,
            case.label(),
            case.size,
            case.payload_bytes(),
        );
    }
}

fn decode<M: Measurement>(c: &mut Criterion<M>, reg: &mut Registry) {
    let rt = runtime();
    for base in Case::all().chunks(SIZES.len()) {
        let gname = format!("decode {}", base[0].label());
        let mut g = c.benchmark_group(&gname);
        for case in base {
            let stream = case.stream();
            let sz = size_label(case.size).replace(' ', "");
            let want = (case.count, case.payload_bytes());
            g.throughput(Throughput::Bytes(case.payload_bytes() as u64));

            // steadysock: handle_input_buf per read of up to 64 KiB, poll_event until empty.
            let mut conn = steadysock_conn(case.dir, false);
            let mut rbuf = bytes::BytesMut::with_capacity(READ_CHUNK);
            assert_eq!(
                steadysock_decode(&mut conn, &stream, &mut rbuf),
                want,
                "steadysock {gname} {sz}"
            );
            g.bench_function(BenchmarkId::new("steadysock", &sz), |b| {
                b.iter(|| steadysock_decode(&mut conn, black_box(&stream), &mut rbuf))
            });
            reg.add_case(&gname, "steadysock", &sz, "decode", case);

            // tungstenite: read() per message.
            let mem = MemStream::new(stream.clone());
            let mut ws = tungstenite_ws(case.dir, false, mem.clone());
            assert_eq!(
                tungstenite_decode(&mut ws, case.count),
                want,
                "tungstenite {gname} {sz}"
            );
            assert_eq!(mem.remaining(), 0);
            g.bench_function(BenchmarkId::new("tungstenite", &sz), |b| {
                b.iter(|| tungstenite_decode(&mut ws, black_box(case.count)))
            });
            reg.add_case(&gname, "tungstenite", &sz, "decode", case);

            // fastwebsockets: read_frame() per message (every message is one frame).
            let mem = MemStream::new(stream.clone());
            let mut fws = fastwebsockets_ws(case.dir, false, mem.clone());
            assert_eq!(
                fastwebsockets_decode(&rt, &mut fws, &mem, case.count),
                want,
                "fastwebsockets {gname} {sz}"
            );
            assert_eq!(mem.remaining(), 0);
            g.bench_function(BenchmarkId::new("fastwebsockets", &sz), |b| {
                b.iter(|| fastwebsockets_decode(&rt, &mut fws, &mem, black_box(case.count)))
            });
            reg.add_case(&gname, "fastwebsockets", &sz, "decode", case);
        }
        g.finish();
    }
}

fn encode<M: Measurement>(c: &mut Criterion<M>, reg: &mut Registry) {
    let rt = runtime();
    for base in Case::all().chunks(SIZES.len()) {
        let gname = format!("encode {}", base[0].label());
        let mut g = c.benchmark_group(&gname);
        for case in base {
            let payload = case.payload();
            let wire_len = case.stream().len();
            let sz = size_label(case.size).replace(' ', "");
            g.throughput(Throughput::Bytes(case.payload_bytes() as u64));

            // steadysock: send_binary / send_text, or send of a Message for large
            // unmasked payloads (see `Outgoing`), then poll_transmit into the socket.
            let mut conn = steadysock_conn(case.dir, true);
            let out = Outgoing::new(case, &payload);
            let mut sink = Vec::new();
            assert_eq!(steadysock_encode(&mut conn, case.count, &out, &mut sink), wire_len);
            check_encoded(case, &payload, &sink);
            g.bench_function(BenchmarkId::new("steadysock", &sz), |b| {
                b.iter(|| steadysock_encode(&mut conn, black_box(case.count), &out, &mut sink))
            });
            reg.add_case(&gname, "steadysock", &sz, "encode", case);

            // tungstenite: send() (write + flush) per message.
            let mem = MemStream::new(Vec::new());
            let mut ws = tungstenite_ws(case.dir, true, mem.clone());
            let msg = tungstenite_message(case, &payload);
            assert_eq!(tungstenite_encode(&mut ws, case, &msg), wire_len);
            check_encoded(case, &payload, &mem.output());
            g.bench_function(BenchmarkId::new("tungstenite", &sz), |b| {
                b.iter(|| tungstenite_encode(&mut ws, black_box(case), &msg))
            });
            reg.add_case(&gname, "tungstenite", &sz, "encode", case);

            // fastwebsockets: write_frame() per message.
            let mem = MemStream::new(Vec::new());
            let mut fws = fastwebsockets_ws(case.dir, true, mem.clone());
            assert_eq!(fastwebsockets_encode(&rt, &mut fws, &mem, case, &payload), wire_len);
            check_encoded(case, &payload, &mem.output());
            g.bench_function(BenchmarkId::new("fastwebsockets", &sz), |b| {
                b.iter(|| fastwebsockets_encode(&rt, &mut fws, &mem, black_box(case), &payload))
            });
            reg.add_case(&gname, "fastwebsockets", &sz, "encode", case);
        }
        g.finish();
    }
}

/// Unmasking in place, alone: steadysock's `apply_mask`, fastwebsockets' `unmask`, and a
/// plain memcpy of a buffer of the same size (the ceiling of any byte-touching pass).
fn unmask<M: Measurement>(c: &mut Criterion<M>, reg: &mut Registry) {
    let gname = "unmask";
    let mut g = c.benchmark_group(gname);
    let key = [0x37, 0xfa, 0x21, 0x3d];
    for size in [1 << 10, 64 << 10, 1 << 20] {
        let sz = size_label(size).replace(' ', "");
        g.throughput(Throughput::Bytes(size as u64));
        let orig = binary_payload(size).to_vec();
        let expect: Vec<u8> = orig.iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
        let mut buf = orig.clone();

        let mut check = orig.clone();
        steadysock::mask::apply_mask(&mut check, key, 0);
        assert!(check == expect, "steadysock apply_mask is wrong");
        g.bench_function(BenchmarkId::new("steadysock", &sz), |b| {
            b.iter(|| steadysock::mask::apply_mask(black_box(&mut buf), black_box(key), 0))
        });
        reg.add(gname, "steadysock", &sz, "unmask", "in place".into(), size, size);

        let mut check = orig.clone();
        fastwebsockets::unmask(&mut check, key);
        assert!(check == expect, "fastwebsockets unmask is wrong");
        g.bench_function(BenchmarkId::new("fastwebsockets", &sz), |b| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buf), black_box(key)))
        });
        reg.add(gname, "fastwebsockets", &sz, "unmask", "in place".into(), size, size);

        let src = orig;
        let mut dst = vec![0u8; size];
        g.bench_function(BenchmarkId::new("memcpy", &sz), |b| {
            b.iter(|| black_box(&mut dst[..]).copy_from_slice(black_box(&src[..])))
        });
        reg.add(gname, "memcpy", &sz, "unmask", "in place".into(), size, size);
    }
    g.finish();
}

/// Criterion's output directory, found the way criterion finds it.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// Every `new/benchmark.json` under `dir`.
fn benchmark_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            benchmark_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "benchmark.json")
            && p.parent().and_then(Path::file_name).is_some_and(|n| n == "new")
        {
            out.push(p);
        }
    }
}

fn read_json(p: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// Turns this run's criterion results into records.
fn export(reg: Registry, started: SystemTime) {
    let mut files = Vec::new();
    benchmark_files(&criterion_dir(), &mut files);
    let mut found = std::collections::HashMap::new();
    for f in files {
        let Some(j) = read_json(&f) else { continue };
        let key = (
            j["group_id"].as_str().unwrap_or_default().to_string(),
            j["function_id"].as_str().unwrap_or_default().to_string(),
            j["value_str"].as_str().unwrap_or_default().to_string(),
        );
        found.insert(key, f.with_file_name("estimates.json"));
    }
    let mut records = Vec::new();
    for r in reg.0 {
        let Some(est) = found.get(&(r.group.clone(), r.function.clone(), r.value.clone())) else {
            continue;
        };
        // Only results of this run (a filtered run leaves older results in place).
        let fresh = std::fs::metadata(est)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= started);
        let Some(j) = read_json(est).filter(|_| fresh) else {
            continue;
        };
        let Some(median_ns) = j["median"]["point_estimate"].as_f64() else {
            continue;
        };
        let mut rec = r.record;
        rec.value = r.bytes_per_iter as f64 / (median_ns * 1e-9);
        rec.extra.insert("median_ns_per_iter".into(), median_ns.into());
        rec.extra.insert("bytes_per_iter".into(), r.bytes_per_iter.into());
        if let Some(lo) = j["median"]["confidence_interval"]["lower_bound"].as_f64() {
            rec.extra.insert("median_ns_ci_low".into(), lo.into());
        }
        if let Some(hi) = j["median"]["confidence_interval"]["upper_bound"].as_f64() {
            rec.extra.insert("median_ns_ci_high".into(), hi.into());
        }
        records.push(rec);
    }
    match write_records("rust-throughput", &records) {
        Ok(p) => eprintln!("wrote {} records to {}", records.len(), p.display()),
        Err(e) => eprintln!("could not write records: {e}"),
    }
}

fn clock_name() -> &'static str {
    if std::env::var("BENCH_CLOCK").is_ok_and(|v| v == "wall") {
        "wall"
    } else {
        "thread-cpu"
    }
}

fn run<M: Measurement>(c: Criterion<M>) -> Registry {
    // Defaults for a run of about 3 minutes; criterion's command-line flags
    // (--warm-up-time, --measurement-time, --sample-size, --nresamples) override them.
    let mut c = c
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .nresamples(20_000)
        .configure_from_args();
    let mut reg = Registry::default();
    decode(&mut c, &mut reg);
    encode(&mut c, &mut reg);
    unmask(&mut c, &mut reg);
    c.final_summary();
    reg
}

fn main() {
    let started = SystemTime::now() - Duration::from_secs(1);
    let reg = if clock_name() == "wall" {
        run(Criterion::default().with_measurement(WallTime))
    } else {
        run(Criterion::default().with_measurement(ThreadCpuTime::default()))
    };
    export(reg, started);
}
