// partysocket's own test suite, ported to node:test and run against steadysock/partysocket.
//
// Upstream: cloudflare/partykit, packages/partysocket/src/tests/reconnecting.test.ts
// (commit 361329ace126876069f5a46d4ab39d0ded48b5c1; vitest, a `ws` WebSocketServer). Each
// test below has the upstream test's name and keeps its assertions as they are, with
// three kinds of exception, each marked in a comment:
// - PRIVATE: the upstream test reads a private member (`_ws`, `_getNextUrl`,
//   `_getNextProtocols`, `_getNextDelay`, `_retryCount`, `_messageQueue`, `_url`). Here the
//   same fact is asserted through the public API (or the `debugLogger`, which prints the
//   Session's delay before each retry);
// - DESIGN: steadysock differs on purpose (said where);
// - 1.3: the upstream test expects `readyState` CLOSING after `close()` and the close event
//   later (the stored upstream ws.ts of that time closes the inner socket and waits);
//   ../shared/api/partysocket.md, read from partysocket 1.3's published dist/, has
//   `close()` dispatch the close event before it returns and leave `readyState` CLOSED,
//   which steadysock/partysocket does and these assertions follow.
// Also below: packages/partysocket/src/tests/reconnecting-node.test.ts (commit
// f9dfa074eed026de5f2e18e9298e41a0bae763b5) and the ReconnectingWebSocket tests of
// packages/partysocket/src/tests/error-handling.test.ts (commit
// 08a6cad4b1c4332600888664324d3de27c257d14); that file's six PartySocket tests (path and
// room/host checks, PartySocket.fetch) are not ported: steadysock has no PartySocket class.
// And packages/partysocket/src/tests/edge-cases.test.ts (commit
// 08a6cad4b1c4332600888664324d3de27c257d14): its tests of the ReconnectingWebSocket
// behaviour, which it runs through a `PartySocket({ host, room, ... })`; here (SUBCLASS)
// a ReconnectingWebSocket with the room URL such a PartySocket connects to
// (`ws://<host>/parties/main/<room>`) and the same options. Its PartySocket-only tests
// (the client id and its UUID, the ws/wss choice by host) are not ported. The same for
// packages/partysocket/src/tests/integration.test.ts (same commit), whose PartySocket-only
// tests (room/name properties, PartySocket.fetch) and whose timed "gaming scenario" (an
// average interval under 100 ms: no timed tests here) are not ported.
// `ws` is a devDependency, the test server (and, where a test passes it as the
// `WebSocket` option, the message transport).
import { after, before } from "node:test";
import NodeWebSocket, { WebSocketServer } from "ws";
import ReconnectingWebSocket from "steadysock/partysocket";
import { expect, fn, made, spyOn, testDone, testSync } from "./upstream-harness.mjs";

const ERROR_URL = "ws://255.255.255.255";
let URL;
let wss;

before(async () => {
  wss = new WebSocketServer({ port: 0 });
  await new Promise((r) => wss.once("listening", r));
  URL = `ws://localhost:${wss.address().port}/`;
});

after(
  () =>
    new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    }),
);

// Every instance is closed when the suite ends (upstream leaves some running; vitest
// tears the worker down, node --test waits for the process to exit).
class RWS extends ReconnectingWebSocket {
  constructor(...args) {
    super(...args);
    made.push(this);
  }
}

/** The delays the Session announced before each retry, from `debugLogger`. */
function delays(options) {
  const seen = [];
  const debugLogger = (_tag, what, ms) => {
    if (what === "next reconnect in") seen.push(ms);
  };
  return { seen, options: { ...options, debug: true, debugLogger } };
}

// upstream: "throws if not created with `new`"
testSync("throws if not created with `new`", () => {
  expect(() => {
    ReconnectingWebSocket(URL, undefined);
  }).toThrow(TypeError);
});

// upstream: "global WebSocket is used if available"
// DESIGN: without a `WebSocket` option steadysock runs over its own net/tls byte
// transport, never the global WebSocket (upstream asserts `ws._ws instanceof WebSocket`).
// Asserted here: the global WebSocket is not constructed, and the attempt still ends in
// an error event as upstream's does.
testDone("global WebSocket is used if available (DESIGN: own transport instead)", (done) => {
  const original = globalThis.WebSocket;
  let constructed = 0;
  globalThis.WebSocket = class {
    constructor() {
      constructed++;
    }
  };
  const ws = new RWS(ERROR_URL, undefined, { maxRetries: 0 });
  ws.onerror = () => {
    globalThis.WebSocket = original;
    expect(constructed).toBe(0);
    done();
  };
});

// upstream: "getters when not ready"
testDone("getters when not ready", (done) => {
  const ws = new RWS(ERROR_URL, undefined, {
    maxRetries: 0,
  });
  expect(ws.bufferedAmount).toBe(0);
  expect(ws.protocol).toBe("");
  expect(ws.url).toBe("");
  expect(ws.extensions).toBe("");
  expect(ws.binaryType).toBe("blob");

  ws.onerror = () => {
    done();
  };
});

// upstream: "debug on"
testDone("debug on", (done) => {
  const logSpy = spyOn(console, "log");

  const ws = new RWS(ERROR_URL, undefined, {
    maxRetries: 0,
    debug: true,
  });

  ws.onerror = () => {
    expect(logSpy).toHaveBeenCalledWith("RWS>", "connect", 0);
    done();
  };
});

// upstream: "debug off"
testDone("debug off", (done) => {
  const logSpy = spyOn(console, "log");

  const ws = new RWS(ERROR_URL, undefined, { maxRetries: 0 });

  ws.onerror = () => {
    expect(logSpy).not.toHaveBeenCalled();
    done();
  };
});

// upstream: "URL provider"
// PRIVATE: upstream calls `ws._getNextUrl(provider)`. Here each provider form is given to
// the constructor: a string, a function and an async function connect to that URL; a
// provider that is not a string or function, or a function returning a non-string,
// is an error event (upstream: `_getNextUrl` throws).
testSync("URL provider", async () => {
  const url = URL;
  for (const provider of [url, () => url, () => Promise.resolve(url)]) {
    const ws = new RWS(provider, undefined, { maxRetries: 0 });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = (e) => reject(new Error(e.message));
    });
    expect(ws.url).toBe(url);
    ws.close();
  }
  for (const provider of [123, () => 123]) {
    const ws = new RWS(provider, undefined, { maxRetries: 0 });
    const error = await new Promise((resolve) => {
      ws.onopen = () => resolve(null);
      ws.onerror = resolve;
    });
    expect(error === null ? "opened" : error.message).toBe("Invalid URL");
    ws.close();
  }
});

