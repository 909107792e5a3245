"use strict";
// A `WebSocket` (the browser's, a Worker's, Node's global, `ws`, a polyfill) as the
// Session's message transport: the socket frames, the Session decides. Each socket reports
// `open(protocol)`, `text(data)`, `binary(Uint8Array)`, `closed(code, reason)` — the close
// event's code and reason exactly as the socket gave them — and, for a socket that failed
// before it opened, `error("other", why)` (a browser does not say why: refused, DNS and TLS
// failures all look alike there).

/** Sockets made and not yet closed (their `close` event not yet seen). */
const live = new Set();

function openMessageTransport(WebSocketClass, url, protocols, r) {
  if (typeof WebSocketClass !== "function") {
    queueMicrotask(() => r.error("other", "no WebSocket implementation available"));
    return { send() {}, close() {}, bufferedAmount: 0 };
  }
  let ws;
  try {
    ws = protocols.length > 0 ? new WebSocketClass(url, protocols) : new WebSocketClass(url);
  } catch (err) {
    // A URL or protocol list the WebSocket refuses (SyntaxError): this attempt fails.
    queueMicrotask(() => r.error("other", err && err.message ? err.message : String(err)));
    return { send() {}, close() {}, bufferedAmount: 0 };
  }
  live.add(ws);
  ws.binaryType = "arraybuffer";
  let opened = false;
  let failed = false;
  ws.onopen = () => {
    opened = true;
    r.open(ws.protocol || "");
  };
  ws.onmessage = (e) => {
    if (typeof e.data === "string") r.text(e.data);
    else r.binary(new Uint8Array(e.data));
  };
  // Always handled: an error is never unhandled, and the close event that follows says
  // what happened.
  ws.onerror = () => {
    failed = true;
  };
  ws.onclose = (e) => {
    live.delete(ws);
    if (!opened && failed) r.error("other", `the WebSocket failed before it opened (close ${e.code})`);
    else r.closed(e.code, e.reason);
  };
  return {
    send(data) {
      if (ws.readyState === 1) ws.send(data);
    },
    close(code, reason) {
      // Codes from the Session are always ones a browser accepts (1000, 3000–4999).
      if (ws.readyState === 0 || ws.readyState === 1) {
        try {
          ws.close(code, reason);
        } catch {
          ws.close();
        }
      }
    },
    get bufferedAmount() {
      return ws.bufferedAmount || 0;
    },
  };
}
openMessageTransport.live = live;

module.exports = { openMessageTransport };
