"use strict";
// `steadysock/reconnecting-websocket` in Node: reconnecting-websocket 4.4's API
// (lib/rws44.js) over the napi core and net/tls. Browsers and bundlers get
// reconnecting-websocket-browser.mjs (the wasm core) through the `browser` export condition.
require("./platform-node.js"); // the napi core and net/tls under the ReconnectingWebSocket
module.exports = require("./rws44.js");