// upstream: "websocket protocol"
testDone("websocket protocol", (done) => {
  const anyProtocol = "foobar";
  const ws = new RWS(URL, anyProtocol);

  ws.addEventListener("open", () => {
    expect(ws.url).toBe(URL);
    expect(ws.protocol).toBe(anyProtocol);
    ws.close();
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "undefined websocket protocol"
testDone("undefined websocket protocol", (done) => {
  const ws = new RWS(URL, undefined, {});

  ws.addEventListener("open", () => {
    expect(ws.url).toBe(URL);
    expect(ws.protocol).toBe("");
    ws.close();
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "null websocket protocol"
testDone("null websocket protocol", (done) => {
  const ws = new RWS(URL, null, {});
  ws.addEventListener("open", () => {
    expect(ws.url).toBe(URL);
    expect(ws.protocol).toBe("");
    ws.close();
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "websocket invalid protocolsProvider"
// PRIVATE: upstream asserts `ws._getNextProtocols(() => /Hahaha/)` throws. Here the same
// provider is given to the constructor: no connection, an error event "Invalid protocols".
testDone("websocket invalid protocolsProvider", (done) => {
  const ws = new RWS(URL, () => /Hahaha/, { maxRetries: 0 });
  ws.onopen = () => {
    expect("opened").toBe("Invalid protocols");
  };
  ws.onerror = (e) => {
    expect(e.message).toBe("Invalid protocols");
    done();
  };
});

// upstream: "websocket sync protocolsProvider"
testDone("websocket sync protocolsProvider", (done) => {
  const anyProtocol = "bar";

  const ws = new RWS(URL, () => anyProtocol, {});
  ws.addEventListener("open", () => {
    expect(ws.url).toBe(URL);
    expect(ws.protocol).toBe(anyProtocol);
    ws.close();
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "websocket async protocolsProvider"
testDone("websocket async protocolsProvider", (done) => {
  const anyProtocol = "foo";

  const ws = new RWS(URL, async () => anyProtocol, {});
  ws.addEventListener("open", () => {
    expect(ws.url).toBe(URL);
    expect(ws.protocol).toBe(anyProtocol);
    ws.close();
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "connection status constants"
testSync("connection status constants", () => {
  const ws = new RWS(URL, undefined, { maxRetries: 0 });

  expect(ReconnectingWebSocket.CONNECTING).toBe(0);
  expect(ReconnectingWebSocket.OPEN).toBe(1);
  expect(ReconnectingWebSocket.CLOSING).toBe(2);
  expect(ReconnectingWebSocket.CLOSED).toBe(3);

  expect(ws.CONNECTING).toBe(0);
  expect(ws.OPEN).toBe(1);
  expect(ws.CLOSING).toBe(2);
  expect(ws.CLOSED).toBe(3);
  ws.close();
});

// upstream: maxRetriesTest(count, done), used by "max retries: 0 / 1 / 5"
const maxRetriesTest = (count, done) => {
  const ws = new RWS("ws://foo", undefined, {
    maxRetries: count,
    maxReconnectionDelay: 200,
  });

  ws.addEventListener("error", () => {
    if (ws.retryCount === count) {
      setTimeout(done, 100);
    }
    if (ws.retryCount > count) {
      throw Error(`too many retries: ${ws.retryCount}`);
    }
  });
};

testDone("max retries: 0", (done) => maxRetriesTest(0, done));
testDone("max retries: 1", (done) => maxRetriesTest(1, done));
testDone("max retries: 5", (done) => maxRetriesTest(5, done));

// upstream: "level0 event listeners are kept after reconnect"
testDone("level0 event listeners are kept after reconnect", (done) => {
  const ws = new RWS(ERROR_URL, undefined, {
    maxRetries: 4,
    reconnectionDelayGrowFactor: 1.2,
    maxReconnectionDelay: 20,
    minReconnectionDelay: 10,
  });

  const handleOpen = () => undefined;
  const handleClose = () => undefined;
  const handleMessage = () => undefined;
  const handleError = () => {
    expect(ws.onopen).toBe(handleOpen);
    expect(ws.onclose).toBe(handleClose);
    expect(ws.onmessage).toBe(handleMessage);
    expect(ws.onerror).toBe(handleError);

    if (ws.retryCount === 4) {
      done();
    }
  };

  ws.onopen = handleOpen;
  ws.onclose = handleClose;
  ws.onmessage = handleMessage;
  ws.onerror = handleError;
});

// upstream: "level2 event listeners"
// (`extensions`: the `ws` server negotiates no extension with a client that offers
// permessage-deflate unless asked to, so "" here as upstream.)
testDone("level2 event listeners", (done) => {
  const anyProtocol = "foobar";
  const ws = new RWS(URL, anyProtocol, {});

  ws.addEventListener("open", () => {
    expect(ws.protocol).toBe(anyProtocol);
    expect(ws.extensions).toBe("");
    expect(ws.bufferedAmount).toBe(0);
    ws.close();
    done();
  });

  const fail = () => {
    throw Error("fail");
  };

  ws.addEventListener("unknown1", fail);
  ws.addEventListener("open", fail);
  ws.addEventListener("open", fail);
  ws.removeEventListener("open", fail);

  ws.removeEventListener("unknown2", fail);
});

// upstream: "level2 event listeners using object with handleEvent"
testDone("level2 event listeners using object with handleEvent", (done) => {
  const anyProtocol = "foobar";
  const ws = new RWS(URL, anyProtocol, {});

  ws.addEventListener("open", {
    handleEvent: () => {
      expect(ws.protocol).toBe(anyProtocol);
      expect(ws.extensions).toBe("");
      expect(ws.bufferedAmount).toBe(0);
      ws.close();
      done();
    },
  });

  const fail = {
    handleEvent: () => {
      throw Error("fail");
    },
  };

  ws.addEventListener("unknown1", fail);
  ws.addEventListener("open", fail);
  ws.addEventListener("open", fail);
  ws.removeEventListener("open", fail);
  ws.removeEventListener("unknown2", fail);
});

// upstream: "getters"
testDone("getters", (done) => {
  const anyProtocol = "foobar";
  const ws = new RWS(URL, anyProtocol, {
    maxReconnectionDelay: 100,
  });

  ws.addEventListener("open", () => {
    expect(ws.protocol).toBe(anyProtocol);
    expect(ws.extensions).toBe("");
    expect(ws.bufferedAmount).toBe(0);
    expect(ws.binaryType).toBe("blob");
    ws.close();
    done();
  });
});

// upstream: "binaryType"
testDone("binaryType", (done) => {
  const ws = new RWS(URL, undefined, {
    minReconnectionDelay: 0,
  });

  expect(ws.binaryType).toBe("blob");
  ws.binaryType = "arraybuffer";
  ws.addEventListener("open", () => {
    expect(ws.binaryType).toBe("arraybuffer");
    ws.binaryType = "blob";
    expect(ws.binaryType).toBe("blob");
    ws.close();
    done();
  });
});

// upstream: "calling to close multiple times"
testDone("calling to close multiple times", (done) => {
  const ws = new RWS(URL, undefined, {});

  ws.addEventListener("open", () => {
    ws.close();
    ws.close();
    ws.close();
  });

  let calls = 0;
  ws.addEventListener("close", () => {
    calls++;
  });

  setTimeout(() => {
    expect(calls).toBe(1);
    done();
  }, 100);
});

// upstream: "calling to reconnect when not ready"
testDone("calling to reconnect when not ready", (done) => {
  const ws = new RWS(URL, undefined, {});
  ws.reconnect();
  ws.reconnect();

  ws.addEventListener("open", () => {
    ws.close();
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "start closed"
testDone("start closed", (done, fail) => {
  const anyMessageText = "hello";
  const anyProtocol = "foobar";

  wss.once("connection", (ws) => {
    void ws.once("message", (msg) => {
      ws.send(msg);
    });
  });

  wss.once("error", (e) => {
    fail(e);
  });

  expect.assertions(10);

  const ws = new RWS(URL, anyProtocol, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
    startClosed: true,
  });

  expect(ws.readyState).toBe(ws.CLOSED);

  setTimeout(() => {
    expect(ws.readyState).toBe(ws.CLOSED);

    ws.reconnect();

    ws.addEventListener("open", () => {
      expect(ws.protocol).toBe(anyProtocol);
      expect(ws.readyState).toBe(ws.OPEN);
      ws.send(anyMessageText);
    });

    ws.addEventListener("message", (msg) => {
      expect(msg.data).toEqual(new Blob([anyMessageText]));
      ws.close(1000, "some reason");
      // 1.3: upstream expects CLOSING here; partysocket 1.3 has dispatched the close
      // event inside close() and is CLOSED.
      expect(ws.readyState).toBe(ws.CLOSED);
    });

    ws.addEventListener("close", (event) => {
      expect(ws.readyState).toBe(ws.CLOSED);
      expect(ws.url).toBe(URL);
      expect(event.reason).toBe("some reason");
      expect(event.code).toBe(1000);
      done();
    });
  }, 100);
});

// upstream: "connect, send, receive, close"
testDone("connect, send, receive, close", (done, fail) => {
  const anyMessageText = "hello";
  const anyProtocol = "foobar";

  wss.once("connection", (ws) => {
    void ws.once("message", (msg) => {
      ws.send(msg);
    });
  });

  const onError = (e) => {
    fail(e);
  };
  wss.on("error", onError);

  expect.assertions(9);

  const ws = new RWS(URL, anyProtocol, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });
  expect(ws.readyState).toBe(ws.CONNECTING);

  ws.addEventListener("open", () => {
    expect(ws.protocol).toBe(anyProtocol);
    expect(ws.readyState).toBe(ws.OPEN);
    ws.send(anyMessageText);
  });

  ws.addEventListener("message", (msg) => {
    expect(msg.data).toEqual(new Blob([anyMessageText]));
    ws.close(1000, "some reason");
    // 1.3: upstream expects CLOSING (see "start closed").
    expect(ws.readyState).toBe(ws.CLOSED);
  });

  ws.addEventListener("close", (event) => {
    expect(ws.readyState).toBe(ws.CLOSED);
    expect(ws.url).toBe(URL);
    expect(event.reason).toBe("some reason");
    expect(event.code).toBe(1000);
    wss.off("error", onError);
    done();
  });
});

// upstream: "connect, send, receive, reconnect"
testDone("connect, send, receive, reconnect", (done) => {
  const anyMessageText = "hello";
  const anyProtocol = "foobar";

  function onConnection(ws) {
    ws.once("message", (msg) => {
      ws.send(msg);
    });
  }

  wss.on("connection", onConnection);

  const totalRounds = 3;
  let currentRound = 0;

  // 6 = 3 * 2 open
  // 8 = 2 * 3 message + 2 reconnect
  // 7 = 2 * 3 close + 1 closed
  expect.assertions(21);

  const ws = new RWS(URL, anyProtocol, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });

  ws.onopen = () => {
    currentRound++;
    expect(ws.protocol).toBe(anyProtocol);
    expect(ws.readyState).toBe(ws.OPEN);
    ws.send(anyMessageText);
  };

  ws.onmessage = (msg) => {
    expect(msg.data).toEqual(new Blob([anyMessageText]));
    if (currentRound < totalRounds) {
      ws.reconnect(1000, "reconnect");
      expect(ws.retryCount).toBe(0);
      expect(ws.readyState).toBe(ws.CLOSING);
    } else {
      ws.close(1000, "close");
      // 1.3: upstream expects CLOSING after close() too (see "start closed").
      expect(ws.readyState).toBe(ws.CLOSED);
    }
  };

  ws.addEventListener("close", (event) => {
    expect(ws.url).toBe(URL);
    if (currentRound >= totalRounds) {
      expect(ws.readyState).toBe(ws.CLOSED);
      expect(event.reason).toBe("close");
      done();
      wss.off("connection", onConnection);
    } else {
      expect(event.reason).toBe("reconnect");
    }
  });
});

// upstream: "immediately-failed connection should not timeout"
testDone("immediately-failed connection should not timeout", (done, fail) => {
  const ws = new RWS(ERROR_URL, undefined, {
    maxRetries: 2,
    connectionTimeout: 500,
    maxReconnectionDelay: 600,
  });

  ws.addEventListener("error", (err) => {
    if (err.message === "TIMEOUT") {
      fail(new Error("timeout should not be called"));
    }
    if (ws.retryCount === 2) {
      done();
    }
    if (ws.retryCount > 2) {
      fail(new Error("too many retries"));
    }
  });
});

// upstream: "immediately-failed connection with 0 maxRetries must not retry"
testDone("immediately-failed connection with 0 maxRetries must not retry", (done, fail) => {
  const ws = new RWS(ERROR_URL, [], {
    maxRetries: 0,
    connectionTimeout: 1000,
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });

  let i = 0;
  ws.addEventListener("error", (err) => {
    i++;
    if (err.message === "TIMEOUT") {
      fail(new Error("timeout should not be called"));
    }
    if (i > 1) {
      fail(new Error("too many retries"));
    }
    setTimeout(() => {
      done();
    }, 1100);
  });
});

// upstream: "connect and close before establishing connection"
testDone("connect and close before establishing connection", (done, fail) => {
  const ws = new RWS(URL, undefined, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });

  ws.close(); // closing before establishing connection

  ws.addEventListener("open", () => {
    fail(new Error("open should not be called"));
  });

  let closeCount = 0;
  ws.addEventListener("close", () => {
    closeCount++;
    if (closeCount > 1) {
      fail(new Error("close should be called once"));
    }
  });

  setTimeout(() => {
    // wait a little to be sure no unexpected open or close events happen
    done();
  }, 100);
});

// upstream: "enqueue messages"
testDone("enqueue messages", (done) => {
  const ws = new RWS(ERROR_URL, undefined, {
    maxRetries: 0,
  });
  const count = 10;
  const message = "message";
  for (let i = 0; i < count; i++) ws.send(message);

  ws.onerror = () => {
    expect(ws.bufferedAmount).toBe(message.length * count);
    done();
  };
});

// upstream: "respect maximum enqueued messages"
testDone("respect maximum enqueued messages", (done) => {
  const queueSize = 2;
  const ws = new RWS(ERROR_URL, undefined, {
    maxRetries: 0,
    maxEnqueuedMessages: queueSize,
  });
  const count = 10;
  const message = "message";
  for (let i = 0; i < count; i++) ws.send(message);

  ws.onerror = () => {
    expect(ws.bufferedAmount).toBe(message.length * queueSize);
    done();
  };
});

// upstream: "enqueue messages before websocket initialization with expected order"
// PRIVATE: upstream also asserts `ws._messageQueue.length === messages.length`; the
// queue's length is not public (its size is, `bufferedAmount`, asserted as upstream).
testDone("enqueue messages before websocket initialization with expected order", (done) => {
  const ws = new RWS(URL);

  const messages = ["message1", "message2", "message3"];

  messages.forEach((m) => {
    ws.send(m);
  });

  expect(ws.bufferedAmount).toBe(messages.reduce((a, m) => a + m.length, 0));

  let i = 0;
  wss.once("connection", (client) => {
    client.on("message", (data) => {
      if (data.toString() === "ok") {
        expect(i).toBe(messages.length);
        ws.close();
      } else {
        expect(data.toString()).toBe(messages[i]);
        i++;
      }
    });
  });

  ws.addEventListener("open", () => {
    ws.send("ok");
  });

  ws.addEventListener("close", () => {
    done();
  });
});

// upstream: "closing from the other side should reconnect"
testDone("closing from the other side should reconnect", (done, fail) => {
  const ws = new RWS(URL, undefined, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });

  const max = 3;
  let i = 0;
  function onConnection(client) {
    i++;
    if (i < max) {
      // closing client from server side should trigger a reconnection
      setTimeout(() => client.close(), 100);
    }
    if (i === max) {
      // will close from client side
    }
    if (i > max) {
      fail(new Error("unexpected connection"));
    }
  }
  wss.on("connection", onConnection);

  let j = 0;
  ws.addEventListener("open", () => {
    j++;
    if (j === max) {
      ws.close();
      // wait a little to ensure no new connections are opened
      setTimeout(() => {
        wss.off("connection", onConnection);
        done();
      }, 100);
    }
    if (j > max) {
      fail(new Error("unexpected open"));
    }
  });
});

// upstream: "closing from the other side should allow to keep closed"
testDone("closing from the other side should allow to keep closed", (done, fail) => {
  const ws = new RWS(URL, undefined, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });

  const codes = [4000, 4001];

  let i = 0;
  function onConnection(client) {
    if (i > codes.length) {
      fail(new Error("unexpected connection"));
    }
    client.close(codes[i], String(codes[i]));
    i++;
  }
  wss.on("connection", onConnection);

  ws.addEventListener("close", (e) => {
    if (e.code === codes[0]) {
      // do nothing, will reconnect
    }
    if (e.code === codes[1] && e.reason === String(codes[1])) {
      // close connection (and keep closed)
      ws.close();
      setTimeout(() => {
        wss.off("connection", onConnection);
        done();
      }, 200);
    }
  });
});

// upstream: "reconnection delay grow factor"
// PRIVATE: upstream reads `ws._getNextDelay()` (0 before the first attempt, then the
// delay before each retry). The Session decides the delays; the `debugLogger` prints each
// ("next reconnect in", ms) before the failed attempt's events, so at each error event the
// last one printed is the delay before the next attempt.
testDone("reconnection delay grow factor", (done) => {
  const { seen, options } = delays({
    minReconnectionDelay: 50,
    maxReconnectionDelay: 500,
    reconnectionDelayGrowFactor: 2,
  });
  const ws = new RWS(ERROR_URL, [], options);
  expect(seen.length === 0 ? 0 : seen.at(-1)).toBe(0);
  const expected = [50, 100, 200, 400, 500, 500];
  let retry = 0;
  ws.addEventListener("error", () => {
    expect(seen.at(-1)).toBe(expected[retry]);
    retry++;
    if (retry >= expected.length) {
      ws.close();
      setTimeout(() => {
        done();
      }, 100);
    }
  });
});

// upstream: "minUptime"
// PRIVATE: `ws._getNextDelay()` as in "reconnection delay grow factor"; `ws._retryCount`
// (the number of the attempt that will come next, counted from 1 after an open) is read
// here as `retryCount + 1`: steadysock's `retryCount` counts the retries made so far.
testDone("minUptime", (done) => {
  const { seen, options } = delays({
    minReconnectionDelay: 50,
    maxReconnectionDelay: 1000,
    reconnectionDelayGrowFactor: 2,
    minUptime: 75,
  });
  const ws = new RWS(URL, [], options);
  // Connections 1-3 last 20/40/60ms (< 75ms minUptime) → retries grow.
  // Connections 4-6 last 80/100/120ms (> 75ms) → _acceptOpen resets retryCount.
  const expectedDelays = [50, 100, 200, 50, 50, 50];
  const expectedRetryCount = [1, 2, 3, 1, 1, 1];
  let connectionCount = 0;

  // TIMING: upstream closes connection n after n * 20 ms, 15 ms either side of minUptime
  // for connections 3 and 4, which flakes on a loaded machine; here the short ones (1-3)
  // are closed at once and the long ones (4-6) after 4 × minUptime, so that each is
  // clearly below or above minUptime. The expected values are upstream's.
  function onConnection(client) {
    connectionCount++;
    if (connectionCount <= expectedDelays.length) {
      setTimeout(
        () => {
          client.close();
        },
        connectionCount <= 3 ? 0 : 300,
      );
    }
  }

  wss.on("connection", onConnection);
  let openCount = 0;
  ws.addEventListener("open", () => {
    openCount++;
    if (openCount > expectedDelays.length) {
      ws.close();
      wss.off("connection", onConnection);
      done();
    }
  });
  let closeCount = 0;
  ws.addEventListener("close", () => {
    if (closeCount < expectedDelays.length) {
      const n = closeCount;
      closeCount++;
      // PRIVATE: the Session announces the next delay right after the close event (in
      // the same turn); upstream computed it before. Read once the listener returned.
      queueMicrotask(() => {
        expect(seen.at(-1)).toBe(expectedDelays[n]);
        expect(ws.retryCount + 1).toBe(expectedRetryCount[n]);
      });
    }
  });
});

// upstream: "reconnect after closing"
testDone("reconnect after closing", (done, fail) => {
  const ws = new RWS(URL, undefined, {
    minReconnectionDelay: 100,
    maxReconnectionDelay: 200,
  });

  let i = 0;
  ws.addEventListener("open", () => {
    i++;
    if (i === 1) {
      ws.close();
    }
    if (i === 2) {
      ws.close();
    }
    if (i > 2) {
      fail(new Error("no more expected reconnections"));
    }
  });

  ws.addEventListener("close", () => {
    if (i === 1)
      setTimeout(() => {
        ws.reconnect();
      }, 200);
    if (i === 2) {
      done();
    }
    if (i > 2) {
      fail(new Error("no more expected reconnections"));
    }
  });
});

// upstream: "reconnect() works after maxRetries has been exhausted"
// PRIVATE: upstream switches the target with `ws._url = URL`; here a URL provider
// switches (asked again for every attempt).
testDone("reconnect() works after maxRetries has been exhausted", (done, fail) => {
  let target = ERROR_URL;
  const ws = new RWS(() => target, undefined, {
    maxRetries: 0,
    connectionTimeout: 500,
    minReconnectionDelay: 10,
    maxReconnectionDelay: 50,
  });

  let reconnected = false;
  ws.addEventListener("error", () => {
    if (reconnected) return;
    reconnected = true;

    // maxRetries is now exhausted. Switch to the working server and reconnect.
    target = URL;
    ws.reconnect();
  });

  const timer = setTimeout(() => {
    ws.close();
    fail(new Error("timed out waiting for reconnect after maxRetries"));
  }, 10000);

  ws.addEventListener("open", () => {
    clearTimeout(timer);
    ws.close();
    done();
  });
});

// ---------------------------------------------------------------------------------------
// packages/partysocket/src/tests/reconnecting-node.test.ts

// upstream: "pass WebSocket via options"
// PRIVATE: upstream asserts `ws._ws instanceof NodeWebSocket`; here the given class records
// its instances, and the open one is one of them.
testDone("pass WebSocket via options (reconnecting-node)", (done) => {
  const original = globalThis.WebSocket;
  delete globalThis.WebSocket;
  const instances = [];
  class Recorded extends NodeWebSocket {
    constructor(...args) {
      super(...args);
      instances.push(this);
    }
  }
  const ws = new RWS(URL, undefined, {
    WebSocket: Recorded,
    maxRetries: 0,
  });
  ws.reconnect();
  ws.addEventListener("open", () => {
    if (original !== undefined) globalThis.WebSocket = original;
    expect(instances.length > 0 && instances.at(-1) instanceof NodeWebSocket && instances.at(-1).readyState === NodeWebSocket.OPEN).toBe(true);
    ws.close();
    done();
  });
});

// ---------------------------------------------------------------------------------------
// packages/partysocket/src/tests/error-handling.test.ts (its ReconnectingWebSocket tests)

// upstream: "Error Handling - URL Providers" > "handles async URL provider that throws"
testSync("handles async URL provider that throws", async () => {
  const errorSpy = fn();

  const ws = new RWS(
    async () => {
      throw new Error("URL fetch failed");
    },
    undefined,
    { maxRetries: 0 },
  );

  ws.addEventListener("error", (event) => {
    errorSpy(event);
  });

  await new Promise((resolve) => {
    setTimeout(() => {
      expect(errorSpy).toHaveBeenCalled();
      ws.close();
      resolve();
    }, 100);
  });
});

// upstream: "Error Handling - URL Providers" > "handles sync URL provider that throws"
// (upstream's test returns before its timer's assertion runs; here the test waits for it.)
testDone("handles sync URL provider that throws", (done) => {
  const errorSpy = fn();

  const ws = new RWS(
    () => {
      throw new Error("URL generation failed");
    },
    undefined,
    { maxRetries: 0 },
  );

  ws.addEventListener("error", (event) => {
    errorSpy(event);
  });

  setTimeout(() => {
    expect(errorSpy).toHaveBeenCalled();
    ws.close();
    done();
  }, 100);
});

// upstream: "Error Handling - URL Providers" > "handles invalid URL provider type"
// PRIVATE: upstream asserts `ws._getNextUrl(123)` rejects; here the instance made with 123
// reports an error event instead of connecting.
testDone("handles invalid URL provider type", (done) => {
  const ws = new RWS(123, undefined, { maxRetries: 0 });
  ws.onopen = () => expect("opened").toBe("an error");
  ws.onerror = (e) => {
    expect(e.message).toContain("Invalid URL");
    ws.close();
    done();
  };
});

// upstream: "Error Handling - Protocol Providers" > "handles invalid protocol provider"
// PRIVATE: upstream calls `ws._getNextProtocols(() => /regex/)`; here that provider is
// given to an instance (upstream's is startClosed: reconnect() starts it).
testDone("handles invalid protocol provider", (done) => {
  const ws = new RWS(URL, () => /regex/, {
    maxRetries: 0,
    startClosed: true,
  });
  ws.onopen = () => expect("opened").toBe("an error");
  ws.onerror = (error) => {
    expect(error.message).toContain("Invalid protocols");
    ws.close();
    done();
  };
  ws.reconnect();
});

// upstream: "Error Handling - Protocol Providers" > "handles null protocol provider"
// PRIVATE: upstream asserts `ws._getNextProtocols(null)` is null; here an instance with
// null protocols connects offering none (the server sees no Sec-WebSocket-Protocol).
testDone("handles null protocol provider", (done) => {
  let offered;
  wss.once("headers", (_headers, request) => {
    offered = request.headers["sec-websocket-protocol"];
  });
  const ws = new RWS(URL, null, {
    maxRetries: 0,
    startClosed: true,
  });
  ws.onopen = () => {
    expect(offered === undefined ? null : offered).toBeNull();
    ws.close();
    done();
  };
  ws.reconnect();
});

// upstream: "Error Handling - PartySocket Validation" > "handles missing WebSocket constructor gracefully"
// DESIGN: partysocket console.errors "No WebSocket implementation available" when there
// is no global WebSocket and none given; steadysock then uses its own transport, so
// there is nothing to warn about. Asserted instead: no such console.error, and the
// instance connects (to the test server).
testDone("handles missing WebSocket constructor gracefully (DESIGN: own transport, no warning)", (done) => {
  const originalWS = globalThis.WebSocket;
  delete globalThis.WebSocket;

  const errorSpy = spyOn(console, "error");

  const ws = new RWS(URL, undefined, {
    maxRetries: 0,
    startClosed: false,
  });

  ws.onopen = () => {
    expect(errorSpy.calls.some((c) => String(c[0]).includes("No WebSocket implementation"))).toBe(false);
    ws.close();
    if (originalWS !== undefined) globalThis.WebSocket = originalWS;
    done();
  };
});

// upstream: "Error Handling - Connection Failures" > "handles immediate connection failure"
testSync("handles immediate connection failure", async () => {
  const errorSpy = fn();

  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries: 1,
    maxReconnectionDelay: 100,
  });

  ws.addEventListener("error", errorSpy);

  await new Promise((resolve) => {
    setTimeout(() => {
      expect(errorSpy).toHaveBeenCalled();
      expect(ws.retryCount).toBeGreaterThan(0);
      ws.close();
      resolve();
    }, 500);
  });
});

// upstream: "Error Handling - Connection Failures" > "stops retrying after maxRetries"
testSync("stops retrying after maxRetries", async () => {
  const maxRetries = 3;
  let errorCount = 0;

  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries,
    minReconnectionDelay: 10,
    maxReconnectionDelay: 20,
  });

  ws.addEventListener("error", () => {
    errorCount++;
  });

  await new Promise((resolve) => {
    setTimeout(() => {
      expect(ws.retryCount).toBe(maxRetries);
      expect(errorCount).toBeGreaterThanOrEqual(maxRetries);
      ws.close();
      resolve();
    }, 500);
  });
});

// upstream: "Error Handling - Connection Failures" > "handles connection timeout"
testSync("handles connection timeout", async () => {
  const timeoutSpy = fn();

  const ws = new RWS("ws://255.255.255.255", undefined, {
    connectionTimeout: 100,
    maxRetries: 1,
  });

  ws.addEventListener("error", (event) => {
    if (event.message === "TIMEOUT") {
      timeoutSpy();
    }
  });

  await new Promise((resolve) => {
    setTimeout(() => {
      ws.close();
      resolve();
    }, 500);
  });
});

// upstream: "Error Handling - Message Queue" > "respects maxEnqueuedMessages limit"
testSync("respects maxEnqueuedMessages limit", () => {
  const maxMessages = 5;
  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries: 0,
    maxEnqueuedMessages: maxMessages,
  });

  // Try to send more messages than the limit
  for (let i = 0; i < maxMessages + 10; i++) {
    ws.send(`message-${i}`);
  }

  // Should only have maxMessages in queue
  expect(ws.bufferedAmount).toBeLessThanOrEqual(maxMessages * 10);

  ws.close();
});

// upstream: "Error Handling - Message Queue" > "calculates buffered amount for different message types"
testSync("calculates buffered amount for different message types", () => {
  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries: 0,
    startClosed: true,
  });

  const stringMsg = "hello";
  const arrayBuffer = new ArrayBuffer(10);
  const blob = new Blob(["test"]);

  ws.send(stringMsg);
  ws.send(arrayBuffer);
  ws.send(blob);

  expect(ws.bufferedAmount).toBeGreaterThan(0);

  ws.close();
});

// upstream: "Error Handling - Event Target Polyfill" > "warns when EventTarget is not available"
// (upstream asserts nothing: the module is cached, as here; the import must not throw.)
testSync("warns when EventTarget is not available", async () => {
  const errorSpy = spyOn(console, "error");
  const originalEventTarget = globalThis.EventTarget;
  const originalEvent = globalThis.Event;
  delete globalThis.EventTarget;
  delete globalThis.Event;
  try {
    await import("steadysock/partysocket");
  } finally {
    globalThis.EventTarget = originalEventTarget;
    globalThis.Event = originalEvent;
  }
  void errorSpy;
});

// upstream: "Error Handling - Close Scenarios" > "handles close before connection established"
testSync("handles close before connection established", () => {
  const ws = new RWS("ws://example.com", undefined, {
    maxRetries: 0,
    startClosed: true,
  });

  // Close immediately
  ws.close();

  // Should be in CLOSED state (3)
  expect(ws.readyState).toBe(3);
});

// upstream: "Error Handling - Close Scenarios" > "handles multiple close calls"
testSync("handles multiple close calls", () => {
  const ws = new RWS("ws://example.com", undefined, {
    startClosed: true,
  });

  ws.close();
  ws.close();
  ws.close();

  expect(ws.readyState).toBe(ReconnectingWebSocket.CLOSED);
});

// upstream: "Error Handling - Close Scenarios" > "handles reconnect while already connecting"
// (upstream's test returns before its timer; here the test waits for it.)
testDone("handles reconnect while already connecting", (done) => {
  const ws = new RWS("ws://example.com", undefined, {
    maxRetries: 0,
  });

  // Call reconnect multiple times rapidly
  ws.reconnect();
  ws.reconnect();
  ws.reconnect();

  setTimeout(() => {
    ws.close();
    done();
  }, 100);
});

// upstream: "Error Handling - Edge Cases" > "handles extremely long message queue"
testSync("handles extremely long message queue", () => {
  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries: 0,
    maxEnqueuedMessages: Number.POSITIVE_INFINITY,
  });

  for (let i = 0; i < 1000; i++) {
    ws.send(`message-${i}`);
  }

  expect(ws.bufferedAmount).toBeGreaterThan(0);

  ws.close();
});

// upstream: "Error Handling - Edge Cases" > "handles empty message send"
testSync("handles empty message send", () => {
  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries: 0,
    startClosed: true,
  });

  expect(() => {
    ws.send("");
  }).not.toThrow();

  ws.close();
});

// upstream: "Error Handling - Edge Cases" > "handles rapid reconnect calls"
testSync("handles rapid reconnect calls", () => {
  const ws = new RWS("ws://example.com", undefined, {
    maxRetries: 0,
    startClosed: true,
  });

  for (let i = 0; i < 10; i++) {
    ws.reconnect();
  }

  ws.close();
});

// upstream: "Error Handling - Edge Cases" > "handles binaryType changes while disconnected"
testSync("handles binaryType changes while disconnected", () => {
  const ws = new RWS("ws://example.com", undefined, {
    startClosed: true,
  });

  expect(() => {
    ws.binaryType = "arraybuffer";
    ws.binaryType = "blob";
  }).not.toThrow();

  expect(ws.binaryType).toBe("blob");

  ws.close();
});

// upstream: "Error Handling - Retry Logic" > "resets retry count on successful connection"
testSync("resets retry count on successful connection", async () => {
  const ws = new RWS("ws://255.255.255.255", undefined, {
    maxRetries: 5,
    minReconnectionDelay: 10,
    maxReconnectionDelay: 20,
    minUptime: 50,
  });

  // Wait for some retries
  await new Promise((resolve) => {
    setTimeout(() => {
      expect(ws.retryCount).toBeGreaterThan(0);
      ws.close();
      resolve();
    }, 100);
  });
});

// upstream: "Error Handling - Retry Logic" > "exponential backoff increases delay correctly"
// PRIVATE: upstream sets `ws._retryCount = i` and reads `ws._getNextDelay()`; here the
// Session's delays before the first three retries, from `debugLogger`.
testDone("exponential backoff increases delay correctly", (done) => {
  const { seen, options } = delays({
    minReconnectionDelay: 50,
    maxReconnectionDelay: 500,
    reconnectionDelayGrowFactor: 2,
    maxRetries: 5,
  });
  const ws = new RWS("ws://255.255.255.255", undefined, options);
  ws.addEventListener("error", () => {
    if (seen.length < 3) return;
    const d = seen;
    // Verify exponential growth
    expect(d[1]).toBeGreaterThan(d[0]);
    expect(d[2]).toBeGreaterThan(d[1]);

    ws.close();
    done();
  });
});

// upstream: "Error Handling - Debug Mode" > "custom debugLogger receives messages"
testSync("custom debugLogger receives messages", () => {
  const debugLogger = fn();

  const ws = new RWS("ws://example.com", undefined, {
    debug: true,
    debugLogger,
    maxRetries: 0,
    startClosed: true,
  });

  ws.reconnect();

  expect(debugLogger).toHaveBeenCalledWith("RWS>", expect.any(String), expect.anything());

  ws.close();
});

// upstream: "Error Handling - Debug Mode" > "debug mode logs connection attempts"
// (upstream's test returns before its timer; here the test waits for it.)
testDone("debug mode logs connection attempts", (done) => {
  const logSpy = spyOn(console, "log");

  const ws = new RWS("ws://255.255.255.255", undefined, {
    debug: true,
    maxRetries: 1,
  });

  setTimeout(() => {
    expect(logSpy).toHaveBeenCalled();
    ws.close();
    done();
  }, 100);
});

// ---------------------------------------------------------------------------------------
// packages/partysocket/src/tests/edge-cases.test.ts (the ReconnectingWebSocket behaviour)

/** SUBCLASS: what `new PartySocket({ host, room, ...options })` is here. */
function party(host, room, options = {}) {
  return new RWS(`ws://${host}/parties/main/${room}`, undefined, options);
}
const HOST = () => `localhost:${wss.address().port}`;

// upstream: "Edge Cases - BinaryType" > "should default binaryType to 'blob'"
testSync("should default binaryType to 'blob'", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  expect(ps.binaryType).toBe("blob");
});

// upstream: "Edge Cases - BinaryType" > "should set binaryType before connection"
testSync("should set binaryType before connection", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  ps.binaryType = "arraybuffer";
  expect(ps.binaryType).toBe("arraybuffer");
});

// upstream: "Edge Cases - BinaryType" > "should apply binaryType to WebSocket after connection"
testSync("should apply binaryType to WebSocket after connection", async () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  ps.binaryType = "arraybuffer";
  const openPromise = new Promise((resolve) => {
    ps.addEventListener("open", () => resolve());
  });
  ps.reconnect();
  await openPromise;
  expect(ps.binaryType).toBe("arraybuffer");
  ps.close();
});

// upstream: "Edge Cases - BinaryType" > "should preserve binaryType across reconnections"
testSync("should preserve binaryType across reconnections", async () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  ps.binaryType = "arraybuffer";
  const openPromise = new Promise((resolve) => {
    ps.addEventListener("open", () => resolve());
  });
  ps.reconnect();
  await openPromise;
  expect(ps.binaryType).toBe("arraybuffer");

  // Trigger reconnection
  const secondOpenPromise = new Promise((resolve) => {
    ps.addEventListener(
      "open",
      () => {
        resolve();
      },
      { once: true },
    );
  });
  ps.reconnect();
  await secondOpenPromise;
  expect(ps.binaryType).toBe("arraybuffer");
  ps.close();
});

// upstream: "Edge Cases - Message Queue" > "should queue messages up to maxEnqueuedMessages"
testSync("should queue messages up to maxEnqueuedMessages", () => {
  const ps = party(HOST(), "test-room", { maxEnqueuedMessages: 3, startClosed: true });
  ps.send("message1");
  ps.send("message2");
  ps.send("message3");
  expect(ps.bufferedAmount).toBeGreaterThan(0);
});

// upstream: "Edge Cases - Message Queue" > "should not queue messages beyond maxEnqueuedMessages"
testSync("should not queue messages beyond maxEnqueuedMessages", () => {
  const ps = party(HOST(), "test-room", { maxEnqueuedMessages: 2, startClosed: true });
  ps.send("message1");
  ps.send("message2");
  const bufferedBefore = ps.bufferedAmount;

  ps.send("message3"); // This should be dropped

  expect(ps.bufferedAmount).toBe(bufferedBefore);
});

// upstream: "Edge Cases - Message Queue" > "should handle exactly maxEnqueuedMessages"
testSync("should handle exactly maxEnqueuedMessages", () => {
  const ps = party(HOST(), "test-room", { maxEnqueuedMessages: 5, startClosed: true });
  for (let i = 0; i < 5; i++) {
    ps.send(`message${i}`);
  }
  expect(ps.bufferedAmount).toBeGreaterThan(0);

  // 6th message should be dropped
  const bufferedBefore = ps.bufferedAmount;
  ps.send("message6");
  expect(ps.bufferedAmount).toBe(bufferedBefore);
});

// upstream: "Edge Cases - Message Queue" > "should calculate bufferedAmount for string messages"
testSync("should calculate bufferedAmount for string messages", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  ps.send("hello");
  expect(ps.bufferedAmount).toBe(5); // "hello".length
});

// upstream: "Edge Cases - Message Queue" > "should calculate bufferedAmount for Blob messages"
testSync("should calculate bufferedAmount for Blob messages", async () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  const blob = new Blob(["test data"]);
  ps.send(blob);
  expect(ps.bufferedAmount).toBe(9); // blob.size
});

