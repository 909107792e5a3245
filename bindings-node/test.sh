#!/usr/bin/env bash
# test.sh: every check of the Node binding, for `make test` (scripts/test.sh runs it as one
# step). Needs cargo, node >= 20 and npm with the npm registry reachable.
#
#   1. rustfmt and clippy (-D warnings) on the addon crate (its own cargo workspace)
#   2. npm ci: the pinned dev dependencies (typescript, @types/node) into node_modules/,
#      and the package's install script, which builds the addon with cargo
#   3. tsc --strict over index.d.ts and examples/, with @types/node alone and with the DOM lib
#   4. scripts/pack-check.sh: the `npm pack` tarball installs and loads (ESM and CommonJS)
#      without cargo and offline (its prebuilt addon)
#   5. node --test over test/*.test.mjs
#
# Ends with one line:  node: N passed, M failed   (the node --test counts, plus one per
# check of steps 1-4). Exit status non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")"
passed=0 failed=0

check() {   # check NAME COMMAND...: one pass or one failure
  local name=$1; shift
  echo "--- node/$name: $*"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "--- node/$name: FAILED"; fi
}

check rustfmt cargo fmt -- --check
check clippy cargo clippy -q --all-targets -- -D warnings
check npm-ci npm ci --no-audit --no-fund
check tsc npx --no-install tsc -p tsconfig.json
check tsc-dom npx --no-install tsc -p tsconfig.dom.json
check pack bash scripts/pack-check.sh

log=$(mktemp)
node --test test/*.test.mjs 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
rm -f "$log"
if [ -z "$p" ] || [ -z "$f" ]; then
  echo "--- node/test: no counts from node --test (exit $rc)"
  failed=$((failed + 1))
else
  passed=$((passed + p)) failed=$((failed + f))
  [ "$rc" = 0 ] || [ "$f" != 0 ] || failed=$((failed + 1))
fi
echo "node: $passed passed, $failed failed"
[ "$failed" = 0 ]
