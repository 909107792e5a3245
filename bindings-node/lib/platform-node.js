"use strict";
// The Node platform of lib/reconnecting.js: the napi core (src/session.rs) and the byte
// transport, `net`/`tls` sockets. The browser platform (bindings-wasm) has the wasm core and
// no byte transport.

const net = require("node:net");
const tls = require("node:tls");
const { RawSession } = require("./native.js");

/** Sockets opened and not yet closed (for agents that count what the host holds). */
const live = new Set();

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
 * A TCP (or TLS) socket to host:port that reports to `r` (`connected`, `bytes`, `closed`,
 * `error`); returns the handle the class drives: `send(bytes)`, `close()`, `bufferedAmount`.
 */
function openBytes(host, port, secure, options, r) {
  const socket = secure ? tls.connect({ ALPNProtocols: ["http/1.1"], ...options.tls, host, port }) : net.connect({ host, port });
  live.add(socket);
  socket.setNoDelay(true);
  socket.on(secure ? "secureConnect" : "connect", () => r.connected());
  socket.on("data", (chunk) => r.bytes(chunk));
  socket.on("end", () => r.closed());
  socket.on("close", () => {
    live.delete(socket);
    r.closed();
  });
  // Stays for the socket's whole life: a socket error is never unhandled.
  socket.on("error", (err) => {
    socket.destroy();
    r.error(errorKind(err), err.message);
  });
  return {
    send(bytes) {
      if (!socket.destroyed) socket.write(bytes);
    },
    close() {
      if (socket.connecting || socket.destroyed) socket.destroy();
      else {
        socket.destroySoon();
        socket.unref();
      }
    },
    get bufferedAmount() {
      return socket.destroyed ? 0 : socket.writableLength;
    },
  };
}

module.exports = {
  RawSession,
  openBytes,
  liveBytes: () => live.size,
  bytes: (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength),
};