// upstream: "Edge Cases - Message Queue" > "should calculate bufferedAmount for ArrayBuffer messages"
testSync("should calculate bufferedAmount for ArrayBuffer messages", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  const buffer = new ArrayBuffer(8);
  ps.send(buffer);
  expect(ps.bufferedAmount).toBe(8); // buffer.byteLength
});

// upstream: "Edge Cases - Message Queue" > "should calculate bufferedAmount for ArrayBufferView messages"
testSync("should calculate bufferedAmount for ArrayBufferView messages", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  const view = new Uint8Array([1, 2, 3, 4, 5]);
  ps.send(view);
  expect(ps.bufferedAmount).toBe(5); // view.byteLength
});

// upstream: "Edge Cases - Message Queue" > "should flush message queue on connection"
testSync("should flush message queue on connection", async () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  const messages = [];
  const onConnection = (ws) => {
    ws.on("message", (data) => {
      messages.push(data.toString());
    });
  };
  wss.on("connection", onConnection);

  // Queue messages
  ps.send("queued1");
  ps.send("queued2");
  expect(ps.bufferedAmount).toBeGreaterThan(0);

  const openPromise = new Promise((resolve) => {
    ps.addEventListener("open", () => resolve());
  });
  ps.reconnect();
  await openPromise;

  // Wait for messages to be sent
  await new Promise((resolve) => setTimeout(resolve, 100));

  expect(messages).toContain("queued1");
  expect(messages).toContain("queued2");

  ps.close();
  wss.off("connection", onConnection);
});

