#!/usr/bin/env bash
# pack-check.sh: `npm pack` gives a tarball that installs and works without cargo and
# without the registry (the prebuilt addon inside). Run after the addon is built.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" > /dev/null
mkdir "$work/app"
cd "$work/app"
printf '{ "name": "app", "version": "1.0.0", "private": true }\n' > package.json
# No cargo on PATH, a fresh npm cache and --offline: only the tarball can serve.
env PATH="$(dirname "$(command -v node)"):/usr/bin:/bin" CARGO=/nonexistent npm_config_cache="$work/cache" \
  npm install --offline --no-audit --no-fund --foreground-scripts "$work"/steadysock-*.tgz
cat > check.cjs <<'JS'
const { WebSocket } = require("steadysock");
const ws = new WebSocket("ws://127.0.0.1:1/");
ws.onclose = (e) => console.log(`cjs: close ${e.code} ${e.wasClean}`);
JS
cat > check.mjs <<'JS'
import { WebSocket, CloseEvent } from "steadysock";
const ws = new WebSocket("ws://127.0.0.1:1/");
ws.onclose = (e) => console.log(`esm: close ${e.code} ${e.wasClean} ${e instanceof CloseEvent}`);
JS
out=$(node check.cjs && node check.mjs)
echo "$out"
[ "$out" = "$(printf 'cjs: close 1006 false\nesm: close 1006 false true')" ]
