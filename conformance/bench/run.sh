#!/usr/bin/env bash
# steadysock benchmarks: memory, then throughput (criterion), then one summary table.
#
#   bash conformance/bench/run.sh            # the full run (about 4 minutes plus the build)
#   BENCH_QUICK=1 bash conformance/bench/run.sh     # a quick pass (less stable numbers)
#   BENCH_FILTER='decode binary' bash ...    # only the criterion benchmarks matching a regex
#
# Every benchmark writes JSON lines to target/bench/*.jsonl (in this directory); the
# `report` binary renders all of them, so other suites (Python, Node, browser) join by
# writing their own file there before the report runs (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")"
CARGO=${CARGO:-cargo}
out=target/bench
rm -rf "$out"
mkdir -p "$out"

# One build, so the steps below only run.
$CARGO build -q --release --benches --bins

crit=(--output-format bencher)
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    crit+=(--warm-up-time 0.2 --measurement-time 0.3 --sample-size 20 --nresamples 5000)
fi

echo "== memory (1000 idle connections per kind)"
$CARGO bench -q --bench memory

echo "== recovery log (attach cost as sessions grow)"
$CARGO bench -q --bench recovery

echo "== throughput (criterion; full log in $out/throughput.log)"
# The bencher format prints one line per benchmark; criterion's JSON results (read by
# the bench itself at the end) are written either way.
set +e
$CARGO bench -q --bench throughput -- "${crit[@]}" ${BENCH_FILTER:+"$BENCH_FILTER"} 2>&1 |
    tee "$out/throughput.log" | grep -E '^test |wrote'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
    tail -20 "$out/throughput.log"
    echo "throughput benchmark failed (exit $status); full log in $out/throughput.log" >&2
    exit 1
fi

echo
echo "== summary (also in $out/summary.md)"
echo
cpu="family $(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(grep -m1 '^cpu MHz' /proc/cpuinfo | cut -d: -f2 | tr -d ' ' | cut -d. -f1) MHz"
echo "machine: $(nproc) cores ($(uname -m), cpu $cpu), $(rustc --version), clock: ${BENCH_CLOCK:-thread-cpu}, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/machine.txt"
$CARGO run -q --release --bin report
