// The `steadysock/inline` entry (the wasm module inlined as base64, instantiated
// synchronously), put on the page for behaviours.test.mjs.
import ReconnectingWebSocket from "steadysock/inline";

globalThis.steadysockInline = { ReconnectingWebSocket };
