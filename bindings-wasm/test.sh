#!/usr/bin/env bash
# test.sh: the browser binding, proven in headless Chromium (Debian's `chromium`, driven by
# playwright-core; never a browser download). For `make test` as one step.
#
#   1. install-chromium.sh (apt, idempotent); npm ci here (esbuild, playwright-core,
#      binaryen, partysocket, typescript: pinned in package-lock.json)
#   2. build.sh: the wasm build into ../bindings-node/wasm/ (toolchain installed if needed)
#   3. esbuild bundles the test pages, importing `steadysock` as an application would
#      (node_modules/steadysock -> ../bindings-node; the `browser` export condition);
#      tsc --strict over test/types/ (index.d.ts with the DOM lib and no @types/node)
#   4. node --test test/*.test.mjs: partysocket behaviours in Chromium, Web Worker, heartbeat,
#      the demo page (screenshot, state shown)
#   5. the scenario table through the browser agent (test/browser-agent.mjs) on the host
#      protocol: `scenarios --table <browser table> --host … --host-name browser` (a runner
#      with --host is needed: the in-tree one, or SCENARIOS_BIN=path; the table is
#      conformance/scenarios/scenarios.json, or SCENARIO_TABLE=path)
#
# Ends with one line:  browser: N passed, M failed  (everything above; the runner's own
# "scenarios browser: …" line is shown indented, so that it is counted once)
set -uo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
passed=0 failed=0
check() {   # check NAME COMMAND...: one pass or one failure
  local name=$1; shift
  echo "--- browser/$name: $*"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "--- browser/$name: FAILED"; fi
}
counts() {  # counts LOG: adds node --test's "# pass N" / "# fail N"
  local p f
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$1" | tail -n 1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$1" | tail -n 1)
  if [ -z "$p" ] || [ -z "$f" ]; then failed=$((failed + 1)); else passed=$((passed + p)) failed=$((failed + f)); fi
}

check chromium bash install-chromium.sh
check npm-ci npm ci --no-audit --no-fund --loglevel=error
check wasm-build bash build.sh
mkdir -p node_modules && ln -sfn ../../bindings-node node_modules/steadysock
check bundle node test/build-pages.mjs agent behaviours inline demo bench entries
# index.d.ts in a browser-only TypeScript project: DOM lib, no @types/node, --strict.
check tsc-dom npx --no-install tsc -p test/types

# The fault server (demo test): this tree's, or FAULT_SERVER=path.
if [ -z "${FAULT_SERVER:-}" ]; then
  (cd "$root" && cargo build -q --release -p steadysock-conformance --bin fault-server) && export FAULT_SERVER=$root/target/release/fault-server
fi

log=$(mktemp)
node --test --test-concurrency=1 test/*.test.mjs 2>&1 | tee "$log"
counts "$log"

# The scenario table through the browser agent.
runner=${SCENARIOS_BIN:-}
if [ -z "$runner" ] && grep -q -- '--host' "$root/conformance/src/scenario.rs" "$root"/conformance/src/bin/scenarios.rs 2>/dev/null; then
  (cd "$root" && cargo build -q --release -p steadysock-conformance --bin scenarios) && runner=$root/target/release/scenarios
fi
if [ -z "$runner" ]; then
  echo "--- browser/scenarios: NOT RUN: this tree's scenario runner has no --host (set SCENARIOS_BIN)"
  failed=$((failed + 1))
else
  # The one table; `--host-name browser` picks its per-host expectations (S6: what a
  # browser's WebSocket cannot tell apart; conformance/scenarios/README.md).
  table=${SCENARIO_TABLE:-$root/conformance/scenarios/scenarios.json}
  "$runner" --table "$table" --host "node $PWD/test/browser-agent.mjs" --host-name browser ${SCENARIOS:-} 2>&1 | tee "$log" | sed 's/^/  /'
  # (indented: scripts/test.sh counts this step by its closing line, which includes these)
  line=$(grep -E '^scenarios browser: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); else
    passed=$((passed + $(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')))
    failed=$((failed + $(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')))
  fi
fi
rm -f "$log"
echo "browser: $passed passed, $failed failed"
[ "$failed" = 0 ]
