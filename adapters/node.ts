/**
 * Node adapter: @hono/node-server + @hono/node-ws (`ws`) for the upgrade. Rooms fan out through
 * a JavaScript loop; each recipient's socket is corked for the rest of the tick so that all the
 * frames it gets in one tick leave in one system call.
 * @module
 */
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { boot } from "../src/boot.ts";
import { runtimeFrameCap } from "../src/config.ts";
import { LoopFanout } from "../src/core/loop-fanout.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "../src/core/transport.ts";

type Raw = WebSocket & { _socket: Duplex; __transport?: NodeTransport };

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
  attach(handle: ConnectionHandle): void {
    this.ws.on("pong", () => handle.pong());
  }
}

const nodeWs = createNodeWebSocket({ app: undefined as never });

await boot({
  runtime: "node",
  env: process.env,
  fanout: new LoopFanout(),
  upgradeWebSocket: nodeWs.upgradeWebSocket as never,
  remoteAddress: (c) => getConnInfo(c).remote.address,
  transportOf: (raw) => ((raw as Raw).__transport ??= new NodeTransport(raw as Raw)),
  listen(app, _hub, config) {
    (nodeWs.wss.options as { maxPayload?: number }).maxPayload = runtimeFrameCap(config);
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
        resolve({ port: info.port, stopAccepting: () => void server.close() }));
      // Our own upgrade listener (instead of injectWebSocket) so a rejected upgrade gets its JSON body.
      server.on("upgrade", async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on("error", () => socket.destroy());
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (v) headers.append(k, Array.isArray(v) ? v[0] : v);
        const env: Record<string | symbol, unknown> = { incoming: req, outgoing: undefined };
        const res = await app.request(new URL(req.url ?? "/", "http://localhost"), { headers }, env);
        // @hono/node-ws marks `env` with a symbol when it accepted the upgrade.
        if (Object.getOwnPropertySymbols(env).length > 0) {
          nodeWs.wss.handleUpgrade(req, socket, head, (ws) => nodeWs.wss.emit("connection", ws, req));
          return;
        }
        const body = Buffer.from(await res.text());
        const head1 = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ""}\r\n`;
        const hdrs = [...res.headers].map(([k, v]) => `${k}: ${v}\r\n`).join("");
        socket.end(`${head1}${hdrs}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
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