// upstream: "Edge Cases - ReadyState Constants" > "should expose static readyState constants"
testSync("should expose static readyState constants", () => {
  expect(ReconnectingWebSocket.CONNECTING).toBe(0);
  expect(ReconnectingWebSocket.OPEN).toBe(1);
  expect(ReconnectingWebSocket.CLOSING).toBe(2);
  expect(ReconnectingWebSocket.CLOSED).toBe(3);
});

// upstream: "Edge Cases - ReadyState Constants" > "should expose instance readyState constants"
testSync("should expose instance readyState constants", () => {
  const ps = party("localhost:1999", "test-room", { startClosed: true });
  expect(ps.CONNECTING).toBe(0);
  expect(ps.OPEN).toBe(1);
  expect(ps.CLOSING).toBe(2);
  expect(ps.CLOSED).toBe(3);
});

// upstream: "Edge Cases - ReadyState Constants" > "should report CLOSED state when startClosed is true"
testSync("should report CLOSED state when startClosed is true", () => {
  const ps = party("localhost:1999", "test-room", { startClosed: true });
  expect(ps.readyState).toBe(ReconnectingWebSocket.CLOSED);
});

// upstream: "Edge Cases - ReadyState Constants" > "should report CONNECTING state by default"
testSync("should report CONNECTING state by default", () => {
  const ps = party("localhost:1999", "test-room");
  expect(ps.readyState).toBe(ReconnectingWebSocket.CONNECTING);
  ps.close();
});

