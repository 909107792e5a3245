// Browser entry point with the wasm module inlined (`steadysock/inline`, conditions
// "browser"/"worker"): as browser.mjs, but the module ships as base64 inside the package and
// is instantiated synchronously (lib/platform-wasm-inline.mjs): no fetch, no asset, no
// top-level await; about a third more bytes.
import rws from "./lib/reconnecting.js";
import events from "./lib/events.js";
import { platform } from "./lib/platform-wasm-inline.mjs";

rws.configure(platform);

export const ReconnectingWebSocket = rws.ReconnectingWebSocket;
export const { CloseEvent, ErrorEvent } = events;
export const MessageEvent = globalThis.MessageEvent;
/** The platform's own WHATWG WebSocket (no reconnect), as `import { WebSocket }` gives in Node. */
export const WebSocket = globalThis.WebSocket;
export default rws.ReconnectingWebSocket;
