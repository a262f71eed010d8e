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
import { LoopFanout } from "../src/core/loop-fanout.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "../src/core/transport.ts";

type Raw = NodeSocket & { __transport?: NodeTransport };

const corked: NodeTransport[] = [];
const uncorkAll = () => {
  for (const t of corked) {
    t.corked = false;
    t.ws._socket.uncork();
  }
  corked.length = 0;
};

// Encode a text frame's string once per broadcast, not once per recipient.
let lastText = "";
let lastTextBytes = Buffer.alloc(0);
const textBytes = (s: string) => (s === lastText ? lastTextBytes : ((lastText = s), (lastTextBytes = Buffer.from(s))));

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
    if (typeof frame === "string") ws.send(textBytes(frame), { binary: false });
    else ws.send(frame, { binary: true });
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
