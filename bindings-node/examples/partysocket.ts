// partysocket code with only the import path changed: `from "partysocket"` becomes
// `from "steadysock/partysocket"` (there `WebSocket` is the reconnecting class, as in
// partysocket).
import ReconnectingWebSocket, { WebSocket, CloseEvent, ErrorEvent, type Options } from "steadysock/partysocket";

const options: Options = { maxRetries: 10, minReconnectionDelay: 1000, recovery: true };
const ws = new WebSocket("ws://127.0.0.1:9002/feed", [], options);
const same: ReconnectingWebSocket = ws;
ws.addEventListener("open", (event) => console.log(`open (recovered: ${event.recovered})`, same.retryCount));
ws.addEventListener("close", (event: CloseEvent) => console.log(event.code, event.reason, event.wasClean));
ws.onerror = (event: ErrorEvent) => console.log(event.message);
const made = new CloseEvent(1000, "done", ws);
console.log(made.code, new ErrorEvent(new Error("x"), ws).message);
ws.close();
