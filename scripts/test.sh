#!/usr/bin/env bash
# test.sh: everything `make test` runs, step by step, ending with one line that adds up the
# counts every step reported:  tests: N passed, M failed
#
# Steps: lint (rustfmt on all three cargo workspaces, clippy, ruff), unit and simulation tests (cargo test), the scenario
# table S1-S8 against the Rust host, the Autobahn quick set in both roles, and the wasm32
# build of the core. A failing step does not stop the others; the exit status is non-zero
# if any step failed. Each step's output is shown and also kept in target/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=target/test-logs
mkdir -p "$LOGS"
passed=0 failed=0 failed_steps=()

# step NAME COMMAND...: runs COMMAND, tees its output to $LOGS/NAME.log, counts results.
step() {
  local name=$1; shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$LOGS/$name.log"
  local rc=${PIPESTATUS[0]}
  # Counts the step printed itself: cargo's "test result: ok. N passed; M failed" and our
  # runners' "... N passed, M failed" lines.
  local p f
  read -r p f < <(python3 - "$LOGS/$name.log" <<'PY'
import re, sys
p = f = 0
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed", line) or \
        re.search(r"^(?:autobahn \w+ \w+|scenarios \w+): (\d+) passed, (\d+) failed", line)
    if m:
        p += int(m.group(1)); f += int(m.group(2))
print(p, f)
PY
)
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then
    # A step without counts (lint, wasm build) counts as one check.
    if [ "$rc" = 0 ]; then p=1; else f=1; fi
  elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    f=1   # it failed without saying which test: count the step itself
  fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" = 0 ] || failed_steps+=("$name")
  echo "=== $name: exit $rc, $p passed, $f failed"
}

ruff_check() {
  local venv=${STEADYSOCK_TOOLS:-$HOME/.cache/steadysock}/ruff-venv
  if [ ! -x "$venv/bin/ruff" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check 'ruff==0.17.6' || return 1
  fi
  "$venv/bin/ruff" check conformance scripts fuzz && "$venv/bin/ruff" format --check conformance scripts fuzz
}

fmt_all() {
  # The root workspace, and the two that stand apart (fuzz targets, benchmarks).
  cargo fmt --all -- --check &&
    (cd fuzz && cargo fmt -- --check) &&
    (cd conformance/bench && cargo fmt -- --check)
}

step fmt fmt_all
step clippy cargo clippy --workspace --all-targets -- -D warnings
step ruff ruff_check
step unit cargo test --workspace
step scenarios cargo run --release -q -p steadysock-conformance --bin scenarios
step autobahn bash conformance/autobahn/run.sh both quick
step python bash bindings-python/test.sh
step autobahn-python bash bindings-python/autobahn.sh quick
step wasm bash scripts/wasm-check.sh

if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ]
