#!/usr/bin/env bash
# wasm-check.sh: builds the core for wasm32-unknown-unknown, installing the private wasm
# toolchain first if needed, in two feature sets:
#   - the default one (byte transport, permessage-deflate, serde): the core has no
#     I/O, clock or threads, so it must build there as is;
#   - the browser binding's: `--no-default-features --features browser` (message
#     transport only: no Connection, handshake, framing, deflate, httparse, sha1, base64).
# (That reduced set on the host, clippy and tests, is its own step in scripts/test.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${RUST_WEB_PREFIX:-/opt/rust-web}
if [ ! -x "$PREFIX/bin/cargo-wasm" ]; then
  bash scripts/install-wasm-toolchain.sh >&2
fi
T=${CARGO_TARGET_DIR:-target}
CARGO_TARGET_DIR=$T/wasm "$PREFIX/bin/cargo-wasm" build --release -q -p steadysock
ls -l "$T"/wasm/wasm32-unknown-unknown/release/libsteadysock.rlib | awk '{print "wasm-check: built", $NF, "(" $5 " bytes)"}'
CARGO_TARGET_DIR=$T/wasm-messages "$PREFIX/bin/cargo-wasm" build --release -q -p steadysock --no-default-features --features browser
ls -l "$T"/wasm-messages/wasm32-unknown-unknown/release/libsteadysock.rlib | awk '{print "wasm-check: built (message transport only)", $NF, "(" $5 " bytes)"}'
