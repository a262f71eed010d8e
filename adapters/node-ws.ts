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
import { Buffer } from "node:buffer";
import { WebSocketServer, type WebSocket } from "ws";

/** Where the helper leaves the accepted events for the upgrade listener. */
const ACCEPTED = Symbol("graphwiz.accepted");
type Env = { incoming?: IncomingMessage; outgoing?: undefined; [ACCEPTED]?: WSEvents<unknown> };
/** A socket as the adapter keeps it: the transport (with the connection's handle) hangs on it. */
export type NodeSocket = WebSocket & { __socket?: Duplex; __handle?: { message(d: string | Uint8Array): void; closed(code: number, reason: string): void } };

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
  // The request's URL carries its real Host (the origin check compares against it).
  const host = req.headers.host;
  if (!host || !VALID_HOST.test(host) || !req.url?.startsWith("/")) {
    refuse(socket, 400, "Bad Request", JSON.stringify({ error: "bad_request", message: "missing or malformed Host header or request target" }), [["content-type", "application/json"]]);
    return;
  }
  const headers = new Headers();
  for (const k of UPGRADE_HEADERS) {
    const v = req.headers[k];
    if (v) headers.set(k, Array.isArray(v) ? v[0] : v);
  }
  const env: Env = { incoming: req, outgoing: undefined };
  const res = await app.request(`http://${host}${req.url}`, { headers }, env);
  const events = env[ACCEPTED];
  if (!events) {
    refuse(socket, res.status, res.statusText, await res.text(), [...res.headers]);
    return;
  }
  wss.handleUpgrade(req, socket, head, (raw) => {
    const ws = raw as NodeSocket;
    ws.__socket = socket; // the socket `ws` writes to: the transport writes whole frames to it too
    ws.on("error", ignore); // a 'close' always follows
    // The app's onOpen makes the transport and attaches the handle (see transportOf in node.ts).
    events.onOpen?.(new Event("open"), { raw: ws } as never);
    ws.on("message", onMessage as () => void);
    ws.on("close", onClose as () => void);
  });
}

/** A host name, IPv4 address or bracketed IPv6 address, with an optional port (RFC 7230 Host). */
const VALID_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253})?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Writes an HTTP response (status, headers, body) to a socket that will not be upgraded, and ends it. */
function refuse(socket: Duplex, status: number, statusText: string, text: string, headers: [string, string][]): void {
  const body = Buffer.from(text);
  const lines = [`HTTP/1.1 ${status} ${statusText}`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${lines.join("\r\n")}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The `ws` server that completes accepted upgrades: no server of its own, no client set kept,
 * and a peer that does not answer a close within `closeTimeout` ms has its socket destroyed.
 */
export function createWss(maxPayload: number, closeTimeout: number): WebSocketServer {
  return new WebSocketServer({ noServer: true, clientTracking: false, maxPayload, perMessageDeflate: false, closeTimeout } as never);
}
