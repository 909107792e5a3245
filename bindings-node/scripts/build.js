#!/usr/bin/env node
// Builds the native addon (`npm install` runs this). A prebuilt addon for this platform in
// native/ (as `npm pack` ships it) is used as is; otherwise cargo builds one from the
// Rust sources beside this package and the shared library is copied to native/.
//
// Env: STEADYSOCK_FORCE_BUILD=1 rebuilds even when native/ has an addon;
//      STEADYSOCK_PROFILE=debug builds without optimisation (default release);
//      CARGO_TARGET_DIR is honoured.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const { addonPath } = require("../lib/addon-path.js");
const dest = addonPath(root);

if (fs.existsSync(dest) && process.env.STEADYSOCK_FORCE_BUILD !== "1") {
  console.log(`steadysock: using the addon in ${path.relative(root, dest)}`);
  process.exit(0);
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