// upstream: "Edge Cases - Close Behavior" > "should handle close() when not connected"
testSync("should handle close() when not connected", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  expect(() => ps.close()).not.toThrow();
});

// upstream: "Edge Cases - Close Behavior" > "should handle multiple close() calls"
testSync("should handle multiple close() calls", async () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  const openPromise = new Promise((resolve) => {
    ps.addEventListener("open", () => resolve());
  });
  ps.reconnect();
  await openPromise;
  ps.close();
  expect(() => ps.close()).not.toThrow();
});

// upstream: "Edge Cases - Close Behavior" > "should set shouldReconnect to false when close() is called"
testSync("should set shouldReconnect to false when close() is called", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  expect(ps.shouldReconnect).toBe(false);

  ps.reconnect();
  expect(ps.shouldReconnect).toBe(true);

  ps.close();
  expect(ps.shouldReconnect).toBe(false);
});

// upstream: "Edge Cases - RetryCount" > "should start with retryCount 0"
testSync("should start with retryCount 0", () => {
  const ps = party("localhost:1999", "test-room", { startClosed: true });
  expect(ps.retryCount).toBe(0);
});

// upstream: "Edge Cases - RetryCount" > "should reset retryCount when reconnect() is called"
// (upstream starts a second server on its port; the suite's server serves here.)
testSync("should reset retryCount when reconnect() is called", async () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  const openPromise = new Promise((resolve) => {
    ps.addEventListener("open", () => resolve());
  });
  ps.reconnect();
  await openPromise;

  // Force a reconnection by calling reconnect
  ps.reconnect();

  // retryCount should be reset to 0
  expect(ps.retryCount).toBe(0);

  ps.close();
});

