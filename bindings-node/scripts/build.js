#!/usr/bin/env node
// Builds the native addon (`npm install` runs this). In a checkout (the core's sources
// beside this package) cargo always builds, which is a quick no-op when nothing changed;
// elsewhere (a packed tarball) the prebuilt addon for this platform in native/ is used.
//
// Env: STEADYSOCK_PROFILE=debug builds without optimisation (default release);
//      CARGO and CARGO_TARGET_DIR are honoured.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const { addonPath } = require("../lib/addon-path.js");
const dest = addonPath(root);

const checkout = ["Cargo.toml", "../core/Cargo.toml"].every((f) => fs.existsSync(path.join(root, f)));
if (!checkout) {
  if (fs.existsSync(dest)) {
    console.log(`steadysock: using the prebuilt addon ${path.relative(root, dest)}`);
    process.exit(0);
  }
  console.error(
    `steadysock: no prebuilt addon for ${process.platform}-${process.arch} in this package, ` +
      "and no steadysock sources to build one from (install from a checkout: npm install ./bindings-node)",
  );
  process.exit(1);
}

const profile = process.env.STEADYSOCK_PROFILE === "debug" ? "debug" : "release";
const args = ["build", "--manifest-path", path.join(root, "Cargo.toml"), "--lib"];
if (profile === "release") args.push("--release");
console.log(`steadysock: building the native addon (cargo ${args.join(" ")})`);
const run = spawnSync(process.env.CARGO || "cargo", args, { stdio: "inherit" });
if (run.error) {
  console.error(`steadysock: could not run cargo (${run.error.message}); a Rust toolchain is needed to build from source`);
  process.exit(1);
}
if (run.status !== 0) process.exit(run.status || 1);

const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(process.env.CARGO_TARGET_DIR)
  : path.join(root, "target");
const lib = { darwin: "libsteadysock_node.dylib", win32: "steadysock_node.dll" }[process.platform] || "libsteadysock_node.so";
const built = path.join(targetDir, profile, lib);
fs.mkdirSync(path.dirname(dest), { recursive: true });
// Copy to a temporary name first: a half-written addon must never be loaded.
fs.copyFileSync(built, `${dest}.tmp`);
fs.renameSync(`${dest}.tmp`, dest);
console.log(`steadysock: built ${path.relative(root, dest)}`);
