#!/usr/bin/env bash
# wasm-check.sh: builds the core (permessage-deflate included) for wasm32-unknown-unknown,
# installing the private wasm toolchain first if needed. The core has no I/O, clock or
# threads, so it must build there as is; this keeps that true.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${RUST_WEB_PREFIX:-/opt/rust-web}
if [ ! -x "$PREFIX/bin/cargo-wasm" ]; then
  bash scripts/install-wasm-toolchain.sh >&2
fi
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/wasm "$PREFIX/bin/cargo-wasm" build --release -q -p steadysock
ls -l "${CARGO_TARGET_DIR:-target}"/wasm/wasm32-unknown-unknown/release/libsteadysock.rlib | awk '{print "wasm-check: built", $NF, "(" $5 " bytes)"}'
