"use strict";
// CommonJS entry point of the `steadysock` package.
const { WebSocket } = require("./websocket.js");
const { CloseEvent, ErrorEvent, MessageEvent } = require("./events.js");

module.exports = { WebSocket, CloseEvent, ErrorEvent, MessageEvent };
