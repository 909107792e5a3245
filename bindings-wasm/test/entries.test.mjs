// The package's other entry points in Chromium, as a bundler resolves them for a browser:
// `steadysock/partysocket` (partysocket's exports) and `steadysock/reconnecting-websocket`
// (reconnecting-websocket 4.4's API) run over the wasm core and the browser's WebSocket.
// (The bundle itself is the first proof: esbuild with platform "browser" cannot bundle the
// Node entries, which load the napi addon and `net`/`tls`.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startServer } from "../../bindings-node/test/server.mjs";
import { openPage } from "./chromium.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "dist");
let server;
let opened;
let page;

before(async () => {
  server = await startServer();
  opened = await openPage(dist, "/entries.html", () => globalThis.entries !== undefined);
  ({ page } = opened);
});

after(async () => {
  await opened?.close();
  await server?.close();
  assert.deepEqual(opened?.pageErrors ?? [], [], "no uncaught error in the page");
});

describe("browser entries", () => {
  test("the bundle holds the wasm platform, not the Node one", () => {
    const js = readFileSync(join(dist, "entries.js"), "utf8");
    assert.match(js, /steadysock_wasm_bg\.wasm/, "the wasm module is what the entries load");
    assert.doesNotMatch(js, /steadysock\.node|platform-node|node:net/, "no napi addon or net/tls in a browser bundle");
  });

  test("steadysock/partysocket: partysocket's exports, one class with the main entry's", async () => {
    const r = await page.evaluate(() => {
      const { PartySocket, party, Main } = globalThis.entries;
      return {
        sameClass: PartySocket === Main && party.WebSocket === Main && party.ReconnectingWebSocket === Main,
        events: typeof party.CloseEvent === "function" && typeof party.ErrorEvent === "function",
      };
    });
    assert.deepEqual(r, { sameClass: true, events: true });
  });

  test("steadysock/partysocket: open, echo both ways, close with code and reason", async () => {
    const seen = await page.evaluate(
      (url) =>
        new Promise((resolve) => {
          const { party } = globalThis.entries;
          const seen = [];
          const ws = new party.WebSocket(url, undefined, { minReconnectionDelay: 20, maxReconnectionDelay: 100 });
          ws.binaryType = "arraybuffer";
          ws.onopen = () => {
            seen.push("open");
            ws.send("hello");
            ws.send(new Uint8Array([7, 8]));
          };
          ws.onmessage = (e) => {
            seen.push(typeof e.data === "string" ? `text:${e.data}` : `binary:${Array.from(new Uint8Array(e.data)).join(",")}`);
            if (seen.length === 3) ws.close(4001, "done");
          };
          ws.onclose = (e) => {
            seen.push(`close:${e.code}:${e.reason}:${e instanceof party.CloseEvent}`);
            resolve(seen);
          };
        }),
      server.url("/echo"),
    );
    assert.deepEqual(seen, ["open", "text:hello", "binary:7,8", "close:4001:done:true"]);
  });

  test("steadysock/reconnecting-websocket: rws 4.4's events and close from a later task", async () => {
    const r = await page.evaluate(
      (url) =>
        new Promise((resolve) => {
          const { RWS, rws } = globalThis.entries;
          const seen = [];
          const ws = new RWS(url, undefined, { minReconnectionDelay: 20, maxReconnectionDelay: 100 });
          ws.onopen = (e) => {
            seen.push(`open:${e instanceof rws.Event}:${e.target === ws}`);
            ws.send("rws");
          };
          ws.onmessage = (e) => {
            seen.push(`message:${e.data}`);
            ws.close(4002, "bye");
            // rws 4.4: CLOSING until the socket's own close event, which comes later
            seen.push(`after close():${ws.readyState}`);
          };
          ws.onclose = (e) => {
            seen.push(`close:${e.code}:${e.reason}:${e instanceof rws.CloseEvent}`);
            resolve({ seen, statics: RWS.CloseEvent === rws.CloseEvent && RWS.Event === rws.Event });
          };
        }),
      server.url("/echo"),
    );
    assert.deepEqual(r, { seen: ["open:true:true", "message:rws", "after close():2", "close:4002:bye:true"], statics: true });
  });

  test("steadysock/reconnecting-websocket: a class that is not a WebSocket is refused as rws 4.4 does", async () => {
    const message = await page.evaluate(() => {
      try {
        new globalThis.entries.RWS("ws://127.0.0.1:1/", undefined, { WebSocket: class {} });
        return "no error";
      } catch (e) {
        return e.message;
      }
    });
    assert.equal(message, "No valid WebSocket class provided");
  });
});
