"use strict";
// The ReconnectingWebSocket as reconnecting-websocket 4.4 shows it (the entry
// `steadysock/reconnecting-websocket`: lib/reconnecting-websocket.js in Node,
// reconnecting-websocket-browser.mjs in browsers; this file picks no platform), for code written against that package: `module.exports` is the class
// itself, close() leaves readyState CLOSING and the close event (with the real code) comes
// from a later task, send() returns nothing, the default first delay is drawn per
// instance between 1 and 5 s (never at module load), and the events are rws 4.4's own
// classes (below).
const { ReconnectingWebSocket: Base, RWS44, EVENTS } = require("./reconnecting.js");

// reconnecting-websocket 4.4's event classes (its `events.ts`): `type` and `target` (and
// `code`/`reason`/`wasClean`, `message`/`error`) are plain own properties, and the
// constructors take rws's arguments. They extend the global `Event` only so that this
// class, a real `EventTarget`, can dispatch them; what code written for rws reads is the
// same.
class RwsEvent extends globalThis.Event {
  /** @param {string} type @param {unknown} target */
  constructor(type, target) {
    super(type);
    Object.defineProperty(this, "type", { value: type, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(this, "target", { value: target, writable: true, enumerable: true, configurable: true });
  }
}

class RwsErrorEvent extends RwsEvent {
  /** @param {Error} error @param {unknown} target */
  constructor(error, target) {
    super("error", target);
    this.message = error.message;
    this.error = error;
  }
}

class RwsCloseEvent extends RwsEvent {
  /** @param {number} [code] @param {string} [reason] @param {unknown} [target] */
  constructor(code = 1000, reason = "", target = undefined) {
    super("close", target);
    this.code = code;
    this.reason = reason;
    this.wasClean = true;
  }
}

/** The events this entry point dispatches. */
const RWS_EVENTS = {
  open(target, recovered) {
    const event = new RwsEvent("open", target);
    event.recovered = recovered;
    return event;
  },
  message(target, data) {
    const event = new RwsEvent("message", target);
    event.data = data;
    return event;
  },
  close(target, code, reason, wasClean) {
    const event = new RwsCloseEvent(code, reason, target);
    // rws 4.4 passes the inner socket's close event on, with its real wasClean.
    event.wasClean = wasClean;
    return event;
  },
  error(target, message, error) {
    const event = new RwsErrorEvent(error, target);
    event.message = message;
    return event;
  },
};

class ReconnectingWebSocket extends Base {
  constructor(url, protocols = undefined, options = {}) {
    // rws 4.4's check of a given WebSocket class (a missing one is no error here: without
    // it, steadysock's own transport is used).
    const Given = options ? options.WebSocket : undefined;
    if (Given !== undefined && !(Given && Given.CLOSING === 2)) throw new Error("No valid WebSocket class provided");
    super(url, protocols, {
      minReconnectionDelay: 1000 + Math.random() * 4000,
      ...options,
      [RWS44]: true,
      [EVENTS]: RWS_EVENTS,
    });
  }
}

// Not exported by rws 4.4 at run time (only its types are); here as statics, so that
// code can construct or test for them without a second import.
ReconnectingWebSocket.Event = RwsEvent;
ReconnectingWebSocket.ErrorEvent = RwsErrorEvent;
ReconnectingWebSocket.CloseEvent = RwsCloseEvent;

module.exports = ReconnectingWebSocket;
