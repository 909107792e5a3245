// Echo one text and one binary message through a WebSocket server, then close.
// Run (after `npm install`): node examples/echo.mjs ws://127.0.0.1:9002/
import { WebSocket, type CloseEvent, type ErrorEvent } from "steadysock";

const url: string = process.argv[2] ?? "ws://127.0.0.1:9002/";
const ws = new WebSocket(url, [], { headers: { "X-Example": "1" }, keepalive: { intervalMs: 20_000, pongTimeoutMs: 10_000 } });
ws.binaryType = "arraybuffer";

ws.onopen = () => {
  console.log(`open (protocol ${JSON.stringify(ws.protocol)}, extensions ${JSON.stringify(ws.extensions)})`);
  ws.send("hello");
  ws.send(new Uint8Array([1, 2, 3]));
};

let received = 0;
ws.addEventListener("message", (event: MessageEvent) => {
  const data: unknown = event.data;
  if (typeof data === "string") console.log(`text: ${data}`);
  else if (data instanceof ArrayBuffer) console.log(`binary: ${data.byteLength} bytes`);
  if (++received === 2) ws.close(1000, "done");
});

ws.addEventListener("error", (event: ErrorEvent) => console.error(`error: ${event.message}`));
ws.addEventListener("close", (event: CloseEvent) => {
  console.log(`close ${event.code} ${JSON.stringify(event.reason)} clean=${event.wasClean}`);
  const state: 0 | 1 | 2 | 3 = ws.readyState;
  console.log(state === WebSocket.CLOSED ? "closed" : "not closed?");
});
