// ES module entry point of `steadysock/reconnecting-websocket` (reconnecting-websocket 4.4's API).
import ReconnectingWebSocket from "./lib/reconnecting-websocket.js";

export default ReconnectingWebSocket;
