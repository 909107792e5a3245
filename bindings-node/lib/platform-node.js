"use strict";
// The Node platform of lib/reconnecting.js, configured on load: the napi core
// (src/session.rs) and the byte transport (`net`/`tls`). Required by the Node entry points
// (lib/index.js, lib/reconnecting-websocket.js). The browser's is lib/platform-wasm.mjs.

const { setMaxListeners } = require("node:events");
const net = require("node:net");
const tls = require("node:tls");
const { RawSession } = require("./native.js");
const { configure } = require("./reconnecting.js");

const platform = {
  RawSession,
  net,
  tls,
  setMaxListeners,
  bytes: (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength),
};
configure(platform);

module.exports = platform;
