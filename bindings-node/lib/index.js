"use strict";
// CommonJS entry point of the `steadysock` package.
const { WebSocket } = require("./websocket.js");
require("./platform-node.js"); // the napi core and net/tls under the ReconnectingWebSocket
const { ReconnectingWebSocket } = require("./reconnecting.js");
const { CloseEvent, ErrorEvent, MessageEvent } = require("./events.js");

module.exports = { WebSocket, ReconnectingWebSocket, CloseEvent, ErrorEvent, MessageEvent, default: ReconnectingWebSocket };
