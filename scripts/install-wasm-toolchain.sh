#!/usr/bin/env bash
# install-wasm-toolchain.sh -- idempotent; prints progress, exits non-zero on failure.
#
# rustup here cannot download the wasm32 target, so this installs a private Rust toolchain
# able to build wasm32-unknown-unknown from Debian packages only (bookworm-security
# "rustc-web": rustc/cargo 1.96 + std sources + LLVM/lld), unpacked with `dpkg -x` into
# $RUST_WEB_PREFIX (default /opt/rust-web). Nothing of rustup and nothing in /usr/bin is
# touched. The wasm32 std is compiled per project by cargo -Zbuild-std.
#
# Then wasm-bindgen-cli (for the browser binding, bindings-wasm/) from the crate registry into
# $PREFIX/tools/bin (linked as $PREFIX/bin/wasm-bindgen), at exactly the version that
# bindings-wasm/Cargo.toml pins the `wasm-bindgen` crate to (`=X.Y.Z`): the CLI refuses a
# module made by another version. Built with this private toolchain; the registry cache
# goes to $CARGO_HOME (default ~/.cargo) as for any cargo run.
#
# Afterwards:  $PREFIX/bin/cargo-wasm build --release -p steadysock
#              $PREFIX/bin/wasm-bindgen --target web --out-dir pkg target/.../steadysock_wasm.wasm
#
# Knobs (env): RUST_WEB_PREFIX, RUST_WEB_VERSION, LLVM_DEB_VERSION, KEEP_FULL_SRC=1,
#              WASM_BINDGEN_VERSION (default: the pin in bindings-wasm/Cargo.toml),
#              SKIP_WASM_BINDGEN=1, CARGO_HOME.
set -euo pipefail

PREFIX="${RUST_WEB_PREFIX:-/opt/rust-web}"
RUST_WEB_VERSION="${RUST_WEB_VERSION:-1.96.0+dfsg1-1~deb12u2}"   # bookworm-security (source pkg rustc-web)
LLVM_DEB_VERSION="${LLVM_DEB_VERSION:-1:22.1.8-1~deb12u1}"        # bookworm-security (llvm-toolchain-22)
TRIPLE_LIBDIR="$PREFIX/usr/lib/x86_64-linux-gnu"

