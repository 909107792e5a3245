#!/usr/bin/env bash
# prove-fresh.sh: installs every tool `make test` needs from a never-seen state, then checks
# that each one works. A green `make test` on a warm machine proves nothing about a new
# user's; this does.
#
#   scripts/prove-fresh.sh [NAME ...]       (make prove-fresh)   default: every installer
#
# The never-seen state, all under one temp dir (PROVE_FRESH_DIR, default a new
# /tmp/steadysock-fresh.XXXXXX; removed afterwards unless the run failed or KEEP=1):
#   - HOME, CARGO_HOME, STEADYSOCK_TOOLS, XDG_CACHE_HOME, RUST_WEB_PREFIX, CARGO_TARGET_DIR:
#     fresh empty dirs, so nothing installed before is found (and nothing real is touched:
#     not /opt/rust-web, not ~/.cache/steadysock, not the repo's target/);
#   - stale apt lists: APT_CONFIG points at a config whose Dir::State::Lists holds only the
#     bookworm InRelease and main Packages lists copied from /var/lib/apt/lists (the image's
#     state: apt knows rustc-web 1.85, not the 1.96 of bookworm-security), Dir::Cache a temp
#     dir too, so an `apt-get update` writes there and never into /var/lib/apt.
# Then each installer runs in that state (log: DIR/logs/NAME.log, kept in
# target/prove-fresh/logs) and its check must pass.
# One line per installer, then `prove-fresh: N passed, M failed`; exit 1 if any failed.
#
# Adding an installer is one line in the table below: name, install command, check command
# (run by bash from the repo root, in the fresh environment).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

INSTALLERS=(
  # name      | install command                              | check command
  "wasm       | bash scripts/install-wasm-toolchain.sh       | bash scripts/wasm-check.sh && \"\$RUST_WEB_PREFIX/bin/wasm-bindgen\" --version"
  # The browser package's build as make test's browser step does it: npm packages (esbuild, binaryen's wasm-opt, …) from a fresh npm cache, crates (wasm-bindgen, talc) from a fresh CARGO_HOME.
  "browser    | cd bindings-wasm && npm ci --no-audit --no-fund --loglevel=error | bash bindings-wasm/build.sh && node -e 'WebAssembly.compile(require(\"fs\").readFileSync(\"bindings-node/wasm/steadysock_wasm_bg.wasm\")).then(() => console.log(\"the browser module compiles\"))'"
  "chromium   | CHROMIUM_DOWNLOAD_ONLY=1 bash bindings-wasm/install-chromium.sh | eval \"\$(apt-config shell A Dir::Cache::archives/d)\" && ls \"\$A\"chromium_*.deb && chromium --version"
  "autobahn   | bash conformance/autobahn/install.sh         | env -u LD_LIBRARY_PATH \"\$STEADYSOCK_TOOLS/autobahn/venv/bin/wstest\" --help >/dev/null && env -u LD_LIBRARY_PATH \"\$STEADYSOCK_TOOLS/autobahn/venv/bin/wstest\" --autobahnversion"
  "ruff       | bash scripts/install-ruff.sh                 | \"\$STEADYSOCK_TOOLS/ruff-venv/bin/ruff\" --version && \"\$STEADYSOCK_TOOLS/ruff-venv/bin/ruff\" check conformance scripts fuzz"
  # The Python package as a new user installs it: a new venv, a fresh pip cache (HOME), maturin from PyPI building the extension.
  "python     | python3 -m venv \"\$FRESH/pyvenv\" && \"\$FRESH/pyvenv/bin/pip\" install --disable-pip-version-check \"\$ROOT/bindings-python\" | cd \"\$FRESH\" && \"\$FRESH/pyvenv/bin/python\" -c 'import steadysock as websocket; assert websocket.STATUS_NORMAL == 1000 and callable(websocket.create_connection) and callable(websocket.WebSocketApp); import steadysock.asyncio; print(\"import steadysock:\", websocket.__version__)'"
  # The npm package as a new user installs it: an empty app, a fresh npm cache (HOME), the addon built by its install script.
  "node       | mkdir -p \"\$FRESH/app-node\" && cd \"\$FRESH/app-node\" && npm init -y >/dev/null && npm install --no-audit --no-fund \"\$ROOT/bindings-node\" | cd \"\$FRESH/app-node\" && node -e 'const s = require(\"steadysock\"); if (typeof s.WebSocket !== \"function\" || typeof s.default !== \"function\") process.exit(1); console.log(\"require(steadysock): WebSocket, ReconnectingWebSocket\")' && node --input-type=module -e 'import RWS, { WebSocket } from \"steadysock\"; console.log(\"import steadysock:\", typeof RWS, typeof WebSocket)'"
)

FRESH=${PROVE_FRESH_DIR:-$(mktemp -d /tmp/steadysock-fresh.XXXXXX)}
mkdir -p "$FRESH"
FRESH=$(cd "$FRESH" && pwd)
chmod 755 "$FRESH"   # apt-get downloads as the _apt user: it must reach the dirs below
t_all=$SECONDS
echo "prove-fresh: state in $FRESH"

