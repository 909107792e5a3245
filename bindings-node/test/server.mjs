// A small WebSocket test server on plain `net` (or `tls`), written from RFC 6455 independently of the
// Rust core, so the tests do not check the core against itself. The request path picks
// what the server does:
//
//   /echo            echo every message (text as text, binary as binary); answer close frames
//   /close?code=C&reason=R   close with C and R right after the handshake
//   /drop            end the TCP connection right after the handshake (no close frame)
//   /reject          answer the upgrade with HTTP 404
//   /silent          accept TCP, never answer the handshake
//   /nopong          like /echo, but ignore pings
//   /linger          like /echo, but after the closing handshake keep the TCP connection open
//   /badutf8         send a text message with invalid UTF-8
//   /msgthenbad      like /echo, but first send a text message and a reserved-opcode frame in one write
//   /proto           like /echo, choosing the first offered subprotocol
//
// Every connection is recorded (`server.connections`): request head, frames received.

import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function frame(opcode, payload, fin = true) {
  const len = payload.length;
  let head;
  if (len < 126) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

function closePayload(code, reason = "") {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/** Parses masked client frames out of `buf`; returns [frames, rest]. */
function parseFrames(buf) {
  const frames = [];
  for (;;) {
    if (buf.length < 2) break;
    let len = buf[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (buf.length < 4) break;
      len = buf.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (buf.length < 10) break;
      len = Number(buf.readBigUInt64BE(2));
      off = 10;
    }
    const masked = (buf[1] & 0x80) !== 0;
    const maskLen = masked ? 4 : 0;
    if (buf.length < off + maskLen + len) break;
    const mask = buf.subarray(off, off + maskLen);
    const payload = Buffer.from(buf.subarray(off + maskLen, off + maskLen + len));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    frames.push({ fin: (buf[0] & 0x80) !== 0, rsv: buf[0] & 0x70, opcode: buf[0] & 0x0f, masked, payload });
    buf = buf.subarray(off + maskLen + len);
  }
  return [frames, buf];
}

/** `options.tls`: `{ key, cert }` for a wss:// server; `options.port`: a fixed port. */
export async function startServer(options = {}) {
  const connections = [];
  const sockets = new Set();
  const onSocket = (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const conn = { head: null, path: null, headers: {}, frames: [], messages: [], closeFrame: null };
    connections.push(conn);
    let buf = Buffer.alloc(0);
    let open = false;
    let mode = "";
    let partial = null;
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!open) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        conn.head = buf.subarray(0, end).toString("latin1");
        buf = buf.subarray(end + 4);
        const [requestLine, ...lines] = conn.head.split("\r\n");
        conn.path = requestLine.split(" ")[1];
        for (const line of lines) {
          const i = line.indexOf(":");
          conn.headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const url = new URL(conn.path, "http://x");
        mode = url.pathname.slice(1);
        if (mode === "silent") return;
        if (mode === "reject") {
          socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
          return;
        }
        const accept = createHash("sha1")
          .update(conn.headers["sec-websocket-key"] + GUID)
          .digest("base64");
        let response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
        if (mode === "proto" && conn.headers["sec-websocket-protocol"]) {
          response += `Sec-WebSocket-Protocol: ${conn.headers["sec-websocket-protocol"].split(",")[0].trim()}\r\n`;
        }
        socket.write(`${response}\r\n`);
        open = true;
        if (mode === "close") {
          const code = Number(url.searchParams.get("code"));
          socket.write(frame(8, closePayload(code, url.searchParams.get("reason") || "")));
        } else if (mode === "drop") {
          socket.destroy();
          return;
        } else if (mode === "msgthenbad") {
          // One write: a text message, then a frame with a reserved opcode.
          socket.write(Buffer.concat([frame(1, Buffer.from("first")), frame(3, Buffer.alloc(0))]));
        } else if (mode === "badutf8") {
          socket.write(frame(1, Buffer.from([0x68, 0x69, 0xff, 0xfe])));
        }
      }
      const [frames, rest] = parseFrames(buf);
      buf = rest;
      for (const f of frames) {
        conn.frames.push(f);
        if (f.opcode === 8) {
          conn.closeFrame = f.payload.length >= 2 ? { code: f.payload.readUInt16BE(0), reason: f.payload.subarray(2).toString() } : { code: undefined, reason: "" };
          if (mode !== "close") socket.write(frame(8, f.payload));
          if (mode !== "linger") socket.end();
        } else if (f.opcode === 9) {
          if (mode !== "nopong") socket.write(frame(10, f.payload));
        } else if (f.opcode === 1 || f.opcode === 2 || f.opcode === 0) {
          if (f.opcode !== 0) partial = { opcode: f.opcode, parts: [] };
          partial.parts.push(f.payload);
          if (f.fin) {
            const payload = Buffer.concat(partial.parts);
            conn.messages.push({ binary: partial.opcode === 2, data: partial.opcode === 2 ? payload : payload.toString() });
            socket.write(frame(partial.opcode, payload));
            partial = null;
          }
        }
      }
    });
  };
  const server = options.tls ? tls.createServer(options.tls, onSocket) : net.createServer(onSocket);
  await new Promise((resolve) => server.listen(options.port || 0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    port,
    url: (path = "/echo") => `${options.tls ? "wss" : "ws"}://127.0.0.1:${port}${path}`,
    connections,
    /** Breaks every connection (no close frame), still listening. */
    dropAll() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}
