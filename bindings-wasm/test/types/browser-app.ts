// A browser-only TypeScript project (DOM lib, no @types/node): the package's one index.d.ts
// must type-check here (bindings-wasm/test.sh: tsc --strict -p test/types).
import ReconnectingWebSocket, { CloseEvent, ErrorEvent, type BinaryType } from "steadysock";
import Inline from "steadysock/inline";

const ws: ReconnectingWebSocket = new ReconnectingWebSocket(() => "wss://example.com/socket", ["chat"], {
  heartbeat: { intervalMs: 20_000, timeoutMs: 10_000, ping: '{"type":"ping"}', pong: { json: { type: "pong" } } },
  maxRetries: 10,
  WebSocket: globalThis.WebSocket,
});
const binary: BinaryType = "arraybuffer";
ws.binaryType = binary;
ws.addEventListener("open", () => ws.send(new Uint8Array([1, 2, 3])));
ws.addEventListener("message", (e: MessageEvent) => console.log(e.data));
ws.onclose = (e: CloseEvent) => console.log(e.code, e.reason, e.wasClean);
ws.onerror = (e: ErrorEvent) => console.log(e.message);
const queued: number = ws.bufferedAmount;
ws.send(new Blob(["x"]));
ws.reconnect(4000, "again");
ws.close(1000, `bye after ${queued}`);
new Inline("wss://example.com/other").close();

// The partysocket and reconnecting-websocket entries, as browser code imports them.
import PartySocket, { WebSocket as PartyWebSocket } from "steadysock/partysocket";
import RWS from "steadysock/reconnecting-websocket";

const party: PartySocket = new PartyWebSocket("wss://example.com/socket");
party.onmessage = (e: MessageEvent) => console.log(e.data);
const rws = new RWS("wss://example.com/socket", [], { maxRetries: 3 });
rws.close(1000, "bye");
