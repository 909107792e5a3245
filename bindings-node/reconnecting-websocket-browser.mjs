// Browser (and bundler) entry point of `steadysock/reconnecting-websocket` (`exports`
// conditions "browser"/"worker"): reconnecting-websocket 4.4's API (lib/rws44.js) over the
// wasm core, with the browser's own `WebSocket` as the transport (as browser.mjs, whose
// import configures that platform; the wasm module is fetched the same way).
import "./browser.mjs";
import ReconnectingWebSocket from "./lib/rws44.js";

export const { Event, ErrorEvent, CloseEvent } = ReconnectingWebSocket;
export default ReconnectingWebSocket;
