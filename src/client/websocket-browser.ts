/** Browsers always have a WebSocket; the browser build uses this instead of websocket.ts. @module */
import { GraphwizError } from "./errors.ts";
import type { WebSocketConstructor } from "./websocket.ts";

export type { WebSocketConstructor, WebSocketLike } from "./websocket.ts";

/** `options.WebSocket`, else the global `WebSocket`. */
export async function findWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  const ctor = given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!ctor) throw new GraphwizError("NO_WEBSOCKET", "No WebSocket implementation found: pass options.WebSocket");
  return ctor;
}
