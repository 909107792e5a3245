"use strict";
// Where the native addon of this platform lives inside the package.
const path = require("node:path");

function addonPath(root = path.resolve(__dirname, "..")) {
  return path.join(root, "native", `steadysock.${process.platform}-${process.arch}.node`);
}

module.exports = { addonPath };
