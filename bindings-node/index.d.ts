// Type declarations of the `steadysock` package, written by hand and checked with
// `tsc --strict` over examples/ (bindings-node/test.sh) and in a browser-only project
// (bindings-wasm/test.sh: DOM lib, no @types/node). Needs @types/node (Node's DOM-like
// globals: Event, EventTarget, MessageEvent, Blob) or TypeScript's DOM library.

// Node's tls options when @types/node is there; without it (a browser project) `any`, for
// an option that only Node reads.
// @ts-ignore: "node:tls" has no declarations without @types/node
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";

// The host's own event-init and listener types (DOM lib and @types/node name them
// differently; both agree on these shapes).
type HostEventInit = NonNullable<ConstructorParameters<typeof Event>[1]>;
type HostListener = Parameters<EventTarget["addEventListener"]>[1];
type HostAddOptions = Parameters<EventTarget["addEventListener"]>[2];
type HostRemoveOptions = Parameters<EventTarget["removeEventListener"]>[2];

/** What `binaryType` selects for binary messages: a `Blob` (default) or an `ArrayBuffer`. */
export type BinaryType = "blob" | "arraybuffer";

/** Anything `send()` accepts. */
export type WebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** Node-only options: the third constructor argument (browsers have none). */
export interface WebSocketOptions {
  /** Extra request headers, e.g. `{ Authorization: "Bearer …" }`. */
  headers?: Record<string, string> | Iterable<readonly [string, string]>;
  /** Options for `tls.connect` on `wss://` (e.g. `ca`, `rejectUnauthorized`). */
  tls?: TlsConnectionOptions;
  /**
   * Protocol-level keepalive: ping after `intervalMs` without one; when no pong arrives
   * within `pongTimeoutMs`, the connection closes with 1006. Default off.
   */
  keepalive?: { intervalMs: number; pongTimeoutMs: number };
  /** Offer permessage-deflate. Default true. */
  perMessageDeflate?: boolean;
  /** Largest message accepted; a bigger one closes with 1009. Default 64 MiB. */
  maxMessageSize?: number;
  /** How long the opening handshake may take. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** How long to wait for the peer's side of the closing handshake. Default 5 000 ms. */
  closeTimeoutMs?: number;
}

export interface CloseEventInit extends HostEventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/** The `close` event: how the connection ended. 1006 means no closing handshake (`wasClean: false`). */
export declare class CloseEvent extends Event {
  constructor(type: string, init?: CloseEventInit);
  /** partysocket's form: type "close", `wasClean` true, `target` as given. */
  constructor(code?: number, reason?: string, target?: unknown);
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export interface ErrorEventInit extends HostEventInit {
  message?: string;
  error?: unknown;
}

/** The `error` event: why the connection failed (the socket's error in `error`, when there was one). */
export declare class ErrorEvent extends Event {
  constructor(type: string, init?: ErrorEventInit);
  /** partysocket's form: type "error", `message` the error's, `target` as given. */
  constructor(error: Error, target?: unknown);
  readonly message: string;
  readonly error: unknown;
}

/** Node's global `MessageEvent`, re-exported. */
export declare const MessageEvent: typeof globalThis.MessageEvent;
export type MessageEvent = globalThis.MessageEvent;

export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

/**
 * The browser's `WebSocket` for Node, with no reconnection. The protocol runs in the
 * steadysock Rust core; no `ws` package is involved.
 */
export declare class WebSocket extends EventTarget {
  /**
   * @param url `ws:`, `wss:`, `http:` or `https:` URL; anything else, or a fragment, is a `SyntaxError`.
   * @param protocols subprotocols to offer; duplicates or invalid names are a `SyntaxError`.
   * @param options Node-only settings.
   */
  constructor(url: string | URL, protocols?: string | string[], options?: WebSocketOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** The URL as parsed (http: and https: turned into ws: and wss:). */
  readonly url: string;
  readonly readyState: 0 | 1 | 2 | 3;
  /** Bytes handed to `send()` and not yet written to the network (plus any sent once closing). */
  readonly bufferedAmount: number;
  /** The subprotocol the server chose, `""` for none. */
  readonly protocol: string;
  /** The extensions the server accepted (`Sec-WebSocket-Extensions`), `""` for none. */
  readonly extensions: string;
  binaryType: BinaryType;

  onopen: ((this: WebSocket, ev: Event) => any) | null;
  onmessage: ((this: WebSocket, ev: MessageEvent) => any) | null;
  onerror: ((this: WebSocket, ev: ErrorEvent) => any) | null;
  onclose: ((this: WebSocket, ev: CloseEvent) => any) | null;

  /** Sends a message (text for a string). Throws an `InvalidStateError` while connecting. */
  send(data: WebSocketData): void;
  /**
   * Starts the closing handshake, or abandons the opening one (then `error` and `close`
   * with 1006 follow). `code`: 1000 or 3000–4999 (else `InvalidAccessError`); `reason`: at
   * most 123 UTF-8 bytes (else `SyntaxError`).
   */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, ev: WebSocketEventMap[K]) => any,
    options?: HostAddOptions,
  ): void;
  addEventListener(
    type: string,
    listener: HostListener,
    options?: HostAddOptions,
  ): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, ev: WebSocketEventMap[K]) => any,
    options?: HostRemoveOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: HostListener,
    options?: HostRemoveOptions,
  ): void;
}

