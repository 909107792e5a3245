// Browser (and bundler) entry point of the `steadysock` package (`exports` condition
// "browser"/"worker"): the same ReconnectingWebSocket as in Node, over the core's Session
// compiled to wasm, with the browser's own `WebSocket` as its transport. The wasm module is
// the separate file wasm/steadysock_wasm_bg.wasm (lib/platform-wasm.mjs); `steadysock/inline`
// (browser-inline.mjs) has it inlined instead, for a synchronous start without an asset.
import rws from "./lib/reconnecting.js";
import events from "./lib/events.js";
import { platform } from "./lib/platform-wasm.mjs";

rws.configure(platform);

export const ReconnectingWebSocket = rws.ReconnectingWebSocket;
export const { CloseEvent, ErrorEvent } = events;
export const MessageEvent = globalThis.MessageEvent;
/** The platform's own WHATWG WebSocket (no reconnect), as `import { WebSocket }` gives in Node. */
export const WebSocket = globalThis.WebSocket;
export default rws.ReconnectingWebSocket;
