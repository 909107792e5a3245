// Browser (and bundler) entry point of `steadysock/partysocket` (`exports` conditions
// "browser"/"worker"): partysocket's exports, as lib/partysocket.js gives them in Node
// (the default export and `WebSocket` are the ReconnectingWebSocket), over the wasm core
// with the browser's own `WebSocket` as the transport (browser.mjs configures it).
import { ReconnectingWebSocket, CloseEvent, ErrorEvent } from "./browser.mjs";

export { ReconnectingWebSocket, CloseEvent, ErrorEvent };
export const WebSocket = ReconnectingWebSocket;
export default ReconnectingWebSocket;
