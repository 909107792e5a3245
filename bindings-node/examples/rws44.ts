// reconnecting-websocket 4.4 code with the import changed:
// `import ReconnectingWebSocket from "reconnecting-websocket"` becomes this.
import ReconnectingWebSocket, { ErrorEvent as RwsErrorEvent } from "steadysock/reconnecting-websocket";

const rws = new ReconnectingWebSocket("ws://127.0.0.1:9002/", ["chat"], { maxRetries: 5 });
rws.addEventListener("message", (event: MessageEvent) => console.log(event.data));
rws.send("queued until open");
rws.close();
console.log(rws.readyState === ReconnectingWebSocket.CLOSING);
rws.addEventListener("close", (event) => {
  if (event instanceof ReconnectingWebSocket.CloseEvent) console.log(event.code, event.reason, event.target === rws);
});
const made = new ReconnectingWebSocket.CloseEvent(1000, "done", rws);
console.log(made.wasClean);
rws.onerror = (event) => console.log(event instanceof RwsErrorEvent ? event.message : "");
