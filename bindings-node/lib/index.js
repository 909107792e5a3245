"use strict";
// CommonJS entry point of the `steadysock` package.
const { WebSocket } = require("./websocket.js");
const { ReconnectingWebSocket, configure } = require("./reconnecting.js");
configure(require("./platform-node.js"));
const { CloseEvent, ErrorEvent, MessageEvent } = require("./events.js");

module.exports = { WebSocket, ReconnectingWebSocket, CloseEvent, ErrorEvent, MessageEvent, default: ReconnectingWebSocket };