# ---------------------------------------------------------------- the stale apt state
SYS_LISTS=/var/lib/apt/lists
APTD=$FRESH/apt
mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial"
copied=0
for f in "$SYS_LISTS"/*_debian_dists_bookworm_InRelease "$SYS_LISTS"/*_debian_dists_bookworm_main_binary-amd64_Packages*; do
  [ -f "$f" ] && cp "$f" "$APTD/lists/" && copied=$((copied + 1))
done
[ "$copied" -ge 2 ] || { echo "prove-fresh: no bookworm lists in $SYS_LISTS to start from"; exit 2; }
# apt-get downloads as the _apt user unless told otherwise: let it write into our dirs.
chown -R _apt "$APTD/lists/partial" "$APTD/cache/archives/partial" 2>/dev/null || true
cat > "$APTD/apt.conf" <<EOF
Dir::State::Lists "$APTD/lists/";
Dir::Cache "$APTD/cache/";
Dir::Cache::archives "$APTD/cache/archives/";
EOF
export APT_CONFIG=$APTD/apt.conf
eval "$(apt-config shell lists_dir Dir::State::Lists/d)"
[ "${lists_dir%/}" = "$APTD/lists" ] || { echo "prove-fresh: APT_CONFIG not honoured (lists: $lists_dir)"; exit 2; }
sys_before=$(ls -l --time-style=+%s.%N "$SYS_LISTS" | md5sum)

# ---------------------------------------------------------------- the fresh environment
mkdir -p "$FRESH/home" "$FRESH/tools" "$FRESH/rust-web" "$FRESH/target" "$FRESH/logs"
# The machine's own Rust toolchain (rustup) stays: only what the project installs is fresh.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
export HOME=$FRESH/home
export CARGO_HOME=$FRESH/home/.cargo XDG_CACHE_HOME=$FRESH/home/.cache
export FRESH ROOT STEADYSOCK_TOOLS=$FRESH/tools RUST_WEB_PREFIX=$FRESH/rust-web CARGO_TARGET_DIR=$FRESH/target
unset AUTOBAHN_HOME AB_PYTHON2 WSTEST PIP_CACHE_DIR VIRTUAL_ENV
echo "prove-fresh: HOME=$HOME STEADYSOCK_TOOLS=$STEADYSOCK_TOOLS RUST_WEB_PREFIX=$RUST_WEB_PREFIX"
echo "prove-fresh: APT_CONFIG=$APT_CONFIG (lists: $(ls "$APTD/lists" | grep -vc partial) files); rustc-web known to apt: $(apt-cache madison rustc-web | awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}')"

# ---------------------------------------------------------------- each installer
passed=0 failed=0 results=()
for row in "${INSTALLERS[@]}"; do
  IFS='|' read -r name install check <<<"$row"
  name=$(echo "$name" | xargs)
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  log=$FRESH/logs/$name.log
  t0=$SECONDS
  echo "=== $name: install: $(echo "$install" | xargs)"
  if (cd "$ROOT" && bash -c "$install") >"$log" 2>&1; then
    t1=$SECONDS
    echo "=== $name: check: $check"
    if out=$(cd "$ROOT" && bash -c "$check" 2>&1); then
      grep -E 'apt-get update|^rustc-web |^rustc [0-9]|installed:|^\[install-ruff\]' "$log" | head -n 4 | sed 's/^/    install: /'
    echo "$out" | tail -n 3 | sed 's/^/    check: /'
      line="prove-fresh $name: ok (install $((t1 - t0)) s, check $((SECONDS - t1)) s)"
      passed=$((passed + 1))
    else
      echo "$out" | tail -n 20 | sed 's/^/    /'
      line="prove-fresh $name: FAILED check (log: $log)"
      failed=$((failed + 1))
    fi
  else
    tail -n 20 "$log" | sed 's/^/    /'
    line="prove-fresh $name: FAILED install after $((SECONDS - t0)) s (log: $log)"
    failed=$((failed + 1))
  fi
  echo "$line"
  results+=("$line")
done

known=$(apt-cache madison rustc-web | awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}')
echo "prove-fresh: afterwards, rustc-web known to apt (the fresh lists): $known"

# ---------------------------------------------------------------- the real state untouched
sys_after=$(ls -l --time-style=+%s.%N "$SYS_LISTS" | md5sum)
if [ "$sys_before" != "$sys_after" ]; then
  echo "prove-fresh: $SYS_LISTS changed during the run: the fresh state leaked"
  failed=$((failed + 1))
fi

[ $((passed + failed)) -gt 0 ] || { echo "prove-fresh: no installer named $*"; exit 2; }
echo
printf '%s\n' "${results[@]}"
echo "prove-fresh: $passed passed, $failed failed ($((SECONDS - t_all)) s)"
if [ "$failed" -eq 0 ] && [ "${KEEP:-0}" != 1 ] && [ -z "${PROVE_FRESH_DIR:-}" ]; then
  # The logs outlive the state, under target/ (ignored by git).
  rm -rf "$ROOT/target/prove-fresh" && mkdir -p "$ROOT/target/prove-fresh" &&
    cp -r "$FRESH/logs" "$ROOT/target/prove-fresh/" && echo "prove-fresh: logs in target/prove-fresh/logs"
  rm -rf "$FRESH"
else
  echo "prove-fresh: state kept in $FRESH"
fi
[ "$failed" -eq 0 ]
