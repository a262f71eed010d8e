/**
 * The WebSocket the client uses: `options.WebSocket`, else the global one (browsers, Deno, Bun,
 * Node ≥ 22), else the `ws` package (Node 20; an optional peer dependency).
 * @module
 */
import { GraphwizError } from "./errors.ts";

/** The part of a WebSocket the client uses (the DOM's, `ws`'s and Deno's all fit). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  // deno-lint-ignore no-explicit-any
  onopen: ((ev: any) => void) | null;
  // deno-lint-ignore no-explicit-any
  onmessage: ((ev: any) => void) | null;
  // deno-lint-ignore no-explicit-any
  onclose: ((ev: any) => void) | null;
  // deno-lint-ignore no-explicit-any
  onerror: ((ev: any) => void) | null;
}
/** A WebSocket constructor such as the global `WebSocket` or `ws`'s `WebSocket`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Finds a WebSocket implementation (see the module comment). */
export async function findWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  try {
    const ws = (await import("ws")) as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor };
    const ctor = ws.WebSocket ?? ws.default;
    if (ctor) return ctor;
  } catch {
    // fall through to the error below
  }
  throw new GraphwizError("NO_WEBSOCKET", "No WebSocket implementation found: pass options.WebSocket, or install the ws package (npm install ws)");
}
