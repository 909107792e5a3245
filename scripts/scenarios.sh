#!/usr/bin/env bash
# scenarios.sh [RUNNER ARGS...]: builds the scenario runner and the Rust agent, then runs the
# table (conformance/scenarios/scenarios.json) through the host protocol against the agent.
# Another host: scripts/scenarios.sh --host "python3 agent.py" --host-name python
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p steadysock-conformance --bin scenarios --bin scenario-agent
exec "${CARGO_TARGET_DIR:-target}/release/scenarios" "$@"
