// Types of `steadysock/partysocket`: partysocket's exports over steadysock's
// ReconnectingWebSocket (see index.d.ts). `WebSocket` here is the reconnecting class, as
// partysocket exports it; the plain WHATWG socket is the main entry's `WebSocket`.
import { ReconnectingWebSocket, CloseEvent, ErrorEvent } from "./index.js";

export {
  ReconnectingWebSocket,
  ReconnectingWebSocket as WebSocket,
  CloseEvent,
  ErrorEvent,
};
export type {
  ReconnectingWebSocketOptions as Options,
  UrlProvider,
  ProtocolsProvider,
  WebSocketData as Message,
  WebSocketEventMap,
} from "./index.js";
export default ReconnectingWebSocket;
