/**
 * The Node host, shared by Node and Deno (Deno runs it through its Node compatibility):
 * `node:http` (via @hono/node-server) for HTTP, the `ws` package for WebSockets (node-ws.ts).
 * Rooms fan out through a JavaScript loop. Each broadcast is framed once (header and payload in
 * one buffer) and every recipient gets one socket write per tick with all its frames of that tick.
 * Only `ws`' public API is used: its sockets come from `handleUpgrade`'s arguments.
 * @module
 */
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Buffer } from "node:buffer";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { setImmediate, setInterval } from "node:timers";
import { createWss, handleUpgrade, upgradeWebSocket, type NodeSocket } from "./node-ws.ts";
import { collectReducingMemory } from "./v8-memory.ts";
import type { Host } from "../src/boot.ts";
import { runtimeFrameCap } from "../src/config.ts";
import { useFrameSlab } from "../src/lib/frame-alloc.ts";
import { LoopFanout } from "../src/lib/loop-fanout.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "../src/lib/transport.ts";

/** An upgrade's headers must be complete within this time, or its socket is destroyed. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** After the server closes a WebSocket, the peer has this long to answer before its socket is destroyed. */
export const CLOSE_TIMEOUT_MS = 3_000;

type Raw = NodeSocket & { __transport?: NodeTransport };

// One buffer per broadcast: its header (server frames are unmasked) and payload, built once and
// written as it is to every recipient. (The frame is the same object for every recipient of a
// broadcast; LoopFanout relies on that too.)
// A large binary payload (a hello, a big chat) is not copied: its header goes alone, followed
// by the payload's own bytes (a copy per join of every hello, and another when the tick's
// frames were joined, left the malloc heap fragmented: ~1 KiB of RSS per idle connection).
// Small frames are still joined into one buffer per tick and socket (the fan-out's fast path).
let lastFrame: Frame | undefined;
let lastWire: Buffer = Buffer.alloc(0);
let lastPayload: Buffer | undefined;
/** Binary payloads above this many bytes are written as they are, after a header of their own. */
const COPY_MAX = 1024;
function frameOnce(frame: Frame): Buffer {
  if (frame === lastFrame) return lastWire;
  const text = typeof frame === "string";
  const n = text ? Buffer.byteLength(frame) : frame.byteLength;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const whole = text || n <= COPY_MAX;
  const wire = Buffer.allocUnsafe(whole ? h + n : h);
  wire[0] = text ? 0x81 : 0x82; // FIN + text / binary
  if (n < 126) wire[1] = n;
  else if (n < 65536) (wire[1] = 126), wire.writeUInt16BE(n, 2);
  else (wire[1] = 127), wire.writeUInt32BE(Math.floor(n / 2 ** 32), 2), wire.writeUInt32BE(n >>> 0, 6);
  if (text) wire.write(frame, h);
  else if (whole) wire.set(frame, h);
  lastFrame = frame;
  lastWire = wire;
  lastPayload = whole ? undefined : Buffer.from(frame.buffer, frame.byteOffset, n);
  return wire;
}

// Transports with frames waiting for the end of this tick.
const dirty: NodeTransport[] = [];
function flushAll(): void {
  for (const t of dirty) t.flush();
  dirty.length = 0;
  lastParts = undefined; // nothing kept past the tick
  lastJoined = undefined;
}

// The members of a room get the same frames in the same order in a tick, and `dirty` lists them
// one after the other: their joined buffer is made once and written to each (Buffer.concat per
// recipient was ~9 % of a Node fan-out profile; a written buffer is never modified).
let lastParts: Buffer[] | undefined;
let lastJoined: Buffer | undefined;
function joined(parts: Buffer[]): Buffer {
  const last = lastParts;
  if (last !== undefined && last.length === parts.length) {
    let i = 0;
    while (i < parts.length && parts[i] === last[i]) i++;
    if (i === parts.length) return lastJoined!;
  }
  lastParts = parts;
  return (lastJoined = Buffer.concat(parts));
}

