// Types of `steadysock/reconnecting-websocket`: reconnecting-websocket 4.4's API over
// steadysock's ReconnectingWebSocket (see index.d.ts).
import { ReconnectingWebSocket as Base, type WebSocketData } from "./index.js";

declare class ReconnectingWebSocket extends Base {
  /** reconnecting-websocket 4.4: returns nothing. */
  send(data: WebSocketData): any;
}

export = ReconnectingWebSocket;
