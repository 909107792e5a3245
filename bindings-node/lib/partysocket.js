"use strict";
// `steadysock/partysocket`: the exports of partysocket's main entry for code written
// against it (`import ReconnectingWebSocket, { WebSocket } from "partysocket"` becomes
// `from "steadysock/partysocket"`): the default export and `WebSocket` are the
// ReconnectingWebSocket, plus `ReconnectingWebSocket`, `CloseEvent` and `ErrorEvent`
// (partysocket/ws's). The main `steadysock` entry keeps `WebSocket` for the plain WHATWG
// socket.
require("./platform-node.js"); // the napi core and net/tls under the ReconnectingWebSocket
const { ReconnectingWebSocket } = require("./reconnecting.js");
const { CloseEvent, ErrorEvent } = require("./events.js");

// As a bundler-built CommonJS module: `require(...).default` is the class too.
Object.defineProperty(exports, "__esModule", { value: true });
exports.default = ReconnectingWebSocket;
exports.ReconnectingWebSocket = ReconnectingWebSocket;
exports.WebSocket = ReconnectingWebSocket;
exports.CloseEvent = CloseEvent;
exports.ErrorEvent = ErrorEvent;
