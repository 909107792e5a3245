"use strict";
// Loads the native addon built by scripts/build.js (or shipped prebuilt in native/).
const { addonPath } = require("./addon-path.js");

const file = addonPath();
let native;
try {
  native = require(file);
} catch (e) {
  const err = new Error(
    `steadysock: the native addon ${file} could not be loaded (${e.message}); ` +
      "run `npm rebuild steadysock` with a Rust toolchain installed",
  );
  err.cause = e;
  throw err;
}

module.exports = native;
