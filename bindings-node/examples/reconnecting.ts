// partysocket code with the import changed: `import ReconnectingWebSocket from "partysocket"`
// becomes `from "steadysock"`.
import ReconnectingWebSocket, { type CloseEvent, type ErrorEvent } from "steadysock";

let token = 0;
const ws = new ReconnectingWebSocket(async () => `ws://127.0.0.1:9002/feed?token=${++token}`, ["feed.v1"], {
  minReconnectionDelay: 1000,
  maxRetries: 10,
  jitter: "full",
  shouldReconnectOnClose: (event) => event.code !== 4004,
  debug: process.env.DEBUG === "1",
});
ws.addEventListener("open", () => {
  const queued: boolean = ws.send("subscribe");
  console.log(`open after ${ws.retryCount} retries; sent at once: ${queued}`);
});
ws.onmessage = (event: MessageEvent) => console.log(String(event.data));
ws.onclose = (event: CloseEvent) => console.log(`closed ${event.code} (clean: ${event.wasClean}), reconnecting: ${ws.shouldReconnect}`);
ws.onerror = (event: ErrorEvent) => {
  if (event.message === "TIMEOUT") console.log("attempt timed out");
};
setTimeout(() => {
  ws.close(1000, "bye");
  const unsent: Array<string | ArrayBuffer | ArrayBufferView | Blob> = ws.drainQueuedMessages();
  console.log(`${unsent.length} messages never sent`);
}, 10_000);
