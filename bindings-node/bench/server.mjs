// Echo server for the client benchmark: `ws` (with bufferutil), no compression, its own
// process so that its CPU never counts for a client. Prints the port on stdout.
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 64 << 20 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on("listening", () => console.log(wss.address().port));
