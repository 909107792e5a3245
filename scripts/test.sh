#!/usr/bin/env bash
# test.sh: everything `make test` runs, step by step, ending with one line that adds up the
# counts every step reported:  tests: N passed, M failed
#
# Steps: lint (rustfmt on all three cargo workspaces, clippy, ruff), unit and simulation tests (cargo test), the scenario
# table S1-S8 through the host protocol against the Rust agent, the Autobahn quick set in
# both roles, the wasm32 build of the core, the Node binding (bindings-node/test.sh, then the
# scenario table through its agent and its Autobahn client run), the browser binding
# (bindings-wasm/test.sh: wasm build, Chromium tests, the scenario table through the browser
# agent), and (in a git checkout) a check that the run
# left `git status` as it found it. A failing step does not stop the others; the exit status is non-zero
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
        re.search(r"^(?:autobahn \w+ \w+|scenarios \w+|node|browser|pytest \w+): (\d+) passed, (\d+) failed", line)
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
  local ruff
  ruff=$(bash scripts/install-ruff.sh | tail -n 1) || return 1
  "$ruff" check conformance scripts fuzz && "$ruff" format --check conformance scripts fuzz
}

# A run leaves the work tree as it found it: every step writes under target/ (or other
# ignored dirs). Checked only inside a git checkout: `git status --porcelain` at the end
# must equal the one at the start.
in_git=0
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  in_git=1
  tree_before=$(git status --porcelain)
fi
tree_unchanged() {
  local after
  after=$(git status --porcelain)
  if [ "$after" != "$tree_before" ]; then
    echo "the run changed the work tree (git status --porcelain before / after):"
    diff <(echo "$tree_before") <(echo "$after")
    return 1
  fi
  echo "work tree unchanged by the run"
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
step scenarios bash scripts/scenarios.sh
step autobahn bash conformance/autobahn/run.sh both quick
step python bash bindings-python/test.sh
step autobahn-python bash bindings-python/autobahn.sh quick
step scenarios-python bash bindings-python/scenarios.sh
step wasm bash scripts/wasm-check.sh
# The core as the browser binding builds it (message transport only, no serde).
messages_only() {
  cargo clippy -q -p steadysock --no-default-features --all-targets -- -D warnings &&
    cargo test -q -p steadysock --no-default-features
}
step core-messages-only messages_only
step node bash bindings-node/test.sh
step scenarios-node bash scripts/scenarios.sh --host "node bindings-node/conformance/scenario-agent.mjs" --host-name node
step autobahn-node env HOST_NAME=node AGENT=steadysock-node SKIP_BUILD=1 \
  CLIENT_CMD="node bindings-node/conformance/autobahn-client.mjs" bash conformance/autobahn/run.sh client quick
step browser bash bindings-wasm/test.sh
[ "$in_git" = 0 ] || step tree tree_unchanged

if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ]
