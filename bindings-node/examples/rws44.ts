// reconnecting-websocket 4.4 code with the import changed:
// `import ReconnectingWebSocket from "reconnecting-websocket"` becomes this.
import ReconnectingWebSocket from "steadysock/reconnecting-websocket";

const rws = new ReconnectingWebSocket("ws://127.0.0.1:9002/", ["chat"], { maxRetries: 5 });
rws.addEventListener("message", (event: MessageEvent) => console.log(event.data));
rws.send("queued until open");
rws.close();
console.log(rws.readyState === ReconnectingWebSocket.CLOSING);