// upstream: "Edge Cases - Extensions and Protocol" > "should return empty string for extensions when not connected"
testSync("should return empty string for extensions when not connected", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  expect(ps.extensions).toBe("");
});

// upstream: "Edge Cases - Extensions and Protocol" > "should return empty string for protocol when not connected"
testSync("should return empty string for protocol when not connected", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  expect(ps.protocol).toBe("");
});

// upstream: "Edge Cases - Extensions and Protocol" > "should return empty string for url when not connected"
testSync("should return empty string for url when not connected", () => {
  const ps = party(HOST(), "test-room", { startClosed: true });
  expect(ps.url).toBe("");
});

// ---------------------------------------------------------------------------------------
// packages/partysocket/src/tests/integration.test.ts (SUBCLASS as for edge-cases; the
// suite's one server stands for upstream's per-describe servers; upstream's jsdom global
// `WebSocket.OPEN` / `.CLOSED` are the class's constants here)

// upstream: helper getMessageText(data)
async function getMessageText(data) {
  if (typeof data === "string") return data;
  if (data instanceof Blob && typeof data.text === "function") return await data.text();
  if (data instanceof Buffer) return data.toString("utf-8");
  if (data && typeof data === "object" && "toString" in data) return String(data);
  return String(data);
}
const OPEN = ReconnectingWebSocket.OPEN;
const CLOSED = ReconnectingWebSocket.CLOSED;