/** The one transport of a `ws` socket, kept on the socket object. */
export class NodeTransport implements Transport {
  /** This tick's frames for this socket (one buffer, or several to join), written by {@link flush}. */
  pending: Buffer | Buffer[] | undefined = undefined;
  pendingBytes = 0;
  /** Whether `pending` holds a large payload (written as it is, not joined). */
  large = false;
  handle?: ConnectionHandle;
  constructor(readonly ws: Raw, readonly socket: Duplex) {}
  /** Whether `ws` had bytes buffered when this tick's first frame came (see {@link send}). */
  backlogged = false;
  send(frame: Frame): SendResult {
    if (this.ws.readyState !== 1) return SendResult.Dropped;
    const wire = frameOnce(frame);
    const payload = lastPayload;
    const p = this.pending;
    if (p === undefined) {
      this.pending = payload === undefined ? wire : [wire, payload];
      // Read once per tick, not per frame (2–3 % of a fan-out's CPU): within a tick only `ws`'
      // own writes (a ping, a close) could add to it.
      this.backlogged = this.ws.bufferedAmount > 0;
      if (dirty.push(this) === 1) setImmediate(flushAll);
    } else if (Array.isArray(p)) payload === undefined ? p.push(wire) : p.push(wire, payload);
    else this.pending = payload === undefined ? [p, wire] : [p, wire, payload];
    this.pendingBytes += wire.length;
    if (payload !== undefined) (this.pendingBytes += payload.length), (this.large = true);
    return this.backlogged ? SendResult.Queued : SendResult.Sent;
  }
  /** Writes this tick's frames in one write (frames are whole, so `ws`' own writes never split one). */
  flush(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    this.pendingBytes = 0;
    const large = this.large;
    this.large = false;
    if (this.ws.readyState !== 1) return;
    if (!Array.isArray(p)) this.socket.write(p);
    else if (!large) this.socket.write(joined(p));
    else {
      // A large payload is written as it is; the small frames around it are joined. Corked, the
      // parts still leave in one system call (writev).
      this.socket.cork();
      let from = 0;
      for (let i = 0; i < p.length; i++) {
        if (p[i]!.length <= COPY_MAX) continue;
        if (i > from) this.socket.write(i - from === 1 ? p[from]! : Buffer.concat(p.slice(from, i)));
        this.socket.write(p[i]!);
        from = i + 1;
      }
      if (p.length > from) this.socket.write(p.length - from === 1 ? p[from]! : Buffer.concat(p.slice(from)));
      this.socket.uncork();
    }
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount + this.pendingBytes;
  }
  close(code: number, reason: string): void {
    this.flush(); // what was sent before the close goes out before the close frame
    this.ws.close(code, reason);
  }
  ping(): void {
    if (this.ws.readyState === 1) this.ws.ping();
  }
  attach(handle: ConnectionHandle): void {
    this.handle = handle;
    this.ws.__handle = handle;
    this.ws.on("pong", onPong as () => void);
  }
}

// Shared listeners (`this` is the emitter): no closure per connection.
function onPong(this: Raw): void {
  this.__transport?.handle?.pong();
}
function destroyOnError(this: Duplex): void {
  this.destroy();
}

type Watched = Duplex & { __headers?: ReturnType<typeof setTimeout> };
function headersDone(this: void, req: IncomingMessage): void {
  const s = req.socket as Watched;
  if (s.__headers) clearTimeout(s.__headers), (s.__headers = undefined);
}

/**
 * Bounds the time to a request's complete headers (slowloris). Node enforces its own
 * `headersTimeout` (checked every second here); where that is not enforced (Deno), a timer per
 * new connection, cleared by its first request or upgrade, destroys the socket instead.
 */
function guardHeaders(server: HttpServer): void {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  if (!("Deno" in globalThis)) return; // Node: no timer or closure per connection
  server.on("connection", (s: Watched) => {
    s.__headers = setTimeout(destroyLate, HEADERS_TIMEOUT_MS, s);
  });
  server.prependListener("request", headersDone);
}
function destroyLate(s: Duplex): void {
  s.destroy();
}

/**
 * Deno's `node:http` reports an address that is not on this machine as EINVAL where Node says
 * EADDRNOTAVAIL; boot's one-line message keys on the latter.
 */
function listenError(e: Error & { code?: string }): Error {
  if ("Deno" in globalThis && e?.code === "EINVAL") e.code = "EADDRNOTAVAIL";
  return e;
}

/** Everything of a {@link Host} that is the Node HTTP and WebSocket server. */
export function nodeServerHost(): Pick<Host, "fanout" | "upgradeWebSocket" | "remoteAddress" | "transportOf" | "listen" | "collectGarbage"> {
  useFrameSlab(); // V8: a fresh ArrayBuffer per stamped frame costs more than the stamping (lib/frame-alloc.ts)
  return {
    fanout: new LoopFanout(),
    upgradeWebSocket: upgradeWebSocket as never,
    remoteAddress: (c) => getConnInfo(c).remote.address,
    collectGarbage: collectReducingMemory, // memory back after a connect burst (lib/burst.ts)
    transportOf: (raw) => {
      const ws = raw as Raw;
      if (ws.__transport) return ws.__transport;
      return (ws.__transport = new NodeTransport(ws, ws.__socket!));
    },
    listen(app, _server, config) {
      const wss = createWss(runtimeFrameCap(config), CLOSE_TIMEOUT_MS);
      return new Promise((resolve, reject) => {
        const server = serve({
          fetch: app.fetch,
          port: config.port,
          hostname: config.host,
          serverOptions: { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0, connectionsCheckingInterval: 1000 },
        }, (info) => resolve({ port: info.port, stopAccepting: () => void server.close() })) as HttpServer;
        server.once("error", (e) => reject(listenError(e))); // cannot listen (port in use, bad HOST): boot prints one line
        guardHeaders(server);
        server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
          headersDone(req);
          socket.on("error", destroyOnError);
          void handleUpgrade(app, wss, req, socket, head);
        });
      });
    },
  };
}
