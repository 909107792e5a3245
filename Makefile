# steadysock: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test lint unit autobahn-quick autobahn autobahn-summary fuzz wasm-check bench scenarios prove-fresh

## demo: a steadysock client and server talking over loopback, then a Session riding
## through two server restarts (built in release mode); then the browser demo page in
## headless Chromium while the server restarts (bindings-wasm/demo.sh: installs chromium,
## the npm packages and the wasm build the first time; a screenshot of what it showed)
demo:
	$(CARGO) run --release -q -p steadysock-conformance --bin demo
	bash bindings-wasm/demo.sh

## test: everything below, summed up in one closing line (scripts/test.sh): formatting,
## lints (rustfmt, clippy, ruff), unit and simulation tests, the Session scenarios against
## the fault server, Autobahn quick runs in both roles, the core built for wasm32, the Node
## binding, the browser binding in Chromium
test:
	bash scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

autobahn-quick:
	bash conformance/autobahn/run.sh both quick

## scenarios: Session scenarios S1-S8 (conformance/scenarios) against the fault server, run
## through the host protocol against the Rust agent (scenario-agent)
scenarios:
	bash scripts/scenarios.sh

## autobahn: every Autobahn case (groups 1-13, 517), both roles; then the Python and the
## Node client roles
autobahn:
	bash conformance/autobahn/run.sh both full
	bash bindings-python/test.sh build
	bash bindings-python/autobahn.sh full
	(cd bindings-node && node scripts/build.js)
	HOST_NAME=node AGENT=steadysock-node SKIP_BUILD=1 \
	  CLIENT_CMD="node bindings-node/conformance/autobahn-client.mjs" bash conformance/autobahn/run.sh client full

## autobahn-summary: the committed Autobahn summary (conformance/autobahn/results, RESULTS.md)
## from the last runs' results in target/autobahn and target/autobahn-python (runs themselves
## never touch it)
autobahn-summary:
	bash conformance/autobahn/record.sh
	if [ -d target/autobahn-python/results ]; then AUTOBAHN_WORK=target/autobahn-python bash conformance/autobahn/record.sh; fi

## prove-fresh: every installer `make test` uses, run from a never-seen state (fresh HOME,
## tool dirs, stale apt lists), and each tool checked (scripts/prove-fresh.sh)
prove-fresh:
	bash scripts/prove-fresh.sh

## wasm-check: the core (deflate included) builds for wasm32-unknown-unknown
wasm-check:
	bash scripts/wasm-check.sh

## fuzz: every cargo-fuzz target (FUZZ_SECONDS each, default 60)
fuzz:
	bash scripts/fuzz.sh "" $${FUZZ_SECONDS:-60}

## bench: throughput and memory against tungstenite and fastwebsockets, one summary table
## (conformance/bench, its own cargo workspace; BENCH_QUICK=1 for a quick pass); then the
## Node client's CPU per round trip and per MiB against ws, partysocket and Node's WebSocket;
## then the Python client's against websocket-client (with and without wsaccel), websockets
## and aiohttp (bindings-python/bench/run.sh)
bench:
	bash conformance/bench/run.sh
	bash bindings-node/bench/run.sh
	bash bindings-python/bench/run.sh
