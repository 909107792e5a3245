"use strict";
// Event classes of the WHATWG WebSocket API that Node 20 does not have as globals
// (`CloseEvent`, `ErrorEvent`); `MessageEvent` is Node's own.
//
// Their constructors also take partysocket's forms, so that code written for
// partysocket runs unchanged: `new CloseEvent(code = 1000, reason = "", target)` and
// `new ErrorEvent(error, target)` (type "close" / "error", `target` as given). A string
// first argument is the WHATWG form `(type, init)`.

/** partysocket's events carry the target they were made for. */
function setTarget(event, target) {
  if (target !== undefined) Object.defineProperty(event, "target", { value: target, enumerable: true });
}

class CloseEvent extends Event {
  #code;
  #reason;
  #wasClean;

  /**
   * @param {string | number} [type] the event type (WHATWG), or partysocket's code (default 1000)
   * @param {({ code?: number, reason?: string, wasClean?: boolean } & EventInit) | string} [init]
   *   WHATWG init, or partysocket's reason
   * @param {unknown} [target] partysocket's target
   */
  constructor(type = 1000, init = {}, target = undefined) {
    if (typeof type === "string") {
      const dict = init || {};
      super(type, dict);
      this.#code = dict.code === undefined ? 0 : Number(dict.code) & 0xffff;
      this.#reason = dict.reason === undefined ? "" : String(dict.reason);
      this.#wasClean = Boolean(dict.wasClean);
    } else {
      super("close");
      this.#code = type === undefined || type === null ? 1000 : Number(type);
      this.#reason = init === undefined || init === null || typeof init === "object" ? "" : String(init);
      this.#wasClean = true;
      setTarget(this, target);
    }
  }

  get code() {
    return this.#code;
  }

  get reason() {
    return this.#reason;
  }

  get wasClean() {
    return this.#wasClean;
  }
}

class ErrorEvent extends Event {
  #message;
  #error;

  /**
   * @param {string | Error} type the event type (WHATWG), or partysocket's error
   * @param {({ message?: string, error?: unknown } & EventInit) | unknown} [init]
   *   WHATWG init, or partysocket's target
   */
  constructor(type, init = undefined) {
    if (typeof type === "string") {
      const dict = init || {};
      super(type, dict);
      this.#message = dict.message === undefined ? "" : String(dict.message);
      this.#error = dict.error;
    } else {
      super("error");
      this.#error = type;
      this.#message = type && type.message !== undefined ? String(type.message) : String(type);
      setTarget(this, init);
    }
  }

  get message() {
    return this.#message;
  }

  get error() {
    return this.#error;
  }
}

module.exports = { CloseEvent, ErrorEvent, MessageEvent: globalThis.MessageEvent };
