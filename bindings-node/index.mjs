// ES module entry point of the `steadysock` package: the CommonJS build, re-exported.
import cjs from "./lib/index.js";

export const { WebSocket, ReconnectingWebSocket, CloseEvent, ErrorEvent, MessageEvent } = cjs;
export default cjs.ReconnectingWebSocket;