// upstream: "Integration - Full Lifecycle" > "complete WebSocket lifecycle: connect, send, receive, close"
// 1.3: upstream adds its close listener after calling close(), which only works while the
// close event comes later; partysocket 1.3 (and steadysock) dispatch it inside close(), so
// the listener is added just before the call here.
testSync("complete WebSocket lifecycle: connect, send, receive, close", async () => {
  const testMessage = "integration-test-message";

  wss.once("connection", (ws) => {
    ws.on("message", (data) => {
      ws.send(`echo: ${data}`);
    });
  });

  const ps = party(HOST(), "lifecycle-test");

  await new Promise((resolve) => {
    ps.addEventListener("open", () => {
      expect(ps.readyState).toBe(OPEN);
      ps.send(testMessage);
    });

    ps.addEventListener("message", async (event) => {
      const text = await getMessageText(event.data);
      expect(text).toContain(testMessage);

      // Wait for close event before resolving
      ps.addEventListener("close", () => {
        expect(ps.readyState).toBe(CLOSED);
        resolve();
      });
      ps.close();
    });
  });
});

// upstream: "Integration - Full Lifecycle" > "handles server disconnect and reconnect"
testSync("handles server disconnect and reconnect", async () => {
  let connectCount = 0;
  const connectionHandler = (ws) => {
    connectCount++;
    if (connectCount === 1) {
      // First connection - close after 100ms
      setTimeout(() => ws.close(), 100);
    }
  };
  wss.on("connection", connectionHandler);

  const ps = party(HOST(), "reconnect-test", { minReconnectionDelay: 50, maxReconnectionDelay: 100 });

  await new Promise((resolve) => {
    let openCount = 0;
    ps.addEventListener("open", () => {
      openCount++;
      if (openCount === 2) {
        // Successfully reconnected
        expect(connectCount).toBe(2);
        ps.close();
        wss.off("connection", connectionHandler);
        resolve();
      }
    });
  });
});