/**
 * A test on a server text message (the core's `MessagePattern`): a string is an exact
 * match; `{ prefix }`; `{ json: { field: value } }` (a JSON object with these top-level
 * fields); `{ any: [patterns] }`.
 */
export type MessagePattern =
  | string
  | { exact: string }
  | { prefix: string }
  | { json: Record<string, string | number | boolean | null> }
  | { any: MessagePattern[] };

/** The `open` event of a ReconnectingWebSocket. */
export interface ReconnectingOpenEvent extends Event {
  /** Whether the server resumed the session (`recovery` option); false otherwise. */
  readonly recovered: boolean;
}

/** A URL, or a function giving one (sync or async), asked again for every attempt. */
export type UrlProvider = string | (() => string) | (() => Promise<string>);
/** Subprotocols, or a function giving them (sync or async), asked again for every attempt. */
export type ProtocolsProvider =
  | null
  | string
  | string[]
  | (() => string | string[] | null)
  | (() => Promise<string | string[] | null>);

/** partysocket's options (defaults as partysocket 1.3), plus steadysock's own. */
export interface ReconnectingWebSocketOptions {
  /** Largest delay between attempts. Default 10 000 ms. */
  maxReconnectionDelay?: number;
  /** Delay before the first retry. Default 3 000 ms. */
  minReconnectionDelay?: number;
  /** Growth of the delay per retry. Default 1.3. */
  reconnectionDelayGrowFactor?: number;
  /** Uptime after which the retry count starts again. Default 5 000 ms. */
  minUptime?: number;
  /** How long the TCP connect, and then the handshake, may each take. Default 4 000 ms. */
  connectionTimeout?: number;
  /** Retries before giving up (`reconnect()` starts again). Default Infinity. */
  maxRetries?: number;
  /** Messages held while not open; a full queue is an `error` event. Default Infinity (the queue's 1 MiB byte limit still applies). */
  maxEnqueuedMessages?: number;
  /** Do not connect in the constructor. Default false. */
  startClosed?: boolean;
  /** Return false to stop reconnecting after this close (decided before the close listeners run). */
  shouldReconnectOnClose?: (event: CloseEvent) => boolean;
  /** Log what happens through `debugLogger`. Default false. */
  debug?: boolean;
  /** Called as `("RWS>", what, …)`. Default `console.log`. */
  debugLogger?: (...args: any[]) => void;
  /**
   * A WebSocket class (`ws`, a polyfill, Node's global): the Session runs over it as a
   * message transport (keepalive is then off). Default: steadysock's own `net`/`tls` byte
   * transport, with protocol ping keepalive.
   */
  WebSocket?: new (url: string, protocols?: string | string[]) => any;
  /** steadysock: randomisation of the delays. Default `"none"` (as partysocket). */
  jitter?: "none" | "full" | "decorrelated";
  /**
   * steadysock: protocol ping keepalive with dead-peer detection (byte transport): a ping
   * after `intervalMs` without traffic; no answer within `pongTimeoutMs` ends the
   * connection (close 1006) and the Session reconnects. `null` or `false` turns it off.
   * Default `{ intervalMs: 20000, pongTimeoutMs: 10000 }`.
   */
  keepalive?: { intervalMs?: number; pongTimeoutMs?: number } | null | false;
  /**
   * steadysock: an application-level heartbeat (any transport, also over a `WebSocket`
   * class; in browsers, which cannot send ping frames, the only keepalive): `ping` (text)
   * after `intervalMs` without a reply, dead after `timeoutMs`;
   * replies matching `pong` are consumed. Default off; `{}` gives 20 000 / 10 000 ms,
   * `"ss2 ping\n"`, `{ exact: "ss2 pong\n" }`.
   */
  heartbeat?: {
    intervalMs?: number;
    timeoutMs?: number;
    ping?: string;
    pong?: MessagePattern;
    anyMessageCounts?: boolean;
  } | null;
  /** steadysock: extra request headers (byte transport; a browser-style `WebSocket` class cannot send them). */
  headers?: Record<string, string>;
  /**
   * steadysock: server messages that announce a disconnect (e.g. Slack's
   * `{ json: { type: "disconnect" } }`): consumed, not delivered, and the Session opens the
   * next connection before the old one closes (make-before-break; no `close` event).
   * Default none.
   */
  disconnectWarning?: MessagePattern | null;
  /**
   * steadysock: session recovery with an `ss2` server (session id, resume token, offset):
   * after a reconnect the server replays what was missed and the `open` event says
   * `recovered: true`; the server's `ss2 drain` is a disconnect warning. `placement`:
   * where the credential goes, `"first_message"` (default), `"query"` or `"headers"`.
   * Default false.
   */
  recovery?: boolean | { placement?: "first_message" | "query" | "headers" };
  /** steadysock: server close codes that stop reconnecting. Default none. */
  fatalCloseCodes?: number[];
  /** steadysock: options for `tls.connect` on `wss://`. */
  tls?: TlsConnectionOptions;
  /** steadysock: any of the core's SessionOptions keys (snake_case), applied last. */
  sessionOptions?: Record<string, unknown>;
}

