"use strict";
// Event classes of the WHATWG WebSocket API that Node 20 does not have as globals
// (`CloseEvent`, `ErrorEvent`); `MessageEvent` is Node's own.

class CloseEvent extends Event {
  #code;
  #reason;
  #wasClean;

  /**
   * @param {string} type
   * @param {{ code?: number, reason?: string, wasClean?: boolean } & EventInit} [init]
   */
  constructor(type, init = {}) {
    super(type, init);
    this.#code = init.code === undefined ? 0 : Number(init.code) & 0xffff;
    this.#reason = init.reason === undefined ? "" : String(init.reason);
    this.#wasClean = Boolean(init.wasClean);
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
   * @param {string} type
   * @param {{ message?: string, error?: unknown } & EventInit} [init]
   */
  constructor(type, init = {}) {
    super(type, init);
    this.#message = init.message === undefined ? "" : String(init.message);
    this.#error = init.error;
  }

  get message() {
    return this.#message;
  }

  get error() {
    return this.#error;
  }
}

module.exports = { CloseEvent, ErrorEvent, MessageEvent: globalThis.MessageEvent };