// upstream: "Integration - Full Lifecycle" > "maintains message order during high load"
testSync("maintains message order during high load", async () => {
  const messageCount = 20; // Reduced for test reliability
  const receivedMessages = [];

  wss.once("connection", (ws) => {
    ws.on("message", (data) => {
      ws.send(data); // Echo back
    });
  });

  const ps = party(HOST(), "order-test");

  // Set up message handler before opening
  ps.addEventListener("message", async (event) => {
    const text = await getMessageText(event.data);
    receivedMessages.push(text);
  });

  await new Promise((resolve) => {
    ps.addEventListener("open", () => {
      // Send messages sequentially
      let sent = 0;
      const sendNext = () => {
        if (sent < messageCount) {
          ps.send(`message-${sent}`);
          sent++;
          setTimeout(sendNext, 10);
        }
      };
      sendNext();

      // Poll for completion
      const checkInterval = setInterval(async () => {
        if (receivedMessages.length >= messageCount) {
          clearInterval(checkInterval);
          clearTimeout(timeout);

          // Give a moment for any pending async operations
          await new Promise((r) => setTimeout(r, 100));

          // Check order (upstream swallows a failure here and waits for its 10 s
          // timeout, which passes; here a wrong order fails the test)
          for (let i = 0; i < messageCount; i++) {
            expect(receivedMessages[i]).toBe(`message-${i}`);
          }

          ps.close();
          resolve();
        }
      }, 50);

      // Timeout
      const timeout = setTimeout(() => {
        clearInterval(checkInterval);
        ps.close();
        resolve();
      }, 10000);
    });
  });
});

// upstream: "Integration - Multiple Concurrent Connections" > "handles multiple PartySocket instances"
testSync("handles multiple PartySocket instances", async () => {
  const socketCount = 5;
  const sockets = [];
  const welcome = (ws) => {
    ws.send("welcome");
  };
  wss.on("connection", welcome);

  const promises = Array.from({ length: socketCount }, (_, i) => {
    return new Promise((resolve) => {
      const ps = party(HOST(), `room-${i}`);
      ps.addEventListener("message", () => {
        resolve();
      });
      sockets.push(ps);
    });
  });

  await Promise.all(promises);
  wss.off("connection", welcome);

  // All sockets should be open
  for (const socket of sockets) {
    expect(socket.readyState).toBe(OPEN);
    socket.close();
  }
});

// upstream: "Integration - Real-World Scenarios" > "chat application scenario"
testSync("chat application scenario", async () => {
  const users = [];
  const broadcast = (ws) => {
    ws.on("message", (data) => {
      // Broadcast to all clients
      wss.clients.forEach((client) => {
        if (client.readyState === NodeWebSocket.OPEN) {
          client.send(data);
        }
      });
    });
  };
  wss.on("connection", broadcast);

  // Create 3 users
  for (let i = 0; i < 3; i++) {
    const userId = `user-${i}`;
    const socket = party(HOST(), "chat-room");
    users.push({ id: userId, socket, messages: [] });
  }

  // Wait for all to connect
  await Promise.all(
    users.map(
      (user) =>
        new Promise((resolve) => {
          user.socket.addEventListener("open", () => {
            user.socket.addEventListener("message", async (event) => {
              const text = await getMessageText(event.data);
              user.messages.push(text);
            });
            resolve();
          });
        }),
    ),
  );

  // User 0 sends a message
  users[0].socket.send("Hello from user 0!");

  // Wait for messages to propagate with polling
  await new Promise((resolve) => {
    const checkInterval = setInterval(() => {
      // Check if all users received at least one message
      const allReceived = users.every((user) => user.messages.length > 0);
      if (allReceived) {
        clearInterval(checkInterval);
        clearTimeout(timeout);
        resolve();
      }
    }, 50);

    // Timeout after 2 seconds
    const timeout = setTimeout(() => {
      clearInterval(checkInterval);
      resolve();
    }, 2000);
  });
  wss.off("connection", broadcast);

  // All users should have received the message
  for (const user of users) {
    expect(user.messages.length).toBeGreaterThan(0);
    user.socket.close();
  }
});

// upstream: "Integration - Real-World Scenarios" > "collaborative editing scenario"
testSync("collaborative editing scenario", async () => {
  const operations = [];
  let connectionCount = 0;

  // Use a fresh handler for this test
  const handler = (ws) => {
    connectionCount++;
    if (connectionCount > 1) return; // Only handle first connection

    ws.on("message", (data) => {
      // Server processes operation and sends back confirmation
      const operation = data.toString();
      operations.push(operation);
      ws.send(`ack:${operation}`);
    });
  };
  wss.on("connection", handler);

  const editor = party(HOST(), "document-123");

  const acks = [];
  let resolved = false;

  await new Promise((resolve) => {
    // Set up message handler
    editor.addEventListener("message", async (event) => {
      if (resolved) return; // Ignore messages after we're done

      const text = await getMessageText(event.data);

      // Only count ack messages
      if (text.startsWith("ack:")) {
        acks.push(text);

        if (acks.length === 3) {
          resolved = true;
          resolve();
        }
      }
    });

    editor.addEventListener("open", () => {
      // Send operations
      editor.send("insert:0:H");
      editor.send("insert:1:i");
      editor.send("insert:2:!");

      // Timeout after 2 seconds
      setTimeout(() => {
        if (!resolved) {
          resolved = true;
          resolve();
        }
      }, 2000);
    });
  });

  // Clean up handler
  wss.off("connection", handler);

  // Should have received exactly 3 acks
  expect(acks.length).toBe(3);
  expect(operations).toEqual(["insert:0:H", "insert:1:i", "insert:2:!"]);

  editor.close();
});

// upstream: "Integration - Error Recovery" > "recovers from network interruption"
testSync("recovers from network interruption", async () => {
  let connectionAttempts = 0;

  const handler = (ws) => {
    connectionAttempts++;
    if (connectionAttempts === 1) {
      // First connection succeeds then fails
      setTimeout(() => ws.close(), 100);
    } else {
      // Subsequent connections succeed
      ws.send("recovered");
    }
  };
  wss.on("connection", handler);

  const ps = party(HOST(), "recovery-test", { minReconnectionDelay: 50, maxReconnectionDelay: 100 });

  let recovered = false;

  await new Promise((resolve) => {
    ps.addEventListener("message", async (event) => {
      const text = await getMessageText(event.data);
      if (text === "recovered") {
        recovered = true;
        ps.close();
        wss.off("connection", handler);
        resolve();
      }
    });
  });

  expect(recovered).toBe(true);
  expect(connectionAttempts).toBeGreaterThanOrEqual(2);
});

// upstream: "Integration - Error Recovery" > "handles server restart"
testSync("handles server restart", async () => {
  let serverVersion = 1;

  const handler = (ws) => {
    ws.send(`server-v${serverVersion}`);
  };
  wss.on("connection", handler);

  const ps = party(HOST(), "restart-test", { minReconnectionDelay: 50 });

  const versions = [];

  await new Promise((resolve) => {
    ps.addEventListener("message", async (event) => {
      const text = await getMessageText(event.data);
      versions.push(text);

      if (versions.length === 1) {
        // Simulate server restart
        serverVersion = 2;
        ps.reconnect();
      } else if (versions.length === 2) {
        ps.close();
        wss.off("connection", handler);
        resolve();
      }
    });
  });

  expect(versions).toEqual(["server-v1", "server-v2"]);
});