/**
 * A partysocket-compatible reconnecting WebSocket; reconnects, backoff, keepalive and the
 * queue are the steadysock core's Session. A thrown or rejected provider is an `error`
 * event and a retry.
 */
export declare class ReconnectingWebSocket extends EventTarget {
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: ReconnectingWebSocketOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** CLOSED once close() was called; CONNECTING, OPEN or CLOSING as the connection goes; CLOSED while waiting to retry. */
  readonly readyState: 0 | 1 | 2 | 3;
  /** Failed attempts in the current run. */
  readonly retryCount: number;
  readonly shouldReconnect: boolean;
  /** The URL of the last attempt, `""` before the first. */
  readonly url: string;
  readonly protocol: string;
  /** The extensions the current connection negotiated (e.g. `permessage-deflate`), `""` before one. */
  readonly extensions: string;
  /** Queued bytes plus the socket's unwritten bytes. */
  readonly bufferedAmount: number;
  binaryType: BinaryType;

  onopen: ((event: ReconnectingOpenEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;

  /** true when written to an open socket; false when queued (or refused: then an `error` event). */
  send(data: WebSocketData): boolean;
  /** Closes for good, until reconnect(); the `close` event is dispatched before it returns. */
  close(code?: number, reason?: string): void;
  /** Starts again in any state (after close(), after giving up). */
  reconnect(code?: number, reason?: string): void;
  /** Removes and returns the messages not sent yet, oldest first. */
  drainQueuedMessages(): Array<string | ArrayBuffer | ArrayBufferView | Blob>;

  addEventListener(type: "open", listener: (this: ReconnectingWebSocket, ev: ReconnectingOpenEvent) => any, options?: HostAddOptions): void;
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: ReconnectingWebSocket, ev: WebSocketEventMap[K]) => any,
    options?: HostAddOptions,
  ): void;
  addEventListener(type: string, listener: HostListener, options?: HostAddOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: ReconnectingWebSocket, ev: WebSocketEventMap[K]) => any,
    options?: HostRemoveOptions,
  ): void;
  removeEventListener(type: string, listener: HostListener, options?: HostRemoveOptions): void;
}

export default ReconnectingWebSocket;
