// lib/wasm-session.mjs, the decoder of the wasm core's answers, over a stand-in module: the
// buffer layout of bindings-wasm/src/lib.rs (`mod code`), the addon's batches it gives
// (`[TAG, values…, deadline, more]`), the rule that a batch ends after a message (the rest
// comes first in the next answer, also when another call comes before drain()), the
// message a call was given reused (`INPUT`), and memory that grew (a detached view).
import assert from "node:assert/strict";
import { test } from "node:test";
import { wasmSession } from "../../bindings-node/lib/wasm-session.mjs";

const [NULL, FALSE, TRUE, TEXT, BYTES, INPUT, LIST, END] = [-1, -2, -3, -4, -5, -6, -7, -8];
const utf8 = new TextEncoder();

/** A stand-in module: each call answers the next prepared list of values (see `write`). */
function standIn() {
  const memory = { buffer: new ArrayBuffer(1 << 16) };
  const answers = [];
  const calls = [];
  /** Writes values (numbers, strings, Uint8Arrays, [LIST, …strings]) as src/lib.rs does. */
  function write(values) {
    const words = [];
    const arena = [];
    const str = (kind, bytes) => {
      words.push(kind, bytes.length);
      arena.push(...bytes);
    };
    for (const v of values) {
      if (typeof v === "string") str(TEXT, utf8.encode(v));
      else if (v instanceof Uint8Array) str(BYTES, v);
      else if (Array.isArray(v)) {
        words.push(LIST, v.length);
        for (const s of v) str(TEXT, utf8.encode(s));
      } else words.push(v);
    }
    const ptr = 64;
    const arenaAt = 8192;
    new Float64Array(memory.buffer, ptr).set([words.length, arenaAt, ...words]);
    new Uint8Array(memory.buffer, arenaAt).set(arena);
    return ptr;
  }
  class Core {
    call(op, id, n, a, b, now) {
      calls.push([op, id, n, a, b]);
      return op === 10 ? 0 : write(answers.shift());
    }
    bytes(op, id, data) {
      calls.push([op, id, [...data]]);
      return write(answers.shift());
    }
    get(what) {
      return what === 0 ? 2 : 7;
    }
  }
  /** The module's memory grows: the old buffer is detached, the bytes move to a larger one. */
  function grow() {
    const old = memory.buffer;
    const bigger = new Uint8Array(old.byteLength * 2);
    bigger.set(new Uint8Array(old));
    structuredClone(old, { transfer: [old] });
    memory.buffer = bigger.buffer;
  }
  return { RawSession: wasmSession(Core, memory), answers, calls, grow };
}

test("one answer with two messages: three batches, each ending after a message, one crossing", () => {
  const m = standIn();
  m.answers.push([13, "connecting", "open", 15, "m1", END, 15, "m2", END, 12, 1, 1000, "bye", 5000]);
  const s = new m.RawSession("ws://x/", "{}", 0);
  assert.deepEqual(s.connect(1), [13, "connecting", "open", 15, "m1", 5000, true]);
  assert.deepEqual(s.drain(), [15, "m2", 5000, true]);
  assert.deepEqual(s.drain(), [12, 1, 1000, "bye", 5000, false]);
  assert.deepEqual(s.drain(), [5000, false]);
  assert.equal(m.calls.length, 1);
});

test("a call before drain(): the held outputs come first, its own join the open batch after them", () => {
  const m = standIn();
  m.answers.push([15, "m1", END, 15, "m2", END, 12, 1, 1000, "bye", NULL]);
  m.answers.push([24, 1, INPUT, 7000]);
  const s = new m.RawSession("ws://x/", "{}", 0);
  assert.deepEqual(s.handleText(1, "m1", 1), [15, "m1", null, true]);
  // (a send from the message listener: the addon's queue would answer m2 first)
  assert.deepEqual(s.sendText("hello", 2), [15, "m2", 7000, true]);
  assert.deepEqual(s.drain(), [12, 1, 1000, "bye", 24, 1, "hello", 7000, false]);
  assert.deepEqual(m.calls[1], [4, 0, 0, "hello", undefined]);
});

test("values: null, booleans, strings (UTF-8), ArrayBuffers, string lists, the call's own message", () => {
  const m = standIn();
  m.answers.push([23, 3, "wss://h/ä", ["a", "bé"], 14, 1, TRUE, "", "", 17, 1006, "", FALSE, "x", NULL, "why 🎉", 42]);
  m.answers.push([16, new Uint8Array([1, 2, 255]), END, NULL]);
  m.answers.push([16, INPUT, END, NULL]);
  const s = new m.RawSession("ws://x/", "{}", 0);
  assert.deepEqual(s.handleOpen(3, "", "", 1), [23, 3, "wss://h/ä", ["a", "bé"], 14, 1, true, "", "", 17, 1006, "", false, "x", null, "why 🎉", 42, false]);
  const [tag, copied] = s.handleBinary(3, new Uint8Array([1, 2, 255]), 2);
  assert.equal(tag, 16);
  assert.ok(copied instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(copied)], [1, 2, 255]);
  // INPUT: the very ArrayBuffer given (it spans the whole view)
  const given = new Uint8Array([9, 8]);
  assert.equal(s.handleBinary(3, given, 3)[1], given.buffer);
  assert.deepEqual(m.calls[2], [2, 3, [9, 8]]);
  assert.equal(s.state, "open");
  assert.equal(s.timerArmed, false);
});

test("a view of part of a buffer is delivered as a copy of just its bytes", () => {
  const m = standIn();
  m.answers.push([16, INPUT, END, NULL]);
  const s = new m.RawSession("ws://x/", "{}", 0);
  const part = new Uint8Array([0, 1, 2, 3]).subarray(1, 3);
  const [, data] = s.handleBinary(1, part, 1);
  assert.notEqual(data, part.buffer);
  assert.deepEqual([...new Uint8Array(data)], [1, 2]);
});

test("memory that grew between calls is read through new views", () => {
  const m = standIn();
  m.answers.push([15, "before", END, NULL]);
  m.answers.push([15, "after", END, NULL]);
  const s = new m.RawSession("ws://x/", "{}", 0);
  assert.deepEqual(s.handleText(1, "x", 1), [15, "before", null, false]);
  m.grow();
  assert.deepEqual(s.handleText(1, "y", 2), [15, "after", null, false]);
});

test("takeUnsent: the queued messages; provideRequest stages protocols and header pairs first", () => {
  const m = standIn();
  m.answers.push(["a", new Uint8Array([7]), NULL]);
  m.answers.push([NULL]);
  const s = new m.RawSession("ws://x/", "{}", 0);
  const unsent = s.takeUnsent();
  assert.equal(unsent[0], "a");
  assert.deepEqual([...new Uint8Array(unsent[1])], [7]);
  assert.equal(unsent.length, 2);
  assert.deepEqual(s.provideRequest(5, "ws://y/", ["p1", "p2"], [["k", "v"]], 3), [null, false]);
  assert.deepEqual(
    m.calls.slice(1).map((c) => c.slice(0, 4)),
    [
      [10, 0, 0, "p1"],
      [10, 0, 0, "p2"],
      [10, 0, 0, "k"],
      [10, 0, 0, "v"],
      [11, 5, 2, "ws://y/"],
    ],
  );
});
