// ES module entry point of the `steadysock` package: the CommonJS build, re-exported.
import cjs from "./lib/index.js";

export const { WebSocket, CloseEvent, ErrorEvent, MessageEvent } = cjs;
