/**
 * Bun adapter: Bun.serve + hono/bun for the upgrade; a room is a native Bun topic, so a
 * broadcast is one `publish` call whatever the room's size.
 * @module
 */
import type { ServerWebSocket } from "bun";
import { getConnInfo, upgradeWebSocket, websocket as honoWebsocket } from "hono/bun";
import { boot } from "../src/boot.ts";
import { runtimeFrameCap } from "../src/config.ts";
import { SendResult, type ConnectionHandle, type Fanout, type Frame, type Transport } from "../src/lib/transport.ts";
import type { CoreEvents } from "../src/http/app.ts";
import { processHost } from "./process-host.ts";

// hono's upgrade data until the socket opens; from then on, the socket's transport itself.
type Data = { events: CoreEvents; url?: URL; protocol: string; transport?: BunTransport } | BunTransport;
type Socket = ServerWebSocket<Data>;

/**
 * The one transport of a Bun socket. Once open it *is* `ws.data` (hono's upgrade data is
 * dropped), and it holds the connection's handle: one small object per socket.
 */
class BunTransport implements Transport {
  handle?: ConnectionHandle;
  /** A close waiting for the send buffer to drain, and the timer that ends the socket instead. */
  closing?: { code: number; reason: string; timer: ReturnType<typeof setTimeout> };
  constructor(readonly ws: Socket) {}
  attach(handle: ConnectionHandle): void {
    this.handle = handle;
  }
  send(frame: Frame): SendResult {
    const n = this.ws.send(frame);
    return n > 0 ? SendResult.Sent : n === -1 ? SendResult.Queued : SendResult.Dropped;
  }
  bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
  /**
   * With nothing buffered, closes at once. A lagging peer (data still buffered) gets its close
   * frame once the buffer drains, or loses its socket after CLOSE_TIMEOUT_MS: once Bun has
   * closed, its socket cannot be ended from JavaScript, and it would wait far longer.
   */
  close(code: number, reason: string): void {
    if (this.closing) return;
    if (this.ws.getBufferedAmount() === 0) return this.ws.close(code, reason);
    this.closing = { code, reason, timer: setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS) };
  }
  /** The buffer drained: a close that was waiting for it goes out now. */
  drained(): boolean {
    const c = this.closing;
    if (!c) return false;
    if (this.ws.getBufferedAmount() === 0) clearTimeout(c.timer), this.ws.close(c.code, c.reason);
    return true;
  }
  ping(): void {
    this.ws.ping();
  }
}

/** How long a server-side close may wait for the peer before the socket is ended. */
const CLOSE_TIMEOUT_MS = 2_000;

let server: ReturnType<typeof Bun.serve> | undefined;

const fanout: Fanout = {
  subscribe: (t, topic) => (t as BunTransport).ws.subscribe(topic),
  unsubscribe: (t, topic) => {
    const ws = (t as BunTransport).ws;
    if (ws.readyState === 1) ws.unsubscribe(topic); // Bun drops a closed socket's topics itself
  },
  // `ws.publish` skips the sender itself; the server's publish reaches every subscriber.
  publish: (topic, frame, except) =>
    void (except ? (except as BunTransport).ws.publish(topic, frame) : server?.publish(topic, frame)),
};

const handleOf = (ws: Socket) => (ws.data as BunTransport).handle;

/**
 * After a connect burst (the core decides when: lib/burst.ts, COLLECT_AFTER_BURST): one full
 * collection, then JavaScriptCore's "shrink footprint" — the path it takes under memory pressure
 * (drop compiled code, collect again, hand the allocator's free pages back to the system). JSC
 * keeps a burst's garbage (token checks, upgrades, hellos, presence) as heap capacity for many
 * seconds, and RSS with it; the collection alone leaves the freed pages with the allocator
 * (bench/ANALYSIS.md, "Idle memory per connection": 4.9 → 3.8 KiB per idle connection with the
 * rest of that change). Cost, measured at 10,000 sockets: ~20 ms for the collection and ~20 ms
 * for the shrink, once per burst; the hot paths compile again as they run. `Bun.shrink` is
 * marked deprecated in Bun's types (no replacement named), so it is called only where it exists.
 */
const shrink = (Bun as { shrink?: () => void }).shrink;
const collectGarbage = (): boolean => {
  Bun.gc(true);
  shrink?.();
  return true;
};

// Events go straight to the connection's handle: no event object or context per message.
const websocket = {
  open: (ws: Socket) => {
    honoWebsocket.open(ws as never); // our onOpen (via hono) creates the transport and attaches the handle
    const t = (ws.data as { transport?: BunTransport }).transport;
    if (t) ws.data = t; // hono's data (events, a URL) is not needed any more
  },
  message: (ws: Socket, msg: string | Buffer) => handleOf(ws)?.message(msg),
  drain: (ws: Socket) => {
    if (!(ws.data as BunTransport).drained?.()) handleOf(ws)?.drain();
  },
  pong: (ws: Socket) => handleOf(ws)?.pong(),
  close: (ws: Socket, code: number, reason: string) => {
    const t = ws.data as BunTransport;
    if (t.closing) clearTimeout(t.closing.timer);
    t.handle?.closed(code, reason);
  },
};

await boot({
  runtime: "bun",
  // A single executable (`bun build --compile`) runs its code from Bun's embedded file system.
  runtimeVersion: Bun.main.startsWith("/$bunfs/") ? `${Bun.version}, compiled binary` : Bun.version,
  ...processHost(),
  fanout,
  collectGarbage,
  upgradeWebSocket: upgradeWebSocket as never,
  remoteAddress: (c) => getConnInfo(c).remote.address,
  transportOf: (raw) => {
    const ws = raw as Socket;
    const data = ws.data as { transport?: BunTransport };
    return (data.transport ??= new BunTransport(ws));
  },
  async listen(app, _hub, config) {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      fetch: (req, srv) => app.fetch(req, { server: srv }),
      websocket: { ...websocket, maxPayloadLength: runtimeFrameCap(config), backpressureLimit: 16 * 1024 * 1024 },
    });
    // Not awaited: Bun's stop() resolves only once every open socket has closed.
    return { port: server.port!, stopAccepting: () => void server!.stop(false) };
  },
});
