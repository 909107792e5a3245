#!/usr/bin/env bash
# demo.sh: the browser demo on its own (for `make demo`): builds what is missing, serves the
# demo page, drives it in headless Chromium against the fault server while the server
# restarts, checks what the page shows and saves test/screenshots/demo.png.
# About 10-20 s once the wasm build, the npm packages and chromium are there.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
command -v chromium >/dev/null || bash install-chromium.sh >&2
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
[ -f ../bindings-node/wasm/steadysock_wasm_bg.wasm ] || bash build.sh
mkdir -p node_modules && ln -sfn ../../bindings-node node_modules/steadysock
node test/build-pages.mjs demo
if [ -z "${FAULT_SERVER:-}" ]; then
  (cd "$root" && cargo build -q --release -p steadysock-conformance --bin fault-server)
  export FAULT_SERVER=$root/target/release/fault-server
fi
node --test test/demo.test.mjs
echo "browser demo: screenshot in $PWD/test/screenshots/demo.png"