t0=$SECONDS
step() { echo; echo "=== [$((SECONDS - t0))s] $*"; }
die()  { echo "ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
[ "$(dpkg --print-architecture)" = amd64 ] || die "amd64 only"

# ---------------------------------------------------------------- 1. apt metadata
step "apt metadata"
# has_version PKG VERSION: whether the apt lists know PKG at exactly VERSION. Not
# `apt-cache show PKG=VERSION`: that exits 0 when the version is absent (it only prints
# "N: Can't select versions from package ..."), so stale lists went unnoticed and the
# download failed later with "E: No packages found". `madison` lists the known versions.
has_version() {
  apt-cache madison "$1" 2>/dev/null | awk -F'|' -v v="$2" '{ gsub(/ /, "", $2); if ($2 == v) f = 1 } END { exit !f }'
}
if ! has_version rustc-web "$RUST_WEB_VERSION"; then
  echo "rustc-web $RUST_WEB_VERSION not in the apt lists: apt-get update"
  apt-get update -q || { sleep 10; apt-get update -q; }
fi

# resolve PKG [WANTED-VERSION] -> "pkg=version": the wanted version if the archive has it,
# else the candidate (with a warning): the security pool keeps only the newest upload.
resolve() {
  local pkg=$1 want=${2:-} cand
  if [ -n "$want" ] && has_version "$pkg" "$want"; then echo "$pkg=$want"; return; fi
  cand=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2}')
  [ -n "$cand" ] && [ "$cand" != "(none)" ] || die "package $pkg not available (apt-get update?)"
  [ -n "$want" ] && echo "WARNING: $pkg=$want not in archive, using $cand" >&2
  echo "$pkg=$cand"
}
RUSTC_SPEC=$(resolve rustc-web "$RUST_WEB_VERSION"); RV=${RUSTC_SPEC#*=}
# libstd-rust-web-1.96 and libllvm22 are named by version: read them off the package metadata.
LIBSTD_PKG=$(apt-cache show "libstd-rust-web-dev=$RV" | sed -n 's/^Depends: .*\(libstd-rust-web-[0-9][0-9.]*\) .*/\1/p' | head -1)
LLVM_MAJOR=$(apt-cache show "$LIBSTD_PKG=$RV" | sed -n 's/^Depends: .*libllvm\([0-9][0-9]*\)\b.*/\1/p' | head -1)
[ -n "$LIBSTD_PKG" ] && [ -n "$LLVM_MAJOR" ] || die "cannot read libstd/LLVM deps of rustc-web $RV"
echo "rustc-web $RV, $LIBSTD_PKG, LLVM $LLVM_MAJOR"

# ---------------------------------------------------------------- 2. system runtime libs
# Plain shared libraries / C toolchain that rustc, cargo and lld link against. All are
# already present on this machine kind; installed system-wide only if missing.
step "system runtime libraries"
SYS_DEPS="gcc libc6-dev binutils libcurl4 libssh2-1 libssl3 libsqlite3-0 libgssapi-krb5-2 libpcre2-8-0
          libedit2 libffi8 libxml2 libz3-4 libzstd1 zlib1g libstdc++6 libgcc-s1 ca-certificates"
missing=""
for p in $SYS_DEPS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

# ---------------------------------------------------------------- 3. download .debs
step "download Debian packages into $PREFIX/debs"
SPECS=(
  "$RUSTC_SPEC"
  "cargo-web=$RV" "rust-web-src=$RV" "libstd-rust-web-dev=$RV" "$LIBSTD_PKG=$RV"
  "$(resolve "libllvm$LLVM_MAJOR" "$LLVM_DEB_VERSION")"
  "$(resolve "lld-$LLVM_MAJOR" "$LLVM_DEB_VERSION")"
  # cargo-web's libgit2 and its deps (not installed on this machine kind)
  "$(resolve libgit2-1.5)" "$(resolve libhttp-parser2.9)"
  "$(resolve libmbedcrypto7)" "$(resolve libmbedtls14)" "$(resolve libmbedx509-1)"
)
mkdir -p "$PREFIX/debs"
chown _apt "$PREFIX/debs" 2>/dev/null || true    # apt-get download runs as _apt
debfile() { local pkg=${1%%=*} ver=${1#*=}; ver=${ver/:/%3a}; ( cd "$PREFIX/debs" && ls "${pkg}_${ver}_"*.deb 2>/dev/null | head -1 ); }
need=()
for spec in "${SPECS[@]}"; do [ -n "$(debfile "$spec")" ] || need+=("$spec"); done
if [ ${#need[@]} -gt 0 ]; then ( cd "$PREFIX/debs" && apt-get download -q "${need[@]}" ); fi
DEBS=$(for spec in "${SPECS[@]}"; do f=$(debfile "$spec"); [ -n "$f" ] || die "missing .deb for $spec"; echo "$f"; done | sort)

# ---------------------------------------------------------------- 4. unpack
step "unpack into $PREFIX/usr"
if [ ! -x "$PREFIX/usr/bin/rustc" ] || [ "$(cat "$PREFIX/.unpacked" 2>/dev/null)" != "$DEBS" ]; then
  rm -rf "$PREFIX/usr" "$PREFIX/.unpacked"
  for deb in $DEBS; do dpkg -x "$PREFIX/debs/$deb" "$PREFIX"; done
  # build-std only reads usr/src/rustc-*/library; the rest of rust-web-src (~365 MB:
  # compiler/, src/ incl. tests) is not needed. Keep it with KEEP_FULL_SRC=1.
  if [ "${KEEP_FULL_SRC:-0}" != 1 ]; then rm -rf "$PREFIX"/usr/src/rustc-*/src "$PREFIX"/usr/src/rustc-*/compiler; fi
  echo "$DEBS" > "$PREFIX/.unpacked"
fi

# ---------------------------------------------------------------- 5. wrappers + env
step "wrappers in $PREFIX/bin, env in $PREFIX/env.sh"
mkdir -p "$PREFIX/bin"
wrap() {  # wrap NAME REAL-BINARY
  cat > "$PREFIX/bin/$1" <<EOF
#!/bin/sh
# Debian's rustc-web binaries have no RUNPATH; they need libLLVM / librustc_driver / libgit2 from here.
export LD_LIBRARY_PATH="$TRIPLE_LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$2" "\$@"
EOF
  chmod 755 "$PREFIX/bin/$1"
}
wrap rustc   "$PREFIX/usr/bin/rustc"
wrap rustdoc "$PREFIX/usr/bin/rustdoc"
wrap cargo   "$PREFIX/usr/bin/cargo"
wrap wasm-ld "$PREFIX/usr/lib/llvm-$LLVM_MAJOR/bin/wasm-ld"
# wasm32-unknown-unknown's default linker is `rust-lld -flavor wasm`, looked up by rustc in
# <sysroot>/lib/rustlib/<host>/bin. Debian doesn't ship it: point it at Debian's lld-22.
mkdir -p "$PREFIX/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin"
cat > "$PREFIX/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld" <<EOF
#!/bin/sh
export LD_LIBRARY_PATH="$TRIPLE_LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$PREFIX/usr/lib/llvm-$LLVM_MAJOR/bin/lld" "\$@"
EOF
chmod 755 "$PREFIX/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"

cat > "$PREFIX/bin/cargo-wasm" <<EOF
#!/bin/sh
# cargo-wasm SUBCOMMAND [ARGS...]  ->  cargo SUBCOMMAND --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort [ARGS...]
# RUSTC_BOOTSTRAP=1 is needed because build-std passes -Zunstable-options/--extern noprelude
# to every crate of the wasm target (std itself gets it from cargo anyway). Scoped to this call.
set -e
[ \$# -ge 1 ] || { echo "usage: cargo-wasm build|check|test|doc|rustc [args]" >&2; exit 2; }
sub=\$1; shift
export RUSTC="$PREFIX/bin/rustc" RUSTDOC="$PREFIX/bin/rustdoc" RUSTC_BOOTSTRAP=1
export PATH="$PREFIX/bin:$PREFIX/tools/bin:\$PATH"
exec "$PREFIX/bin/cargo" "\$sub" --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort "\$@"
EOF
chmod 755 "$PREFIX/bin/cargo-wasm"

cat > "$PREFIX/env.sh" <<EOF
# . $PREFIX/env.sh  -- Debian rustc-web $RV first on PATH (this shell only)
export PATH="$PREFIX/bin:\$PATH"
export RUSTC="$PREFIX/bin/rustc" RUSTDOC="$PREFIX/bin/rustdoc"
# for plain 'cargo build --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort' also: export RUSTC_BOOTSTRAP=1
EOF

# ---------------------------------------------------------------- 6. sanity
step "sanity checks"
for b in usr/bin/rustc usr/bin/rustdoc usr/bin/cargo "usr/lib/llvm-$LLVM_MAJOR/bin/lld" usr/lib/x86_64-linux-gnu/librustc_driver-*.so; do
  if LD_LIBRARY_PATH="$TRIPLE_LIBDIR" ldd "$PREFIX/$b" | grep 'not found'; then die "$b: unresolved shared libraries"; fi
done
"$PREFIX/bin/rustc" -vV
"$PREFIX/bin/cargo" -V
"$PREFIX/bin/rustc" --print target-list | grep -qx wasm32-unknown-unknown
"$PREFIX/bin/rustc" --target wasm32-unknown-unknown --print target-cpus >/dev/null   # fails if LLVM lacks the WebAssembly backend
"$PREFIX/bin/wasm-ld" --version
test -f "$("$PREFIX/bin/rustc" --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock"

# ---------------------------------------------------------------- 7. wasm-bindgen-cli
if [ "${SKIP_WASM_BINDGEN:-0}" != 1 ]; then
  if [ -z "${WASM_BINDGEN_VERSION:-}" ]; then
    pin_file="$(cd "$(dirname "$0")/.." && pwd)/bindings-wasm/Cargo.toml"
    WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = .*"=\([0-9][0-9.]*\)".*/\1/p' "$pin_file" 2>/dev/null | head -1)
    [ -n "$WASM_BINDGEN_VERSION" ] || die "no wasm-bindgen = \"=X.Y.Z\" pin in $pin_file (or set WASM_BINDGEN_VERSION)"
  fi
  step "wasm-bindgen-cli $WASM_BINDGEN_VERSION into $PREFIX/tools"
  if [ "$("$PREFIX/tools/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    # --locked first; the registry reachable here can lag behind the CLI's own lockfile
    # (0.2.130's pins a webpki-roots release absent here): then a fresh resolve.
    ( export RUSTC="$PREFIX/bin/rustc" RUSTDOC="$PREFIX/bin/rustdoc"
      "$PREFIX/bin/cargo" install -q --force --locked wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --root "$PREFIX/tools" \
      || "$PREFIX/bin/cargo" install -q --force wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --root "$PREFIX/tools" )
  fi
  ln -sf ../tools/bin/wasm-bindgen "$PREFIX/bin/wasm-bindgen"
  "$PREFIX/bin/wasm-bindgen" --version
fi

step "done"
