// A small harness for the ported upstream suites (upstream-partysocket.test.mjs,
// upstream-rws.test.mjs): the few jest/vitest matchers they use, mapped onto
// node:assert, so that each upstream assertion reads as it does upstream, and a
// `testDone(name, (done, fail) => ...)` as the upstream suites write their tests.
//
// An exception thrown by an event listener (an upstream `expect` inside a listener, or an
// upstream `throw Error(...)`) reaches process "uncaughtException": it fails the test that
// is running; one that arrives between tests is kept and fails the suite in `after`.
import assert from "node:assert/strict";
import { after, afterEach, test } from "node:test";

let current = null;
let count = 0;
let expected = null;
const stray = [];
let tearingDown = false;

process.on("uncaughtException", (e) => onError(e));
process.on("unhandledRejection", (e) => onError(e));

function onError(e) {
  if (current) current.reject(e);
  else if (!tearingDown) stray.push(e);
}

/**
 * Every instance a test made: closed after the test (upstream leaves some running, which
 * vitest/jest tear down with the worker), so that one test's socket never reaches the
 * next test's server handlers. What its listeners throw while being closed is ignored.
 */
export const made = [];

afterEach(async () => {
  tearingDown = true;
  for (const ws of made.splice(0)) {
    try {
      ws.onclose = ws.onerror = ws.onopen = ws.onmessage = null;
      ws.close();
    } catch {
      // teardown only
    }
  }
  await new Promise((r) => setTimeout(r, 0));
  tearingDown = false;
});

after(() => {
  assert.deepEqual(stray, [], "no exception or rejection outside a test");
});

function isMock(fn) {
  return typeof fn === "function" && Array.isArray(fn.calls);
}

function matchers(actual, negate) {
  const check = (ok, message) => {
    count++;
    assert.ok(negate ? !ok : ok, negate ? `not: ${message}` : message);
  };
  return {
    toBe(want) {
      count++;
      if (negate) assert.notStrictEqual(actual, want);
      else assert.ok(Object.is(actual, want), `expected ${String(actual)} to be ${String(want)}`);
    },
    toEqual(want) {
      // Blobs (upstream: `expect(msg.data).toEqual(new Blob([text]))`): a Blob of the same
      // size and type (their contents are not readable synchronously).
      if (want instanceof Blob) {
        check(actual instanceof Blob && actual.size === want.size && actual.type === want.type, `expected a Blob like ${want.size} bytes`);
        return;
      }
      count++;
      if (negate) assert.notDeepStrictEqual(actual, want);
      else assert.deepStrictEqual(actual, want);
    },
    toBeGreaterThan(n) {
      check(actual > n, `expected ${actual} > ${n}`);
    },
    toBeGreaterThanOrEqual(n) {
      check(actual >= n, `expected ${actual} >= ${n}`);
    },
    toBeLessThanOrEqual(n) {
      check(actual <= n, `expected ${actual} <= ${n}`);
    },
    toContain(part) {
      check((typeof actual === "string" || Array.isArray(actual)) && actual.includes(part), `expected ${actual} to contain ${part}`);
    },
    toBeNull() {
      check(actual === null, `expected ${String(actual)} to be null`);
    },
    toBeTruthy() {
      check(Boolean(actual), `expected ${String(actual)} to be truthy`);
    },
    toThrow(kind) {
      let threw = null;
      try {
        actual();
      } catch (e) {
        threw = e;
      }
      check(threw !== null && (kind === undefined || threw instanceof kind), `expected a throw${kind ? ` of ${kind.name}` : ""}`);
    },
    toHaveBeenCalled() {
      assert.ok(isMock(actual));
      check(actual.calls.length > 0, "expected the spy to have been called");
    },
    toHaveBeenCalledWith(...args) {
      assert.ok(isMock(actual));
      check(
        actual.calls.some((c) => c.length === args.length && c.every((v, i) => matches(v, args[i]))),
        `expected a call with ${JSON.stringify(args)}; calls: ${JSON.stringify(actual.calls)}`,
      );
    },
  };
}

function matches(value, want) {
  return want && typeof want.asymmetricMatch === "function" ? want.asymmetricMatch(value) : Object.is(value, want);
}

export function expect(actual) {
  const m = matchers(actual, false);
  m.not = matchers(actual, true);
  return m;
}
expect.assertions = (n) => {
  expected = n;
};
expect.any = (Kind) => ({
  asymmetricMatch: (v) => (Kind === String ? typeof v === "string" : Kind === Number ? typeof v === "number" : v instanceof Kind),
});
expect.anything = () => ({ asymmetricMatch: (v) => v !== null && v !== undefined });
expect.stringContaining = (part) => ({ asymmetricMatch: (v) => typeof v === "string" && v.includes(part) });

/** vitest.fn(): a function that records its calls. */
export function fn() {
  const mock = (...args) => {
    mock.calls.push(args);
  };
  mock.calls = [];
  return mock;
}

/** vitest.spyOn(console, "log").mockReturnValue(): records calls, prints nothing. */
const spies = [];
export function spyOn(object, name) {
  const original = object[name];
  const spy = (...args) => {
    spy.calls.push(args);
  };
  spy.calls = [];
  object[name] = spy;
  spies.push(() => {
    object[name] = original;
  });
  return spy;
}

function restoreSpies() {
  while (spies.length) spies.pop()();
}

/** An upstream `test(name, done => ...)`: passes on done(), fails on fail(e) or a throw. */
export function testDone(name, fn) {
  test(name, { timeout: 20000 }, () => run(fn));
}

/** An upstream synchronous or async test. */
export function testSync(name, fn) {
  test(name, { timeout: 20000 }, () => run((done, fail) => Promise.resolve().then(fn).then(done, fail)));
}

function run(fn) {
  count = 0;
  expected = null;
  return new Promise((resolve, reject) => {
    const finish = (e) => {
      current = null;
      restoreSpies();
      if (e !== undefined) return reject(e);
      if (expected !== null && count !== expected) return reject(new Error(`expect.assertions(${expected}): ${count} ran`));
      resolve();
    };
    current = { reject: (e) => finish(e ?? new Error("failed")) };
    try {
      fn(
        // As vitest/jest: the test ends after the code that called done() has returned
        // (an expect after done() in the same listener still counts).
        () => current && queueMicrotask(() => current && finish()),
        (e) => current && finish(e ?? new Error("fail() called")),
      );
    } catch (e) {
      finish(e);
    }
  });
}
