"use strict";
// The Node platform of lib/reconnecting.js, configured on load: the napi core
// (src/session.rs), the byte transport (`net`/`tls` sockets) and Node's timer and listener
// details. Required by the Node entry points (lib/index.js, lib/reconnecting-websocket.js).
// The browser's is lib/platform-wasm.mjs (no byte transport: a browser bundle carries none
// of this).

const { setMaxListeners } = require("node:events");
const net = require("node:net");
const tls = require("node:tls");
const { RawSession } = require("./native.js");
const { configure } = require("./reconnecting.js");

/** The Session's transport-error category for a Node socket error. */
function errorKind(err) {
  const code = (err && err.code) || "";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return "dns";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "unreachable";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ETIMEDOUT") return "timeout";
  if (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /CERT|SELF_SIGNED|UNABLE_TO/.test(code)) return "tls";
  return "other";
}

/**
 * The byte transport of one ReconnectingWebSocket: the sockets by transport id. `on`:
 * `connected(id)`, `data(id, chunk)`, `ended(id)`, `failed(id, kind, message)`, called
 * only while the socket is the one for `id` (a closed or failed one is forgotten first).
 */
function byteTransport(on) {
  const sockets = new Map();
  return {
    open(id, host, port, secure, tlsOptions) {
      const socket = secure ? tls.connect({ ALPNProtocols: ["http/1.1"], ...tlsOptions, host, port }) : net.connect({ host, port });
      sockets.set(id, socket);
      socket.setNoDelay(true);
      const live = () => sockets.get(id) === socket;
      socket.on(secure ? "secureConnect" : "connect", () => {
        if (live()) on.connected(id);
      });
      socket.on("data", (chunk) => {
        if (live()) on.data(id, chunk);
      });
      const ended = () => {
        if (live()) {
          sockets.delete(id);
          on.ended(id);
        }
      };
      socket.on("end", ended);
      socket.on("close", ended);
      // Stays for the socket's whole life: a socket error is never unhandled.
      socket.on("error", (err) => {
        if (live()) {
          sockets.delete(id);
          socket.destroy();
          on.failed(id, errorKind(err), err.message);
        }
      });
    },
    write(id, bytes) {
      const s = sockets.get(id);
      if (s && !s.destroyed) s.write(bytes);
    },
    /** Ends socket `id` (after what was written) and forgets it. */
    close(id) {
      const socket = sockets.get(id);
      if (!socket) return;
      sockets.delete(id);
      if (socket.connecting || socket.destroyed) socket.destroy();
      else {
        socket.destroySoon();
        socket.unref();
      }
    },
    /** Sockets held (until they end). */
    size: () => sockets.size,
    /** Bytes written and not yet sent. */
    buffered() {
      let n = 0;
      for (const s of sockets.values()) if (!s.destroyed) n += s.writableLength;
      return n;
    },
  };
}

const platform = {
  RawSession,
  byteTransport,
  /** Node's timers can stop holding the process: a closed socket's timer does not. */
  holdTimer: (timer, hold) => (hold ? timer.ref() : timer.unref()),
  setMaxListeners,
  bytes: (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength),
};
configure(platform);

module.exports = platform;
