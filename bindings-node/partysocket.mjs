// ES module entry point of `steadysock/partysocket` (partysocket's exports; see lib/partysocket.js).
import cjs from "./lib/partysocket.js";

export const { ReconnectingWebSocket, WebSocket, CloseEvent, ErrorEvent } = cjs;
export default cjs.ReconnectingWebSocket;
