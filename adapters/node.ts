/**
 * Node adapter: @hono/node-server for HTTP, a Hono upgrade helper over `ws` for WebSockets
 * (node-ws.ts). Rooms fan out through a JavaScript loop; each recipient's socket is corked for
 * the rest of the tick so that all the frames it gets in one tick leave in one system call.
 * @module
 */
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { createWss, handleUpgrade, upgradeWebSocket, type NodeSocket } from "./node-ws.ts";
import { boot } from "../src/boot.ts";
import { runtimeFrameCap } from "../src/config.ts";
import { LoopFanout } from "../src/lib/loop-fanout.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "../src/lib/transport.ts";

type Raw = NodeSocket & { __transport?: NodeTransport; _sender: { _state: number; _queue: unknown[] } };

const corked: NodeTransport[] = [];
const uncorkAll = () => {
  for (const t of corked) {
    t.corked = false;
    t.ws._socket.uncork();
  }
  corked.length = 0;
};

// One WebSocket frame per broadcast: its header (server frames are unmasked) and payload are
// built once and written as they are to every recipient's socket, instead of `ws` converting and
// framing the same bytes again for each of them. (The frame is the same object for every
// recipient of a broadcast; LoopFanout relies on that too.)
let lastFrame: Frame | undefined;
let lastHead: Buffer = Buffer.alloc(0);
let lastBody: Buffer<ArrayBufferLike> = Buffer.alloc(0);
function frameOnce(frame: Frame): void {
  if (frame === lastFrame) return;
  const body = typeof frame === "string" ? Buffer.from(frame) : Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const n = body.length;
  const head = Buffer.allocUnsafe(n < 126 ? 2 : n < 65536 ? 4 : 10);
  head[0] = typeof frame === "string" ? 0x81 : 0x82; // FIN + text / binary
  if (n < 126) head[1] = n;
  else if (n < 65536) (head[1] = 126), head.writeUInt16BE(n, 2);
  else (head[1] = 127), head.writeUInt32BE(Math.floor(n / 2 ** 32), 2), head.writeUInt32BE(n >>> 0, 6);
  lastFrame = frame;
  lastHead = head;
  lastBody = body;
}

/** The one transport of a `ws` socket, kept on the socket object. */
class NodeTransport implements Transport {
  corked = false;
  constructor(readonly ws: Raw) {}
  send(frame: Frame): SendResult {
    const ws = this.ws;
    if (ws.readyState !== 1) return SendResult.Dropped;
    if (!this.corked) {
      this.corked = true;
      ws._socket.cork();
      if (corked.push(this) === 1) setImmediate(uncorkAll);
    }
    frameOnce(frame);
    if (ws._sender._state === 0 && ws._sender._queue.length === 0) {
      // Nothing of ws's own is pending (no compression here), so writing straight to the socket
      // keeps the order and ws's bufferedAmount (socket length + its own bytes) stays right.
      ws._socket.write(lastHead);
      ws._socket.write(lastBody);
    } else ws.send(lastBody, { binary: typeof frame !== "string" });
    return ws.bufferedAmount > 0 ? SendResult.Queued : SendResult.Sent;
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  ping(): void {
    if (this.ws.readyState === 1) this.ws.ping();
  }
  handle?: ConnectionHandle;
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



await boot({
  runtime: "node",
  env: process.env,
  fanout: new LoopFanout(),
  upgradeWebSocket: upgradeWebSocket as never,
  remoteAddress: (c) => getConnInfo(c).remote.address,
  transportOf: (raw) => ((raw as Raw).__transport ??= new NodeTransport(raw as Raw)),
  listen(app, _hub, config) {
    const wss = createWss(runtimeFrameCap(config));
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
        resolve({ port: info.port, stopAccepting: () => void server.close() }));
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on("error", destroyOnError);
        void handleUpgrade(app, wss, req, socket, head);
      });
    });
  },
  onSignal: (handler) => {
    process.on("SIGINT", () => handler("SIGINT"));
    process.on("SIGTERM", () => handler("SIGTERM"));
  },
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  exit: (code) => process.exit(code),
});
