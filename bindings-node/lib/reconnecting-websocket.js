"use strict";
// `steadysock/reconnecting-websocket`: the ReconnectingWebSocket as reconnecting-websocket
// 4.4 shows it, for code written against that package: `module.exports` is the class
// itself, close() leaves readyState CLOSING and the close event (with the real code) comes
// from a later task, send() returns nothing, and the default first delay is drawn per
// instance between 1 and 5 s (never at module load).
require("./platform-node.js"); // the napi core and net/tls under the ReconnectingWebSocket
const { ReconnectingWebSocket: Base, RWS44 } = require("./reconnecting.js");

class ReconnectingWebSocket extends Base {
  constructor(url, protocols = undefined, options = {}) {
    super(url, protocols, { minReconnectionDelay: 1000 + Math.random() * 4000, ...options, [RWS44]: true });
  }
}

module.exports = ReconnectingWebSocket;
