// Types of `steadysock/reconnecting-websocket`: reconnecting-websocket 4.4's API over
// steadysock's ReconnectingWebSocket (see index.d.ts).
import { ReconnectingWebSocket as Base, type WebSocketData } from "./index.js";

/** reconnecting-websocket 4.4's `Event`: `type` and `target` are plain properties. */
declare class RwsEvent extends Event {
  type: string;
  target: any;
  constructor(type: string, target: any);
}

/** reconnecting-websocket 4.4's `ErrorEvent`. */
declare class RwsErrorEvent extends RwsEvent {
  message: string;
  error: Error;
  constructor(error: Error, target: any);
}

/** reconnecting-websocket 4.4's `CloseEvent` (`wasClean` is the connection's). */
declare class RwsCloseEvent extends RwsEvent {
  code: number;
  reason: string;
  wasClean: boolean;
  constructor(code?: number, reason?: string, target?: any);
}

declare class ReconnectingWebSocket extends Base {
  /** reconnecting-websocket 4.4: returns nothing. */
  send(data: WebSocketData): any;
}

/** Also `ReconnectingWebSocket.Event` etc. (statics; rws 4.4 exports them as types only). */
declare namespace ReconnectingWebSocket {
  export { RwsEvent as Event, RwsErrorEvent as ErrorEvent, RwsCloseEvent as CloseEvent };
}

export = ReconnectingWebSocket;
