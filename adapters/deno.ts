/**
 * Deno adapter: Deno.serve + hono/deno for the upgrade; rooms fan out through a JavaScript
 * loop (Deno has no native topics), each frame encoded once before the loop.
 * @module
 */
import { getConnInfo, upgradeWebSocket } from "hono/deno";
import { boot } from "../src/boot.ts";
import { LoopFanout } from "../src/lib/loop-fanout.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "../src/lib/transport.ts";

const transports = new WeakMap<WebSocket, DenoTransport>();

/** The one transport of a Deno socket, kept in a WeakMap keyed by the socket. */
class DenoTransport implements Transport {
  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
  }
  send(frame: Frame): SendResult {
    if (this.ws.readyState !== 1) return SendResult.Dropped;
    this.ws.send(frame);
    return this.ws.bufferedAmount > 0 ? SendResult.Queued : SendResult.Sent;
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  close(code: number, reason: string): void {
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }
  handle?: ConnectionHandle;
  /** From now on messages go straight to the handle (not through Hono's event and context). */
  attach(handle: ConnectionHandle): void {
    this.handle = handle;
    this.ws.onmessage = onMessage;
  }
}

// Shared (`this` is the socket): no event wrapper or closure per message or per connection.
function onMessage(this: WebSocket, e: MessageEvent): void {
  const d = e.data;
  transports.get(this)?.handle?.message(typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer));
}

await boot({
  runtime: "deno",
  env: Deno.env.toObject(),
  fanout: new LoopFanout(),
  upgradeWebSocket: upgradeWebSocket as never,
  remoteAddress: (c) => getConnInfo(c).remote.address,
  // Deno sockets cannot send pings from JavaScript; Deno's own idle timeout pings and closes instead.
  upgradeOptions: (config) => ({ idleTimeout: Math.ceil((config.pingIntervalMs + config.pongTimeoutMs) / 1000) }),
  transportOf: (raw) => {
    const ws = raw as WebSocket;
    let t = transports.get(ws);
    if (!t) transports.set(ws, (t = new DenoTransport(ws)));
    return t;
  },
  listen(app, _hub, config) {
    return new Promise((resolve) => {
      const server = Deno.serve({
        port: config.port,
        hostname: config.host,
        onListen: ({ port }) => resolve({ port, stopAccepting: () => void server.shutdown() }),
      }, app.fetch);
    });
  },
  onSignal: (handler) => {
    Deno.addSignalListener("SIGINT", () => handler("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => handler("SIGTERM"));
  },
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  exit: (code) => Deno.exit(code),
});
