"use strict";
// CommonJS entry point of the `steadysock` package.
const { WebSocket } = require("./websocket.js");
const { ReconnectingWebSocket } = require("./reconnecting.js");
const { CloseEvent, ErrorEvent, MessageEvent } = require("./events.js");

module.exports = { WebSocket, ReconnectingWebSocket, CloseEvent, ErrorEvent, MessageEvent, default: ReconnectingWebSocket };
