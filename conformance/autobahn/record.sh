#!/usr/bin/env bash
# record.sh - the one way the committed Autobahn summary changes (`make autobahn-summary`).
#
# run.sh writes its results under target/ only (AUTOBAHN_WORK/results/HOST-ROLE-SET.json), so
# a test run leaves the work tree as it found it. This copies those results into the
# committed results/ (one file per host, role and set; files of runs not made since stay as
# they are) and re-renders RESULTS.md from them.
#
# Usage:  conformance/autobahn/record.sh            Env: AUTOBAHN_WORK (default <repo>/target/autobahn)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SRC=${AUTOBAHN_WORK:-$REPO/target/autobahn}/results
shopt -s nullglob
files=("$SRC"/*.json)
if [ ${#files[@]} -eq 0 ]; then
  echo "[autobahn/record] no results in $SRC: run conformance/autobahn/run.sh first" >&2
  exit 1
fi
for f in "${files[@]}"; do
  cp "$f" "$HERE/results/"
  echo "[autobahn/record] results/$(basename "$f")"
done
"${PYTHON3:-python3}" "$HERE/results_table.py" --results-dir "$HERE/results" --out "$HERE/RESULTS.md"
echo "[autobahn/record] RESULTS.md re-rendered"
