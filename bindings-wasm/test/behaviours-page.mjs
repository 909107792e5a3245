// The package as a bundler sees it (`steadysock` → the `browser` export: wasm core), put on
// the page for behaviours.test.mjs; also the Worker entry (worker.js), which answers
// {url} with what an open/echo/close cycle showed.
import ReconnectingWebSocket, * as steadysock from "steadysock";

globalThis.steadysock = { ...steadysock, ReconnectingWebSocket };

if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  // The package's default entry awaits the wasm module at the top level: a message posted
  // before that finished would find no handler, so the worker says when it is ready.
  postMessage("ready");
  globalThis.onmessage = ({ data }) => {
    const seen = [];
    const ws = new ReconnectingWebSocket(data.url, undefined, { minReconnectionDelay: 20, maxReconnectionDelay: 100 });
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      seen.push("open");
      ws.send("from a worker");
      ws.send(new Uint8Array([1, 2, 3]));
    };
    ws.onmessage = (e) => {
      seen.push(typeof e.data === "string" ? `text:${e.data}` : `binary:${Array.from(new Uint8Array(e.data)).join(",")}`);
      if (seen.length === 3) ws.close(4000, "worker done");
    };
    ws.onclose = (e) => {
      seen.push(`close:${e.code}:${e.reason}`);
      postMessage(seen);
    };
  };
}
