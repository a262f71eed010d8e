/**
 * The WebSocket side of the Node adapter: a Hono upgrade helper (`hono/ws`'s
 * `defineWebSocketHelper`, the same contract as `hono/bun` and `hono/deno`) over the `ws`
 * package. It replaces `@hono/node-ws`, which keeps each upgrade's whole request context and
 * four closures alive for the socket's lifetime — about double raw `ws`'s memory per connection
 * (measured: docs in bench/RESULTS.md). Here a socket carries only its transport; its listeners
 * are shared functions.
 * @module
 */
import type { Hono } from "hono";
import { defineWebSocketHelper, type WSEvents } from "hono/ws";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

/** Where the helper leaves the accepted events for the upgrade listener. */
const ACCEPTED = Symbol("graphwiz.accepted");
type Env = { incoming?: IncomingMessage; outgoing?: undefined; [ACCEPTED]?: WSEvents<unknown> };
/** A socket as the adapter keeps it: the transport (with the connection's handle) hangs on it. */
export type NodeSocket = WebSocket & { _socket: Duplex; __handle?: { message(d: string | Uint8Array): void; closed(code: number, reason: string): void } };

/** Hono's upgrade helper for Node: accepts the upgrade; {@link handleUpgrade} completes it. */
export const upgradeWebSocket = defineWebSocketHelper((c, events) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return;
  (c.env as Env)[ACCEPTED] = events;
  return new Response(null);
});

// Shared listeners: `this` is the socket, so no closure is made per connection.
function onMessage(this: NodeSocket, data: Buffer, isBinary: boolean): void {
  this.__handle?.message(isBinary ? data : data.toString());
}
function onClose(this: NodeSocket, code: number, reason: Buffer): void {
  this.__handle?.closed(code, reason.toString());
}
function ignore(): void {}

/** The only request headers the app reads; copying just these keeps each upgrade's Request small. */
const UPGRADE_HEADERS = ["host", "upgrade", "connection", "origin", "authorization", "sec-websocket-protocol", "x-forwarded-for"];

/**
 * Routes an HTTP upgrade through the app. Accepted: completes the WebSocket handshake and opens
 * the connection. Refused: writes the app's response (status, headers and JSON body) and ends.
 */
export async function handleUpgrade(app: Hono, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const headers = new Headers();
  for (const k of UPGRADE_HEADERS) {
    const v = req.headers[k];
    if (v) headers.set(k, Array.isArray(v) ? v[0] : v);
  }
  const env: Env = { incoming: req, outgoing: undefined };
  const res = await app.request(`http://localhost${req.url ?? "/"}`, { headers }, env);
  const events = env[ACCEPTED];
  if (!events) {
    const body = Buffer.from(await res.text());
    const lines = [`HTTP/1.1 ${res.status} ${res.statusText}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)];
    socket.end(`${lines.join("\r\n")}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (raw) => {
    const ws = raw as NodeSocket;
    ws.on("error", ignore); // a 'close' always follows
    // The app's onOpen makes the transport and attaches the handle (see transportOf in node.ts).
    events.onOpen?.(new Event("open"), { raw: ws } as never);
    ws.on("message", onMessage as () => void);
    ws.on("close", onClose as () => void);
  });
}

/** The `ws` server that completes accepted upgrades (no server of its own). */
export function createWss(maxPayload: number): WebSocketServer {
  return new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
}
